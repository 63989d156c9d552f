"""Entries in the page's history for each step of sharing it."""

from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import LogFormatter, log


def log_outcome(record, page, action: str | None = None) -> None:
    """Add the record's current state (or ``action``, e.g. "edited") to ``page``'s history."""
    log(
        instance=page,
        action=f"wagtail_syndicate.{action or record.state}",
        data={
            "account": str(record.account),
            "url": record.remote_url,
            "reason": record.last_error,
            "attempt": record.attempts,
            "next_attempt_at": (
                record.next_attempt_at.isoformat(timespec="seconds")
                if record.next_attempt_at
                else ""
            ),
        },
    )


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
