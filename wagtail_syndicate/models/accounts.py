"""``SyndicationAccount``: an account on a network that pages are shared to."""

import json
from urllib.parse import urlsplit

from django.db import connections, models, transaction
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from wagtail_syndicate.content.posts import call_page_method
from wagtail_syndicate.exceptions import ConfigurationError
from wagtail_syndicate.networks import get_network
from wagtail_syndicate.networks.base import Credentials
from wagtail_syndicate.tokens import decrypt_token, encrypt_token, encrypted_property, is_readable


class SyndicationAccount(models.Model):
    class Network:
        """The keys of the built-in networks. The field has no choices: the networks are
        those of the ``NETWORKS`` setting (``networks.registry.configured_networks``), so one of
        a site's own needs no migration."""

        MASTODON = "mastodon"
        BLUESKY = "bluesky"
        X = "x"

    network = models.CharField(
        _("network"),
        max_length=32,
        default=Network.MASTODON,
        help_text=_("The network the account is on."),
    )
    instance_url = models.URLField(
        _("server URL"),
        help_text=_(
            "The Mastodon instance (for example https://mastodon.social), the Bluesky PDS "
            "(https://bsky.social) or the X API (https://api.x.com)."
        ),
    )
    handle = models.CharField(
        _("handle"),
        max_length=255,
        blank=True,
        help_text=_(
            "On Bluesky, the handle to sign in with (for example alice.bsky.social). "
            "Otherwise filled in from the network."
        ),
    )
    encrypted_token = models.TextField(editable=False)
    # What the network keeps between runs (refresh tokens, session tokens), as encrypted JSON.
    encrypted_session = models.TextField(blank=True, editable=False)
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
        # No choices: the admin's form offers the network's (``Network.visibilities``).
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

    # Pages link to accounts only through the plugin's own fields: nothing to index.
    wagtail_reference_index_ignore = True

    class Meta:
        verbose_name = _("social account")
        verbose_name_plural = _("social accounts")
        ordering = ["handle"]

    def __str__(self) -> str:
        return account_label(self.network, self.instance_url, self.handle)

    def save(self, *args, **kwargs):
        """Saving an account (however it was connected: the admin's sign-ins, a pasted token,
        the command) adopts the records of the same account removed before, so its posts are
        edited, not posted again. Identity: network, server and handle."""
        with transaction.atomic(using=kwargs.get("using") or self._state.db):
            super().save(*args, **kwargs)
            # How many it took back, over every save of this instance.
            self.adopted_records = getattr(self, "adopted_records", 0) + self.adopt_records()

    @property
    def server_name(self) -> str:
        """The server's host (and port), as it is named beside the handle."""
        return server_name(self.instance_url)

    def identity(self) -> dict:
        """Who the account is on its network, as its records keep it once it is removed."""
        return {
            "former_network": self.network,
            "former_instance_url": self.instance_url,
            "former_handle": self.handle.lower(),
        }

    def adopt_records(self) -> int:
        """Take over the records a removed account with this identity left (one per page:
        the latest, where the account has no record of its page yet); return how many."""

        SyndicationRecord = self._meta.get_field("records").related_model  # noqa: N806
        if not self.handle:
            return 0
        orphans = (
            SyndicationRecord.objects.filter(account__isnull=True, **self.identity())
            .exclude(page__in=SyndicationRecord.objects.filter(account=self).values("page"))
            .order_by("page_id", "-updated_at")
            .values_list("pk", "page_id")
        )
        latest = {}
        for pk, page_id in orphans:
            latest.setdefault(page_id, pk)
        return SyndicationRecord.objects.filter(pk__in=latest.values()).update(account=self)

    # The token is only ever held encrypted; there is deliberately no plain-text field.
    access_token = encrypted_property(
        "encrypted_token",
        "The account's secret, decrypted: a Mastodon or X access token, a Bluesky app password.",
    )

    @property
    def token_readable(self) -> bool:
        """Whether the stored secrets can be decrypted with the current keys (they cannot
        once SECRET_KEY changed without the old one in SECRET_KEY_FALLBACKS)."""
        return is_readable(self.encrypted_token) and is_readable(self.encrypted_session)

    def token_state(self) -> str:
        """For the accounts list: empty when all is well."""
        if self.token_readable:
            return ""
        return str(_("Token cannot be decrypted: connect again."))

    token_state.short_description = _("token")

    @property
    @sensitive_variables()
    def session(self) -> dict:
        """The network's session state, decrypted (empty when there is none)."""
        return _decrypt_session(self.encrypted_session)

    @session.setter
    @sensitive_variables()
    def session(self, value: dict) -> None:
        self.encrypted_session = encrypt_token(json.dumps(value)) if value else ""

    @sensitive_variables()
    def save_session(self, value: dict) -> None:
        """Keep a renewed session at once (a rotated refresh token is the only valid one),
        without touching the account's other fields."""
        self.session = value
        if self.pk:
            type(self).objects.filter(pk=self.pk).update(encrypted_session=self.encrypted_session)

    @sensitive_variables()
    def stored_session(self) -> dict:
        """The session as it is in the database now (another worker may have renewed it)."""
        stored = type(self).objects.filter(pk=self.pk).values_list("encrypted_session", flat=True)
        return _decrypt_session(stored.first() or "")

    @sensitive_variables()
    def renew_session(self, renew) -> dict:
        """Renew the session under a lock on the account's row: ``renew`` gets the session as
        stored now (another worker may have renewed it, spending the refresh token this run
        read) and returns the new one, which is kept before the lock is let go. A second
        worker waits, then finds the renewed session. The lock is held for the one token
        request (its time-outs bound it)."""
        if not self.pk:
            session = renew(self.session)
            self.save_session(session)
            return session
        rows = type(self).objects.filter(pk=self.pk)
        with transaction.atomic(using=rows.db):
            if not connections[rows.db].features.has_select_for_update:
                # SQLite has no row locks: a write takes the database's write lock until the
                # transaction ends, which serialises renewals the same way.
                rows.update(encrypted_session=models.F("encrypted_session"))
            stored = rows.select_for_update().values_list("encrypted_session", flat=True)
            session = renew(_decrypt_session(stored.first() or ""))
            self.save_session(session)
        return session

    @sensitive_variables()
    def credentials(self):
        """What a network module needs to act as this account (it never sees the model)."""

        return Credentials(
            instance_url=self.instance_url,
            access_token=self.access_token,
            handle=self.handle,
            session=self.session,
            save_session=self.save_session,
            reload_session=self.stored_session,
            locked_renewal=self.renew_session,
        )

    @classmethod
    def of_site(cls, site):
        """Enabled accounts that share pages of ``site``: its own and those of every site."""
        of_site = models.Q(site__isnull=True)
        if site is not None:
            of_site |= models.Q(site=site)
        return cls.objects.filter(of_site, enabled=True)

    @classmethod
    def for_page(cls, page, site=None):
        """Enabled accounts that share ``page``: those the editor chose for it (the page
        model's ``get_syndication_account_ids()``), else every enabled account of its site
        (``site``, for a page not yet in the tree). The site is the one Wagtail's cached site
        root paths give the page (what ``Page.get_site`` reads, without fetching the ``Site``).
        """

        accounts = cls.of_site(site if site is not None else site_id_of(page))
        chosen = call_page_method(page, "get_syndication_account_ids")
        return accounts.filter(pk__in=chosen) if chosen else accounts


def server_name(instance_url: str) -> str:
    return urlsplit(instance_url).netloc or instance_url


def network_name(network: str) -> str:
    """The network's name for people ("Mastodon"), or its key for one that is not configured
    (an account left on a network the site no longer has)."""

    try:
        return str(get_network(network).label)
    except (ConfigurationError, ImportError):
        return network


def account_label(network: str, instance_url: str, handle: str) -> str:
    """Who an account is, unambiguously: "@demo on X (api.x.com)". A Mastodon handle names
    its server already ("@alice@mastodon.social on Mastodon")."""
    server = server_name(instance_url)
    if not handle:
        return _("%(server)s on %(network)s") % {
            "server": server,
            "network": network_name(network),
        }
    if handle.lower().endswith(f"@{server.lower()}"):
        return _("%(handle)s on %(network)s") % {
            "handle": handle,
            "network": network_name(network),
        }
    return _("%(handle)s on %(network)s (%(server)s)") % {
        "handle": handle,
        "network": network_name(network),
        "server": server,
    }


@receiver(pre_delete, sender=SyndicationAccount, dispatch_uid="wagtail_syndicate_keep_records")
def _keep_identity_on_records(sender, instance, **kwargs):
    """Before an account goes (its records' link to it is then cleared), its records learn
    who it was."""
    instance.records.update(**instance.identity())


@sensitive_variables()
def _decrypt_session(ciphertext: str) -> dict:
    return json.loads(decrypt_token(ciphertext)) if ciphertext else {}


def site_id_of(page):
    """The id of the site ``page`` belongs to (None: not routable), as ``Page.get_site``
    finds it from Wagtail's cached site root paths without fetching the ``Site``, or the site
    itself from a page model's own ``get_site``."""
    from wagtail.models import Page

    if type(page).get_site is not Page.get_site:
        return page.get_site()
    url_parts = page.get_url_parts()
    return url_parts[0] if url_parts is not None else None
