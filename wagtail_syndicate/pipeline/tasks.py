"""The background task that shares one record, and the enqueueing of its runs.

``syndicate_record`` (the Django Tasks API task) runs ``share``: one run of ``runner.run``
(claim → act → settle), handed ``enqueue`` for the run that follows it.
"""

import logging
from datetime import datetime

from django.db import router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from wagtail_syndicate.conf import database_result_model, plugin_task
from wagtail_syndicate.models import SyndicationRecord
from wagtail_syndicate.pipeline.runner import run

logger = logging.getLogger(__name__)

State = SyndicationRecord.State


@task()
def syndicate_record(record_id: int, generation: int) -> str:
    """Share record ``record_id`` if it is still at ``generation``; return what happened.

    Expected failures end in the record (retrying or failed, with a reason); nothing is raised
    to the task backend.
    """
    return share(record_id, generation)


def enqueue(record_id: int, generation: int, run_after: datetime | None = None) -> bool:
    """Queue a run of the task (in ``QUEUE_NAME``, at ``TASK_PRIORITY``); False when the
    backend cannot run it later (``run_after``), in which case ``manage.py syndicate
    --retry-due`` picks the record up when it is due."""
    queued_task = plugin_task(syndicate_record)
    if run_after is not None:
        if not queued_task.get_backend().supports_defer:
            return False
        queued_task = queued_task.using(run_after=run_after)
    queued_task.enqueue(record_id, generation)
    return True


def enqueued_with_the_transaction() -> bool:
    """True when a task enqueued now commits with the current transaction: the backend is the
    database queue (django-tasks-db, or django-tasks 0.7's own), its rows are written to the
    database of the records, and a transaction is open there. Its workers then see the task
    when, and only if, the records it runs commit, as they would with ``on_commit``, without a
    transaction of its own after the publish's."""
    try:
        backend = plugin_task(syndicate_record).get_backend()
        if getattr(backend, "enqueue_on_commit", False):
            # django-tasks 0.7 defers the row to the commit itself (ENQUEUE_ON_COMMIT, on by
            # default there): enqueue after the commit, where a failure reaches the record.
            return False
        result_model = database_result_model(backend)
        if result_model is not None:
            alias = router.db_for_write(SyndicationRecord)
            return (
                router.db_for_write(result_model) == alias
                and transaction.get_connection(alias).in_atomic_block
            )
    except Exception:
        # Enqueueing after the commit works, or fails and says why on the record.
        logger.debug("Task backend not checked; enqueueing after the commit", exc_info=True)
    return False


def _enqueue_or_record_failure(record_id: int, generation: int) -> None:
    try:
        with transaction.atomic():  # inside a transaction, a failure leaves it usable
            enqueue(record_id, generation)
    except Exception as err:
        # The page is published whatever happens here; the failure must still be visible.
        logger.exception("Could not enqueue syndication record %s", record_id)
        record_enqueue_failure(record_id, generation, err)


def record_enqueue_failure(record_id: int, generation: int, err: BaseException) -> None:
    """Fail the queued record ``record_id`` with why its task could not be enqueued."""
    SyndicationRecord.objects.filter(
        pk=record_id, generation=generation, state=State.QUEUED
    ).update(
        state=State.FAILED,
        last_error=_("The post could not be queued (%(error)s). Retry it.")
        % {"error": f"{type(err).__name__}: {err}"},
        updated_at=timezone.now(),
    )


def share(record_id: int, generation: int) -> str:
    """One run of the task (also called by ``manage.py syndicate --retry-due``): ``runner.run``,
    which enqueues its retry (or the run of a newer publish it hands over to) with ``enqueue``."""
    return run(record_id, generation, enqueue)
