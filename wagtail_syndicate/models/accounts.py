"""``SyndicationAccount``: an account on a network that pages are shared to."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..tokens import encrypted_property
from .mixin import VISIBILITY_CHOICES


class SyndicationAccount(models.Model):
    class Network(models.TextChoices):
        MASTODON = "mastodon", _("Mastodon")

    network = models.CharField(
        _("network"), max_length=32, choices=Network.choices, default=Network.MASTODON
    )
    instance_url = models.URLField(
        _("instance URL"), help_text=_("For example https://mastodon.social")
    )
    handle = models.CharField(
        _("handle"), max_length=255, blank=True, help_text=_("Filled in from the network.")
    )
    encrypted_token = models.TextField(editable=False)
    site = models.ForeignKey(
        "wagtailcore.Site",
        verbose_name=_("site"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Share pages of this site only. Leave empty to share pages of every site."),
    )
    visibility = models.CharField(
        _("visibility of posts"),
        max_length=16,
        choices=VISIBILITY_CHOICES,
        default="public",
        help_text=_("Pages may choose another one."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    # The application that issued the token, when it was connected with OAuth (so
    # disconnecting can revoke the token); empty for a pasted token.
    oauth_app = models.ForeignKey(
        "wagtail_syndicate.MastodonApp",
        verbose_name=_("OAuth application"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("connected at"), auto_now_add=True)

    class Meta:
        verbose_name = _("social account")
        verbose_name_plural = _("social accounts")
        ordering = ["handle"]

    def __str__(self) -> str:
        return self.handle or self.instance_url

    # The token is only ever held encrypted; there is deliberately no plain-text field.
    access_token = encrypted_property("encrypted_token", "The access token, decrypted.")

    def credentials(self):
        """What a network module needs to act as this account (it never sees the model)."""
        from ..networks.base import Credentials

        return Credentials(instance_url=self.instance_url, access_token=self.access_token)

    @classmethod
    def for_page(cls, page):
        """Enabled accounts that share ``page``: those of its site and those of every site."""
        site = page.get_site()
        of_site = models.Q(site__isnull=True)
        if site is not None:
            of_site |= models.Q(site=site)
        return cls.objects.filter(of_site, enabled=True)
