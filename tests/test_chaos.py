"""Faults a worker meets in production, and the fault-injection run with real workers.

The first tests replay, one at a time and deterministically, the sequences the fault-injection
run found; the last runs ``bench.chaos`` itself: 100 pages, two accounts, two ``db_worker``
processes (one SIGKILLed mid-run), ``syndicate --retry-due`` as cron would, and a FakeMastodon
failing 20 % of the requests, on SQLite and (with ``TEST_POSTGRES_URL``) on PostgreSQL.
"""

import os
from datetime import timedelta

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone

from tests.utils import (
    connect_account,
    make_image,
    make_photo_page,
    publish_page,
    run_next,
    run_tasks,
)
from wagtail_syndicate.compat import task_backends
from wagtail_syndicate.models import SyndicationRecord
from wagtail_syndicate.networks.mastodon import MastodonNetwork
from wagtail_syndicate.tasks import share
from wagtail_syndicate.testing import Fault


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
    for number in range(45):
        requests.post(
            f"{fake_mastodon.base_url}/api/v1/statuses",
            headers={"Authorization": "Bearer good-token"},
            data={"status": f"Another post {number}"},
            timeout=5,
        ).raise_for_status()

    publish_page(page, title="Morning boats, renamed")
    run_tasks()

    mine = [s for s in fake_mastodon.statuses if page.get_full_url() in s.text]
    assert len(mine) == 1
    assert mine[0].text.startswith("Morning boats, renamed")
    assert record_of(page).state == "posted"
