"""No admin page waits on a remote server: the page editor's preview and the publish check use
the limits last read (else the network's usual ones, saying so) and make no request; a refresh
queued for the worker reads them, at most once per account every few minutes."""

import html
import types

import pytest
from django.core.cache import cache
from django.core.cache.backends import locmem
from django.urls import reverse
from django_tasks.backends.immediate import ImmediateBackend

from syndicate_fakes import FakeMastodon, Fault
from tests.utils import (
    card_count,
    connect_account,
    connect_bluesky_account,
    connect_x_account,
    make_image,
    make_photo_page,
    preview_html,
    preview_sections,
    run_tasks,
)
from wagtail_syndicate.compat import task_backends
from wagtail_syndicate.models import SyndicationRecord
from wagtail_syndicate.pipeline import limits_cache as limits_module
from wagtail_syndicate.pipeline import limits_refresh

pytestmark = pytest.mark.django_db

UNKNOWN = "this server's own limits are not known yet"
# Longer than any test takes: a request to a stalled endpoint would hold the test this long.
STALL = 30.0


@pytest.fixture
def small_fake():
    """A Mastodon server whose limits differ from the usual ones (200 characters)."""
    with FakeMastodon(tokens={"good-token": "alice"}, limits={"max_characters": 200}) as fake:
        yield fake


def stall(fake, path):
    """Make every request to ``path`` wait ``STALL`` seconds before it is answered."""
    fake.inject(Fault(method="GET", path=path, delay=STALL, times=1000))


def edit_url(page) -> str:
    return reverse("wagtailadmin_pages:edit", args=[page.pk])


def sections(response) -> dict[str, str]:
    """The preview's section per account (by account id), unescaped."""
    assert response.status_code == 200
    found = preview_sections(preview_html(response.content.decode()))
    return {pk: html.unescape(section) for pk, section in found.items()}


def count_of(section) -> str:
    return card_count(section)


def queued_refreshes() -> list:
    """The accounts whose limits refresh is queued (Dummy backend), in order."""
    backend = task_backends["default"]
    return [r.args[0] for r in backend.results if r.task.func is limits_refresh.refresh_limits.func]


def test_the_editor_asks_no_server_and_the_worker_reads_the_limits(editor, small_fake):
    account = connect_account(small_fake)
    page = make_photo_page(image=make_image(), publish=False)
    stall(small_fake, "/api/v2/instance")

    first = sections(editor.get(edit_url(page)))[str(account.pk)]
    editor.get(edit_url(page))

    assert small_fake.requests == [], "the editor's GET made no request to the server"
    assert count_of(first).endswith(" of 500"), "the network's usual limit, saying so"
    assert UNKNOWN in first
    assert queued_refreshes() == [account.pk], "one refresh queued, not one per GET"

    small_fake.reset()  # the server answers again
    run_tasks()  # the worker
    assert [r.path for r in small_fake.requests] == ["/api/v2/instance"]

    small_fake.reset()
    cache.clear()  # another web process, whose own cache never saw the worker's reading
    shown = sections(editor.get(edit_url(page)))[str(account.pk)]
    assert count_of(shown).endswith(" of 200")
    assert UNKNOWN not in shown
    assert small_fake.requests == [] and queued_refreshes() == []


def test_a_refused_publish_and_a_publish_ask_no_server(editor, small_fake):
    account = connect_account(small_fake)
    image = make_image()
    page = make_photo_page(image=image, publish=False)
    stall(small_fake, "/api/v2/instance")
    form = {
        "title": page.title,
        "slug": page.slug,
        "photo": image.pk,
        "alt_text": "",
        "syndicate": "on",
        "action-publish": "action-publish",
    }

    refused = editor.post(edit_url(page), form)
    assert "has no alt text" in sections(refused)[str(account.pk)]
    published = editor.post(edit_url(page), {**form, "alt_text": "Boats"}, follow=True)

    assert published.status_code == 200 and "Sharing to" in published.content.decode()
    assert small_fake.requests == []
    assert SyndicationRecord.objects.get(page=page).state == "queued"


def test_the_publish_check_uses_the_limits_the_worker_read(editor, small_fake):
    connect_account(small_fake)
    image = make_image()
    page = make_photo_page(image=image, publish=False)
    editor.get(edit_url(page))
    run_tasks()
    cache.clear()  # as in a web process other than the worker's
    small_fake.reset()
    stall(small_fake, "/api/v2/instance")

    response = editor.post(
        edit_url(page),
        {
            "title": page.title,
            "slug": page.slug,
            "photo": image.pk,
            "alt_text": page.alt_text,
            "syndicate": "on",
            "syndication_text": "A long custom text. " * 15,  # 300 characters, over 200
            "action-publish": "action-publish",
        },
    )

    assert response.status_code == 200, "the publish was refused"
    errors = response.context["form"].errors["syndication_text"]
    assert any("200" in error for error in errors), errors
    assert small_fake.requests == []
    assert not SyndicationRecord.objects.filter(page=page).exists()


def test_limits_read_more_than_an_hour_ago_are_shown_and_read_again(
    editor, small_fake, monkeypatch
):
    account = connect_account(small_fake)
    page = make_photo_page(image=make_image(), publish=False)
    editor.get(edit_url(page))
    run_tasks()
    small_fake.limits["max_characters"] = 300
    small_fake.reset()
    cache.clear()
    now = limits_module.clock()
    monkeypatch.setattr(limits_module, "clock", lambda: now + limits_module.CACHE_SECONDS + 1)

    stale = sections(editor.get(edit_url(page)))[str(account.pk)]
    assert count_of(stale).endswith(" of 200") and UNKNOWN not in stale
    assert small_fake.requests == [] and queued_refreshes() == [account.pk]

    run_tasks()
    assert count_of(sections(editor.get(edit_url(page)))[str(account.pk)]).endswith(" of 300")
    assert queued_refreshes() == [], "read within the hour: nothing more to queue"


def test_the_worker_posting_keeps_the_limits_the_editor_shows(editor, small_fake):
    account = connect_account(small_fake)
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["posted"]
    cache.clear()
    small_fake.reset()

    shown = sections(editor.get(edit_url(page)))[str(account.pk)]

    assert count_of(shown).endswith(" of 200") and UNKNOWN not in shown
    assert small_fake.requests == [] and queued_refreshes() == []


def test_a_server_that_cannot_be_reached_leaves_the_editor_as_it_was(
    editor, fake_mastodon, monkeypatch
):
    account = connect_account(fake_mastodon)
    page = make_photo_page(image=make_image(), publish=False)
    editor.get(edit_url(page))
    fake_mastodon.inject(Fault(path="/api/v", status=503, times=4))  # v2, then v1, twice

    assert limits_refresh.refresh_limits.call(account.pk) == "unreachable"
    run_tasks()  # the refresh the editor queued, answered 503 too: nothing is raised
    assert UNKNOWN in sections(editor.get(edit_url(page)))[str(account.pk)]
    assert queued_refreshes() == [], "asked again only after the interval"

    now = locmem.time.time()
    later = now + limits_refresh.REFRESH_INTERVAL + 1
    monkeypatch.setattr(locmem, "time", types.SimpleNamespace(time=lambda: later))
    editor.get(edit_url(page))
    assert queued_refreshes() == [account.pk]
    run_tasks()
    assert UNKNOWN not in sections(editor.get(edit_url(page)))[str(account.pk)]


def test_bluesky_and_x_previews_ask_no_server(editor, fake_bluesky, fake_x):
    bluesky = connect_bluesky_account(fake_bluesky)
    x = connect_x_account(fake_x)
    page = make_photo_page(image=make_image(), publish=False)
    stall(fake_bluesky, "/xrpc/")

    first = sections(editor.get(edit_url(page)))
    assert fake_bluesky.requests == [] and fake_x.requests == []
    assert UNKNOWN in first[str(bluesky.pk)]
    # X's limits are the same for every account: known without asking.
    assert UNKNOWN not in first[str(x.pk)] and count_of(first[str(x.pk)]).endswith(" of 280")
    assert queued_refreshes() == [bluesky.pk]

    fake_bluesky.reset()
    run_tasks()
    assert [r.path for r in fake_bluesky.requests] == ["/xrpc/_health"]
    assert UNKNOWN not in sections(editor.get(edit_url(page)))[str(bluesky.pk)]


def test_an_immediate_backend_does_not_read_the_limits_in_the_editors_request(
    editor, small_fake, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    assert isinstance(task_backends["default"], ImmediateBackend)
    account = connect_account(small_fake)
    page = make_photo_page(image=make_image(), publish=False)
    stall(small_fake, "/api/v2/instance")

    assert UNKNOWN in sections(editor.get(edit_url(page)))[str(account.pk)]
    assert small_fake.requests == []


def test_a_sign_in_that_replaces_the_session_loses_no_reading_for_long(editor, fake_bluesky):
    account = connect_bluesky_account(fake_bluesky)
    page = make_photo_page(image=make_image(), publish=False)
    editor.get(edit_url(page))
    run_tasks()
    account.refresh_from_db()
    read = account.session[limits_module.LAST_READ]
    account.save_session({"did": "did:plc:alice"})  # as a sign-in keeps its new session
    fake_bluesky.reset()

    # The worker read them within the hour (its cache has them): kept again, not read again.
    assert limits_refresh.refresh_limits.call(account.pk) == "fresh"
    account.refresh_from_db()
    assert account.session[limits_module.LAST_READ] == read
    assert account.session["did"] == "did:plc:alice"
    assert fake_bluesky.requests == []
