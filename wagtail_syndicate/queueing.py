"""``queue_page``: the only way work gets queued. Runs inside the publish; no network I/O."""

from django.db import transaction

from .conf import get_setting
from .exceptions import SyndicationError
from .history import log_outcome
from .models import SyndicationAccount, SyndicationRecord
from .posts import plan_with_known_limits
from .tasks import enqueue_on_commit

State = SyndicationRecord.State


def queue_page(page) -> list[SyndicationRecord]:
    """Queue the live ``page`` for sharing to each enabled account of its site.

    Creates or reuses one record per (page, account). A posted page whose post would not change
    is left alone (no task, no request); one whose post would change is queued for an edit
    unless ``ON_UPDATE`` is "ignore". A page that cannot be posted (no image, no alt text) gets
    a failed record with the reason at once, and nothing is enqueued for it.
    Returns the records this call queued or failed.
    """
    with transaction.atomic():
        records = [prepare(page, account) for account in SyndicationAccount.for_page(page)]
    return [record for record in records if record is not None]


def prepare(page, account, *, enqueue: bool = True) -> SyndicationRecord | None:
    """Queue ``page`` for ``account`` (a new generation of its record), or return None when it
    is already posted as it is. Without ``enqueue`` the caller runs the task itself (the
    ``syndicate`` command does)."""
    record, _created = SyndicationRecord.objects.get_or_create(page=page, account=account)
    if record.state == State.POSTED and not _post_would_change(record, page):
        return None
    return _queue(record, page, enqueue=enqueue)


def queue_removal(page) -> list[SyndicationRecord]:
    """After ``page`` is unpublished: queue the deletion of its posts, if the site wants that."""
    if not get_setting("DELETE_ON_UNPUBLISH"):
        return []
    with transaction.atomic():
        records = SyndicationRecord.objects.filter(page=page).exclude(remote_id="")
        return [_queue(record, page, check_content=False) for record in records]


def retry_record(record: SyndicationRecord) -> SyndicationRecord:
    """Queue a failed record again (the admin's Retry)."""
    with transaction.atomic():
        record = SyndicationRecord.objects.select_for_update().get(pk=record.pk)
        if record.state != State.FAILED:
            return record
        page = record.page.specific
        return _queue(record, page, check_content=page.live)


def _post_would_change(record: SyndicationRecord, page) -> bool:
    if get_setting("ON_UPDATE") == "ignore":
        return False
    try:
        return plan_with_known_limits(page, record.account).fingerprint != record.content_hash
    except SyndicationError:
        return True  # it cannot be posted as it is now: say so on the record


def _queue(
    record: SyndicationRecord, page, *, check_content: bool = True, enqueue: bool = True
) -> SyndicationRecord:
    SyndicationRecord.objects.queue(record.pk)
    record.refresh_from_db()
    if check_content:
        try:
            plan_with_known_limits(page, record.account)
        except SyndicationError as err:
            # A record a worker still holds is left to it: the next run meets the same error.
            if SyndicationRecord.objects.filter(
                pk=record.pk, generation=record.generation, state=State.QUEUED
            ).update(state=State.FAILED, last_error=str(err)):
                record.state, record.last_error = State.FAILED, str(err)
    if record.state == State.QUEUED and enqueue:
        enqueue_on_commit(record.pk, record.generation)
    log_outcome(record, page)
    return record
