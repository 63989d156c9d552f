"""Media that expire (Mastodon deletes unused media after a day, X media ids carry
``expires_after_secs``), X's animated GIFs, X's daily caps and X's single-use refresh tokens,
against FakeMastodon and FakeX."""

import threading
import time

import pytest
import requests

from syndicate_fakes import Fault
from tests.utils import (
    connect_account,
    connect_x_account,
    make_image,
    make_photo_page,
    run_next,
)
from wagtail_syndicate.models import SyndicationAccount, SyndicationRecord
from wagtail_syndicate.networks.x.network import XNetwork

pytestmark = pytest.mark.django_db(transaction=True)

DAY = 86400


def calls(fake, method, path):
    return [r for r in fake.requests if r.method == method and r.path.startswith(path)]


def a_day_passes(fake, record, days=1.0):
    """A day goes by for the server (its clock) and for the record (its uploads are older)."""
    fake.clock = lambda: time.time() + days * DAY
    record.refresh_from_db()
    for entry in record.media:
        for key in ("uploaded_at", "expires_at"):
            if entry.get(key) is not None:
                entry[key] -= days * DAY
    SyndicationRecord.objects.filter(pk=record.pk).update(media=record.media)


def failed_create_first(fake, path):
    """The first create answers 500: the record waits to retry with its upload kept."""
    fake.inject(Fault(method="POST", path=path, status=500, times=1))
    page = make_photo_page(image=make_image(), alt_text="A heron on one leg")
    assert run_next() == "retrying"
    record = SyndicationRecord.objects.get(page=page)
    [entry] = record.media
    assert entry["uploaded_at"] is not None and entry["expires_at"] is not None
    return record, entry


# ---------------------------------------------------------------- Mastodon


def test_a_mastodon_retry_a_day_later_uploads_the_image_again(fake_mastodon):
    connect_account(fake_mastodon)
    record, entry = failed_create_first(fake_mastodon, "/api/v1/statuses")
    assert entry["expires_at"] - entry["uploaded_at"] == DAY
    a_day_passes(fake_mastodon, record)

    assert run_next() == "posted"

    [status] = fake_mastodon.statuses
    [media] = status.media
    assert media.id != entry["id"] and media.description == "A heron on one leg"
    assert len(calls(fake_mastodon, "POST", "/api/v2/media")) == 2
    # The kept upload was not tried: it was known to be gone.
    assert len(calls(fake_mastodon, "POST", "/api/v1/statuses")) == 2
    record.refresh_from_db()
    assert [m["id"] for m in record.media] == [media.id]


def test_a_mastodon_retry_within_the_day_reuses_the_upload(fake_mastodon):
    connect_account(fake_mastodon)
    record, entry = failed_create_first(fake_mastodon, "/api/v1/statuses")

    assert run_next() == "posted"

    [status] = fake_mastodon.statuses
    assert [m.id for m in status.media] == [entry["id"]]
    assert len(calls(fake_mastodon, "POST", "/api/v2/media")) == 1


def test_media_the_server_forgot_early_are_uploaded_again_when_it_says_so(fake_mastodon):
    connect_account(fake_mastodon)
    record, entry = failed_create_first(fake_mastodon, "/api/v1/statuses")
    # The server forgot the upload though the record thinks it fresh.
    fake_mastodon.clock = lambda: time.time() + 2 * DAY

    assert run_next() == "posted"

    [status] = fake_mastodon.statuses
    assert [m.id for m in status.media] != [entry["id"]]
    assert len(calls(fake_mastodon, "POST", "/api/v1/statuses")) == 3  # 500, 422, 200
    assert len(calls(fake_mastodon, "POST", "/api/v2/media")) == 2
    record.refresh_from_db()
    assert record.state == SyndicationRecord.State.POSTED
    assert [m["id"] for m in record.media] == [status.media[0].id]


def test_an_upload_kept_without_its_time_is_uploaded_again(fake_mastodon):
    connect_account(fake_mastodon)
    record, entry = failed_create_first(fake_mastodon, "/api/v1/statuses")
    # As a record kept before upload times were: its age is unknown.
    for key in ("uploaded_at", "expires_at"):
        del entry[key]
    SyndicationRecord.objects.filter(pk=record.pk).update(media=[entry])

    assert run_next() == "posted"

    assert len(calls(fake_mastodon, "POST", "/api/v2/media")) == 2
    assert len(calls(fake_mastodon, "POST", "/api/v1/statuses")) == 2


# ---------------------------------------------------------------- X: media that expire


def test_an_x_retry_a_day_later_uploads_the_image_again(fake_x, x_settings):
    connect_x_account(fake_x)
    record, entry = failed_create_first(fake_x, "/2/tweets")
    assert abs(entry["expires_at"] - entry["uploaded_at"] - DAY) < 5  # expires_after_secs
    a_day_passes(fake_x, record)

    assert run_next() == "posted"

    [tweet] = fake_x.tweets
    [media_id] = tweet.media_ids
    assert media_id != entry["id"]
    assert fake_x.media[media_id].alt_text == "A heron on one leg"
    assert len(calls(fake_x, "POST", "/2/media/upload")) == 2
    assert len(calls(fake_x, "POST", "/2/tweets")) == 2


def test_an_x_media_id_is_kept_no_longer_than_its_expires_after_secs(fake_x, x_settings):
    fake_x.media_lifetime = 1800  # X says this id lives half an hour
    connect_x_account(fake_x)
    record, entry = failed_create_first(fake_x, "/2/tweets")
    assert abs(entry["expires_at"] - entry["uploaded_at"] - 1800) < 5

    assert run_next() == "posted"  # too close to its end: uploaded again

    [tweet] = fake_x.tweets
    assert tweet.media_ids != [entry["id"]]
    assert len(calls(fake_x, "POST", "/2/media/upload")) == 2


def test_an_x_media_id_x_no_longer_knows_is_uploaded_again(fake_x, x_settings):
    connect_x_account(fake_x)
    record, entry = failed_create_first(fake_x, "/2/tweets")
    fake_x.clock = lambda: time.time() + 2 * DAY  # X forgot it; the record thinks it fresh

    assert run_next() == "posted"

    [tweet] = fake_x.tweets
    assert tweet.media_ids != [entry["id"]]
    assert len(calls(fake_x, "POST", "/2/tweets")) == 3  # 500, "media IDs are invalid", 201


# ---------------------------------------------------------------- X: GIFs and processing


def test_a_gif_goes_to_x_as_a_still_image(fake_x, x_settings):
    connect_x_account(fake_x)
    make_photo_page(image=make_image(image_format="GIF"), alt_text="A gradient")

    assert run_next() == "posted"

    [tweet] = fake_x.tweets
    [media_id] = tweet.media_ids
    media = fake_x.media[media_id]
    assert media.category == "tweet_image" and media.content_type != "image/gif"
    assert media.alt_text == "A gradient"


def test_an_upload_x_processes_is_polled_until_it_succeeds(fake_x, x_settings):
    fake_x.process_images, fake_x.processing_polls, fake_x.check_after_secs = True, 2, 0
    connect_x_account(fake_x)
    make_photo_page(image=make_image())

    assert run_next() == "posted"

    [tweet] = fake_x.tweets
    statuses = calls(fake_x, "GET", "/2/media/upload")
    assert len(statuses) == 3  # in_progress, in_progress, succeeded
    assert all(r.query == {"command": ["STATUS"], "media_id": tweet.media_ids} for r in statuses)


def test_an_upload_x_fails_to_process_fails_in_xs_words(fake_x, x_settings):
    fake_x.process_images, fake_x.processing_polls, fake_x.check_after_secs = True, 0, 0
    fake_x.processing_error = "Unsupported image format"
    connect_x_account(fake_x)
    page = make_photo_page(image=make_image())

    assert run_next() == "failed"

    record = SyndicationRecord.objects.get(page=page)
    assert "X could not process the image: Unsupported image format" in record.last_error
    assert not fake_x.tweets


# ---------------------------------------------------------------- X: daily caps


def test_a_spent_daily_cap_waits_for_its_reset_not_the_15_minute_window(fake_x, x_settings):
    fake_x.daily_limits = {"POST /2/tweets": 1}
    connect_x_account(fake_x)
    make_photo_page(image=make_image(), title="First")
    second = make_photo_page(image=make_image(), title="Second")
    day_starts = int(time.time())
    assert run_next() == "posted"

    assert run_next() == "retrying"

    record = SyndicationRecord.objects.get(page=second)
    assert record.next_attempt_at.timestamp() >= day_starts + DAY
    assert "rate-limiting" in record.last_error
    assert len(fake_x.tweets) == 1


def test_fakex_reports_a_spent_daily_cap_beside_the_15_minute_window(fake_x):
    fake_x.daily_limits = {"POST /2/tweets": 1}
    token = fake_x.issue("alice")["access_token"]

    def post(text):
        return requests.post(
            f"{fake_x.base_url}/2/tweets",
            json={"text": text},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )

    first, second = post("one"), post("two")

    assert first.status_code == 201
    assert first.headers["x-user-limit-24hour-remaining"] == "0"
    assert second.status_code == 429
    window = int(second.headers["x-rate-limit-reset"])
    daily = int(second.headers["x-user-limit-24hour-reset"])
    assert second.headers["x-user-limit-24hour-remaining"] == "0"
    assert second.headers["x-rate-limit-remaining"] != "0"  # the 15-minute window is not spent
    assert daily - window >= DAY - 15 * 60
    assert len(fake_x.tweets) == 1


# ---------------------------------------------------------------- X: single-use refresh tokens


def test_two_workers_renewing_one_account_at_once_spend_its_refresh_token_once(fake_x, x_settings):
    account = connect_x_account(fake_x, lifetime=60)  # both workers will want to renew
    first_refresh = account.session["refresh_token"]
    # Each worker read the account before either renewed; X takes its time answering.
    workers = [account.credentials(), account.credentials()]
    fake_x.inject(Fault(method="POST", path="/2/oauth2/token", delay=0.5, after=True, times=2))
    outcomes = []

    def work(credentials):
        outcomes.append(XNetwork().verify(credentials).handle)

    threads = [threading.Thread(target=work, args=(c,)) for c in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes == ["@alice", "@alice"]
    tokens = calls(fake_x, "POST", "/2/oauth2/token")
    assert len(tokens) == 1, "one renewal; the other worker took the tokens it kept"
    session = SyndicationAccount.objects.get(pk=account.pk).session
    assert session["refresh_token"] != first_refresh
    assert fake_x.refresh_token_valid(session["refresh_token"])
    me = calls(fake_x, "GET", "/2/users/me")
    assert [r.headers["Authorization"] for r in me] == [f"Bearer {session['access_token']}"] * 2
