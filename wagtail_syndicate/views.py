"""Admin views of wagtail-syndicate that Wagtail's generic views do not provide."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from .models import SyndicationRecord
from .queueing import retry_record


class RetryView(WagtailAdminTemplateMixin, TemplateView):
    """Confirm (GET), then queue a failed record again (POST)."""

    template_name = "wagtail_syndicate/retry_confirm.html"
    page_title = gettext_lazy("Retry sharing")
    header_icon = "rotate"
    viewset = None

    def dispatch(self, request, pk):
        self.record = get_object_or_404(SyndicationRecord, pk=pk)
        policy = self.viewset.permission_policy
        if not policy.user_has_permission_for_instance(request.user, "retry", self.record):
            raise PermissionDenied
        self.inspect_url = reverse(self.viewset.get_url_name("inspect"), args=[self.record.pk])
        return super().dispatch(request)

    def get_page_subtitle(self):
        return str(self.record)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            record=self.record, cancel_url=self.inspect_url, retry_url=self.request.path, **kwargs
        )

    def post(self, request):
        record = retry_record(self.record) if self.record.can_retry else self.record
        if record.state == SyndicationRecord.State.QUEUED:
            messages.success(request, _("Sharing to %s is queued again.") % record.account)
        elif record.state == SyndicationRecord.State.FAILED:
            messages.error(request, _("Not queued: %s") % record.last_error)
        else:
            messages.warning(
                request, _("Nothing to retry: this post is %s.") % record.get_state_display()
            )
        return redirect(self.inspect_url)
