"""Never lose a post, never post twice: retries, idempotency, concurrency, edits, deletion."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from wagtail.models import PageLogEntry

from syndicate_fakes import Fault
from tests.testapp.models import PhotoPage
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
from wagtail_syndicate.pipeline.queueing import retry_record
from wagtail_syndicate.pipeline.tasks import share

pytestmark = pytest.mark.django_db(transaction=True)


def requests_to(fake, method, path_prefix):
    return [r for r in fake.requests if r.method == method and r.path.startswith(path_prefix)]


def record_of(page):
    return SyndicationRecord.objects.get(page=page)


def posted_page(fake, **fields):
    connect_account(fake)
    page = make_photo_page(image=make_image(), **fields)
    assert run_tasks() == ["posted"]
    return PhotoPage.objects.get(pk=page.pk)


# Retries -----------------------------------------------------------------------------------


def test_500_then_success_makes_one_post(fake_mastodon):
    connect_account(fake_mastodon)
    fake_mastodon.inject(Fault(method="POST", path="/api/v1/statuses", status=500))
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["retrying", "posted"]
    assert len(fake_mastodon.statuses) == 1
    assert len(requests_to(fake_mastodon, "POST", "/api/v2/media")) == 1  # media reused
    record = record_of(page)
    assert record.attempts == 2 and record.last_error == "" and record.next_attempt_at is None


def test_timeout_after_the_server_stored_the_status_makes_one_post(fake_mastodon):
    connect_account(fake_mastodon)
    fake_mastodon.inject(Fault(method="POST", path="/api/v1/statuses", delay=4, after=True))
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["retrying", "posted"]

    # The retry looks for the post first and finds it (the Idempotency-Key is a second guard:
    # tests/networks/test_unknown_outcomes.py has a retry that sends it again).
    assert len(requests_to(fake_mastodon, "POST", "/api/v1/statuses")) == 1
    assert requests_to(fake_mastodon, "GET", "/api/v1/accounts/")
    assert len(fake_mastodon.statuses) == 1
    assert record_of(page).remote_id == fake_mastodon.statuses[0].id


def rate_limit_upload(fake, seconds: float) -> datetime:
    """The next upload is answered 429 with a reset ``seconds`` ahead; returns that time."""
    reset = datetime.now(UTC) + timedelta(seconds=seconds)
    fake.inject(
        Fault(
            method="POST",
            path="/api/v2/media",
            status=429,
            body={"error": "Too many requests"},
            headers={"X-RateLimit-Reset": reset.isoformat().replace("+00:00", "Z")},
        )
    )
    return reset


def test_429_is_retried_no_earlier_than_the_reset_time(fake_mastodon):
    connect_account(fake_mastodon)
    reset = rate_limit_upload(fake_mastodon, 2)
    page = make_photo_page(image=make_image())
    assert run_next() == "retrying"

    record = record_of(page)
    assert record.next_attempt_at >= reset
    assert "rate-limiting this account" in record.last_error
    (retry,) = task_backends["default"].results
    assert retry.task.run_after >= reset
    assert share(record.pk, record.generation) == "skipped"  # too early, even if asked

    assert run_tasks() == ["posted"]
    assert datetime.now(UTC) >= reset
    assert len(fake_mastodon.statuses) == 1


def test_429s_do_not_use_up_the_attempts(fake_mastodon, settings):
    settings.WAGTAIL_SYNDICATE = {**settings.WAGTAIL_SYNDICATE, "MAX_ATTEMPTS": 2}
    connect_account(fake_mastodon)
    for _ in range(3):  # more rate-limited answers in a row than MAX_ATTEMPTS
        rate_limit_upload(fake_mastodon, 1)
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["retrying", "retrying", "retrying", "posted"]
    assert record_of(page).state == "posted"
    assert len(fake_mastodon.statuses) == 1


def test_401_fails_at_once_without_retrying(fake_mastodon):
    connect_account(fake_mastodon, token="revoked-token")
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["failed"]
    assert task_backends["default"].results == []
    assert [r.path for r in fake_mastodon.requests] == ["/api/v2/instance", "/api/v2/media"]
    assert record_of(page).attempts == 1


@pytest.mark.parametrize("after", [False, True], ids=["before-stored", "after-stored"])
def test_dropped_connection_during_upload_makes_one_post(fake_mastodon, after):
    connect_account(fake_mastodon)
    fake_mastodon.inject(Fault(method="POST", path="/api/v2/media", drop=True, after=after))
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["retrying", "posted"]
    assert len(fake_mastodon.statuses) == 1
    status = fake_mastodon.statuses[0]
    assert [m.description for m in status.media] == [page.alt_text]
    assert len(requests_to(fake_mastodon, "POST", "/api/v2/media")) == 2


def test_gives_up_after_the_configured_attempts(fake_mastodon, settings):
    settings.WAGTAIL_SYNDICATE = {**settings.WAGTAIL_SYNDICATE, "MAX_ATTEMPTS": 2}
    connect_account(fake_mastodon)
    fake_mastodon.inject(Fault(method="POST", path="/api/v1/statuses", status=502, times=5))
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["retrying", "failed"]
    assert "Gave up after 2 attempts" in record_of(page).last_error


def test_every_attempt_is_in_the_page_history(fake_mastodon):
    connect_account(fake_mastodon)
    fake_mastodon.inject(Fault(method="POST", path="/api/v1/statuses", status=503))
    page = make_photo_page(image=make_image())
    run_tasks()
    messages = [
        e.message
        for e in PageLogEntry.objects.filter(
            page=page, action__startswith="wagtail_syndicate."
        ).order_by("timestamp", "pk")
    ]
    assert messages[0].startswith("Queued for sharing to @alice@")
    assert messages[1].endswith("(attempt 1)")
    assert "Attempt 1 to share to @alice@" in messages[2]
    assert "server error (503)" in messages[2] and "Retrying at" in messages[2]
    assert messages[3].endswith("(attempt 2)")
    assert messages[4].startswith("Shared to @alice@")


# Idempotency beyond Mastodon's hour ----------------------------------------------------------


def test_unknown_outcome_older_than_an_hour_adopts_the_existing_post(fake_mastodon):
    connect_account(fake_mastodon)
    fake_mastodon.inject(Fault(method="POST", path="/api/v1/statuses", drop=True, after=True))
    page = make_photo_page(image=make_image())
    assert run_next() == "retrying"  # the server stored the status; we never heard
    assert len(fake_mastodon.statuses) == 1

    # Two hours pass: Mastodon has forgotten the idempotency key.
    two_hours = timedelta(hours=2)
    fake_mastodon.clock = lambda: time.time() + two_hours.total_seconds()
    record = record_of(page)
    assert record.unknown_outcome_key
    SyndicationRecord.objects.filter(pk=record.pk).update(
        unknown_outcome_since=record.unknown_outcome_since - two_hours
    )

    assert run_tasks() == ["posted"]
    assert len(fake_mastodon.statuses) == 1, "the existing post was adopted, not duplicated"
    assert record_of(page).remote_id == fake_mastodon.statuses[0].id
    assert requests_to(fake_mastodon, "GET", "/api/v1/accounts/")


def test_a_new_publish_after_an_unknown_outcome_looks_before_posting(fake_mastodon):
    connect_account(fake_mastodon)
    fake_mastodon.inject(Fault(method="POST", path="/api/v1/statuses", drop=True, after=True))
    page = make_photo_page(image=make_image())
    assert run_next() == "retrying"
    publish_page(
        page, title="Morning boats, retitled"
    )  # a new generation: a new idempotency key would not protect us
    run_tasks()
    assert len(fake_mastodon.statuses) == 1
    assert fake_mastodon.statuses[0].text.startswith("Morning boats, retitled")


# Concurrency -------------------------------------------------------------------------------


def test_stale_generation_is_skipped_and_the_newer_revision_posted(fake_mastodon):
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image())
    publish_page(page, title="Morning boats (final)")
    assert run_tasks() == ["skipped", "posted"]
    assert len(fake_mastodon.statuses) == 1
    assert fake_mastodon.statuses[0].text.startswith("Morning boats (final)")


def test_a_double_enqueue_posts_once(fake_mastodon):
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image())
    record = record_of(page)
    assert run_tasks() + [share(record.pk, record.generation)] == ["posted", "skipped"]
    assert len(fake_mastodon.statuses) == 1


def test_two_workers_at_once_post_once(fake_mastodon):
    connect_account(fake_mastodon)
    fake_mastodon.inject(Fault(method="POST", path="/api/v2/media", delay=0.5))
    page = make_photo_page(image=make_image())
    record = record_of(page)
    outcomes = []
    workers = [
        threading.Thread(target=lambda: outcomes.append(share(record.pk, record.generation)))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(outcomes) == ["posted", "skipped"]
    assert len(fake_mastodon.statuses) == 1


def test_retry_click_during_a_run_changes_nothing(fake_mastodon):
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image())
    record = record_of(page)
    assert SyndicationRecord.objects.claim(record.pk, record.generation)
    retry_record(record)  # the admin's Retry, while a worker holds the record
    record.refresh_from_db()
    assert record.state == "posting"
    assert run_tasks() == ["skipped"]


def test_a_publish_during_a_run_is_handed_over_and_edits_the_post(fake_mastodon):
    connect_account(fake_mastodon)
    waiting, answer = threading.Event(), threading.Event()
    fake_mastodon.inject(
        Fault(method="POST", path="/api/v1/statuses", arrived=waiting, hold=answer)
    )
    page = make_photo_page(image=make_image())
    record = record_of(page)
    task_backends["default"].clear()

    def editor():
        assert waiting.wait(30)  # the worker waits for Mastodon to answer
        try:
            publish_page(page, title="Morning boats, renamed mid-post")
        finally:
            answer.set()

    publishing = threading.Thread(target=editor)
    publishing.start()
    assert share(record.pk, record.generation) == "handed over"
    publishing.join()
    assert record_of(page).generation == record.generation + 1

    assert run_tasks() == ["posted"]
    (status,) = fake_mastodon.statuses
    assert status.text.startswith("Morning boats, renamed mid-post")
    assert len(status.edits) == 1
    assert record_of(page).state == "posted"


def test_a_record_left_posting_by_a_dead_worker_is_reclaimed_after_the_lease(fake_mastodon):
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image())
    record = record_of(page)
    task_backends["default"].clear()
    assert SyndicationRecord.objects.claim(record.pk, record.generation)  # then the worker dies

    call_command("syndicate", "--retry-due", stdout=open("/dev/null", "w"))
    assert record_of(page).state == "posting", "not before the lease expires"
    assert fake_mastodon.statuses == []

    SyndicationRecord.objects.filter(pk=record.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    call_command("syndicate", "--retry-due", stdout=open("/dev/null", "w"))
    assert record_of(page).state == "posted"
    assert len(fake_mastodon.statuses) == 1


def test_retry_due_runs_retries_on_backends_that_cannot_defer(fake_mastodon, settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"},
        "immediate": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"},
    }
    settings.WAGTAIL_SYNDICATE = {**settings.WAGTAIL_SYNDICATE, "TASK_BACKEND": "immediate"}
    connect_account(fake_mastodon)
    fake_mastodon.inject(Fault(method="POST", path="/api/v1/statuses", status=500))
    page = make_photo_page(image=make_image())  # the immediate backend runs it at once
    record = record_of(page)
    assert record.state == "retrying"
    call_command("syndicate", "--retry-due", stdout=open("/dev/null", "w"))
    assert record_of(page).state == "retrying", "not before it is due"
    SyndicationRecord.objects.filter(pk=record.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )  # the time has come
    call_command("syndicate", "--retry-due", stdout=open("/dev/null", "w"))
    assert record_of(page).state == "posted"
    assert len(fake_mastodon.statuses) == 1


# Edits -------------------------------------------------------------------------------------


def test_unchanged_republish_sends_no_request(fake_mastodon):
    page = posted_page(fake_mastodon)
    before = len(fake_mastodon.requests)
    publish_page(page)
    assert run_tasks() == []
    assert len(fake_mastodon.requests) == before


def test_changed_alt_text_sends_one_put_with_every_media_id(fake_mastodon):
    page = posted_page(fake_mastodon)
    (status,) = fake_mastodon.statuses
    media_id = status.media[0].id
    before = len(fake_mastodon.requests)

    page = publish_page(page, alt_text="Two fishing boats leaving the harbour in fog")
    assert run_tasks() == ["posted"]

    new_requests = fake_mastodon.requests[before:]
    assert [(r.method, r.path) for r in new_requests] == [("PUT", f"/api/v1/statuses/{status.id}")]
    put = new_requests[0]
    # A JSON body, as Mastodon.py sends an edit with media attributes.
    assert put.json["media_ids"] == [media_id]
    assert [(a["id"], a["description"]) for a in put.json["media_attributes"]] == [
        (media_id, page.alt_text)
    ]
    assert put.json["status"] == status.text
    (edited,) = fake_mastodon.statuses
    assert edited.media[0].description == page.alt_text
    assert PageLogEntry.objects.filter(page=page, action="wagtail_syndicate.edited").exists()


def test_changed_image_is_uploaded_anew_and_replaces_the_old_one(fake_mastodon):
    page = posted_page(fake_mastodon)
    old_media_id = fake_mastodon.statuses[0].media[0].id
    publish_page(page, photo=make_image(320, 240, title="Second photo"))
    assert run_tasks() == ["posted"]
    (status,) = fake_mastodon.statuses
    assert [m.id for m in status.media] != [old_media_id]
    assert (status.media[0].width, status.media[0].height) == (320, 240)


def test_changed_title_edits_the_text(fake_mastodon):
    page = posted_page(fake_mastodon)
    publish_page(page, title="Evening boats")
    assert run_tasks() == ["posted"]
    (status,) = fake_mastodon.statuses
    assert status.text.startswith("Evening boats\n\n")
    assert len(status.media) == 1, "the media stay attached"


def test_on_update_ignore_leaves_the_post_alone(fake_mastodon, settings):
    page = posted_page(fake_mastodon)
    settings.WAGTAIL_SYNDICATE = {**settings.WAGTAIL_SYNDICATE, "ON_UPDATE": "ignore"}
    before = len(fake_mastodon.requests)
    publish_page(page, title="Evening boats")
    assert run_tasks() == []
    assert len(fake_mastodon.requests) == before


# Unpublishing ------------------------------------------------------------------------------


def test_unpublishing_deletes_the_post_when_configured(fake_mastodon, settings):
    page = posted_page(fake_mastodon)
    settings.WAGTAIL_SYNDICATE = {**settings.WAGTAIL_SYNDICATE, "DELETE_ON_UNPUBLISH": True}
    page.unpublish()
    assert run_tasks() == ["deleted"]
    assert fake_mastodon.statuses == []
    record = record_of(page)
    assert record.state == "deleted" and record.remote_id == ""

    publish_page(page)  # published again: a new post
    assert run_tasks() == ["posted"]
    assert len(fake_mastodon.statuses) == 1


def test_unpublishing_keeps_the_post_by_default(fake_mastodon):
    page = posted_page(fake_mastodon)
    page.unpublish()
    assert run_tasks() == []
    assert len(fake_mastodon.statuses) == 1
    assert record_of(page).state == "posted"


def test_turning_the_toggle_off_after_posting_deletes_nothing(fake_mastodon, settings):
    settings.WAGTAIL_SYNDICATE = {**settings.WAGTAIL_SYNDICATE, "DELETE_ON_UNPUBLISH": True}
    page = posted_page(fake_mastodon)
    publish_page(page, syndicate=False, title="Evening boats")
    assert run_tasks() == []
    assert len(fake_mastodon.statuses) == 1
    assert fake_mastodon.statuses[0].text.startswith("Morning boats")
