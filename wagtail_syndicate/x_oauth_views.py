"""Connecting an X account with OAuth 2.0 (PKCE) in the admin, and revoking its tokens when it
is disconnected.

"Connect an X account" sends the browser to X's consent page with a ``state`` kept in the
session and a PKCE challenge; on the way back the code is exchanged for an access token and a
refresh token, X says whose account it is, and the account is stored with its tokens
(encrypted). Every failure ends on the accounts list with a message.
"""

import logging
import secrets
import time

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.generic import View
from wagtail.admin import messages

from .exceptions import NetworkError
from .models import SyndicationAccount
from .networks import get_network
from .networks.base import Credentials
from .networks.x_oauth import TokenSet, XOAuth, api_url, pkce_pair
from .oauth_views import OAuthViewMixin, remember_flow, take_flow

logger = logging.getLogger(__name__)

SESSION_KEY = "wagtail_syndicate_x_oauth"


class XConnectView(OAuthViewMixin, View):
    """Send the browser to X's consent page."""

    def get(self, request):
        redirect_uri = request.build_absolute_uri(
            reverse(self.viewset.get_url_name("x_oauth_callback"))
        )
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(32)
        try:
            oauth = XOAuth(api_url())
            authorize_url = oauth.authorize_url(redirect_uri, state, challenge)
        except ImproperlyConfigured as err:
            return self.accounts_list(_("No account was connected: %s") % err)
        flow = {
            "api_url": oauth.base_url,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
            "started": time.time(),
        }
        remember_flow(request.session, state, flow, key=SESSION_KEY)
        return redirect(authorize_url)


@method_decorator(sensitive_post_parameters(), name="dispatch")
class XCallbackView(OAuthViewMixin, View):
    """Where X sends the browser back: exchange the code, store the account."""

    @method_decorator(sensitive_variables())
    def get(self, request):
        flow = take_flow(request.session, request.GET.get("state", ""), key=SESSION_KEY)
        if flow is None:
            return self.accounts_list(
                _(
                    "The sign-in could not be matched to one started here, or it took too "
                    "long. No account was connected: please start again."
                )
            )
        error = request.GET.get("error")
        if error == "access_denied":
            return self.accounts_list(
                _("Access was denied on X: no account was connected."), level=messages.warning
            )
        if error or not request.GET.get("code"):
            reason = request.GET.get("error_description") or error or _("no code was sent")
            return self.accounts_list(
                _("X did not authorize this site (%(reason)s): no account was connected.")
                % {"reason": reason}
            )
        oauth = XOAuth(flow["api_url"])
        try:
            tokens = oauth.exchange_code(
                request.GET["code"], flow["redirect_uri"], flow["code_verifier"]
            )
            info = get_network("x").verify(Credentials(oauth.base_url, tokens.access_token))
        except (NetworkError, ImproperlyConfigured) as err:
            return self.accounts_list(_("No account was connected: %s") % err)
        account, created, replaced = save_account(oauth.base_url, info, tokens)
        if replaced:
            revoke_quietly(oauth, replaced)
        if created:
            message = _("Connected %s.") % account
        else:
            message = _("Connected %s again, with new tokens.") % account
        return self.accounts_list(message, level=messages.success)


@sensitive_variables()
def save_account(base_url: str, info, tokens: TokenSet):
    """Store the account (or give the one already connected the new tokens). Returns it,
    whether it is new, and the refresh token it replaced, if any (to revoke)."""
    username = info.handle.removeprefix("@")
    with transaction.atomic():
        account = (
            SyndicationAccount.objects.select_for_update()
            .filter(network=SyndicationAccount.Network.X, instance_url=base_url)
            .filter(handle=info.handle)
            .first()
        )
        created = account is None
        replaced = ""
        if created:
            account = SyndicationAccount(
                network=SyndicationAccount.Network.X, instance_url=base_url, handle=info.handle
            )
        else:
            try:
                replaced = account.session.get("refresh_token", "")
            except ImproperlyConfigured:  # stored with a key since removed
                replaced = ""
        account.access_token = tokens.access_token
        # Whose account it is, so posts can be linked without asking X each time.
        account.session = tokens.session(user_id=info.remote_id, username=username)
        account.save()
    return account, created, replaced


@sensitive_variables()
def revoke_quietly(oauth: XOAuth, refresh_token: str) -> None:
    """Revoke a refresh token nobody will use; a failure is only logged."""
    try:
        oauth.revoke(refresh_token, "refresh_token")
    except (NetworkError, ImproperlyConfigured) as err:
        logger.warning("Could not revoke an unused X refresh token: %s", err)


@sensitive_variables()
def revoke_x_tokens(account: SyndicationAccount) -> tuple[str, str]:
    """After an X account was removed: revoke its tokens, best effort; say how it went as
    (level, sentence), as ``oauth_views.disconnect`` does for every network."""
    try:
        session = account.session
    except ImproperlyConfigured:
        session = {}
    if session.get("oauth1") or not session.get("refresh_token"):
        return "info", _(
            "The tokens of %s were not issued to this site through OAuth 2.0, so they were "
            "not revoked: revoke them in X's settings (Connected apps) if they are no longer "
            "needed."
        ) % account
    oauth = XOAuth(account.instance_url)
    try:
        oauth.revoke(session["refresh_token"], "refresh_token")
        oauth.revoke(session.get("access_token") or account.access_token, "access_token")
    except (NetworkError, ImproperlyConfigured) as err:
        return "warning", _(
            "%(account)s was removed, but its tokens could not be revoked: %(reason)s "
            "Revoke them in X's settings (Connected apps)."
        ) % {"account": account, "reason": err}
    return "success", _("The tokens of %s were revoked.") % account
