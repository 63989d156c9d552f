"""Who may do what with records: everyone with any record permission may look; nobody edits
them by hand (only the task writes outcomes); Retry needs permission to publish the page."""

from wagtail.permission_policies import ModelPermissionPolicy

READ_ONLY_ACTIONS = {"add", "change", "delete", "copy"}


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
    from .models import SyndicationRecord

    if register_permission_policy is not None:
        register_permission_policy(
            SyndicationRecord, SyndicationRecordPermissionPolicy(SyndicationRecord)
        )
