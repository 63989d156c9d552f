"""Media that expire (Mastodon deletes unused media after a day, X media ids carry
``expires_after_secs``), X's animated GIFs, X's daily caps and X's single-use refresh tokens,
against FakeMastodon and FakeX."""

import time

import pytest

from tests.utils import (
    connect_account,
    make_image,
    make_photo_page,
    run_next,
)
from wagtail_syndicate.models import SyndicationRecord
from wagtail_syndicate.testing import Fault

pytestmark = pytest.mark.django_db(transaction=True)

DAY = 86400


@pytest.fixture
def x_settings(settings, fake_x):
    settings.WAGTAIL_SYNDICATE = {
        **settings.WAGTAIL_SYNDICATE,
        "X_CLIENT_ID": fake_x.client_id,
        "X_API_URL": fake_x.base_url,
    }
    return settings


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
