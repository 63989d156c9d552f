"""``MastodonApp``: the OAuth application this site registered on a Mastodon server."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from wagtail_syndicate.tokens import encrypted_property


class MastodonApp(models.Model):
    """Registered once per server (``POST /api/v1/apps``) and reused by every connection to it;
    registered again only when the redirect URI or the scopes this site asks for change."""

    instance_url = models.URLField(_("instance URL"), unique=True)
    client_id = models.CharField(_("client ID"), max_length=255)
    encrypted_client_secret = models.TextField(editable=False)
    scopes = models.CharField(_("scopes"), max_length=255)
    redirect_uri = models.URLField(_("redirect URI"), max_length=500)
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("Mastodon application")
        verbose_name_plural = _("Mastodon applications")

    def __str__(self) -> str:
        return self.instance_url

    # Encrypted like access tokens: with it, anyone could pass for this site on the server.
    client_secret = encrypted_property("encrypted_client_secret", "The client secret, decrypted.")
