"""Admin pieces outside the page editor: the dashboard's recent failures, the page header's
"View post" items."""

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _
from wagtail.admin.ui.components import Component
from wagtail.admin.widgets.button import Button

from wagtail_syndicate.admin.permissions import may_retry, retry_url
from wagtail_syndicate.models import SyndicationRecord

RECENT_FAILURES = 5


class RecentFailuresPanel(Component):
    """On the dashboard: posts that failed, for those who may publish their pages (and so
    retry them)."""

    name = "syndication_failures"
    template_name = "wagtail_syndicate/home/recent_failures.html"
    order = 150

    def __init__(self, user):
        failed = (
            SyndicationRecord.objects.filter(state=SyndicationRecord.State.FAILED)
            .select_related("page", "account")
            .order_by("-updated_at")[:50]
        )
        self.records = [r for r in failed if may_retry(user, r)][:RECENT_FAILURES]

    def render_html(self, parent_context=None):
        return super().render_html(parent_context) if self.records else ""

    def get_context_data(self, parent_context=None):
        back = urlencode({"next": reverse("wagtailadmin_home")})
        return {
            "records": [(record, f"{retry_url(record)}?{back}") for record in self.records],
            "list_url": reverse("wagtailsnippets_wagtail_syndicate_syndicationrecord:list")
            + "?state=failed",
        }


# Marks the page header's items that are this plugin's: the live status replaces them.
HEADER_ITEM_ATTR = "data-syndication-header-item"


def view_post_buttons(page) -> list[Button]:
    """A "View post on @handle" item per post of ``page``."""
    posted = SyndicationRecord.objects.filter(page_id=page.pk, state=SyndicationRecord.State.POSTED)
    return view_post_buttons_for(posted.exclude(remote_url="").select_related("account"))


def view_post_buttons_for(records) -> list[Button]:
    """The "View post on @handle" items of those of ``records`` that are posted, with a link
    that may be shown (``safe_remote_url``), in the order the header shows them."""
    return sorted(
        Button(
            _("View post on %s") % record.account_name(),
            url=record.safe_remote_url,
            icon_name="link-external",
            priority=90,
            attrs={"target": "_blank", "rel": "noopener", HEADER_ITEM_ATTR: "view-post"},
        )
        for record in records
        if record.state == SyndicationRecord.State.POSTED and record.safe_remote_url
    )
