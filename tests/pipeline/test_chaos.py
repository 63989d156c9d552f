"""Faults a worker meets in production, and the fault-injection run with real workers.

The first tests replay, one at a time and deterministically, the sequences the fault-injection
run found; the last runs ``bench.chaos`` itself: 100 pages, two accounts, two ``db_worker``
processes (one SIGKILLed mid-run), ``syndicate --retry-due`` as cron would, and a FakeMastodon
failing 20 % of the requests, on SQLite and (with ``TEST_POSTGRES_URL``) on PostgreSQL.
"""

import os
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from wagtail.models import Page

from syndicate_fakes import Fault
from tests.utils import (
    connect_account,
    make_image,
    make_photo_page,
    post_other_statuses,
    publish_page,
    run_next,
    run_tasks,
)
from wagtail_syndicate.compat import task_backends
from wagtail_syndicate.models import SyndicationRecord
from wagtail_syndicate.networks.mastodon.client import MastodonNetwork
from wagtail_syndicate.pipeline.tasks import share


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing in the task catches it, nothing after it runs."""


def record_of(page):
    return SyndicationRecord.objects.get(page=page)


def expire_lease(record):
    SyndicationRecord.objects.filter(pk=record.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )


def retry_due():
    call_command("syndicate", "--retry-due", stdout=open(os.devnull, "w"))


@pytest.mark.django_db(transaction=True)
def test_worker_killed_after_the_server_stored_the_post_then_a_new_publish(
    fake_mastodon, monkeypatch
):
    """The worker dies between Mastodon storing the status and the answer; the page is
    published again while the record is still held; the next run must not post again."""
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image())
    record = record_of(page)
    task_backends["default"].clear()

    create_post = MastodonNetwork.create_post

    def create_then_die(self, *args, **kwargs):
        create_post(self, *args, **kwargs)
        raise WorkerKilled

    monkeypatch.setattr(MastodonNetwork, "create_post", create_then_die)
    with pytest.raises(WorkerKilled):
        share(record.pk, record.generation)
    monkeypatch.undo()
    assert len(fake_mastodon.statuses) == 1 and record_of(page).state == "posting"

    publish_page(page, title="Morning boats, second edition")  # held: no task, stays posting
    assert run_tasks() == [] and record_of(page).state == "posting"
    expire_lease(record)
    retry_due()

    (status,) = fake_mastodon.statuses
    assert status.text.startswith("Morning boats, second edition")
    assert [m.description for m in status.media] == [page.alt_text]
    record = record_of(page)
    assert (record.state, record.remote_id) == ("posted", status.id)


@pytest.mark.django_db(transaction=True)
def test_lost_answer_then_many_posts_then_a_new_publish_makes_one_post(fake_mastodon):
    """The answer to the create is lost; the account posts more than one page of statuses
    (so looking through its recent posts would miss it); then the page is published again."""
    connect_account(fake_mastodon)
    fake_mastodon.inject(Fault(method="POST", path="/api/v1/statuses", drop=True, after=True))
    page = make_photo_page(image=make_image())
    assert run_next() == "retrying"  # Mastodon stored the status; the worker never heard
    post_other_statuses(fake_mastodon, 45)

    publish_page(page, title="Morning boats, renamed")
    run_tasks()

    mine = [s for s in fake_mastodon.statuses if page.get_full_url() in s.text]
    assert len(mine) == 1
    assert mine[0].text.startswith("Morning boats, renamed")
    assert record_of(page).state == "posted"


# The fault-injection run ---------------------------------------------------------------------


def postgres_url():
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        pytest.skip("TEST_POSTGRES_URL is not set (.ci/run starts PostgreSQL and sets it)")
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (extra: test)")
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.Error as err:
        pytest.skip(f"no PostgreSQL server answers at TEST_POSTGRES_URL: {err}")
    return url


@pytest.mark.parametrize(
    "database, idempotency",
    [("sqlite", True), ("postgresql", True), ("sqlite", False)],
    ids=["sqlite", "postgresql", "sqlite-no-idempotency"],
)
def test_real_workers_against_a_failing_mastodon_post_each_page_once(database, idempotency):
    """100 pages × 2 accounts, each page published twice; 2 db_workers, one SIGKILLed in the
    middle of a run and replaced; --retry-due every 2 s; 20 % of requests fail. Also against
    a server that ignores Idempotency-Key: looking before creating again is all that keeps a
    post from being doubled there."""
    from bench import chaos

    postgres = postgres_url() if database == "postgresql" else None
    result = chaos.run(
        idempotency=idempotency,
        pages=100,
        workers=2,
        kills=1,
        rate=0.2,
        seed=1234,
        postgres=postgres,
        sqlite_immediate=True,
        time_limit=480,
    )
    print(result.table())  # shown with -s, or when the test fails
    assert result.problems() == []
    assert result.duplicates == [] and result.missing == [] and result.wrong == []
    assert result.statuses == result.expected == 200
    assert result.records == {"posted": 200}
    assert len(result.kills) == 1
    assert sum(result.faults.values()) > 0.1 * result.requests
    assert result.task_outcomes["retrying"] > 0


@pytest.mark.django_db(transaction=True)
def test_a_retry_that_reads_the_newer_page_still_edits_an_older_stored_post(
    fake_mastodon, monkeypatch
):
    """A retry of the first publish claims the record; the page is published again between
    the run reading the record and reading the page; the run's create returns the status its
    first attempt stored (the older text). The post must end showing the newer page."""
    connect_account(fake_mastodon)
    fake_mastodon.inject(Fault(method="POST", path="/api/v1/statuses", drop=True, after=True))
    page = make_photo_page(image=make_image())
    assert run_next() == "retrying"  # stored with the first title; the worker never heard
    record = record_of(page)
    task_backends["default"].clear()

    specific = Page.specific
    republished = []

    def specific_after_a_publish(self):
        if not republished:
            republished.append(True)
            publish_page(page, title="Morning boats, published again")
        return specific.func(self)

    monkeypatch.setattr(Page, "specific", property(specific_after_a_publish))
    outcome = share(record.pk, record.generation)
    monkeypatch.undo()
    assert republished and outcome in ("handed over", "posted")
    run_tasks()

    (status,) = fake_mastodon.statuses
    assert status.text.startswith("Morning boats, published again")
    assert record_of(page).state == "posted"
