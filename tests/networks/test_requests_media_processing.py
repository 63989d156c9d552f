"""Images Mastodon processes in the background: the requests the plugin makes while it waits
(one poll for an image ready within its first wait), and what it does when an image is never
ready. The fake's own processing: fakes/tests/test_fake_mastodon_processing.py."""

import pytest

from tests.utils import connect_account, make_image, make_photo_page, run_next, run_tasks
from wagtail_syndicate.models import SyndicationRecord


@pytest.mark.django_db(transaction=True)
def test_an_image_ready_within_the_first_wait_costs_one_poll(fake_mastodon):
    """The upload's 202, one poll (after the plugin's first wait, 1 s) answered 200, the status:
    3 requests, one fewer than Mastodon.py's media_post(synchronous=True) + status_post."""
    fake_mastodon.processing_seconds = 0.2
    connect_account(fake_mastodon)
    make_photo_page(image=make_image())
    assert run_tasks() == ["posted"]
    made = [
        (r.method, r.path.rsplit("/", 1)[0] if r.method == "GET" else r.path)
        for r in fake_mastodon.requests
        if r.path != "/api/v2/instance"
    ]
    assert made == [
        ("POST", "/api/v2/media"),
        ("GET", "/api/v1/media"),
        ("POST", "/api/v1/statuses"),
    ]
    assert len(fake_mastodon.statuses[0].media) == 1


@pytest.mark.django_db(transaction=True)
def test_an_image_never_processed_is_retried_later(fake_mastodon, settings):
    settings.WAGTAIL_SYNDICATE = {**settings.WAGTAIL_SYNDICATE, "MEDIA_PROCESSING_TIMEOUT": 1.5}
    fake_mastodon.processing_seconds = 3600
    connect_account(fake_mastodon)
    make_photo_page(image=make_image())
    assert run_next() == "retrying"
    record = SyndicationRecord.objects.get()
    assert "still processing image" in record.last_error
    polls = [r for r in fake_mastodon.requests if r.method == "GET" and "/media/" in r.path]
    assert polls  # it polled before giving up, the last time at the deadline
    assert not fake_mastodon.statuses
