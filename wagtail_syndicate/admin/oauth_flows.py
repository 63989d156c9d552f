"""What connecting an account with OAuth does on each network (Mastodon, X), and revoking
what this site holds for an account when it is disconnected (the three networks).

A flow object per network (``MastodonFlow``, ``XFlow``) says where the browser signs in
(``start``) and turns the code it brings back into a stored account (``finish``); the admin's
one Connect view and one Callback view (``oauth_views``) run every flow. A token nobody will
use (one that cannot be checked, or one replaced by a new sign-in) is revoked; nothing but a
Mastodon app registration is stored before the account itself.
"""

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_variables

from wagtail_syndicate.conf import get_setting
from wagtail_syndicate.exceptions import NetworkError
from wagtail_syndicate.models import MastodonApp, SyndicationAccount
from wagtail_syndicate.networks import get_network
from wagtail_syndicate.networks.auth import pkce_pair
from wagtail_syndicate.networks.base import AccountInfo, Credentials
from wagtail_syndicate.networks.mastodon.auth import (
    AppCredentials,
    MastodonOAuth,
    instance_from_input,
)
from wagtail_syndicate.networks.x.auth import XOAuth, api_url
from wagtail_syndicate.tokens import encrypt_token, is_readable

logger = logging.getLogger(__name__)

FAILURES = (NetworkError, ImproperlyConfigured)


class StartAgain(Exception):
    """A sign-in that cannot go on; its message is shown as it is."""


@dataclass(frozen=True)
class Grant:
    """What a sign-in issued (or an account holds): its access token, the session (X's
    refresh token and expiry) and the app that issued it (Mastodon)."""

    instance_url: str
    access_token: str = field(repr=False)
    session: dict = field(default_factory=dict, repr=False)
    app: MastodonApp | None = None


class ConnectForm(forms.Form):
    instance = forms.CharField(
        label=gettext_lazy("Mastodon server or handle"),
        max_length=255,
        help_text=gettext_lazy(
            "For example mastodon.social, https://mastodon.social or @you@mastodon.social. "
            "You will sign in there and allow this site to post for you."
        ),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )

    def clean_instance(self):
        try:
            return instance_from_input(self.cleaned_data["instance"])
        except ImproperlyConfigured as err:
            raise ValidationError(str(err)) from None


class OAuthFlow(ABC):
    """One network's sign-in: ``start`` says where the browser signs in and what to keep
    until it comes back, ``finish`` turns the code it brings into a stored account."""

    network: str
    session_key: str
    # The URL names' prefix (``<prefix>_connect``, ``<prefix>_callback``) and path.
    url_name: str
    url_path: str
    # What Connect asks first (None: it sends the browser away at once), and its title.
    form_class: type[forms.Form] | None = None
    page_title = ""
    # The accounts list's button that starts it.
    connect_label: str
    reconnected: str
    # Disconnecting: nothing this site can revoke, a revocation that failed, one that worked.
    not_issued: str
    not_revoked: str
    revoked: str

    def can_connect(self) -> bool:
        """Whether the site is set up to connect accounts this way (the list shows the
        button only then)."""
        return True

    @abstractmethod
    def start(self, *, state: str, redirect_uri: str, data: dict) -> tuple[str, dict]:
        """The authorization URL and what to keep in the session until the callback
        (``data``: the form's cleaned data). Raises ``NetworkError``/``ImproperlyConfigured``."""

    @abstractmethod
    def where(self, kept: dict) -> str:
        """Where the administrator signed in, for messages."""

    @abstractmethod
    def exchange(self, kept: dict, code: str) -> Grant:
        """What the server issues for ``code``."""

    @abstractmethod
    def held(self, account: SyndicationAccount) -> Grant | None:
        """What the account holds that this site's app issued (None: nothing to revoke)."""

    @abstractmethod
    def revoke(self, grant: Grant) -> None:
        """Revoke the grant's tokens; raises ``NetworkError`` if the server refuses."""

    @abstractmethod
    def store(self, account: SyndicationAccount, grant: Grant, info: AccountInfo) -> None:
        """Give the account the rest of the grant (its access token is set already)."""

    @sensitive_variables()
    def finish(self, kept: dict, code: str) -> tuple[SyndicationAccount, bool]:
        """Exchange the code, check whose token it is, store the account: it, and whether it
        is new. Raises ``NetworkError``, ``ImproperlyConfigured`` or ``StartAgain``."""
        grant = self.exchange(kept, code)
        try:
            info = get_network(self.network).verify(
                Credentials(grant.instance_url, grant.access_token)
            )
        except FAILURES:
            revoke_quietly(self, grant)
            raise
        account, created, replaced = save_account(self, grant, info)
        if replaced is not None:
            revoke_quietly(self, replaced)
        return account, created


class MastodonFlow(OAuthFlow):
    """The administrator names a server; the site registers itself there once
    (``MastodonApp``) and signs in with PKCE where the server supports it."""

    network = SyndicationAccount.Network.MASTODON
    session_key = "wagtail_syndicate_oauth"
    url_name = "oauth"
    url_path = "connect/"
    form_class = ConnectForm
    page_title = connect_label = gettext_lazy("Connect a Mastodon account")
    reconnected = gettext_lazy("Connected %s again, with a new access token.")
    not_issued = gettext_lazy(
        "The access token of %s was pasted, not issued to this site, so it was not "
        "revoked: revoke it on the server if it is no longer needed."
    )
    not_revoked = gettext_lazy(
        "%(account)s was removed, but its access token could not be revoked: "
        "%(reason)s Revoke it on the server (Preferences → Account → Authorized "
        "apps)."
    )
    revoked = gettext_lazy("The access token of %s was revoked.")

    def start(self, *, state, redirect_uri, data):
        oauth = MastodonOAuth(data["instance"])
        server = oauth.server_oauth()
        app = registered_app(oauth, redirect_uri, server.scopes)
        verifier, challenge = pkce_pair() if server.pkce else (None, None)
        kept = {
            "instance_url": oauth.instance_url,
            "app_id": app.pk,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        url = oauth.authorize_url(app.client_id, redirect_uri, app.scopes, state, challenge)
        return url, kept

    def where(self, kept):
        return kept["instance_url"]

    @sensitive_variables()
    def exchange(self, kept, code):
        app = MastodonApp.objects.filter(pk=kept["app_id"]).first()
        if app is None:
            raise StartAgain(_("No account was connected: please start again."))
        token = MastodonOAuth(kept["instance_url"]).exchange_code(
            AppCredentials(app.client_id, app.client_secret),
            code,
            kept["redirect_uri"],
            kept["code_verifier"],
        )
        return Grant(kept["instance_url"], token, app=app)

    def held(self, account):
        if not account.oauth_app_id:
            return None
        return Grant(account.instance_url, account.access_token, app=account.oauth_app)

    @sensitive_variables()
    def revoke(self, grant):
        app = grant.app
        credentials = AppCredentials(app.client_id, app.client_secret)
        MastodonOAuth(app.instance_url).revoke(credentials, grant.access_token)

    def store(self, account, grant, info):
        account.oauth_app = grant.app


class XFlow(OAuthFlow):
    """OAuth 2.0 with PKCE as this site's X app; the account keeps a refresh token."""

    network = SyndicationAccount.Network.X
    session_key = "wagtail_syndicate_x_oauth"
    url_name = "x_oauth"
    url_path = "connect/x/"
    connect_label = gettext_lazy("Connect an X account")
    reconnected = gettext_lazy("Connected %s again, with new tokens.")
    not_issued = gettext_lazy(
        "The tokens of %s were not issued to this site through OAuth 2.0, so they were "
        "not revoked: revoke them in X's settings (Connected apps) if they are no longer "
        "needed."
    )
    not_revoked = gettext_lazy(
        "%(account)s was removed, but its tokens could not be revoked: %(reason)s "
        "Revoke them in X's settings (Connected apps)."
    )
    revoked = gettext_lazy("The tokens of %s were revoked.")

    def can_connect(self):
        return bool(get_setting("X_CLIENT_ID"))  # the site's X app

    def start(self, *, state, redirect_uri, data):
        verifier, challenge = pkce_pair()
        oauth = XOAuth(api_url())
        url = oauth.authorize_url(redirect_uri, state, challenge)
        kept = {"api_url": oauth.base_url, "redirect_uri": redirect_uri, "code_verifier": verifier}
        return url, kept

    def where(self, kept):
        return get_network(self.network).label

    @sensitive_variables()
    def exchange(self, kept, code):
        oauth = XOAuth(kept["api_url"])
        tokens = oauth.exchange_code(code, kept["redirect_uri"], kept["code_verifier"])
        return Grant(oauth.base_url, tokens.access_token, session=tokens.session())

    @sensitive_variables()
    def held(self, account):
        try:
            session = account.session
        except ImproperlyConfigured:  # stored with a key since removed
            return None
        if session.get("oauth1") or not session.get("refresh_token"):
            return None
        access_token = session.get("access_token") or account.access_token
        return Grant(account.instance_url, access_token, session=session)

    @sensitive_variables()
    def revoke(self, grant):
        oauth = XOAuth(grant.instance_url)
        oauth.revoke(grant.session["refresh_token"], "refresh_token")
        oauth.revoke(grant.access_token, "access_token")

    def store(self, account, grant, info):
        # Whose account it is, so posts can be linked without asking X each time.
        username = info.handle.removeprefix("@")
        account.session = {**grant.session, "user_id": info.remote_id, "username": username}


FLOWS: dict[str, OAuthFlow] = {flow.network: flow for flow in (MastodonFlow(), XFlow())}


@sensitive_variables()
def registered_app(oauth: MastodonOAuth, redirect_uri: str, scopes: str) -> MastodonApp:
    """This site's app on a Mastodon server: the stored one, or a new registration when there
    is none yet, the redirect URI or scopes changed, or the server forgot it."""
    app = MastodonApp.objects.filter(instance_url=oauth.instance_url).first()
    if (
        app is not None
        and (app.redirect_uri, app.scopes) == (redirect_uri, scopes)
        # A secret stored with a key since removed: register again rather than fail.
        and is_readable(app.encrypted_client_secret)
        and oauth.app_is_known(AppCredentials(app.client_id, app.client_secret), scopes)
    ):
        return app
    registered = oauth.register_app(redirect_uri, scopes)
    app, _created = MastodonApp.objects.update_or_create(
        instance_url=oauth.instance_url,
        defaults={
            "client_id": registered.client_id,
            "encrypted_client_secret": encrypt_token(registered.client_secret),
            "scopes": scopes,
            "redirect_uri": redirect_uri,
        },
    )
    return app


@sensitive_variables()
def save_account(flow: OAuthFlow, grant: Grant, info: AccountInfo):
    """Store the account (or give the one already connected the new grant). Returns it,
    whether it is new, and what it held that this site's app issued (to revoke), if any."""
    with transaction.atomic():
        account = (
            SyndicationAccount.objects.select_for_update()
            .filter(network=flow.network, instance_url=grant.instance_url)
            .filter(handle=info.handle)
            .select_related("oauth_app")
            .first()
        )
        replaced = None
        created = account is None
        if created:
            account = SyndicationAccount(
                network=flow.network, instance_url=grant.instance_url, handle=info.handle
            )
        else:
            try:
                replaced = flow.held(account)
            except ImproperlyConfigured:  # stored with a key since removed
                replaced = None
        account.access_token = grant.access_token
        flow.store(account, grant, info)
        account.save()
    return account, created, replaced


@sensitive_variables()
def revoke_quietly(flow: OAuthFlow, grant: Grant) -> None:
    """Revoke what nobody will use; a failure is only logged."""
    try:
        flow.revoke(grant)
    except FAILURES as err:
        logger.warning("Could not revoke an unused access token on %s: %s", grant.instance_url, err)


@sensitive_variables()
def disconnect(account) -> tuple[str, str]:
    """Revoke a removed account's secrets where its network allows it; return how it went as
    (level, sentence): "success", "info" (nothing this site can revoke) or "warning"."""
    try:
        network = get_network(account.network)
        if network.disconnects:
            return network.disconnect(account.credentials(), str(account))
    except FAILURES as err:  # its network is no longer configured, or its token unreadable
        return "warning", _("%(account)s was removed, but not disconnected: %(reason)s") % {
            "account": account,
            "reason": err,
        }
    flow = FLOWS.get(account.network)
    if flow is None:  # a network with neither a connect flow nor a disconnect of its own
        return "info", _("%s was removed.") % account
    try:
        grant = flow.held(account)
        if grant is None:
            return "info", flow.not_issued % account
        flow.revoke(grant)
    except FAILURES as err:
        return "warning", flow.not_revoked % {"account": account, "reason": err}
    return "success", flow.revoked % account
