"""Queueing records: ``queue_page`` (run by the outbox's fan-out) makes or reuses one record per
(page, account), queued or failed with the reason, and a task per queued record; ``prepare``
(the backfill and the ``syndicate`` command), ``queue_removal`` (an unpublish) and
``retry_record`` (the admin's Retry) start a new generation of records the same way."""

import logging
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from wagtail_syndicate.conf import get_setting
from wagtail_syndicate.content.posts import plan_post, unexpected_error_message
from wagtail_syndicate.exceptions import SyndicationError
from wagtail_syndicate.models import SyndicationAccount, SyndicationRecord
from wagtail_syndicate.pipeline.history import log_outcomes
from wagtail_syndicate.pipeline.limits_cache import limits_for
from wagtail_syndicate.pipeline.tasks import (
    _enqueue_or_record_failure,
    enqueue,
    enqueued_with_the_transaction,
)

logger = logging.getLogger(__name__)

State = SyndicationRecord.State

# What ``SyndicationRecordQuerySet.queue`` changes, read back after it.
QUEUED_FIELDS = (
    "generation",
    "state",
    "queued_at",
    "attempts",
    "last_error",
    "next_attempt_at",
    "updated_at",
)


def queue_page(page, *, enqueue: bool = True) -> list[SyndicationRecord]:
    """Queue the live ``page`` for sharing to each enabled account of its site.

    Creates or reuses one record per (page, account). A posted page whose post would not change
    is left alone (no task, no request); one whose post would change is queued for an edit
    unless ``ON_UPDATE`` is "ignore". A page that cannot be posted (no image, no alt text) gets
    a failed record with the reason at once, and nothing is enqueued for it.
    Returns the records this call queued or failed. Runs in the worker (``fan_out``).
    """
    accounts = SyndicationAccount.for_page(page)
    if _first_publish(page):
        # Records are made when a page is published: at its first publish it has none, so
        # none is looked for. Should one exist all the same, the insert meets it and the
        # records are read then (as when a concurrent publish made them).
        accounts = list(accounts)
        existing = []
    else:
        records = SyndicationRecord.objects.filter(page=page, account=OuterRef("pk"))
        accounts = list(accounts.annotate(syndication_record_id=Subquery(records.values("pk")[:1])))
        existing = [a.syndication_record_id for a in accounts if a.syndication_record_id]
    if not accounts:
        return []
    return _prepare(page, accounts, existing=existing, enqueue=enqueue)


def record_queueing_failure(page, err: BaseException) -> list[SyndicationRecord]:
    """After ``queue_page(page)`` raised ``err`` (and its savepoint was rolled back): a failed
    record with the reason for each account of the page, so the failure shows in the admin
    and the records can be retried. A new generation of each existing record, so no run
    queued before takes it; one a live worker holds is left to it. Returns the failed records;
    none when even this fails (it is logged, and never raised into the publish)."""
    reason = str(err) if isinstance(err, SyndicationError) else unexpected_error_message(err)
    try:
        with transaction.atomic():
            try:
                accounts = list(SyndicationAccount.for_page(page))
            except Exception:  # the page's own choice of accounts fails: its site's accounts
                accounts = list(SyndicationAccount.of_site(page.get_site()))
            records = []
            for account in accounts:
                record, created = SyndicationRecord.objects.get_or_create(
                    page=page,
                    account=account,
                    defaults={"state": State.FAILED, "last_error": reason, "generation": 1},
                )
                if not created:
                    SyndicationRecord.objects.queue(record.pk)
                    SyndicationRecord.objects.filter(pk=record.pk, state=State.QUEUED).update(
                        state=State.FAILED, last_error=reason
                    )
                    record.refresh_from_db()
                records.append(record)
            log_outcomes(records, page)
            return records
    except Exception:
        logger.exception("Could not record the failure to queue page %s either", page.pk)
        return []


def _first_publish(page) -> bool:
    """True when ``page`` has just been published for the first time (Wagtail then sets its
    first and last publication times to the same moment)."""
    return page.first_published_at is not None and (
        page.first_published_at == page.last_published_at
    )


def prepare(page, account, *, enqueue: bool = True) -> SyndicationRecord | None:
    """Queue ``page`` for ``account`` (a new generation of its record), or return None when it
    is already posted as it is. Without ``enqueue`` the caller runs the task itself (the
    ``syndicate`` command does)."""
    records = _prepare(page, [account], enqueue=enqueue)
    return records[0] if records else None


def queue_removal(page) -> list[SyndicationRecord]:
    """After ``page`` is unpublished: queue the deletion of its posts, if the site wants that."""
    if not get_setting("DELETE_ON_UNPUBLISH"):
        return []
    with transaction.atomic():
        records = list(
            SyndicationRecord.objects.filter(page=page)
            .exclude(remote_id="")
            .select_related("account")
        )
        return _queue(records, page, check_content=False)


def retry_record(record: SyndicationRecord) -> SyndicationRecord:
    """Queue a failed record again (the admin's Retry)."""
    with transaction.atomic():
        record = SyndicationRecord.objects.select_for_update().get(pk=record.pk)
        if record.state != State.FAILED:
            return record
        page = record.page.specific
        (record,) = _queue([record], page, check_content=page.live)
        return record


def _prepare(
    page, accounts, *, existing: list[int] | None = None, enqueue: bool = True
) -> list[SyndicationRecord]:
    """Queue ``page`` for each of ``accounts`` in one transaction; return the records queued
    or failed, in the order of ``accounts`` (those posted as they are left out).
    ``existing``: the ids of the page's records for these accounts, when already known."""
    checks = _Checks(page)
    with transaction.atomic():
        if existing is None:
            records = SyndicationRecord.objects.filter(page=page, account__in=accounts)
        else:
            records = SyndicationRecord.objects.filter(pk__in=existing) if existing else []
        existing = {record.account_id: record for record in records}
        new = [account for account in accounts if account.pk not in existing]
        created = _create_queued(page, new, checks) if new else {}
        if created is None:
            # Another publish of the page created some of them since they were looked for.
            existing = {
                record.account_id: record
                for record in SyndicationRecord.objects.filter(page=page, account__in=accounts)
            }
            created = _create_queued(page, [a for a in accounts if a.pk not in existing], checks)
            if created is None:
                raise IntegrityError(f"Could not create the records of page {page.pk}")
        to_queue = []
        for account in accounts:
            record = existing.get(account.pk)
            if record is None:
                continue
            record.account = account  # already read: spare ``_queue`` a query for it
            if record.state == State.POSTED and not checks.post_would_change(record):
                if record.notice:  # the page shows again what its post shows
                    SyndicationRecord.objects.filter(pk=record.pk).update(notice="")
                continue
            to_queue.append(record)
        queued = {
            r.account_id: r
            for r in _queue(to_queue, page, checks=checks, enqueue=enqueue, log=False)
        }
        queued.update(created)
        records = [queued[account.pk] for account in accounts if account.pk in queued]
        log_outcomes(records, page)
        if enqueue:
            _enqueue(records)
    return records


def _create_queued(page, accounts, checks) -> dict[int, SyndicationRecord] | None:
    """The first records of ``page`` for ``accounts``, created queued (or failed, when the page
    cannot be posted) in one insert; None when one of them exists already (a concurrent
    publish made it), and then nothing was created."""
    now = timezone.now()
    records = []
    for account in accounts:
        record = SyndicationRecord(
            page=page, account=account, generation=1, state=State.QUEUED, queued_at=now
        )
        error = checks.content_error(account)
        if error:
            record.state, record.last_error = State.FAILED, error
        records.append(record)
    if not records:
        return {}
    # A failed insert must not spoil the publish's transaction: a savepoint (without one,
    # Django marks the whole transaction for rollback, even on SQLite).
    try:
        with transaction.atomic():
            SyndicationRecord.objects.bulk_create(records)
    except IntegrityError:
        return None
    if any(record.pk is None for record in records):  # a database that returns no ids
        ids = dict(
            SyndicationRecord.objects.filter(page=page, account__in=accounts).values_list(
                "account_id", "pk"
            )
        )
        for record in records:
            record.pk = ids[record.account_id]
    return {record.account_id: record for record in records}


class _Checks:
    """What a fan-out asks of the plan of ``page`` for an account (``plan_post`` with the
    limits already known: no network request): why it cannot be posted, and whether it would
    change a post. Each account's plan is made once."""

    def __init__(self, page) -> None:
        self.page = page
        self.outcomes: dict = {}

    def _outcome(self, account) -> tuple:
        """(the plan for ``account``, ""), or (None, why it cannot be posted)."""

        try:
            limits = limits_for(account, fetch=False)
        except Exception as err:  # never into the publish
            logger.exception("Could not read the limits of syndication account %s", account.pk)
            return None, unexpected_error_message(err)
        key = (account.pk, limits)
        if key not in self.outcomes:
            try:
                self.outcomes[key] = (plan_post(self.page, account, limits), "")
            except SyndicationError as err:  # the page model's errors too (PageCodeError)
                self.outcomes[key] = (None, str(err))
            except Exception as err:  # plan_post lets none through; should one, in words
                logger.exception("Unexpected error while checking page %s", self.page.pk)
                self.outcomes[key] = (None, unexpected_error_message(err))
        return self.outcomes[key]

    def content_error(self, account) -> str:
        """Why the page cannot be posted to ``account`` as it is ("" when it can)."""
        return self._outcome(account)[1]

    def post_would_change(self, record: SyndicationRecord) -> bool:
        if get_setting("ON_UPDATE") == "ignore":
            return False
        plan, error = self._outcome(record.account)
        # One that cannot be posted as it is now: say so on the record.
        return bool(error) or plan.fingerprint != record.content_hash


def _queue(
    records: list[SyndicationRecord],
    page,
    *,
    check_content: bool = True,
    checks: "_Checks | None" = None,
    enqueue: bool = True,
    log: bool = True,
) -> list[SyndicationRecord]:
    """Start a new generation of each of ``records`` (existing records of ``page``, their
    accounts already read)."""
    if not records:
        return []
    SyndicationRecord.objects.queue([record.pk for record in records])
    current = {
        values["pk"]: values
        for values in SyndicationRecord.objects.filter(
            pk__in=[record.pk for record in records]
        ).values("pk", *QUEUED_FIELDS)
    }
    failed = {}
    checks = checks or _Checks(page)
    for record in records:
        for name in QUEUED_FIELDS:
            setattr(record, name, current[record.pk][name])
        if check_content and record.state == State.QUEUED:
            error = checks.content_error(record.account)
            if error:
                failed.setdefault(error, []).append(record)
    for error, failing in failed.items():
        # A record a worker still holds is left to it: the next run meets the same error.
        # (Only queued records are checked, and this transaction queued them.)
        SyndicationRecord.objects.filter(
            pk__in=[record.pk for record in failing], state=State.QUEUED
        ).update(state=State.FAILED, last_error=error)
        for record in failing:
            record.state, record.last_error = State.FAILED, error
    if log:
        log_outcomes(records, page)
        if enqueue:
            _enqueue(records)
    return records


def _enqueue(records: list[SyndicationRecord]) -> None:
    """Queue a run of each queued record once the current transaction commits: with the
    database queue on the records' database, by writing the tasks in the transaction itself
    (they commit with it: no second transaction after the publish's); otherwise with
    ``on_commit``."""
    runs = [(record.pk, record.generation) for record in records if record.state == State.QUEUED]
    if not runs:
        return
    if enqueued_with_the_transaction():
        _enqueue_all(runs)
    else:
        transaction.on_commit(partial(_enqueue_all, runs))


def _enqueue_all(runs: list[tuple[int, int]]) -> None:
    """Enqueue ``runs`` in one transaction (a savepoint, inside the publish's): with the
    database queue, one commit for all of them instead of one each (a publish waits for each).
    Never raises into the publish: when one cannot be enqueued, each is enqueued on its own and
    the one that fails is marked failed with the reason (one already in a queue that is not
    the database's may then be enqueued twice; its second run finds the generation claimed and
    does nothing)."""
    try:
        with transaction.atomic():
            for record_id, generation in runs:
                enqueue(record_id, generation)
    except Exception:
        logger.warning("Could not enqueue %s runs at once; one at a time", len(runs))
        for record_id, generation in runs:
            _enqueue_or_record_failure(record_id, generation)
