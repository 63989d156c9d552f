"""Admin screens: the records editors read (with Retry) and the accounts administrators connect."""

import django_filters
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.tables import Column, DateColumn, StatusTagColumn
from wagtail.admin.widgets.button import Button, HeaderButton
from wagtail.models import PageLogEntry
from wagtail.snippets.views.snippets import (
    CreateView,
    DeleteView,
    EditView,
    IndexView,
    InspectView,
    SnippetViewSet,
)

from wagtail_syndicate.admin.columns import (
    AccountColumn,
    AccountTitleColumn,
    PostLinkColumn,
    ReasonColumn,
    account_html,
    post_link_html,
)
from wagtail_syndicate.admin.forms import SyndicationAccountForm
from wagtail_syndicate.admin.live import live_context
from wagtail_syndicate.admin.oauth_flows import FLOWS
from wagtail_syndicate.admin.oauth_views import connect_urlpatterns
from wagtail_syndicate.admin.permissions import (
    PermissionCheckedChooserViewSet,
    SyndicationRecordPermissionPolicy,
    register_permission_policy,
)
from wagtail_syndicate.admin.views import RetryView
from wagtail_syndicate.models import SyndicationAccount, SyndicationRecord
from wagtail_syndicate.networks.registry import network_choices


def retry_button(view, record, *, priority: int) -> list[Button]:
    """The Retry button for a failed record, if the user may retry it."""
    policy = view.permission_policy
    if not record.can_retry or not policy.user_has_permission_for_instance(
        view.request.user, "retry", record
    ):
        return []
    url = reverse(view.retry_url_name, args=[record.pk])
    return [Button(_("Retry"), url=url, icon_name="rotate", priority=priority)]


class RecordIndexView(IndexView):
    """The records report. No bulk actions: records are never deleted by hand (the policy
    refuses it to everyone), and Delete is the only bulk action snippets have."""

    retry_url_name = None

    def get_base_queryset(self):
        return super().get_base_queryset().select_related("page", "account")

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        query = self.request.GET.urlencode()
        url = f"{self.index_results_url}?{query}" if query else self.index_results_url
        return {**context, **live_context(context["object_list"], url)}

    @cached_property
    def columns(self):
        return [column for column in super().columns if column.name != "bulk_actions"]

    def get_list_more_buttons(self, instance):
        return [*super().get_list_more_buttons(instance), *retry_button(self, instance, priority=5)]


HISTORY_SHOWN = 20


def shown_date(date, empty) -> str:
    """A time as Wagtail shows one (relative, the exact time on hover), or ``empty``."""
    return render_to_string("wagtail_syndicate/shared/date.html", {"date": date, "empty": empty})


class RecordInspectView(InspectView):
    """One record in full: its account, post link, whole reason, attempts, the next attempt
    and the history of its attempts (the entries it wrote in its page's history)."""

    retry_url_name = None
    template_name = "wagtail_syndicate/records/inspect.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # What the header's Actions menu holds: the live status replaces it when this changes.
        header_key = " ".join(button.url or "" for button in self.get_header_more_buttons())
        return {
            **context,
            **live_context([self.object], self.request.path),
            "live_header_key": header_key,
        }

    labels = {"post": _("Post"), "history": _("History")}

    @cached_property
    def header_more_buttons(self):
        return [*super().header_more_buttons, *retry_button(self, self.object, priority=5)]

    def get_field_label(self, field_name, field):
        if field_name in self.labels:
            return self.labels[field_name]
        return super().get_field_label(field_name, field)

    def get_account_display_value(self):
        return mark_safe(account_html(self.object))  # noqa: S308 (a template, escaped)

    def get_post_display_value(self):
        return mark_safe(post_link_html(self.object))  # noqa: S308 (a template, escaped)

    def get_last_error_display_value(self):
        return self.object.last_error or "—"

    def get_notice_display_value(self):
        return self.object.notice or "—"

    def get_next_attempt_at_display_value(self):
        record = self.object
        if record.state != SyndicationRecord.State.RETRYING:
            return "—"
        return mark_safe(shown_date(record.next_attempt_at, _("Not yet planned")))  # noqa: S308

    def get_queued_at_display_value(self):
        return mark_safe(shown_date(self.object.queued_at, "—"))  # noqa: S308

    def get_posted_at_display_value(self):
        return mark_safe(shown_date(self.object.posted_at, _("Not yet")))  # noqa: S308

    def get_updated_at_display_value(self):
        return mark_safe(shown_date(self.object.updated_at, "—"))  # noqa: S308

    def get_history_display_value(self):
        return mark_safe(  # noqa: S308 (a template, escaped)
            render_to_string(
                "wagtail_syndicate/shared/record_history.html",
                {"entries": self.history_entries()},
            )
        )

    def history_entries(self) -> list:
        """The latest entries this record wrote in its page's history, newest first (entries
        from before they named their record: those naming its account)."""
        record = self.object
        names = {record.account_name()}
        if record.account_id is not None:
            names.add(record.account.handle)
        entries = (
            PageLogEntry.objects.filter(
                page_id=record.page_id, action__startswith="wagtail_syndicate."
            )
            .select_related("user")
            .order_by("-timestamp", "-pk")
        )
        mine = []
        for entry in entries.iterator():
            data = entry.data or {}
            if data.get("record", None) == record.pk or (
                "record" not in data and data.get("account") in names
            ):
                mine.append(entry)
                if len(mine) == HISTORY_SHOWN:
                    break
        return mine


class SyndicationViewSet(SnippetViewSet):
    """What the plugin's two snippet viewsets share: they are not added to the admin menu on
    their own, have no Copy view, and their choosers check permissions."""

    add_to_admin_menu = False
    copy_view_enabled = False
    chooser_viewset_class = PermissionCheckedChooserViewSet


class SyndicationRecordViewSet(SyndicationViewSet):
    model = SyndicationRecord
    icon = "globe"
    menu_label = _("Social posts")
    menu_name = "syndication_records"
    url_prefix = "syndication/posts"
    index_view_class = RecordIndexView
    index_results_template_name = "wagtail_syndicate/records/index_results.html"
    inspect_view_class = RecordInspectView
    inspect_view_enabled = True
    list_filter = ["state", "account"]
    search_fields = ["page__title", "last_error", "remote_url"]
    search_backend_name = None
    list_display = [
        "page",
        AccountColumn(),
        StatusTagColumn(
            "get_state_display",
            label=_("State"),
            primary=lambda record: record.state == SyndicationRecord.State.POSTED,
        ),
        PostLinkColumn(),
        ReasonColumn(),
        DateColumn("updated_at", label=_("Updated")),
    ]
    inspect_view_fields = [
        "page",
        "account",
        "state",
        "post",
        "last_error",
        "notice",
        "attempts",
        "next_attempt_at",
        "queued_at",
        "posted_at",
        "updated_at",
        "history",
    ]
    # The generic listing, without the snippets' bulk-actions footer (see RecordIndexView).
    index_template_name = "wagtailadmin/generic/index.html"

    if register_permission_policy is None:
        permission_policy = SyndicationRecordPermissionPolicy(SyndicationRecord)

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(retry_url_name=self.get_url_name("retry"), **kwargs)

    def get_inspect_view_kwargs(self, **kwargs):
        return super().get_inspect_view_kwargs(retry_url_name=self.get_url_name("retry"), **kwargs)

    def get_urlpatterns(self):
        retry = RetryView.as_view(viewset=self)
        return [*super().get_urlpatterns(), path("retry/<str:pk>/", retry, name="retry")]


class AccountIndexView(IndexView):
    # The Connect view's URL name of each OAuth network (``oauth_flows.FLOWS``), by network.
    connect_url_names: dict = {}

    def _get_title_column(self, field_name, column_class=AccountTitleColumn, **kwargs):
        return super()._get_title_column(field_name, column_class, **kwargs)

    @cached_property
    def add_item_label(self):
        return _("Add with a token")

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if not self.permission_policy.user_has_permission(self.request.user, "add"):
            return buttons
        connect = [
            HeaderButton(
                flow.connect_label,
                url=reverse(self.connect_url_names[network]),
                icon_name="plus",
                priority=10 + number,
            )
            for number, (network, flow) in enumerate(FLOWS.items())
            if flow.can_connect()
        ]
        return [*connect, *buttons]


class AccountFilterSet(WagtailFilterSet):
    # The configured networks: the model's field has no choices of its own.
    network = django_filters.ChoiceFilter(label=_("Network"), choices=network_choices)

    class Meta:
        model = SyndicationAccount
        fields = ["network", "enabled"]


class AccountDeleteView(DeleteView):
    @property
    def confirmation_message(self):
        return _(
            "Remove the account %(account)s? Its posts stay on the network and their records "
            "stay here, with their links; connect the same account again and it takes them "
            "back, so no page is posted twice. Until then they are no longer edited or deleted."
        ) % {"account": self.object}


# The pasted token travels in the POST of these two: never in an error report.
secret_post = method_decorator(sensitive_post_parameters("access_token"), name="dispatch")
secret_locals = method_decorator(sensitive_variables(), name="dispatch")


@secret_post
@secret_locals
class AccountCreateView(CreateView):
    pass


@secret_post
@secret_locals
class AccountEditView(EditView):
    pass


class SyndicationAccountViewSet(SyndicationViewSet):
    model = SyndicationAccount
    icon = "user"
    menu_label = _("Social accounts")
    menu_name = "syndication_accounts"
    url_prefix = "syndication/accounts"
    list_display = [
        "__str__",
        Column("server_name", label=_("Server")),
        Column("site", label=_("Site"), accessor=lambda account: account.site or _("Every site")),
        StatusTagColumn(
            "enabled",
            label=_("Status"),
            accessor=lambda account: _("Enabled") if account.enabled else _("Disabled"),
            primary=lambda account: account.enabled,
        ),
        Column("token_state", label=_("Token")),
    ]
    filterset_class = AccountFilterSet
    edit_handler = ObjectList(
        [
            FieldPanel("network"),
            FieldPanel("instance_url"),
            FieldPanel("handle"),
            FieldPanel("access_token"),
            FieldPanel("site"),
            FieldPanel("visibility"),
            FieldPanel("enabled"),
        ],
        base_form_class=SyndicationAccountForm,
    )
    index_view_class = AccountIndexView
    add_view_class = AccountCreateView
    edit_view_class = AccountEditView
    delete_view_class = AccountDeleteView

    def get_index_view_kwargs(self, **kwargs):
        names = {
            network: self.get_url_name(f"{flow.url_name}_connect")
            for network, flow in FLOWS.items()
        }
        return super().get_index_view_kwargs(connect_url_names=names, **kwargs)

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            *connect_urlpatterns(self),
        ]
