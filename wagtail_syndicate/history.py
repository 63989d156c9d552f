"""Entries in the page's history for each step of sharing it."""

from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import LogFormatter, log

ACTIONS = {
    "queued": "wagtail_syndicate.queued",
    "posting": "wagtail_syndicate.posting",
    "posted": "wagtail_syndicate.posted",
    "failed": "wagtail_syndicate.failed",
}


def log_outcome(record, page) -> None:
    """Add the record's current state to ``page``'s history."""
    log(
        instance=page,
        action=ACTIONS[record.state],
        data={
            "account": str(record.account),
            "url": record.remote_url,
            "reason": record.last_error,
            "attempt": record.attempts,
        },
    )


class QueuedFormatter(LogFormatter):
    label = _("Queued for sharing")

    def format_message(self, log_entry):
        return _("Queued for sharing to %(account)s") % log_entry.data


class PostingFormatter(LogFormatter):
    label = _("Sharing started")

    def format_message(self, log_entry):
        return _("Posting to %(account)s (attempt %(attempt)s)") % log_entry.data


class PostedFormatter(LogFormatter):
    label = _("Shared")

    def format_message(self, log_entry):
        return _("Shared to %(account)s: %(url)s") % log_entry.data


class FailedFormatter(LogFormatter):
    label = _("Sharing failed")

    def format_message(self, log_entry):
        return _("Sharing to %(account)s failed: %(reason)s") % log_entry.data


FORMATTERS = {
    ACTIONS["queued"]: QueuedFormatter,
    ACTIONS["posting"]: PostingFormatter,
    ACTIONS["posted"]: PostedFormatter,
    ACTIONS["failed"]: FailedFormatter,
}
