"""``queue_page``: the only way work gets queued. Runs inside the publish; no network I/O."""

import logging
from functools import partial

from django.db import transaction
from django.utils import timezone

from .conf import get_setting
from .exceptions import SyndicationError
from .history import log_outcome
from .models import SyndicationAccount, SyndicationRecord

logger = logging.getLogger(__name__)

State = SyndicationRecord.State


def queue_page(page) -> list[SyndicationRecord]:
    """Queue the live ``page`` for sharing to each enabled account of its site.

    Creates or reuses one record per (page, account). A page already posted (or being posted)
    to an account is not posted again. A page that cannot be posted (no image, no alt text)
    gets a failed record with the reason at once, and nothing is enqueued for it.
    Returns the records this call queued or failed.
    """
    records = []
    with transaction.atomic():
        for account in SyndicationAccount.for_page(page):
            record, _created = SyndicationRecord.objects.get_or_create(page=page, account=account)
            if record.state in (State.POSTED, State.POSTING):
                continue
            records.append(_queue(record, page))
    return records


def retry_record(record: SyndicationRecord) -> SyndicationRecord:
    """Queue a failed record again (the admin's Retry)."""
    with transaction.atomic():
        record = SyndicationRecord.objects.select_for_update().get(pk=record.pk)
        if record.state != State.FAILED:
            return record
        return _queue(record, record.page.specific)


def _queue(record: SyndicationRecord, page) -> SyndicationRecord:
    record.generation += 1
    record.queued_at = timezone.now()
    try:
        page.get_syndication_images()
    except SyndicationError as err:
        record.state, record.last_error = State.FAILED, str(err)
    else:
        record.state, record.last_error = State.QUEUED, ""
        transaction.on_commit(partial(_enqueue, record.pk, record.generation))
    record.save(update_fields=["generation", "queued_at", "state", "last_error", "updated_at"])
    log_outcome(record, page)
    return record


def _enqueue(record_id: int, generation: int) -> None:
    """Hand the record to the task backend; runs after the publish has committed."""
    from .tasks import syndicate_record

    try:
        syndicate_record.using(backend=get_setting("TASK_BACKEND")).enqueue(record_id, generation)
    except Exception as err:
        # The page is published whatever happens here; the failure must still be visible.
        logger.exception("Could not enqueue syndication record %s", record_id)
        SyndicationRecord.objects.filter(
            pk=record_id, generation=generation, state=State.QUEUED
        ).update(
            state=State.FAILED,
            last_error=f"The post could not be queued ({type(err).__name__}: {err}). Retry it.",
            updated_at=timezone.now(),
        )
