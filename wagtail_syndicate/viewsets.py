"""Admin screens: the records editors read (with Retry) and the accounts administrators connect."""

from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.tables import Column, DateColumn, StatusTagColumn
from wagtail.admin.widgets.button import Button, HeaderButton
from wagtail.snippets.views.snippets import (
    CreateView,
    DeleteView,
    EditView,
    IndexView,
    InspectView,
    SnippetViewSet,
)

from .conf import get_setting
from .forms import SyndicationAccountForm
from .live import live_context
from .models import SyndicationAccount, SyndicationRecord
from .oauth_views import CallbackView, ConnectView
from .permissions import (
    PermissionCheckedChooserViewSet,
    SyndicationRecordPermissionPolicy,
    register_permission_policy,
)
from .views import RetryView
from .x_oauth_views import XCallbackView, XConnectView


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
    retry_url_name = None

    def get_base_queryset(self):
        return super().get_base_queryset().select_related("page", "account")

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        query = self.request.GET.urlencode()
        url = f"{self.index_results_url}?{query}" if query else self.index_results_url
        return {**context, **live_context(context["object_list"], url)}

    def get_list_more_buttons(self, instance):
        return [*super().get_list_more_buttons(instance), *retry_button(self, instance, priority=5)]


class RecordInspectView(InspectView):
    retry_url_name = None
    template_name = "wagtail_syndicate/records/inspect.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        return {**context, **live_context([self.object], self.request.path)}

    @cached_property
    def header_more_buttons(self):
        return [*super().header_more_buttons, *retry_button(self, self.object, priority=5)]


class SyndicationRecordViewSet(SnippetViewSet):
    model = SyndicationRecord
    icon = "globe"
    menu_label = _("Social posts")
    menu_name = "syndication_records"
    url_prefix = "syndication/posts"
    add_to_admin_menu = False
    index_view_class = RecordIndexView
    index_results_template_name = "wagtail_syndicate/records/index_results.html"
    inspect_view_class = RecordInspectView
    inspect_view_enabled = True
    copy_view_enabled = False
    list_filter = ["state", "account"]
    search_fields = ["page__title", "last_error", "remote_url"]
    search_backend_name = None
    list_display = [
        "page",
        Column("account_name", label=_("Account")),
        StatusTagColumn(
            "get_state_display",
            label=_("State"),
            primary=lambda record: record.state == SyndicationRecord.State.POSTED,
        ),
        Column("post_link", label=_("Post")),
        Column("last_error", label=_("Reason")),
        DateColumn("updated_at", label=_("Updated")),
    ]
    inspect_view_fields = [
        "page",
        "account_name",
        "state",
        "post_link",
        "last_error",
        "notice",
        "attempts",
        "queued_at",
        "posted_at",
        "updated_at",
    ]

    chooser_viewset_class = PermissionCheckedChooserViewSet

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
    connect_url_name = None
    x_connect_url_name = None

    @cached_property
    def add_item_label(self):
        return _("Add with a token")

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if self.permission_policy.user_has_permission(self.request.user, "add"):
            connect = HeaderButton(
                _("Connect a Mastodon account"),
                url=reverse(self.connect_url_name),
                icon_name="plus",
                priority=10,
            )
            buttons.insert(0, connect)
            if get_setting("X_CLIENT_ID"):
                x_connect = HeaderButton(
                    _("Connect an X account"),
                    url=reverse(self.x_connect_url_name),
                    icon_name="plus",
                    priority=11,
                )
                buttons.insert(1, x_connect)
        return buttons


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


class SyndicationAccountViewSet(SnippetViewSet):
    model = SyndicationAccount
    icon = "user"
    menu_label = _("Social accounts")
    menu_name = "syndication_accounts"
    url_prefix = "syndication/accounts"
    add_to_admin_menu = False
    copy_view_enabled = False
    list_display = [
        "__str__",
        "network",
        "instance_url",
        "site",
        "enabled",
        Column("token_state", label=_("Token")),
    ]
    list_filter = ["network", "enabled"]
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
    chooser_viewset_class = PermissionCheckedChooserViewSet

    def get_index_view_kwargs(self, **kwargs):
        connect = self.get_url_name("oauth_connect")
        x_connect = self.get_url_name("x_oauth_connect")
        return super().get_index_view_kwargs(
            connect_url_name=connect, x_connect_url_name=x_connect, **kwargs
        )

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("connect/", ConnectView.as_view(viewset=self), name="oauth_connect"),
            path("connect/callback/", CallbackView.as_view(viewset=self), name="oauth_callback"),
            path("connect/x/", XConnectView.as_view(viewset=self), name="x_oauth_connect"),
            path(
                "connect/x/callback/", XCallbackView.as_view(viewset=self), name="x_oauth_callback"
            ),
        ]
