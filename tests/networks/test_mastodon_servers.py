"""Servers that speak Mastodon's API without being Mastodon, and what Mastodon's own source
says: each behaviour against FakeMastodon over real HTTP, judged by what the server received
and what the record shows."""

import pytest
import requests
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from syndicate_fakes import FakeMastodon, Fault
from tests.utils import (
    connect_account,
    connect_x_account,
    make_image,
    make_photo_page,
    publish_page,
    run_next,
    run_tasks,
)
from wagtail_syndicate.models import SyndicationRecord
from wagtail_syndicate.networks.http.responses import reduce_body
from wagtail_syndicate.pipeline.limits_cache import limits_for

pytestmark = pytest.mark.django_db

PLEROMA = "2.7.2 (compatible; Pleroma 2.5.0)"
# Rails' public/500.html, as a server in front of (or instead of) Mastodon answers.
RAILS_500 = (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n  <title>Internal Error</title>\n'
    '  <meta name="viewport" content="width=device-width,initial-scale=1">\n'
    "  <style>body { color: #333; }</style>\n</head>\n<body>\n"
    "  <h1>We're sorry, but something went wrong.</h1>\n</body>\n</html>\n"
)


@pytest.fixture
def server(request):
    """A FakeMastodon with the switches the test names (``@pytest.mark.parametrize`` or
    ``indirect``), the account alice's."""
    with FakeMastodon(tokens={"good-token": "alice"}, **getattr(request, "param", {})) as fake:
        yield fake


def record_of(page) -> SyndicationRecord:
    return SyndicationRecord.objects.get(page=page)


def edits(fake):
    return [
        r for r in fake.requests if r.method == "PUT" and r.path.startswith("/api/v1/statuses/")
    ]


def creates(fake):
    return [r for r in fake.requests if r.method == "POST" and r.path == "/api/v1/statuses"]


# ------------------------------------------------------------------ 2: edits as JSON


@pytest.mark.parametrize("server", [{"form_edits_fail": True}], indirect=True)
def test_new_alt_text_reaches_a_server_that_fails_form_encoded_media_attributes(server):
    connect_account(server)
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["posted"]

    publish_page(page, alt_text="Two fishing boats leaving the harbour")
    assert run_tasks() == ["posted"]

    (edit,) = edits(server)
    assert edit.headers["content-type"].startswith("application/json")
    assert edit.form == {}
    (status,) = server.statuses
    assert edit.json["media_ids"] == [m.id for m in status.media]
    assert (
        edit.json["media_attributes"][0]["description"] == "Two fishing boats leaving the harbour"
    )
    assert edit.json["sensitive"] is False
    assert status.media[0].description == "Two fishing boats leaving the harbour"
    record = record_of(page)
    assert (record.state, record.last_error) == ("posted", "")


def test_the_switch_fails_a_form_encoded_edit_with_media_attributes_and_takes_json(server):
    server.form_edits_fail = True
    token = {"Authorization": "Bearer good-token"}
    upload = requests.post(
        f"{server.base_url}/api/v2/media",
        headers=token,
        files={"file": ("a.png", make_png(), "image/png")},
        timeout=5,
    ).json()
    status = requests.post(
        f"{server.base_url}/api/v1/statuses",
        headers=token,
        data={"status": "Boats", "media_ids[]": [upload["id"]]},
        timeout=5,
    ).json()
    url = f"{server.base_url}/api/v1/statuses/{status['id']}"
    form = requests.put(
        url,
        headers=token,
        data=[
            ("status", "Boats"),
            ("media_ids[]", upload["id"]),
            ("media_attributes[][id]", upload["id"]),
            ("media_attributes[][description]", "Boats at dawn"),
        ],
        timeout=5,
    )
    assert form.status_code == 500
    assert form.headers["content-type"].startswith("text/html")
    as_json = requests.put(
        url,
        headers=token,
        json={
            "status": "Boats",
            "media_ids": [upload["id"]],
            "media_attributes": [{"id": upload["id"], "description": "Boats at dawn"}],
        },
        timeout=5,
    )
    assert as_json.status_code == 200
    assert as_json.json()["media_attachments"][0]["description"] == "Boats at dawn"


def make_png() -> bytes:
    image = make_image(8, 8)
    with image.file.open("rb") as file:
        return file.read()


# ------------------------------------------------------------------ 8: removing a focus point


def test_removing_the_focal_point_sends_the_centre_not_a_blank(fake_mastodon):
    connect_account(fake_mastodon)
    image = make_image(
        640, 480, focal_point_x=480, focal_point_y=120, focal_point_width=40, focal_point_height=40
    )
    page = make_photo_page(image=image)
    assert run_tasks() == ["posted"]
    assert fake_mastodon.statuses[0].media[0].focus == (0.5, 0.5)

    image.focal_point_x = image.focal_point_y = None
    image.focal_point_width = image.focal_point_height = None
    image.save()
    publish_page(page, title="Morning boats, again")
    assert run_tasks() == ["posted"]

    (edit,) = edits(fake_mastodon)
    assert edit.json["media_attributes"][0]["focus"] == "0.00,0.00"
    assert fake_mastodon.statuses[0].media[0].focus == (0.0, 0.0)
    assert record_of(page).media[0]["focus"] is None


# ------------------------------------------------------------------ 5: v2 instance failing


@pytest.mark.parametrize("failure", ["500", "html", "404"])
def test_limits_come_from_v1_when_v2_fails_and_are_cached(failure):
    with FakeMastodon(
        tokens={"good-token": "alice"}, instance_v2=failure, limits={"max_characters": 1234}
    ) as fake:
        account = connect_account(fake)
        assert limits_for(account).max_characters == 1234
        assert limits_for(account).max_characters == 1234
        paths = [r.path for r in fake.requests]
        assert paths == ["/api/v2/instance", "/api/v1/instance"]


def test_limits_come_from_v1_when_v2_does_not_answer_in_time(fake_mastodon):
    fake_mastodon.limits["max_characters"] = 1234
    fake_mastodon.inject(Fault(method="GET", path="/api/v2/instance", delay=2.0))
    account = connect_account(fake_mastodon)
    quick = {**settings.WAGTAIL_SYNDICATE, "READ_TIMEOUT": 0.3}
    with override_settings(WAGTAIL_SYNDICATE=quick):
        assert limits_for(account).max_characters == 1234


def test_defaults_when_neither_instance_endpoint_describes_the_server(fake_mastodon):
    fake_mastodon.inject(Fault(method="GET", path="/api/v2/instance", status=500))
    fake_mastodon.inject(Fault(method="GET", path="/api/v1/instance", status=404))
    fake_mastodon.limits["max_characters"] = 1234
    account = connect_account(fake_mastodon)
    assert limits_for(account).max_characters == 500
    assert limits_for(account).max_characters == 500  # cached like any limits
    assert len(fake_mastodon.requests) == 2


@pytest.mark.parametrize("server", [{"instance_v2": "500"}], indirect=True)
def test_a_page_is_posted_on_a_server_whose_v2_instance_fails(server):
    connect_account(server)
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["posted"]
    assert len(server.statuses) == 1
    assert record_of(page).state == "posted"


# ------------------------------------------------------------------ 7: errors naming the server


@pytest.mark.parametrize("server", [{"version": PLEROMA}], indirect=True)
def test_an_html_error_page_is_reduced_to_its_title_and_the_server_named(server):
    connect_account(server)
    server.inject(Fault(method="POST", path="/api/v1/statuses", status=500, body=RAILS_500))
    page = make_photo_page(image=make_image())
    assert run_next() == "retrying"
    error = record_of(page).last_error
    assert error.startswith(f"Pleroma 2.5.0 at {server.host} (POST /api/v1/statuses)")
    assert "server error (500): Internal Error." in error
    assert "<" not in error and "Mastodon" not in error


@pytest.mark.parametrize(
    "server",
    [{"version": "4.3.0", "source_url": "", "html_errors": True}],
    indirect=True,
)
def test_a_server_that_does_not_say_its_software_is_named_by_its_host(server):
    connect_account(server, token="revoked-token")
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["failed"]
    error = record_of(page).last_error
    assert error.startswith(f"{server.host} (")
    assert "refused the access token (401): The access token is invalid." in error
    assert "<" not in error and "Mastodon" not in error


def test_mastodon_is_named_when_its_instance_says_so(fake_mastodon):
    connect_account(fake_mastodon)
    fake_mastodon.inject(Fault(method="POST", path="/api/v2/media", status=503, body="Busy\n"))
    page = make_photo_page(image=make_image())
    assert run_next() == "retrying"
    assert record_of(page).last_error.startswith(f"Mastodon 4.3.0 at {fake_mastodon.host} (")


@pytest.mark.parametrize(
    "body, words",
    [
        (RAILS_500, "Internal Error"),
        (
            "<html><body>\n<h1>502 Bad Gateway</h1><hr><center>nginx</center></body></html>",
            "502 Bad Gateway",
        ),
        (
            "<html><head><title> </title><script>x()</script></head><p>Down for maintenance",
            "Down for maintenance",
        ),
        ("upstream connect error\nreset reason: overflow", "upstream connect error"),
        ("x" * 500, "x" * 199 + "…"),
    ],
)
def test_a_body_is_reduced_to_a_few_words(body, words):
    assert reduce_body(body) == words


# ------------------------------------------------------------------ 13: a key whose post is gone


def test_a_repeated_key_whose_status_was_deleted_posts_anew_with_a_new_key(fake_mastodon):
    connect_account(fake_mastodon)
    # The status is stored but its answer is lost: the record does not know it was posted.
    fake_mastodon.inject(Fault(method="POST", path="/api/v1/statuses", after=True, drop=True))
    page = make_photo_page(image=make_image())
    assert run_next() == "retrying"
    # Someone deletes that status before the retry: the server answers its key with 404.
    (lost,) = fake_mastodon.statuses
    deleted = requests.delete(
        f"{fake_mastodon.base_url}/api/v1/statuses/{lost.id}",
        headers={"Authorization": "Bearer good-token"},
        timeout=5,
    )
    assert deleted.status_code == 200

    assert run_tasks() == ["posted"]
    (status,) = fake_mastodon.statuses
    record = record_of(page)
    assert (record.state, record.remote_id, record.last_error) == ("posted", status.id, "")
    keys = [r.headers["idempotency-key"] for r in creates(fake_mastodon)]
    assert keys[-1] != keys[0]
    assert status.idempotency_key == keys[-1]


# ------------------------------------------------------------------ 14: waits a server asks for


@pytest.mark.parametrize(
    "headers",
    [
        {"Retry-After": "99999999999"},
        {"Retry-After": str(2 * 86400)},
        {"X-RateLimit-Reset": "2999-01-01T00:00:00.000000Z"},
        {"X-RateLimit-Reset": "99999999999999999999"},
    ],
)
def test_a_wait_of_more_than_a_day_fails_the_record_in_the_servers_words(fake_mastodon, headers):
    connect_account(fake_mastodon)
    fake_mastodon.inject(
        Fault(
            method="POST",
            path="/api/v1/statuses",
            status=429,
            body={"error": "Too many requests"},
            headers=headers,
        )
    )
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["failed"]
    record = record_of(page)
    assert record.next_attempt_at is None
    assert "is rate-limiting this account (429)" in record.last_error
    assert "more than a day: Too many requests." in record.last_error
    assert fake_mastodon.statuses == []


def test_a_wait_of_less_than_a_day_is_kept(fake_mastodon):
    connect_account(fake_mastodon)
    fake_mastodon.inject(
        Fault(
            method="POST",
            path="/api/v1/statuses",
            status=429,
            body={"error": "Too many requests"},
            headers={"Retry-After": "3600"},
        )
    )
    page = make_photo_page(image=make_image())
    assert run_next() == "retrying"
    record = record_of(page)
    wait = record.next_attempt_at - timezone.now()
    assert 3500 < wait.total_seconds() <= 3601


@pytest.mark.parametrize("daily_reset", [3 * 86400, 10**20])
def test_the_cap_holds_for_every_network_an_x_daily_reset_days_away(settings, fake_x, daily_reset):
    settings.WAGTAIL_SYNDICATE = {
        **settings.WAGTAIL_SYNDICATE,
        "X_CLIENT_ID": fake_x.client_id,
        "X_API_URL": fake_x.base_url,
    }
    connect_x_account(fake_x)
    now = int(timezone.now().timestamp())
    fake_x.inject(
        Fault(
            method="POST",
            path="/2/tweets",
            status=429,
            body={"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
            headers={
                "x-rate-limit-reset": str(now + 600),
                "x-user-limit-24hour-remaining": "0",
                "x-user-limit-24hour-reset": str(now + daily_reset),
            },
        )
    )
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["failed"]
    record = record_of(page)
    assert record.next_attempt_at is None
    assert "rate-limiting" in record.last_error and "more than a day" in record.last_error
    assert not fake_x.tweets
