"""Registration with Wagtail; the logic lives in the modules it names."""

from django.core.exceptions import PermissionDenied
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.widgets.button import Button
from wagtail.snippets.models import register_snippet

from wagtail_syndicate.admin.columns import ICON_FILES
from wagtail_syndicate.admin.components import RecentFailuresPanel, view_post_buttons
from wagtail_syndicate.admin.live import LIVE_URL_NAME, page_status
from wagtail_syndicate.admin.oauth_views import revoke_tokens
from wagtail_syndicate.admin.page_form import SharingCheck
from wagtail_syndicate.admin.permissions import ViewSetMenuItem, register_policies
from wagtail_syndicate.admin.preview_views import (
    SyndicationPreviewOnCreateView,
    SyndicationPreviewView,
)
from wagtail_syndicate.admin.views import CheckPostView
from wagtail_syndicate.admin.viewsets import SyndicationAccountViewSet, SyndicationRecordViewSet
from wagtail_syndicate.content.images import WebReadyOperation
from wagtail_syndicate.models import SyndicatedPageMixin, SyndicationAccount, SyndicationRecord
from wagtail_syndicate.networks import get_network
from wagtail_syndicate.pipeline.history import FORMATTERS

register_policies()  # first: registering a viewset makes a fallback policy for its model

record_viewset = SyndicationRecordViewSet()
account_viewset = SyndicationAccountViewSet()
register_snippet(record_viewset)
register_snippet(account_viewset)


@hooks.register("register_icons")
def register_network_icons(icons):
    return [*icons, *ICON_FILES]


@hooks.register("register_image_operations")
def register_image_operations():
    return [("webready", WebReadyOperation)]


@hooks.register("register_settings_menu_item")
def register_accounts_menu_item():
    return ViewSetMenuItem(
        account_viewset, gettext_lazy("Social accounts"), icon_name="user", order=900
    )


@hooks.register("register_reports_menu_item")
def register_records_menu_item():
    return ViewSetMenuItem(
        record_viewset, gettext_lazy("Social posts"), icon_name="globe", order=900
    )


@hooks.register("construct_homepage_panels")
def add_recent_failures_panel(request, panels):
    panels.append(RecentFailuresPanel(request.user))


@hooks.register("register_page_header_buttons")
def add_view_post_buttons(page, user, view_name, next_url=None):
    return view_post_buttons(page)


@hooks.register("register_admin_urls")
def register_check_post_url():
    return [
        path(
            "syndication/accounts/check/<int:pk>/",
            CheckPostView.as_view(),
            name="wagtail_syndicate_check_post",
        )
    ]


@hooks.register("register_admin_urls")
def register_live_status_url():
    return [path("syndication/status/page/<int:page_id>/", page_status, name=LIVE_URL_NAME)]


@hooks.register("insert_global_admin_js")
def live_status_js():
    """The ``syndication-live`` Stimulus controller: the editor's panel, the records report and
    a record's inspect view keep themselves up to date while a post is in flight."""
    return format_html('<script src="{}"></script>', static("wagtail_syndicate/js/live-status.js"))


@hooks.register("register_admin_urls")
def register_preview_url():
    return [
        path(
            "syndication/preview/<int:page_id>/",
            SyndicationPreviewView.as_view(),
            name="wagtail_syndicate_preview",
        ),
        path(
            "syndication/preview/add/<slug:content_type_app_name>/<slug:content_type_model_name>/"
            "<int:parent_page_id>/",
            SyndicationPreviewOnCreateView.as_view(),
            name="wagtail_syndicate_preview_on_add",
        ),
    ]


@hooks.register("insert_editor_js")
def editor_js():
    return format_html(
        '<script src="{}"></script>', static("wagtail_syndicate/js/syndication-preview.js")
    )


@hooks.register("register_snippet_listing_buttons")
def add_check_post_button(snippet, user, next_url=None):
    if isinstance(snippet, SyndicationAccount) and user.has_perm(
        "wagtail_syndicate.change_syndicationaccount"
    ):
        private = bool(get_network(snippet.network).visibilities)
        yield Button(
            gettext_lazy("Send a test post") if private else gettext_lazy("Check the account"),
            url=reverse("wagtail_syndicate_check_post", args=[snippet.pk]),
            icon_name="mail",
            priority=15,
        )


@hooks.register("after_delete_snippet")
def revoke_tokens_of_deleted_accounts(request, instances):
    """Deleting accounts in the admin (one, or in bulk) disconnects them: revoke their tokens."""
    revoke_tokens(request, [i for i in instances if isinstance(i, SyndicationAccount)])


@hooks.register("register_log_actions")
def register_log_actions(actions):
    for action, formatter in FORMATTERS.items():
        actions.register_action(action)(formatter)


@hooks.register("before_publish_page")
def keep_the_sharing_check(request, page):
    """``page`` is the form's instance here (the edit view reads the page again before
    ``after_publish_page``): keep its publish check for the message."""
    if check := getattr(page, "syndication_check", None):
        request.syndication_check = check


@hooks.register("after_publish_page")
def tell_editor_what_is_shared(request, page):
    """Only the admin's create and edit views call this hook; it only informs the editor, from
    what the form's publish check found in this request (``page_form.SharingCheck``): nothing
    the publish wrote is read back, and the check is not made again."""
    if not isinstance(page, SyndicatedPageMixin) or not page.syndicate:
        return
    check = getattr(request, "syndication_check", None)
    if check is None:  # a form that is not the plugin's: check now
        check = SharingCheck(page)
    if check.go_live_at and check.go_live_at > timezone.now():  # scheduled: not live yet
        messages.info(request, _("This page will be shared when it goes live."))
        return
    if check.choice_error is not None:
        messages.warning(request, _("Not shared: %(reason)s") % {"reason": check.choice_error})
        return
    if not check.accounts:
        messages.warning(request, _("Not shared: no social account is connected for this site."))
        return
    outcomes = {account: check.outcome(account) for account in check.accounts}
    if sharing := [str(a) for a, outcome in outcomes.items() if outcome == "sharing"]:
        messages.success(request, _("Sharing to %s") % ", ".join(sharing))
    if updating := [str(a) for a, outcome in outcomes.items() if outcome == "updating"]:
        messages.success(request, _("Updating the post on %s") % ", ".join(updating))
    for account, outcome in outcomes.items():
        if outcome == "failed":
            messages.warning(
                request,
                _("Not shared to %(account)s: %(reason)s")
                % {"account": account, "reason": check.errors[account.pk]},
            )


@hooks.register("before_bulk_action")
def refuse_deleting_records(request, action_type, objects, action_class_instance):
    """Records are never deleted by hand (their permission policy refuses it to everyone): a
    bulk delete of records is refused too, whatever the Wagtail version's own check allows."""
    if action_type == "delete" and any(isinstance(obj, SyndicationRecord) for obj in objects):
        raise PermissionDenied
