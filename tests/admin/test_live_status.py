"""The live status of shared posts: the fragment the admin's ``syndication-live`` controller
asks for while a post is in flight, and what Retry says about the new attempt."""

import re
from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from syndicate_fakes import Fault
from tests.utils import connect_account, log_in_as_editor, make_image, make_photo_page, run_tasks
from wagtail_syndicate.models import SyndicationRecord

pytestmark = pytest.mark.django_db

State = SyndicationRecord.State
IN_FLIGHT = re.compile(r'data-syndication-live-in-flight-value="(true|false)"')


def status_url(page) -> str:
    return reverse("wagtail_syndicate_page_status", args=[page.pk])


def in_flight(html: str) -> bool:
    (flag,) = IN_FLIGHT.findall(html)
    return flag == "true"


@pytest.fixture
def shared_page(fake_mastodon):
    """A published page with one record (queued: its task has not run)."""
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image())
    assert SyndicationRecord.objects.get(page=page).state == State.QUEUED
    return page


def fail_every_post(fake, times=1):
    fake.inject(
        Fault(
            method="POST",
            path="/api/v1/statuses",
            status=422,
            body={"error": "Down for maintenance"},
            times=times,
        )
    )


def test_a_user_who_may_not_edit_the_page_is_refused(client, shared_page):
    log_in_as_editor(client, "view_syndicationrecord", page_permissions=())
    response = client.get(status_url(shared_page))
    assert response.status_code in (302, 403)  # Wagtail redirects a denial to the dashboard
    assert b"data-record-state" not in response.content


def test_an_editor_of_the_page_gets_its_panel(client, shared_page):
    log_in_as_editor(client)
    response = client.get(status_url(shared_page))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-record-state="queued"' in html and "Queued" in html
    assert 'aria-live="polite"' in html


def test_a_page_never_shared_is_not_polled(admin_client, fake_mastodon):
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image(), syndicate=False)
    html = admin_client.get(status_url(page)).content.decode()
    assert "Not shared yet." in html
    assert in_flight(html) is False


@pytest.mark.parametrize(
    "state, label, polling",
    [
        (State.QUEUED, "Queued", True),
        (State.POSTING, "Posting", True),
        (State.RETRYING, "Retrying", True),
        (State.POSTED, "Posted", False),
        (State.FAILED, "Failed", False),
        (State.DELETED, "Deleted", False),
    ],
)
def test_each_state_is_shown_and_only_those_in_flight_keep_polling(
    admin_client, shared_page, state, label, polling
):
    SyndicationRecord.objects.filter(page=shared_page).update(
        state=state, last_error="Down for maintenance" if state == State.FAILED else ""
    )
    html = admin_client.get(status_url(shared_page)).content.decode()
    assert f'data-record-state="{state}"' in html
    assert 'data-record-announce="@alice@' in html and f": {label}" in html
    assert in_flight(html) is polling
    assert ("Down for maintenance" in html) is (state == State.FAILED)
    assert ("Retry</a>" in html) is (state == State.FAILED)
    assert "<time" in html  # when it last changed, as Wagtail shows times


def test_what_a_server_sent_is_escaped(admin_client, shared_page):
    SyndicationRecord.objects.filter(page=shared_page).update(
        state=State.FAILED, last_error='<img src=x onerror="alert(1)">'
    )
    html = admin_client.get(status_url(shared_page)).content.decode()
    assert "<img src=x" not in html and "&lt;img src=x" in html


def test_a_failure_is_not_a_form_error_of_the_editor(admin_client, shared_page):
    """Wagtail counts ``.error-message`` and ``.help-critical`` in a tab as the form's errors:
    a failed post's reason is shown, without marking the Promote tab as in error."""
    SyndicationRecord.objects.filter(page=shared_page).update(
        state=State.FAILED, last_error="Down for maintenance"
    )
    editor = admin_client.get(reverse("wagtailadmin_pages:edit", args=[shared_page.pk]))
    html = editor.content.decode()
    assert "Down for maintenance" in html
    (classes,) = re.findall(r'<p class="([^"]*)" data-record-reason>Down for', html)
    assert not {"help-critical", "error-message"} & set(classes.split())


def test_the_fragment_costs_the_same_queries_for_many_records(admin_client, fake_mastodon):
    def queries_for(page) -> int:
        admin_client.get(status_url(page))  # the session and user, read once
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(status_url(page)).status_code == 200
        return len(queries)

    connect_account(fake_mastodon)
    one = make_photo_page(image=make_image())
    connect_account(fake_mastodon, token="other-token")
    two = make_photo_page(image=make_image(), title="Evening boats")
    SyndicationRecord.objects.update(state=State.FAILED)  # each with its Retry check
    assert SyndicationRecord.objects.filter(page=two).count() == 2
    requests_before = len(fake_mastodon.requests)

    assert queries_for(two) == queries_for(one) <= 8
    assert len(fake_mastodon.requests) == requests_before  # no server asked anything


def test_retry_that_fails_again_says_when(admin_client, fake_mastodon, shared_page):
    fail_every_post(fake_mastodon)
    assert run_tasks() == ["failed"]
    record = SyndicationRecord.objects.get()
    first_failure = record.updated_at
    retry = reverse("wagtailsnippets_wagtail_syndicate_syndicationrecord:retry", args=[record.pk])

    fail_every_post(fake_mastodon)
    html = admin_client.post(retry, follow=True).content.decode()
    assert re.search(r"is queued again \(\s*<button[^>]*w-human-readable-date", html)
    html = admin_client.get(status_url(shared_page)).content.decode()
    assert 'data-record-state="queued"' in html and in_flight(html)
    assert run_tasks() == ["failed"]

    record.refresh_from_db()
    assert record.updated_at > first_failure
    html = admin_client.get(status_url(shared_page)).content.decode()
    assert 'data-record-state="failed"' in html and not in_flight(html)
    assert shown_time(html) == record.updated_at > first_failure  # the new failure's time


def shown_time(html: str):
    """The time the fragment shows for its (one) record."""
    (shown,) = re.findall(r'data-record-time>.*?datetime="([^"]+)"', html, re.S)
    return datetime.fromisoformat(shown)


def test_retry_that_fails_at_once_says_so_with_the_time(admin_client, shared_page, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    record = SyndicationRecord.objects.get()
    SyndicationRecord.objects.filter(pk=record.pk).update(
        state=State.FAILED, last_error="Old failure"
    )
    type(shared_page).objects.filter(pk=shared_page.pk).update(alt_text="")  # fails its checks
    retry = reverse("wagtailsnippets_wagtail_syndicate_syndicationrecord:retry", args=[record.pk])

    html = admin_client.post(retry, follow=True).content.decode()
    record.refresh_from_db()
    assert record.state == State.FAILED and record.last_error != "Old failure"
    assert "Failed again (" in html and "queued again" not in html
    assert 'class="w-human-readable-date"' in html


RECORDS = "wagtailsnippets_wagtail_syndicate_syndicationrecord"


def test_the_records_report_polls_its_own_results_while_one_is_in_flight(admin_client, shared_page):
    html = admin_client.get(reverse(f"{RECORDS}:list") + "?state=queued").content.decode()
    assert in_flight(html) is True
    results = reverse(f"{RECORDS}:list_results")
    assert f'data-syndication-live-url-value="{results}?state=queued"' in html

    polled = admin_client.get(f"{results}?state=queued").content.decode()
    assert in_flight(polled) is True and 'id="syndication-records-live"' in polled
    SyndicationRecord.objects.update(state=State.POSTED)
    polled = admin_client.get(results).content.decode()
    assert in_flight(polled) is False and "Posted" in polled


def test_the_records_report_costs_the_same_queries_for_many_records(admin_client, fake_mastodon):
    results = reverse(f"{RECORDS}:list_results")

    def queries() -> int:
        admin_client.get(results)
        with CaptureQueriesContext(connection) as captured:
            admin_client.get(results)
        return len(captured)

    connect_account(fake_mastodon)
    make_photo_page(image=make_image())
    one = queries()
    connect_account(fake_mastodon, token="other-token")
    make_photo_page(image=make_image(), title="Evening boats")
    make_photo_page(image=make_image(), title="Night boats")
    assert SyndicationRecord.objects.count() == 5
    assert queries() == one


def test_a_record_inspect_view_polls_itself_only_while_in_flight(admin_client, shared_page):
    record = SyndicationRecord.objects.get()
    url = reverse(f"{RECORDS}:inspect", args=[record.pk])
    html = admin_client.get(url).content.decode()
    assert f'data-syndication-live-url-value="{url}"' in html and in_flight(html) is True
    SyndicationRecord.objects.update(state=State.FAILED, last_error="Down for maintenance")
    html = admin_client.get(url).content.decode()
    assert in_flight(html) is False and "Down for maintenance" in html


HEADER_ITEMS = re.compile(
    r'<template data-syndication-live-target="headerItems">(.*?)</template>', re.S
)


def header_items(html: str) -> str:
    """The page header's "View post" items the fragment carries for the header's Actions menu."""
    (items,) = HEADER_ITEMS.findall(html)
    return items


def test_the_fragment_carries_the_headers_view_post_items_once_posted(admin_client, shared_page):
    html = admin_client.get(status_url(shared_page)).content.decode()
    assert "View post on" not in header_items(html)  # queued: nothing to view yet

    assert run_tasks() == ["posted"]
    record = SyndicationRecord.objects.get()
    items = header_items(admin_client.get(status_url(shared_page)).content.decode())
    assert f'href="{record.safe_remote_url}"' in items and record.safe_remote_url
    assert f"View post on {record.account_name()}" in items
    assert "data-syndication-header-item" in items
    editor = admin_client.get(reverse("wagtailadmin_pages:edit", args=[shared_page.pk]))
    assert items.strip() in editor.content.decode()  # the same item as the header's own


def test_a_post_link_that_may_not_be_shown_is_not_in_the_header_items(admin_client, shared_page):
    SyndicationRecord.objects.update(
        state=State.POSTED, remote_url='https://elsewhere.example/"><script>alert(1)</script>'
    )
    html = admin_client.get(status_url(shared_page)).content.decode()
    assert "View post on" not in header_items(html) and "elsewhere.example" not in html


def header_actions(html: str) -> tuple[str, str]:
    """The inspect view's header actions region: its key, and what follows it in the header."""
    (found,) = re.findall(
        r'<div id="syndication-header-actions" data-syndication-live-key="([^"]*)"[^>]*>(.*?)'
        r"</header>",
        html,
        re.S,
    )
    return found


def test_the_inspect_views_header_offers_retry_only_while_failed(admin_client, shared_page):
    record = SyndicationRecord.objects.get()
    url = reverse(f"{RECORDS}:inspect", args=[record.pk])
    retry = reverse(f"{RECORDS}:retry", args=[record.pk])
    html = admin_client.get(url).content.decode()
    assert 'data-syndication-live-header-value="#syndication-header-actions"' in html
    queued_key, queued_actions = header_actions(html)
    assert retry not in queued_actions

    SyndicationRecord.objects.update(state=State.FAILED, last_error="Down for maintenance")
    failed_key, failed_actions = header_actions(admin_client.get(url).content.decode())
    assert f'href="{retry}"' in failed_actions and "Retry" in failed_actions
    assert failed_key != queued_key  # the controller replaces the region when the key changes
