"""Admin views of wagtail-syndicate that Wagtail's generic views do not provide: actions that
ask for confirmation (GET), then act (POST)."""

from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_variables
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from wagtail_syndicate.exceptions import SyndicationError
from wagtail_syndicate.models import SyndicationAccount, SyndicationRecord
from wagtail_syndicate.models.accounts import network_name
from wagtail_syndicate.networks import get_network
from wagtail_syndicate.pipeline.check_post import send_test_post
from wagtail_syndicate.pipeline.queueing import retry_record
from wagtail_syndicate.pipeline.runner import redact_secrets


class ConfirmActionView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "wagtail_syndicate/confirm.html"
    model = None
    submit_label = ""

    def dispatch(self, request, pk):
        self.object = get_object_or_404(self.model, pk=pk)
        if not self.user_may_act(request.user):
            raise PermissionDenied
        return super().dispatch(request)

    def user_may_act(self, user) -> bool:
        raise NotImplementedError

    def get_page_subtitle(self):
        return str(self.object)

    def get_breadcrumbs_items(self):
        """Home, then the list the object belongs to, the object, and this action."""
        opts = self.model._meta
        listing = f"wagtailsnippets_{opts.app_label}_{opts.model_name}:list"
        return [
            *super().get_breadcrumbs_items(),
            {"url": reverse(listing), "label": capfirst(opts.verbose_name_plural)},
            {"url": "", "label": str(self.object)},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            question=self.question(),
            detail=self.detail(),
            submit_label=self.submit_label,
            action_url=self.request.get_full_path(),
            cancel_url=self.done_url(),
            **kwargs,
        )

    def question(self) -> str:
        raise NotImplementedError

    def detail(self) -> str:
        return ""

    def done_url(self) -> str:
        raise NotImplementedError

    def post(self, request):
        self.act(request)
        return redirect(self.done_url())


class RetryView(ConfirmActionView):
    """Queue a failed record again."""

    model = SyndicationRecord
    page_title = gettext_lazy("Retry sharing")
    header_icon = "rotate"
    submit_label = gettext_lazy("Yes, retry")
    viewset = None

    def user_may_act(self, user) -> bool:
        policy = self.viewset.permission_policy
        return policy.user_has_permission_for_instance(user, "retry", self.object)

    def question(self) -> str:
        return _("Share “%(page)s” to %(account)s again?") % {
            "page": self.object.page.title,
            "account": self.object.account,
        }

    def detail(self) -> str:
        if not self.object.last_error:
            return ""
        return _("It failed because: %s") % self.object.last_error

    def done_url(self) -> str:
        """Back where Retry was clicked (the page editor, the dashboard), else the record."""
        back = self.request.GET.get("next", "")
        if back and url_has_allowed_host_and_scheme(back, {self.request.get_host()}):
            return back
        if self.viewset.permission_policy.user_has_permission(self.request.user, "view"):
            return reverse(self.viewset.get_url_name("inspect"), args=[self.object.pk])
        return reverse("wagtailadmin_pages:edit", args=[self.object.page_id])

    def act(self, request):

        record = self.object
        record = retry_record(record) if record.can_retry else record
        record.refresh_from_db()  # a backend that runs tasks at once may have settled it
        when = attempt_time(record.updated_at)
        if record.state in (SyndicationRecord.State.QUEUED, SyndicationRecord.State.POSTING):
            messages.success(
                request,
                format_html(
                    _("Sharing to {account} is queued again ({when})."),
                    account=record.account_name(),
                    when=when,
                ),
            )
        elif record.state == SyndicationRecord.State.FAILED:
            messages.error(
                request,
                format_html(
                    _("Failed again ({when}): {reason}"), when=when, reason=record.last_error
                ),
            )
        else:
            messages.warning(
                request, _("Nothing to retry: this post is %s.") % record.get_state_display()
            )


def attempt_time(time) -> str:
    """``time`` as Wagtail shows times: how long ago, with the exact time on hover."""
    return render_to_string("wagtail_syndicate/includes/attempt_time.html", {"time": time})


class CheckPostView(ConfirmActionView):
    """Send a test post (with an image, seen by the account alone) and say how it went."""

    model = SyndicationAccount
    page_title = gettext_lazy("Send a test post")
    header_icon = "mail"
    submit_label = gettext_lazy("Send the test post")

    def user_may_act(self, user) -> bool:
        return user.has_perm("wagtail_syndicate.change_syndicationaccount")

    def get_page_title(self):
        if not self.posts_privately:
            return _("Check the account")
        return self.page_title

    @property
    def posts_privately(self) -> bool:
        """Whether the network has posts only the account sees (else nothing is posted)."""
        return get_network(self.object.network).private_choice() is not None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if not self.posts_privately:  # the button says what it does: it posts nothing
            context["submit_label"] = _("Sign in and upload the test image")
        return context

    def question(self) -> str:
        if not self.posts_privately:
            return _(
                "Check %(account)s: sign in and upload a test image? Nothing is posted: "
                "%(network)s has no posts that only the account itself sees."
            ) % {"account": self.object, "network": network_name(self.object.network)}
        _value, label = get_network(self.object.network).private_choice()
        return _(
            "Send a test post with an image to %(account)s? Its visibility is “%(visibility)s”: "
            "only the account itself sees it."
        ) % {"account": self.object, "visibility": label}

    def done_url(self) -> str:
        return reverse("wagtailsnippets_wagtail_syndicate_syndicationaccount:list")

    @sensitive_variables()
    def act(self, request):

        try:
            url = send_test_post(self.object)
        except (SyndicationError, ImproperlyConfigured) as err:
            messages.error(
                request,
                _("The test post to %(account)s failed: %(reason)s")
                % {"account": self.object, "reason": redact_secrets(self.object, str(err))},
            )
        else:
            if url is None:
                messages.success(
                    request,
                    _("%s signed in and took the test image; nothing was posted.") % self.object,
                )
                return
            messages.success(
                request,
                _("Test post sent to %s.") % self.object,
                buttons=[messages.button(url, _("View it"), new_window=True)],
            )
