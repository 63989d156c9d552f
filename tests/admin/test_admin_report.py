"""The records report, a record's inspect view and the accounts list, as an administrator
reads them: every account with its network and server, posts as links named after their
network, reasons on one line, times as Wagtail shows them, nothing shown as "None"."""

import re
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

import wagtail_syndicate
from syndicate_fakes import Fault
from tests.utils import (
    connect_account,
    connect_bluesky_account,
    connect_x_account,
    log_in_as_editor,
    make_image,
    make_photo_page,
    run_next,
    run_tasks,
)
from wagtail_syndicate.models import SyndicationRecord

pytestmark = pytest.mark.django_db

RECORDS = "wagtailsnippets_wagtail_syndicate_syndicationrecord"
ACCOUNTS = "wagtailsnippets_wagtail_syndicate_syndicationaccount"
LONG_REASON = (
    "Validation failed: the harbour master refused this status because it mentions the "
    "night ferry, which is not running this week; try again when the timetable is back"
)


def posted_record(fake, title="Harbour at night"):
    connect_account(fake)
    page = make_photo_page(image=make_image(), title=title)
    assert run_tasks() == ["posted"]
    return SyndicationRecord.objects.get(page=page)


def report(client, **params) -> str:
    return client.get(reverse(f"{RECORDS}:list"), params).content.decode()


def inspect(client, record) -> str:
    return client.get(reverse(f"{RECORDS}:inspect", args=[record.pk])).content.decode()


def fields_of(html) -> dict[str, str]:
    """The inspect view's fields: label → the text shown (tags stripped, spaces joined)."""
    pairs = re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", html, re.S)
    return {
        label.strip(): " ".join(re.sub(r"<[^>]+>", " ", value).split()) for label, value in pairs
    }


def exact_time(moment) -> str:
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def test_the_report_links_each_post_by_its_network_never_by_its_raw_url(
    admin_client, fake_mastodon
):
    record = posted_record(fake_mastodon)

    html = report(admin_client)
    link = re.search(r'<a href="([^"]+)"[^>]*data-post-link>(.*?)</a>', html, re.S)
    assert link.group(1) == record.safe_remote_url == record.remote_url
    assert "View on Mastodon" in link.group(2) and "↗" in link.group(2)
    assert "#icon-network-mastodon" in link.group(2)
    assert f">{record.remote_url}<" not in html  # the URL is never the text shown
    assert f"@alice@{fake_mastodon.host} on Mastodon" in html


def test_a_post_link_the_server_may_not_give_is_not_shown(admin_client, fake_mastodon):
    record = posted_record(fake_mastodon)
    SyndicationRecord.objects.filter(pk=record.pk).update(remote_url="https://elsewhere.example/1")

    html = report(admin_client)
    assert "elsewhere.example" not in html and "View on Mastodon" not in html
    assert fields_of(inspect(admin_client, record))["Post"] == "—"


def test_the_report_clips_a_long_reason_and_keeps_its_whole_text(admin_client, fake_mastodon):
    connect_account(fake_mastodon)
    fake_mastodon.inject(
        Fault(method="POST", path="/api/v1/statuses", status=422, body={"error": LONG_REASON})
    )
    page = make_photo_page(image=make_image(), title="Harbour at night")
    assert run_tasks() == ["failed"]
    record = SyndicationRecord.objects.get(page=page)

    html = report(admin_client)
    reason = re.search(r'<div class="w-syndication-reason" title="([^"]+)"', html)
    assert LONG_REASON in reason.group(1)  # the whole of it on hover
    assert "wagtail_syndicate/css/records.css" in html
    css = Path(wagtail_syndicate.__file__).parent / "static/wagtail_syndicate/css/records.css"
    rules = css.read_text()
    assert "text-overflow: ellipsis" in rules and "white-space: nowrap" in rules
    assert "break-all" not in rules and "word-break: normal" in rules  # titles keep words whole
    assert LONG_REASON in fields_of(inspect(admin_client, record))["Reason it failed"]


def test_the_report_shows_times_relative_with_the_exact_time_on_hover(admin_client, fake_mastodon):
    record = posted_record(fake_mastodon)

    html = report(admin_client)
    shown = re.search(
        r'data-w-tooltip-content-value="([^"]+)"[^>]*>\s*'
        r'<time [^>]*datetime="([^"]+)">\s*(.*?)\s*<',
        html,
    )
    assert shown.group(1) == exact_time(record.updated_at)
    assert shown.group(2) == record.updated_at.isoformat()
    assert shown.group(3) == "Just now"


def test_the_report_offers_no_bulk_delete_that_would_fail(admin_client, fake_mastodon):
    record = posted_record(fake_mastodon)
    bulk_delete = reverse(
        "wagtail_bulk_action", args=["wagtail_syndicate", "syndicationrecord", "delete"]
    )

    html = report(admin_client)
    assert bulk_delete not in html and "data-bulk-action-checkbox" not in html
    admin_client.post(f"{bulk_delete}?id={record.pk}")  # not offered, and not allowed either
    assert SyndicationRecord.objects.filter(pk=record.pk).exists()

    # Accounts may be deleted, so their list keeps the bulk action, and it works.
    accounts_html = admin_client.get(reverse(f"{ACCOUNTS}:list")).content.decode()
    account_bulk_delete = reverse(
        "wagtail_bulk_action", args=["wagtail_syndicate", "syndicationaccount", "delete"]
    )
    assert account_bulk_delete in accounts_html
    account = connect_account(fake_mastodon, token="other-token")
    response = admin_client.post(f"{account_bulk_delete}?id={account.pk}")
    assert response.status_code == 302
    assert not type(account).objects.filter(pk=account.pk).exists()


def test_inspecting_a_retrying_record_shows_its_attempts_next_attempt_and_history(
    admin_client, fake_mastodon
):
    connect_account(fake_mastodon)
    fake_mastodon.inject(Fault(method="POST", path="/api/v1/statuses", status=503))
    page = make_photo_page(image=make_image(), title="Harbour at night")
    assert run_next() == "retrying"
    record = SyndicationRecord.objects.get(page=page)

    html = inspect(admin_client, record)
    fields = fields_of(html)
    assert fields["Attempts"] == "1"
    assert f'datetime="{record.next_attempt_at.isoformat()}"' in html
    assert exact_time(record.next_attempt_at) in html
    assert fields["Posted at"] == "Not yet"
    assert fields["Post"] == "—" and fields["Notice"] == "—"
    assert "(503)" in fields["Reason it failed"]
    history = fields["History"]
    assert history.index("Sharing will be retried") < history.index("Sharing started")
    assert "Queued for sharing" in history
    assert "None" not in html[html.index("<dl>") : html.index("</dl>")]


def test_inspecting_a_posted_record_names_its_account_and_links_its_post(
    admin_client, fake_mastodon
):
    record = posted_record(fake_mastodon)

    html = inspect(admin_client, record)
    fields = fields_of(html)
    assert fields["Account"] == f"@alice@{fake_mastodon.host} on Mastodon"
    assert fields["Post"] == "View on Mastodon ↗ (opens in a new tab)"
    assert f'href="{record.safe_remote_url}"' in html
    assert fields["Next attempt at"] == "—" and fields["Reason it failed"] == "—"
    assert fields["History"].startswith("Just now Shared")
    assert "None" not in html[html.index("<dl>") : html.index("</dl>")]


def test_the_accounts_list_shows_each_network_server_and_status(
    admin_client, fake_mastodon, fake_x, fake_bluesky
):
    connect_account(fake_mastodon)
    connect_x_account(fake_x, username="demo")
    bluesky = connect_bluesky_account(fake_bluesky)
    bluesky.enabled = False
    bluesky.save()

    html = admin_client.get(reverse(f"{ACCOUNTS}:list")).content.decode()
    for network in ("mastodon", "x", "bluesky"):
        assert f"#icon-network-{network}" in html
    assert f"@demo on X ({fake_x.host})" in html  # X's "@demo" is not ambiguous
    assert f"@alice@{fake_mastodon.host} on Mastodon" in html
    assert f"{bluesky.handle} on Bluesky ({fake_bluesky.host})" in html
    statuses = re.findall(r'<span class="w-status( w-status--primary)?">\s*(\w+)\s*</span>', html)
    assert sorted(statuses) == [
        ("", "Disabled"),
        (" w-status--primary", "Enabled"),
        (" w-status--primary", "Enabled"),
    ]
    assert "True" not in html and "False" not in html


def test_the_bluesky_check_button_says_what_it_does(admin_client, fake_mastodon, fake_bluesky):
    bluesky = connect_bluesky_account(fake_bluesky)
    mastodon = connect_account(fake_mastodon)

    page = admin_client.get(reverse("wagtail_syndicate_check_post", args=[bluesky.pk]))
    html = page.content.decode()
    assert "Nothing is posted" in html
    assert ">Sign in and upload the test image</button>" in html
    assert "Send the test post" not in html

    html = admin_client.get(reverse("wagtail_syndicate_check_post", args=[mastodon.pk])).content
    assert b">Send the test post</button>" in html


def test_the_account_form_helps_a_new_account_and_an_existing_one_differently(
    admin_client, fake_mastodon
):
    new = admin_client.get(reverse(f"{ACCOUNTS}:add")).content.decode()
    assert "leave it empty for their usual server" in new
    assert "Leave empty to keep the current one" not in new

    account = connect_account(fake_mastodon)
    existing = admin_client.get(reverse(f"{ACCOUNTS}:edit", args=[account.pk])).content.decode()
    assert "Leave empty to keep the current one" in existing
    assert "Changing the server needs the account" in existing
    assert "leave it empty for their usual server" not in existing


def test_a_removed_account_is_still_named_with_its_network(admin_client, fake_x):
    account = connect_x_account(fake_x, username="demo")
    page = make_photo_page(image=make_image(), title="Harbour at night")
    run_tasks()
    record = SyndicationRecord.objects.get(page=page)
    account.delete()
    record.refresh_from_db()

    assert record.account_name() == f"@demo on X ({fake_x.host}) (removed)"
    assert f"@demo on X ({fake_x.host}) (removed)" in report(admin_client)
    assert "#icon-network-x" in inspect(admin_client, record)


def accounts_on_every_network(numbers, fake_mastodon, fake_x, fake_bluesky) -> list:
    """An account for each of ``numbers``, in turn on Mastodon, X and Bluesky (no request
    made yet)."""
    connect = [
        lambda n: connect_account(fake_mastodon),
        lambda n: connect_x_account(fake_x, username=f"writer{n}"),
        lambda n: connect_bluesky_account(fake_bluesky, f"writer{n}.test", app_password="pw"),
    ]
    return [connect[n % 3](n) for n in numbers]


def add_records(accounts, numbers) -> None:
    """A page and its record for each of ``numbers``, in turn failed (with Retry), posted
    (with its link), retrying, and posted by an account since removed; each on the next of
    ``accounts``."""
    State = SyndicationRecord.State
    for n in numbers:
        page = make_photo_page(title=f"Harbour {n}", syndicate=False)
        account = accounts[n % len(accounts)]
        post = {"remote_id": str(n), "remote_url": f"{account.instance_url}/posts/{n}"}
        fields = [
            {"account": account, "state": State.FAILED, "last_error": "Refused"},
            {"account": account, "state": State.POSTED, **post},
            {"account": account, "state": State.RETRYING, "last_error": "Busy"},
            {"account": None, **account.identity(), "state": State.POSTED, **post},
        ][n % 4]
        SyndicationRecord.objects.create(page=page, **fields)


def get_counting_queries(client, url) -> tuple[str, int]:
    """The page at ``url`` and the number of database queries its GET made."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


@pytest.fixture(params=["superuser", "publisher"])
def records_reader(request, client):
    """A client signed in as a superuser, or as an editor who may view records and publish
    pages (so that each failed record asks its page whether Retry may be shown)."""
    if request.param == "superuser":
        return request.getfixturevalue("admin_client")
    log_in_as_editor(
        client,
        "view_syndicationrecord",
        "change_syndicationaccount",
        page_permissions=["change_page", "publish_page"],
    )
    return client


@pytest.mark.django_db  # no thread, no on_commit: the test's own transaction is enough
def test_the_report_makes_as_many_queries_for_ten_records_as_for_two(
    records_reader, fake_mastodon, fake_x, fake_bluesky
):
    accounts = accounts_on_every_network(range(5), fake_mastodon, fake_x, fake_bluesky)
    url = reverse(f"{RECORDS}:list")
    add_records(accounts, range(2))
    records_reader.get(url)  # what a first request reads once (content types, ...)
    _html, for_two = get_counting_queries(records_reader, url)

    add_records(accounts, range(2, 10))
    html, for_ten = get_counting_queries(records_reader, url)

    assert for_ten == for_two
    assert all(f"Harbour {n}" in html for n in range(10))
    failed = SyndicationRecord.objects.filter(state=SyndicationRecord.State.FAILED)
    assert len(failed) == 3
    for record in failed:
        assert reverse(f"{RECORDS}:retry", args=[record.pk]) in html
    assert len(re.findall(r"data-post-link>", html)) == 5  # every post, with its link
    assert f"@alice@{fake_mastodon.host} on Mastodon (removed)" in html  # records 3 and 7
    assert f"writer2.test on Bluesky ({fake_bluesky.host}) (removed)" in html
    for network in ("mastodon", "x", "bluesky"):
        assert f"#icon-network-{network}" in html


@pytest.mark.django_db
def test_the_accounts_list_makes_as_many_queries_for_ten_accounts_as_for_two(
    records_reader, fake_mastodon, fake_x, fake_bluesky
):
    url = reverse(f"{ACCOUNTS}:list")
    fakes = (fake_mastodon, fake_x, fake_bluesky)
    accounts = accounts_on_every_network(range(2), *fakes)
    records_reader.get(url)
    _html, for_two = get_counting_queries(records_reader, url)

    accounts += accounts_on_every_network(range(2, 10), *fakes)
    html, for_ten = get_counting_queries(records_reader, url)

    assert for_ten == for_two
    for account in accounts:
        assert reverse("wagtail_syndicate_check_post", args=[account.pk]) in html
    assert all(f"@writer{n} on X" in html for n in (1, 4, 7))
    assert all(f"writer{n}.test on Bluesky" in html for n in (2, 5, 8))
