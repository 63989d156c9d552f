"""What a server answers is checked before it is kept or shown: a post link that could run
script or lead elsewhere is never a link, values too long for their columns cannot wedge a
record, a run that cannot save its outcome still ends, and secrets a server echoes are hidden."""

import html as html_lib
import io
import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.template import Context, Template
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from wagtail.models import PageLogEntry

from syndicate_fakes import Fault
from tests.testapp.models import PhotoPage
from tests.utils import (
    connect_account,
    connect_bluesky_account,
    connect_x_account,
    make_image,
    make_photo_page,
    run_tasks,
)
from wagtail_syndicate.compat import task_backends
from wagtail_syndicate.models import SyndicationRecord
from wagtail_syndicate.pipeline.queueing import retry_record

pytestmark = pytest.mark.django_db

RECORDS = "wagtailsnippets_wagtail_syndicate_syndicationrecord"
TABLE = SyndicationRecord._meta.db_table
STATUSES = "/api/v1/statuses"
LINKS_TAG = "{% load syndication_tags %}{% syndication_links page %}"

HOSTILE_LINKS = [
    "javascript:alert(document.domain)//",
    "JavaScript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "https://evil.example/@alice/1",
    "https://evil.example\\@127.0.0.1/@alice/1",
]


@contextmanager
def database_refusing(when: str):
    """An SQLite trigger refusing every UPDATE of a record for which ``when`` (SQL about NEW)
    holds: the database failing a write the way PostgreSQL does a value too long."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TRIGGER refuse_record BEFORE UPDATE ON {TABLE} WHEN {when} "
            "BEGIN SELECT RAISE(ABORT, 'value refused by the database'); END"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER refuse_record")


@pytest.fixture
def column_lengths_enforced():
    """The record's columns as long as PostgreSQL holds them to (SQLite holds none)."""
    with database_refusing("length(NEW.remote_url) > 500 OR length(NEW.remote_id) > 255"):
        yield


def every_place_a_link_is_shown(client, page, record) -> dict[str, str]:
    """The HTML of every place that shows a record's post link."""

    def admin(name, *args):
        return client.get(reverse(name, args=args)).content.decode()

    tag = Template(LINKS_TAG)
    return {
        "records list": admin(f"{RECORDS}:list"),
        "inspect view": admin(f"{RECORDS}:inspect", record.pk),
        "page editor": admin("wagtailadmin_pages:edit", page.pk),  # header and panel
        "page history": admin("wagtailadmin_pages:history", page.pk),
        "public page tag": tag.render(Context({"page": page})),
    }


def links_in(html: str) -> list[str]:
    """Every URL in an attribute a browser follows or loads, as the browser reads it."""
    found = re.findall(r"""\b(?:href|src|action|formaction)\s*=\s*(["'])(.*?)\1""", html, re.I)
    return [html_lib.unescape(url).strip() for _quote, url in found]


def assert_no_hostile_link(places: dict[str, str], hostile: str):
    for place, html in places.items():
        for url in links_in(html):
            assert not re.match(r"\s*(javascript|data|vbscript):", url, re.I), (place, url)
            assert "evil.example" not in url, (place, url)
            assert url != hostile, (place, url)


def posted_without_link(page, fake) -> SyndicationRecord:
    """The post was made and the record knows it (so it is edited or deleted, never posted
    again), but keeps no link."""
    record = SyndicationRecord.objects.get(page=page)
    assert record.state == "posted"
    assert record.remote_id == fake.statuses[0].id
    assert record.remote_url == ""
    assert PhotoPage.objects.get(pk=page.pk).live
    return record


@pytest.mark.parametrize("hostile", HOSTILE_LINKS)
def test_a_hostile_post_link_is_kept_nowhere_and_shown_nowhere(editor, fake_mastodon, hostile):
    connect_account(fake_mastodon)
    fake_mastodon.status_fields = {"url": hostile}
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["posted"]

    record = posted_without_link(page, fake_mastodon)
    assert "answered with a link that is not on its server" in record.notice
    assert "no link to it is shown" in record.notice
    places = every_place_a_link_is_shown(editor, page, record)
    assert_no_hostile_link(places, hostile)
    assert "answered with a link that is not on its server" in places["inspect view"]
    assert "answered with a link that is not on its server" in places["page editor"]
    assert places["public page tag"] == ""
    entry = PageLogEntry.objects.get(page=page, action="wagtail_syndicate.posted")
    assert entry.data["url"] == ""


@pytest.mark.parametrize("hostile", HOSTILE_LINKS)
def test_a_hostile_link_stored_before_links_were_checked_is_not_shown(
    editor, fake_mastodon, hostile
):
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image())
    run_tasks()
    SyndicationRecord.objects.update(remote_url=hostile)  # a row from an earlier version
    record = SyndicationRecord.objects.get(page=page)

    places = every_place_a_link_is_shown(editor, page, record)
    assert_no_hostile_link(places, hostile)
    assert "data-post-link" not in places["page editor"]
    assert "View post on" not in places["page editor"]
    assert places["public page tag"] == ""


def test_the_servers_own_link_is_shown_everywhere(editor, fake_mastodon):
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image())
    run_tasks()
    record = SyndicationRecord.objects.get(page=page)
    url = fake_mastodon.statuses[0].url
    assert record.remote_url == url and record.notice == ""
    for place, html in every_place_a_link_is_shown(editor, page, record).items():
        if place != "page history":  # the history names the link in words
            assert url in links_in(html), place


def test_an_http_link_is_not_shown_where_insecure_instances_are_not_allowed(fake_mastodon):
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image())
    run_tasks()
    tag = Template(LINKS_TAG)
    assert fake_mastodon.base_url.startswith("http://")
    assert "href" in tag.render(Context({"page": page}))
    with override_settings(WAGTAIL_SYNDICATE={"ALLOW_INSECURE_INSTANCES": False}):
        assert tag.render(Context({"page": page})) == ""


def test_bluesky_and_x_links_on_their_web_hosts_are_shown(fake_bluesky, fake_x):
    bluesky, x = connect_bluesky_account(fake_bluesky), connect_x_account(fake_x)
    page = make_photo_page(image=make_image())
    assert sorted(run_tasks()) == ["posted", "posted"]
    html = Template(LINKS_TAG).render(Context({"page": page}))
    hosts = sorted(re.match(r"https://([^/]+)/", url).group(1) for url in links_in(html))
    assert hosts == ["bsky.app", "x.com"]
    for account in (bluesky, x):
        assert SyndicationRecord.objects.get(account=account).notice == ""


# Values too long for their columns ------------------------------------------------------------


def test_a_link_too_long_to_keep_is_dropped_with_a_notice(fake_mastodon, column_lengths_enforced):
    connect_account(fake_mastodon)
    fake_mastodon.status_fields = {"url": f"{fake_mastodon.base_url}/@alice/{'1' * 600}"}
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["posted"]
    record = posted_without_link(page, fake_mastodon)
    assert "a link of 6" in record.notice and "longer than the 500 this site keeps" in (
        record.notice
    )


# The worker writes in autocommit: a statement the database refuses spoils nothing there,
# while inside a test's own transaction it would spoil the rest of the test.
@pytest.mark.django_db(transaction=True)
def test_a_post_id_too_long_to_keep_fails_with_its_reason(fake_mastodon, column_lengths_enforced):
    connect_account(fake_mastodon)
    fake_mastodon.status_fields = {"id": "9" * 300}
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["failed"]
    record = SyndicationRecord.objects.get(page=page)
    assert record.state == "failed"
    assert "a post ID of 300 characters, more than the 255 this site can keep" in (
        record.last_error
    )
    assert record.remote_id == "" and record.lease_expires_at is None
    assert PhotoPage.objects.get(pk=page.pk).live
    assert len(fake_mastodon.statuses) == 1
    # The key of that create stays: a retry is answered with the same post, not a second.
    fake_mastodon.status_fields = {}
    retry_record(record)
    assert run_tasks() == ["posted"]
    assert len(fake_mastodon.statuses) == 1
    assert SyndicationRecord.objects.get(page=page).remote_id == fake_mastodon.statuses[0].id


# The worker writes in autocommit: a statement the database refuses spoils nothing there,
# while inside a test's own transaction it would spoil the rest of the test.
@pytest.mark.django_db(transaction=True)
def test_an_outcome_the_database_refuses_ends_failed_and_a_retry_posts_once(fake_mastodon):
    connect_account(fake_mastodon)
    with database_refusing("NEW.state = 'posted'"):
        page = make_photo_page(image=make_image())
        assert run_tasks() == ["failed"]
    record = SyndicationRecord.objects.get(page=page)
    assert record.state == "failed" and record.lease_expires_at is None
    assert "The outcome could not be saved (IntegrityError)" in record.last_error
    assert PageLogEntry.objects.filter(page=page, action="wagtail_syndicate.failed").exists()
    assert len(fake_mastodon.statuses) == 1

    retry_record(record)
    assert run_tasks() == ["posted"]
    assert len(fake_mastodon.statuses) == 1, "the retry must find the post, not make another"


def make_due_records(fake, count) -> list[SyndicationRecord]:
    """``count`` pages published whose tasks were lost: records a worker should be running."""
    connect_account(fake)
    pages = [make_photo_page(image=make_image(), title=f"Boats {n}") for n in range(count)]
    task_backends["default"].clear()
    SyndicationRecord.objects.update(queued_at=timezone.now() - timedelta(days=1))
    return [SyndicationRecord.objects.get(page=page) for page in pages]


# The worker writes in autocommit: a statement the database refuses spoils nothing there,
# while inside a test's own transaction it would spoil the rest of the test.
@pytest.mark.django_db(transaction=True)
def test_retry_due_goes_on_past_a_record_it_cannot_run(fake_mastodon):
    first, second = make_due_records(fake_mastodon, 2)
    out, err = io.StringIO(), io.StringIO()
    # The database refuses every outcome of the first record, even the last-resort failure.
    with database_refusing(f"NEW.id = {first.pk} AND NEW.state != 'posting'"):
        with pytest.raises(SystemExit) as exited:
            call_command("syndicate", "--retry-due", stdout=out, stderr=err)
    assert exited.value.code == 1
    assert "Boats 0 → " in err.getvalue() and "could not be run (IntegrityError" in err.getvalue()
    assert "Boats 1 → " in out.getvalue() and ": posted" in out.getvalue()
    assert "2 due record(s) run, 1 of them could not be." in out.getvalue()
    assert SyndicationRecord.objects.get(pk=second.pk).state == "posted"


def test_retry_due_runs_every_record_behind_a_poison_one(fake_mastodon, column_lengths_enforced):
    make_due_records(fake_mastodon, 3)
    fake_mastodon.status_fields = {"id": "9" * 300}
    out = io.StringIO()
    call_command("syndicate", "--retry-due", stdout=out)
    assert out.getvalue().count(": failed") == 3
    assert set(SyndicationRecord.objects.values_list("state", flat=True)) == {"failed"}
    fake_mastodon.status_fields = {}
    assert "0 due record(s) run." in call_command_output("syndicate", "--retry-due")


def call_command_output(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


# Secrets a server echoes ---------------------------------------------------------------------


def echo(secret: str) -> str:
    """An error page of a proxy that repeats the request's headers."""
    return f"Request refused. Headers: Authorization: Bearer {secret}; token={secret}"


@pytest.mark.parametrize("status", [400, 401])
def test_a_token_the_server_echoes_is_hidden_everywhere(editor, fake_mastodon, status):
    connect_account(fake_mastodon)

    def refuse():
        body = {"error": echo("good-token")}
        fake_mastodon.inject(
            Fault(method="POST", path="/api/v1/statuses", status=status, body=body)
        )

    refuse()
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["failed"]
    record = SyndicationRecord.objects.get(page=page)
    assert "Request refused. Headers: Authorization: Bearer [hidden]" in record.last_error
    assert PhotoPage.objects.get(pk=page.pk).live

    refuse()  # and again, for the command
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("syndicate", "--page", str(page.pk), stdout=out)
    assert "[hidden]" in out.getvalue()
    texts = {
        "record": record.last_error,
        "history entries": str(list(PageLogEntry.objects.filter(page=page).values("data"))),
        "command output": out.getvalue(),
        **every_place_a_link_is_shown(editor, page, record),
    }
    for place, text in texts.items():
        assert "good-token" not in text, place


def test_bluesky_and_x_secrets_a_server_echoes_are_hidden(fake_bluesky, fake_x):
    bluesky, x = connect_bluesky_account(fake_bluesky), connect_x_account(fake_x)
    x_token, x_refresh = x.access_token, x.session["refresh_token"]
    fake_bluesky.inject(
        Fault(
            method="POST",
            path="/xrpc/com.atproto.repo.createRecord",
            status=400,
            body={"error": "InvalidRequest", "message": echo("alice-app-pass")},
        )
    )
    fake_x.inject(
        Fault(
            method="POST",
            path="/2/tweets",
            status=403,
            body={"title": "Forbidden", "detail": f"{echo(x_token)} refresh={x_refresh}"},
        )
    )
    page = make_photo_page(image=make_image())
    assert sorted(run_tasks()) == ["failed", "failed"]
    for account, secrets in ((bluesky, ["alice-app-pass"]), (x, [x_token, x_refresh])):
        record = SyndicationRecord.objects.get(account=account)
        assert "[hidden]" in record.last_error, record.last_error
        for secret in secrets:
            assert secret not in record.last_error
    history = str(list(PageLogEntry.objects.filter(page=page).values("data")))
    for secret in ("alice-app-pass", x_token, x_refresh):
        assert secret not in history


def test_a_token_echoed_while_an_account_is_checked_is_not_shown(admin_client, fake_mastodon):
    fake_mastodon.inject(
        Fault(
            method="GET",
            path="/api/v1/accounts/verify_credentials",
            status=401,
            body={"error": echo("good-token")},
        )
    )
    response = admin_client.post(
        reverse("wagtailsnippets_wagtail_syndicate_syndicationaccount:add"),
        {
            "network": "mastodon",
            "instance_url": fake_mastodon.base_url,
            "access_token": "good-token",
            "enabled": "on",
            "visibility": "public",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Authorization: Bearer [hidden]" in html
    assert "good-token" not in html


def test_a_token_echoed_to_a_test_post_is_not_shown(admin_client, fake_mastodon):
    account = connect_account(fake_mastodon)
    fake_mastodon.inject(
        Fault(
            method="POST", path="/api/v1/statuses", status=400, body={"error": echo("good-token")}
        )
    )
    response = admin_client.post(
        reverse("wagtail_syndicate_check_post", args=[account.pk]), follow=True
    )
    html = response.content.decode()
    assert "The test post to" in html and "Authorization: Bearer [hidden]" in html
    assert "good-token" not in html
