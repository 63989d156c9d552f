"""Every expected failure ends as a failed record with a readable reason; publishing succeeds."""

import socket
from datetime import timedelta

import pytest
from wagtail.models import PageLogEntry

from syndicate_fakes import Fault
from tests.testapp.models import PhotoPage
from tests.utils import (
    connect_account,
    edit_page,
    failed_record,
    field_errors,
    make_image,
    make_photo_page,
    run_tasks,
)
from wagtail_syndicate.models import SyndicationAccount, SyndicationRecord

pytestmark = pytest.mark.django_db


def test_bad_token_fails_with_the_servers_message(fake_mastodon):
    connect_account(fake_mastodon, token="revoked-token")
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["failed"]
    record = failed_record(page)
    assert "refused the access token (401)" in record.last_error
    assert "The access token is invalid" in record.last_error
    assert "revoked-token" not in record.last_error
    assert fake_mastodon.statuses == []


def test_custom_text_over_the_limit_fails_at_publish_without_a_request(fake_mastodon):
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image(), syndication_text="word " * 120)
    assert run_tasks() == []
    record = failed_record(page)
    assert "characters over this server's limit of 500 and cannot be shortened" in (
        record.last_error
    )
    assert fake_mastodon.requests == []


def test_a_422_fails_with_the_servers_message(fake_mastodon):
    connect_account(fake_mastodon)
    fake_mastodon.inject(
        Fault(
            method="POST",
            path="/api/v1/statuses",
            status=422,
            body={"error": "Validation failed: Text contains a forbidden word"},
        )
    )
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["failed"]
    record = failed_record(page)
    assert "rejected the post (422)" in record.last_error
    assert "Text contains a forbidden word" in record.last_error
    assert fake_mastodon.statuses == []


def test_server_errors_are_retried_then_given_up_with_the_status(fake_mastodon):
    connect_account(fake_mastodon)
    fake_mastodon.inject(
        Fault(
            method="POST",
            path="/api/v1/statuses",
            status=500,
            body={"error": "Something went wrong"},
            times=3,
        )
    )
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["retrying", "retrying", "failed"]
    record = failed_record(page)
    assert "server error (500): Something went wrong" in record.last_error
    assert "Gave up after 3 attempts" in record.last_error
    assert record.attempts == 3


def test_unreachable_instance_fails_with_connection_refused():
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    account = SyndicationAccount(instance_url=f"http://127.0.0.1:{port}", handle="@a@nowhere")
    account.access_token = "good-token"
    account.save()
    page = make_photo_page(image=make_image())
    run_tasks()
    record = failed_record(page)
    assert f"Could not connect to 127.0.0.1:{port}" in record.last_error
    assert "connection refused" in record.last_error


def test_slow_instance_times_out_and_is_retried(fake_mastodon):
    connect_account(fake_mastodon)
    fake_mastodon.inject(Fault(method="POST", path="/api/v2/media", delay=5))
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["retrying", "posted"]
    entries = PageLogEntry.objects.filter(page=page, action="wagtail_syndicate.retrying")
    assert "did not answer in time" in entries.get().message
    assert len(fake_mastodon.statuses) == 1


def test_publishing_without_alt_text_is_refused_on_the_field(editor, fake_mastodon):
    connect_account(fake_mastodon)
    image = make_image(description="")
    page = make_photo_page(image=image, alt_text="", publish=False)
    response = edit_page(editor, page, image, **{"action-publish": "action-publish"})
    assert response.status_code == 200
    errors = field_errors(response)
    assert errors["alt_text"][0].startswith("The image “Harbour at dawn” has no alt text")
    assert not PhotoPage.objects.get(pk=page.pk).live
    assert not SyndicationRecord.objects.exists()
    assert run_tasks() == []
    # Nothing is sent; the worker only reads the server's limits for the editor's preview.
    assert [r.path for r in fake_mastodon.requests] == ["/api/v2/instance"]


def test_saving_a_draft_without_alt_text_is_allowed(editor, fake_mastodon):
    connect_account(fake_mastodon)
    image = make_image(description="")
    page = make_photo_page(image=image, alt_text="", publish=False)
    response = edit_page(editor, page, image)
    assert response.status_code == 302
    assert PhotoPage.objects.get(pk=page.pk).get_latest_revision() is not None


def test_publishing_without_an_image_is_refused_on_the_field(editor, fake_mastodon):
    connect_account(fake_mastodon)
    page = make_photo_page(image=None, publish=False)
    response = edit_page(editor, page, None, **{"action-publish": "action-publish"})
    assert "has no image to share" in field_errors(response)["photo"][0]
    assert not SyndicationRecord.objects.exists()


def test_a_custom_text_too_long_is_refused_on_the_field(editor, fake_mastodon):
    connect_account(fake_mastodon)
    image = make_image()
    page = make_photo_page(image=image, publish=False)
    response = edit_page(
        editor, page, image, syndication_text="word " * 120, **{"action-publish": "action-publish"}
    )
    assert "cannot be shortened" in field_errors(response)["syndication_text"][0]
    assert not SyndicationRecord.objects.exists()


def test_with_require_alt_text_off_the_publish_goes_through_and_the_record_says_why(
    editor, fake_mastodon, settings
):
    settings.WAGTAIL_SYNDICATE = {**settings.WAGTAIL_SYNDICATE, "REQUIRE_ALT_TEXT": False}
    connect_account(fake_mastodon)
    image = make_image(description="")
    page = make_photo_page(image=image, alt_text="", publish=False)
    response = edit_page(editor, page, image, **{"action-publish": "action-publish"})
    assert response.status_code == 302
    record = failed_record(page)
    assert record.last_error.startswith("The image “Harbour at dawn” has no alt text")
    assert run_tasks() == []


def test_image_description_is_used_when_the_page_has_no_alt_text(fake_mastodon):
    connect_account(fake_mastodon)
    make_photo_page(image=make_image(description="Boats in fog"), alt_text="")
    run_tasks()
    assert fake_mastodon.statuses[0].media[0].description == "Boats in fog"


def test_missing_image_fails_at_publish(fake_mastodon):
    connect_account(fake_mastodon)
    page = make_photo_page(image=None)
    assert "has no image to share" in failed_record(page).last_error
    assert run_tasks() == []


def test_publishing_succeeds_when_the_task_backend_is_down(fake_mastodon, settings):
    connect_account(fake_mastodon)
    settings.WAGTAIL_SYNDICATE = {**settings.WAGTAIL_SYNDICATE, "TASK_BACKEND": "missing"}
    page = make_photo_page(image=make_image())
    assert "could not be queued" in failed_record(page).last_error


def test_a_proxy_error_page_is_summarised(fake_mastodon):
    connect_account(fake_mastodon)
    fake_mastodon.inject(
        Fault(
            method="POST",
            path="/api/v2/media",
            status=502,
            body="<html><body><h1>502 Bad Gateway</h1>\n<hr>nginx</body></html>",
        )
    )
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["retrying", "posted"]
    entry = PageLogEntry.objects.get(page=page, action="wagtail_syndicate.retrying")
    # An HTML page is reduced to its first line of text, never quoted raw.
    assert "server error (502): 502 Bad Gateway." in entry.message
    assert "<" not in entry.message


def test_an_answer_that_is_not_json_fails_clearly(fake_mastodon):
    connect_account(fake_mastodon)
    fake_mastodon.inject(
        Fault(method="POST", path="/api/v1/statuses", status=200, body="<p>Sign in to Wi-Fi</p>")
    )
    page = make_photo_page(image=make_image())
    run_tasks()
    assert "answered 200 with something other than JSON: Sign in to Wi-Fi" in (
        failed_record(page).last_error
    )


def test_an_unexpected_error_is_recorded_not_lost(fake_mastodon, monkeypatch, caplog):
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image())

    def broken_values(self):
        raise KeyError("caption")

    monkeypatch.setattr(PhotoPage, "get_syndication_context", broken_values)
    assert run_tasks() == ["failed"]
    record = failed_record(page)
    assert record.last_error.startswith(
        "The page model's get_syndication_context() raised KeyError: 'caption'."
    )
    assert "PhotoPage.get_syndication_context() of page" in caplog.text
    assert fake_mastodon.statuses == []


def test_an_oversized_answer_is_refused(fake_mastodon):
    connect_account(fake_mastodon)
    fake_mastodon.inject(
        Fault(method="POST", path="/api/v1/statuses", status=200, body="x" * (3 * 1024 * 1024))
    )
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["failed"]
    assert "answered with more than 2048 KiB; refused" in failed_record(page).last_error


def test_redirects_are_not_followed(fake_mastodon):
    connect_account(fake_mastodon)
    fake_mastodon.inject(
        Fault(
            method="POST",
            path="/api/v1/statuses",
            status=307,
            body={"error": "Moved"},
            headers={"Location": "http://169.254.169.254/latest/meta-data/"},
        )
    )
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["failed"]
    assert "answered 307" in failed_record(page).last_error
    assert len([r for r in fake_mastodon.requests if r.path.startswith("/api/v1/statuses")]) == 1


def test_a_run_ends_its_requests_within_its_lease(fake_mastodon, settings):
    # A lease of 4 s leaves the run 3 s of network time (a quarter of a short lease is kept
    # for its own work): a 10 s stall is cut at that, though each request alone could wait
    # 30 s, so the run settles while its lease holds and no second run of it can start.
    settings.WAGTAIL_SYNDICATE = {
        **settings.WAGTAIL_SYNDICATE,
        "LEASE_TIMEOUT": 4.0,
        "READ_TIMEOUT": 30.0,
        "REQUEST_DEADLINE": 30.0,
    }
    connect_account(fake_mastodon)
    fake_mastodon.inject(Fault(method="POST", path="/api/v2/media", delay=10))
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["retrying", "posted"]
    entries = PageLogEntry.objects.filter(page=page).order_by("pk")
    posting = entries.filter(action="wagtail_syndicate.posting").first()
    retrying = entries.get(action="wagtail_syndicate.retrying")
    assert "did not answer in time" in retrying.message
    assert retrying.timestamp - posting.timestamp < timedelta(seconds=9)
    assert len(fake_mastodon.statuses) == 1
