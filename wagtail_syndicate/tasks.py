"""The background task that shares one record: compose, publish, record the outcome."""

import logging

from django.core.exceptions import ImproperlyConfigured
from django.db.models import F
from django.utils import timezone
from django_tasks import task

from .exceptions import ContentError, SyndicationError
from .history import log_outcome
from .models import SyndicationRecord
from .networks import get_network
from .posts import compose_post

logger = logging.getLogger(__name__)

State = SyndicationRecord.State


@task()
def syndicate_record(record_id: int, generation: int) -> str:
    """Share record ``record_id`` if it is still at ``generation``; return the final state.

    Expected failures end as a failed record with a reason; nothing is raised to the backend.
    """
    return share(record_id, generation)


def idempotency_key(record: SyndicationRecord) -> str:
    """The same for every attempt at one publish of one record, so repeats cannot double-post."""
    return f"wagtail-syndicate-{record.pk}-{record.generation}"


def share(record_id: int, generation: int) -> str:
    # Compare-and-set: of several tasks for the same record, only the one that moves it from
    # queued to posting at the current generation goes on.
    claimed = SyndicationRecord.objects.filter(
        pk=record_id, generation=generation, state=State.QUEUED
    ).update(state=State.POSTING, attempts=F("attempts") + 1, updated_at=timezone.now())
    if not claimed:
        return "skipped"
    record = SyndicationRecord.objects.select_related("account", "page").get(pk=record_id)
    page = record.page.specific
    log_outcome(record, page)
    try:
        if not page.live:
            raise ContentError("The page was unpublished before it could be shared.")
        post = compose_post(page, record.account)
        network = get_network(record.account.network)
        published = network.publish(record.account.credentials(), post, idempotency_key(record))
    except (SyndicationError, ImproperlyConfigured) as err:
        return _finish(record, page, state=State.FAILED, last_error=str(err))
    except Exception as err:
        # Never lose a post silently: an unexpected error is still written to the record.
        logger.exception("Unexpected error while sharing syndication record %s", record_id)
        return _finish(
            record,
            page,
            state=State.FAILED,
            last_error=f"Unexpected error ({type(err).__name__}); the server log has details.",
        )
    return _finish(
        record,
        page,
        state=State.POSTED,
        remote_id=published.remote_id,
        remote_url=published.url,
        posted_at=timezone.now(),
        last_error="",
    )


def _finish(record: SyndicationRecord, page, **changes) -> str:
    for name, value in changes.items():
        setattr(record, name, value)
    record.save(update_fields=[*changes, "updated_at"])
    log_outcome(record, page)
    return str(record.state)
