"""The outbox: the publish writes one intent row and one task (``record_intent``); the worker's
``fan_out`` turns it into one record per (page, account) (``queueing.queue_page``) and a task
per record.

A publish pays only for the intent and its task, whatever the number of accounts: no account
query, no planning, no page-model code runs in it. The fan-out runs in one transaction that
also marks the intent processed, so a fan-out run twice (a redelivered task, the sweeper of
``syndicate --retry-due``) queues once, and one whose worker died is rolled back and found by
the sweeper."""

import logging
from contextlib import nullcontext
from datetime import timedelta
from functools import partial

from django.db import router, transaction
from django.utils import timezone
from django_tasks import task
from wagtail.log_actions import LogContext, get_active_log_context

from wagtail_syndicate.conf import get_setting, plugin_task
from wagtail_syndicate.models import SyndicationIntent
from wagtail_syndicate.pipeline.queueing import queue_page, record_queueing_failure
from wagtail_syndicate.pipeline.tasks import enqueued_with_the_transaction, record_enqueue_failure

logger = logging.getLogger(__name__)


def record_intent(page, revision) -> SyndicationIntent:
    """Inside the publish of ``page`` from ``revision``: one insert (the intent, with the
    accounts the revision chose, read from its content) and one task to fan it out, written in
    the publish's transaction with the database queue, else enqueued once it commits. Outside
    a transaction the two statements commit each on its own: a process killed between them
    leaves a pending intent, which ``syndicate --retry-due`` fans out."""
    ids = (revision.content or {}).get("syndication_accounts")
    if not (isinstance(ids, list) and ids and all(isinstance(pk, int) for pk in ids)):
        ids = None
    context = get_active_log_context()  # the publish's: its user is loaded already
    user = context.user
    intent = SyndicationIntent.objects.create(
        page_id=page.pk,
        revision_id=revision.pk,
        account_ids=ids,
        user_id=user.pk if getattr(user, "is_authenticated", False) else None,
        log_uuid=context.uuid,
    )
    if enqueued_with_the_transaction():
        _enqueue_intent(intent.pk)
    else:
        transaction.on_commit(partial(_enqueue_intent, intent.pk))
    return intent


def savepoint():
    """A savepoint when a transaction is open (what fails in it is undone, and the transaction
    stays usable); nothing otherwise: in autocommit a statement that fails spoils nothing, and
    a transaction of its own would cost a publish two statements more."""
    connection = transaction.get_connection(router.db_for_write(SyndicationIntent))
    return transaction.atomic() if connection.in_atomic_block else nullcontext()


def _enqueue_intent(intent_id: int) -> None:
    """Never raises into the publish: an intent whose task could not be enqueued stays
    pending, and is fanned out by ``syndicate --retry-due`` (and its records say why)."""
    try:
        with savepoint():
            enqueue_fan_out(intent_id)
    except Exception as err:
        logger.exception("Could not enqueue the sharing of intent %s", intent_id)
        try:
            fan_out(intent_id, enqueue_error=err)
        except Exception:
            logger.exception("Could not fan out intent %s either", intent_id)


@task()
def fan_out_task(intent_id: int) -> str:
    """Turn a publish's intent into its records and a task per record (``fan_out``)."""
    return fan_out(intent_id)


def enqueue_fan_out(intent_id: int) -> None:
    """Queue the fan-out of a publish's intent, on the backend of the records' tasks."""
    plugin_task(fan_out_task).enqueue(intent_id)


def fan_out(intent_id: int, enqueue_error: BaseException | None = None) -> str:
    """The worker's side of a publish: the records of intent ``intent_id``, each queued (or
    failed with the reason), its history entries and a task per record; return what happened.
    An intent already processed, superseded by a newer publish of the page or whose page is no
    longer live from its revision does nothing. ``enqueue_error``: the tasks could not be
    enqueued; the records are failed with it, so the editor sees why nothing is posted."""
    with transaction.atomic():
        now = timezone.now()
        if not SyndicationIntent.objects.pending().filter(pk=intent_id).update(processed_at=now):
            return "skipped"  # processed (or being processed: this waited for it), or gone
        intent = SyndicationIntent.objects.select_related("page", "user").get(pk=intent_id)
        # The page's earlier intents, done: only the latest is kept (the table stays small).
        SyndicationIntent.objects.filter(
            page_id=intent.page_id, pk__lt=intent.pk, processed_at__isnull=False
        ).delete()
        page = intent.page.specific
        newer = SyndicationIntent.objects.filter(page_id=intent.page_id, pk__gt=intent.pk)
        if (
            not page.live
            or not getattr(page, "syndicate", False)
            or intent.revision_id is None
            or page.live_revision_id != intent.revision_id
            or newer.exists()
        ):
            return "superseded"
        try:
            with as_the_publish(intent), transaction.atomic():  # what failed is undone
                records = queue_page(page, enqueue=enqueue_error is None)
        except Exception as err:
            logger.exception("Could not queue page %s for sharing", page.pk)
            with as_the_publish(intent):
                record_queueing_failure(page, err)
            return "failed"
        if enqueue_error is not None:
            for record in records:
                record_enqueue_failure(record.pk, record.generation, enqueue_error)
    return "fanned out"


def as_the_publish(intent) -> LogContext:
    """The log context of ``intent``'s publish: the history entries written in it are the
    publishing user's, with the publish's uuid (Wagtail groups the entries of one action)."""
    context = LogContext(user=intent.user, generate_uuid=False)
    context.uuid = intent.log_uuid
    return context


def fan_out_due() -> int:
    """Fan out the intents whose task was lost or whose worker died; return how many."""
    lease = timedelta(seconds=get_setting("LEASE_TIMEOUT"))
    count = 0
    for intent_id in (
        SyndicationIntent.objects.due(lease).order_by("pk").values_list("pk", flat=True)
    ):
        fan_out(intent_id)
        count += 1
    return count
