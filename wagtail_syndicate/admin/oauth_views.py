"""The admin's one Connect view and one Callback view for every OAuth network.

Connect asks what the network's flow needs (a Mastodon server; X needs nothing), lets the flow
(``oauth_flows``) say where the browser signs in, and keeps the sign-in in the session under a
random ``state``: for 30 minutes, once, under one key per network. Callback takes it back,
turns a denial or a refusal into a message, and lets the flow store the account. Every
failure ends on the accounts list with a message.
"""

import secrets
import time

from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.generic import FormView, View
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from wagtail_syndicate.admin.oauth_flows import FAILURES, FLOWS, StartAgain, disconnect

# How long a sign-in may take on the server's side, and how many may be under way at once.
FLOW_LIFETIME = 30 * 60
MAX_FLOWS = 5


class OAuthViewMixin:
    viewset = None
    network = None

    def dispatch(self, request, *args, **kwargs):
        if not self.viewset.permission_policy.user_has_permission(request.user, "add"):
            raise PermissionDenied
        self.flow = FLOWS[self.network]
        return super().dispatch(request, *args, **kwargs)

    def accounts_list(self, message: str | None = None, *, level=messages.error):
        if message:
            level(self.request, message)
        return redirect(reverse(self.viewset.get_url_name("list")))


class ConnectView(OAuthViewMixin, WagtailAdminTemplateMixin, FormView):
    """Ask what the network's sign-in needs (GET, if anything), then send the browser to its
    consent page (POST, or at once)."""

    template_name = "wagtail_syndicate/oauth_connect.html"
    header_icon = "user"

    def get_page_title(self):
        return self.flow.page_title

    def get_form_class(self):
        return self.flow.form_class

    def get(self, request, *args, **kwargs):
        if self.flow.form_class is None:
            return self.start({})
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        if self.flow.form_class is None:
            return HttpResponseNotAllowed(["GET"])
        return super().post(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        accounts = {
            "url": reverse(self.viewset.get_url_name("list")),
            "label": self.viewset.model._meta.verbose_name_plural.capitalize(),
        }
        current = {"url": "", "label": self.get_page_title()}
        return [*super().get_breadcrumbs_items(), accounts, current]

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            cancel_url=reverse(self.viewset.get_url_name("list")), **kwargs
        )

    def form_valid(self, form):
        return self.start(form.cleaned_data)

    def start(self, data: dict):
        callback = reverse(self.viewset.get_url_name(f"{self.flow.url_name}_callback"))
        redirect_uri = self.request.build_absolute_uri(callback)
        state = secrets.token_urlsafe(32)
        try:
            url, kept = self.flow.start(state=state, redirect_uri=redirect_uri, data=data)
        except FAILURES as err:
            return self.accounts_list(_("No account was connected: %s") % err)
        kept["started"] = time.time()
        remember_flow(self.request.session, state, kept, key=self.flow.session_key)
        return redirect(url)


@method_decorator(sensitive_post_parameters(), name="dispatch")
class CallbackView(OAuthViewMixin, View):
    """Where the server sends the browser back: exchange the code, store the account."""

    @method_decorator(sensitive_variables())
    def get(self, request, *args, **kwargs):
        flow = self.flow
        kept = take_flow(request.session, request.GET.get("state", ""), key=flow.session_key)
        if kept is None:
            return self.accounts_list(
                _(
                    "The sign-in could not be matched to one started here, or it took too "
                    "long. No account was connected: please start again."
                )
            )
        where = flow.where(kept)
        error = request.GET.get("error")
        if error == "access_denied":
            return self.accounts_list(
                _("Access was denied on %s: no account was connected.") % where,
                level=messages.warning,
            )
        if error or not request.GET.get("code"):
            reason = request.GET.get("error_description") or error or _("no code was sent")
            return self.accounts_list(
                _(
                    "%(instance)s did not authorize this site (%(reason)s): no account was "
                    "connected."
                )
                % {"instance": where, "reason": reason}
            )
        try:
            account, created = flow.finish(kept, request.GET["code"])
        except StartAgain as err:
            return self.accounts_list(str(err))
        except FAILURES as err:
            return self.accounts_list(_("No account was connected: %s") % err)
        if created:
            message = _("Connected %s.") % account
        else:
            message = flow.reconnected % account
        return self.accounts_list(message, level=messages.success)


def connect_urlpatterns(viewset) -> list:
    """``<prefix>_connect`` and ``<prefix>_callback`` of every OAuth network, for the
    accounts' viewset."""
    patterns = []
    for network, flow in FLOWS.items():
        kwargs = {"network": network, "viewset": viewset}
        connect, callback = ConnectView.as_view(**kwargs), CallbackView.as_view(**kwargs)
        patterns += [
            path(flow.url_path, connect, name=f"{flow.url_name}_connect"),
            path(f"{flow.url_path}callback/", callback, name=f"{flow.url_name}_callback"),
        ]
    return patterns


def remember_flow(session, state: str, flow: dict, key: str) -> None:
    """Keep a sign-in under way in the session, by its ``state`` (under ``key``: one per
    network, so a sign-in can only come back to the network it was started for)."""
    flows = {
        name: value
        for name, value in session.get(key, {}).items()
        if value.get("started", 0) > time.time() - FLOW_LIFETIME
    }
    flows[state] = flow
    session[key] = dict(list(flows.items())[-MAX_FLOWS:])


def take_flow(session, state: str, key: str) -> dict | None:
    """The sign-in started with ``state`` in this session, once; None if unknown or stale."""
    flows = dict(session.get(key, {}))
    flow = flows.pop(state, None) if state else None
    session[key] = flows
    if flow is None or flow.get("started", 0) <= time.time() - FLOW_LIFETIME:
        return None
    return flow


def revoke_tokens(request, accounts) -> None:
    """After accounts were deleted in the admin: revoke their tokens, best effort, and say
    how it went (a failure is a warning; the accounts are gone either way)."""
    for account in accounts:
        level, text = disconnect(account)
        getattr(messages, level)(request, text)
