"""Who may do what with records: everyone with any record permission may look; nobody edits
them by hand (only the task writes outcomes); Retry needs permission to publish the page."""

from django.core.exceptions import PermissionDenied
from django.urls import path, reverse
from wagtail.admin.menu import MenuItem
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.snippets.views.chooser import SnippetChooserViewSet

from wagtail_syndicate.models import SyndicationRecord

READ_ONLY_ACTIONS = {"add", "change", "delete", "copy"}


RETRY_URL_NAME = "wagtailsnippets_wagtail_syndicate_syndicationrecord:retry"


def retry_url(record) -> str:
    return reverse(RETRY_URL_NAME, args=[record.pk])


def may_retry(user, record) -> bool:

    return record.can_retry and can_retry(user, record)


class SyndicationRecordPermissionPolicy(ModelPermissionPolicy):
    def user_has_permission(self, user, action):
        if action == "retry":
            # Whether Retry may appear at all; each record then asks its page.
            return super().user_has_permission(user, "view") or super().user_has_permission(
                user, "change"
            )
        if action in READ_ONLY_ACTIONS:
            return False
        return super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)

    def users_with_any_permission(self, actions):
        allowed = [action for action in actions if action not in READ_ONLY_ACTIONS]
        return super().users_with_any_permission(allowed)

    def user_has_permission_for_instance(self, user, action, instance):
        if action == "retry":
            return can_retry(user, instance)
        return self.user_has_permission(user, action)


# Any of the model's own permissions lets a user pick one of its objects in a chooser.
CHOOSER_ACTIONS = ("add", "change", "delete", "view")


def may_choose(user, model) -> bool:
    """Whether ``user`` holds any permission on ``model`` (records, accounts): admin access
    alone does not show page titles or handles."""
    return ModelPermissionPolicy(model).user_has_any_permission(user, CHOOSER_ACTIONS)


class PermissionCheckedChooserViewSet(SnippetChooserViewSet):
    """Wagtail's snippet chooser (list, search results, chosen, create), refused to users
    without a permission on the model; Wagtail's own chooser views only ask for admin
    access."""

    def get_urlpatterns(self):
        return [
            path(str(pattern.pattern), self.guarded(pattern.callback), name=pattern.name)
            for pattern in super().get_urlpatterns()
        ]

    def guarded(self, view):
        model = self.model

        def guarded_view(request, *args, **kwargs):
            if not may_choose(request.user, model):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return guarded_view


class ViewSetMenuItem(MenuItem):
    """A menu item to a viewset's listing, shown only to those its listing lets in (a
    permission on the model), as Wagtail's own Redirects and Sites items are."""

    def __init__(self, viewset, label, **kwargs):
        self.viewset = viewset
        super().__init__(label, reverse(viewset.get_url_name("list")), **kwargs)

    def is_shown(self, request):
        actions = self.viewset.index_view_class.any_permission_required
        return self.viewset.permission_policy.user_has_any_permission(request.user, actions)


def can_retry(user, record) -> bool:
    """Retrying shares the page again: it takes permission to publish the page."""
    return record.page.permissions_for_user(user).can_publish()


try:  # Wagtail 7.1+: policies are registered, and setting one on a viewset is deprecated.
    from wagtail.permissions import register_permission_policy
except ImportError:  # Wagtail 7.0 reads the policy from the viewset.
    register_permission_policy = None


def register_policies() -> None:
    """Register the records' policy with Wagtail (7.1+; 7.0 reads it from the viewset).

    Called at the top of ``wagtail_hooks.py``, before the viewsets are registered, never from
    ``AppConfig.ready()``: Wagtail 8's snippets app loads every ``wagtail_hooks.py`` in its own
    ``ready()``, so for this app listed after it the viewset has already made a fallback policy
    and registering then raises ``ImproperlyConfigured``. Hooks are loaded once, whatever the
    order of ``INSTALLED_APPS``.
    """

    if register_permission_policy is not None:
        register_permission_policy(
            SyndicationRecord, SyndicationRecordPermissionPolicy(SyndicationRecord)
        )
