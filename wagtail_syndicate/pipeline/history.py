"""Entries in the page's history for each step of sharing it."""

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import LogFormatter, get_active_log_context, log
from wagtail.log_actions import registry as log_registry
from wagtail.models import PageLogEntry


def log_outcome(record, page, action: str | None = None) -> None:
    """Add the record's current state (or ``action``, e.g. "edited") to ``page``'s history."""
    log_outcomes([record], page, action)


def log_outcomes(records, page, action: str | None = None) -> None:
    """``log_outcome`` for several records of ``page``, in one insert.

    What ``wagtail.log_actions.log`` writes (the same action, label, user and uuid of the log
    context, content type), without its validation: it checks each foreign key with a query of
    its own, and these entries are made here from a saved page and registered actions.
    """
    if not records:
        return
    model = log_registry.get_log_model_for_instance(page)
    if model is None:
        return
    if not issubclass(model, PageLogEntry):  # a log model of the site's own: Wagtail's way
        for record in records:
            log(instance=page, action=_action(record, action), data=_data(record))
        return
    context = get_active_log_context()
    common = {
        "page": page,
        "content_type": ContentType.objects.get_for_model(page, for_concrete_model=False),
        "label": model.objects.get_instance_title(page),
        "timestamp": timezone.now(),
        "user": context.user,
        "uuid": context.uuid,
    }
    model.objects.bulk_create(
        [model(action=_action(record, action), data=_data(record), **common) for record in records]
    )


def _action(record, action: str | None) -> str:
    return f"wagtail_syndicate.{action or record.state}"


def _data(record) -> dict:
    return {
        "record": record.pk,  # the record's inspect view lists its own entries
        "account": record.account_name(),
        "url": record.safe_remote_url,
        "reason": record.last_error,
        "attempt": record.attempts,
        "next_attempt_at": (
            record.next_attempt_at.isoformat(timespec="seconds") if record.next_attempt_at else ""
        ),
    }


def _formatter(label, message):
    return type(
        "SyndicationLogFormatter",
        (LogFormatter,),
        {"label": label, "format_message": lambda self, entry: message % entry.data},
    )


FORMATTERS = {
    "wagtail_syndicate.queued": _formatter(
        _("Queued for sharing"), _("Queued for sharing to %(account)s")
    ),
    "wagtail_syndicate.posting": _formatter(
        _("Sharing started"), _("Posting to %(account)s (attempt %(attempt)s)")
    ),
    "wagtail_syndicate.posted": _formatter(_("Shared"), _("Shared to %(account)s: %(url)s")),
    "wagtail_syndicate.edited": _formatter(
        _("Shared post updated"), _("Updated the post on %(account)s: %(url)s")
    ),
    "wagtail_syndicate.retrying": _formatter(
        _("Sharing will be retried"),
        _(
            "Attempt %(attempt)s to share to %(account)s failed: %(reason)s Retrying at "
            "%(next_attempt_at)s."
        ),
    ),
    "wagtail_syndicate.failed": _formatter(
        _("Sharing failed"), _("Sharing to %(account)s failed: %(reason)s")
    ),
    "wagtail_syndicate.deleted": _formatter(
        _("Shared post deleted"), _("Deleted the post on %(account)s")
    ),
}
