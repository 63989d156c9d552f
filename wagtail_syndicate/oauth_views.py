"""Connecting a Mastodon account with OAuth, and revoking its token when it is disconnected.

The administrator names a server; the site registers itself there once (``MastodonApp``),
sends the browser to the server's consent page with a ``state`` kept in the session (and a
PKCE challenge where the server supports it), and on the way back exchanges the code for a
token and stores the account. Every failure ends on the accounts list with a message, and
nothing but the app registration is stored before the account itself.
"""

import logging
import secrets
import time

from django import forms
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.generic import FormView, View
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from .exceptions import NetworkError
from .models import MastodonApp, SyndicationAccount
from .networks import get_network
from .networks.base import Credentials
from .networks.mastodon_oauth import AppCredentials, MastodonOAuth, instance_from_input
from .networks.oauth import pkce_pair
from .tokens import encrypt_token, is_readable

logger = logging.getLogger(__name__)

SESSION_KEY = "wagtail_syndicate_oauth"
# How long a sign-in may take on the server's side, and how many may be under way at once.
FLOW_LIFETIME = 30 * 60
MAX_FLOWS = 5


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


class OAuthViewMixin:
    viewset = None

    def dispatch(self, request, *args, **kwargs):
        if not self.viewset.permission_policy.user_has_permission(request.user, "add"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def accounts_list(self, message: str | None = None, *, level=messages.error):
        if message:
            level(self.request, message)
        return redirect(reverse(self.viewset.get_url_name("list")))


class ConnectView(OAuthViewMixin, WagtailAdminTemplateMixin, FormView):
    """Ask which server (GET), then send the browser to its consent page (POST)."""

    template_name = "wagtail_syndicate/oauth_connect.html"
    page_title = gettext_lazy("Connect a Mastodon account")
    header_icon = "user"
    form_class = ConnectForm

    def get_breadcrumbs_items(self):
        accounts = {
            "url": reverse(self.viewset.get_url_name("list")),
            "label": self.viewset.model._meta.verbose_name_plural.capitalize(),
        }
        return [*super().get_breadcrumbs_items(), accounts, {"url": "", "label": self.page_title}]

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            cancel_url=reverse(self.viewset.get_url_name("list")), **kwargs
        )

    def form_valid(self, form):
        instance_url = form.cleaned_data["instance"]
        redirect_uri = self.request.build_absolute_uri(
            reverse(self.viewset.get_url_name("oauth_callback"))
        )
        oauth = MastodonOAuth(instance_url)
        try:
            server = oauth.server_oauth()
            app = registered_app(oauth, redirect_uri, server.scopes)
        except (NetworkError, ImproperlyConfigured) as err:
            return self.accounts_list(_("No account was connected: %s") % err)
        verifier, challenge = pkce_pair() if server.pkce else (None, None)
        state = secrets.token_urlsafe(32)
        remember_flow(
            self.request.session,
            state,
            {
                "instance_url": instance_url,
                "app_id": app.pk,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
                "started": time.time(),
            },
        )
        return redirect(
            oauth.authorize_url(app.client_id, redirect_uri, app.scopes, state, challenge)
        )


@method_decorator(sensitive_post_parameters(), name="dispatch")
class CallbackView(OAuthViewMixin, View):
    """Where the server sends the browser back: exchange the code, store the account."""

    @method_decorator(sensitive_variables())
    def get(self, request):
        flow = take_flow(request.session, request.GET.get("state", ""))
        if flow is None:
            return self.accounts_list(
                _(
                    "The sign-in could not be matched to one started here, or it took too "
                    "long. No account was connected: please start again."
                )
            )
        instance_url = flow["instance_url"]
        error = request.GET.get("error")
        if error == "access_denied":
            return self.accounts_list(
                _("Access was denied on %s: no account was connected.") % instance_url,
                level=messages.warning,
            )
        if error or not request.GET.get("code"):
            reason = request.GET.get("error_description") or error or _("no code was sent")
            return self.accounts_list(
                _(
                    "%(instance)s did not authorize this site (%(reason)s): no account was "
                    "connected."
                )
                % {"instance": instance_url, "reason": reason}
            )
        app = MastodonApp.objects.filter(pk=flow["app_id"]).first()
        if app is None:
            return self.accounts_list(_("No account was connected: please start again."))
        oauth = MastodonOAuth(instance_url)
        try:
            credentials = AppCredentials(app.client_id, app.client_secret)
            token = oauth.exchange_code(
                credentials, request.GET["code"], flow["redirect_uri"], flow["code_verifier"]
            )
        except (NetworkError, ImproperlyConfigured) as err:
            return self.accounts_list(_("No account was connected: %s") % err)
        try:
            info = get_network("mastodon").verify(Credentials(instance_url, token))
        except (NetworkError, ImproperlyConfigured) as err:
            revoke_quietly(oauth, credentials, token)
            return self.accounts_list(_("No account was connected: %s") % err)
        account, created, replaced = save_account(instance_url, info.handle, token, app)
        if replaced is not None:
            revoke_quietly(*replaced)
        if created:
            message = _("Connected %s.") % account
        else:
            message = _("Connected %s again, with a new access token.") % account
        return self.accounts_list(message, level=messages.success)


@sensitive_variables()
def registered_app(oauth: MastodonOAuth, redirect_uri: str, scopes: str) -> MastodonApp:
    """This site's app on the server: the stored one, or a new registration when there is
    none yet, the redirect URI or scopes changed, or the server forgot it."""
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
def save_account(instance_url: str, handle: str, token: str, app: MastodonApp):
    """Store the account (or give the one already connected the new token). Returns it,
    whether it is new, and what is needed to revoke the token it replaced, if this site's app
    issued that one."""
    with transaction.atomic():
        account = (
            SyndicationAccount.objects.select_for_update()
            .filter(network=SyndicationAccount.Network.MASTODON, instance_url=instance_url)
            .filter(handle=handle)
            .select_related("oauth_app")
            .first()
        )
        replaced = None
        created = account is None
        if created:
            account = SyndicationAccount(
                network=SyndicationAccount.Network.MASTODON,
                instance_url=instance_url,
                handle=handle,
            )
        elif account.oauth_app is not None:
            try:
                old = account.oauth_app
                replaced = (
                    MastodonOAuth(old.instance_url),
                    AppCredentials(old.client_id, old.client_secret),
                    account.access_token,
                )
            except ImproperlyConfigured:  # stored with a key since removed
                replaced = None
        account.access_token = token
        account.oauth_app = app
        account.save()
    return account, created, replaced


def remember_flow(session, state: str, flow: dict, key: str = SESSION_KEY) -> None:
    """Keep a sign-in under way in the session, by its ``state`` (under ``key``: one per
    network, so a sign-in can only come back to the network it was started for)."""
    flows = {
        name: value
        for name, value in session.get(key, {}).items()
        if value.get("started", 0) > time.time() - FLOW_LIFETIME
    }
    flows[state] = flow
    session[key] = dict(list(flows.items())[-MAX_FLOWS:])


def take_flow(session, state: str, key: str = SESSION_KEY) -> dict | None:
    """The sign-in started with ``state`` in this session, once; None if unknown or stale."""
    flows = dict(session.get(key, {}))
    flow = flows.pop(state, None) if state else None
    session[key] = flows
    if flow is None or flow.get("started", 0) <= time.time() - FLOW_LIFETIME:
        return None
    return flow


@sensitive_variables()
def revoke_quietly(oauth: MastodonOAuth, credentials: AppCredentials, token: str) -> None:
    """Revoke a token nobody will use; a failure is only logged."""
    try:
        oauth.revoke(credentials, token)
    except (NetworkError, ImproperlyConfigured) as err:
        logger.warning("Could not revoke an unused access token on %s: %s", oauth.instance_url, err)


def revoke_tokens(request, accounts) -> None:
    """After accounts were deleted in the admin: revoke their tokens, best effort, and say
    how it went (a failure is a warning; the accounts are gone either way)."""
    for account in accounts:
        level, text = disconnect(account)
        getattr(messages, level)(request, text)


def disconnect(account) -> tuple[str, str]:
    """Revoke a removed account's secrets where its network allows it; return how it went as
    (level, sentence): "success", "info" (nothing this site can revoke) or "warning"."""
    from .x_oauth_views import revoke_x_tokens

    revokers = {
        SyndicationAccount.Network.MASTODON: revoke_mastodon_token,
        SyndicationAccount.Network.X: revoke_x_tokens,
        SyndicationAccount.Network.BLUESKY: end_bluesky_session,
    }
    return revokers[account.network](account)


@sensitive_variables()
def end_bluesky_session(account) -> tuple[str, str]:
    """End the account's session on its PDS; the app password itself can only be revoked in
    Bluesky's settings."""
    from .networks.bluesky import BlueskyClient

    revoke_there = _(
        "Its app password can only be revoked in Bluesky's settings (Privacy and security → "
        "App passwords): revoke it there if it is no longer needed."
    )
    try:
        ended = BlueskyClient(account.credentials()).delete_session()
    except (NetworkError, ImproperlyConfigured) as err:
        return "warning", _(
            "%(account)s was removed, but its Bluesky session could not be ended: %(reason)s"
        ) % {"account": account, "reason": err} + " " + revoke_there
    if not ended:
        return "info", _("%s was removed.") % account + " " + revoke_there
    ended_message = _("The Bluesky session of %s was ended.") % account.handle
    return "success", ended_message + " " + revoke_there


@sensitive_variables()
def revoke_mastodon_token(account) -> tuple[str, str]:
    app = account.oauth_app if account.oauth_app_id else None
    if app is None:
        return "info", _(
            "The access token of %s was pasted, not issued to this site, so it was not "
            "revoked: revoke it on the server if it is no longer needed."
        ) % account
    try:
        credentials = AppCredentials(app.client_id, app.client_secret)
        MastodonOAuth(app.instance_url).revoke(credentials, account.access_token)
    except (NetworkError, ImproperlyConfigured) as err:
        return "warning", _(
            "%(account)s was removed, but its access token could not be revoked: "
            "%(reason)s Revoke it on the server (Preferences → Account → Authorized "
            "apps)."
        ) % {"account": account, "reason": err}
    return "success", _("The access token of %s was revoked.") % account
