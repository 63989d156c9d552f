"""Servers that count links at full length though they say ``characters_reserved_per_url: 23``
(issue 11, point 4): a text refused as too long is fitted again counting links so, once; the
account remembers it, so later posts fit from the start; the editor's preview says it. Against
FakeMastodon over real HTTP, judged by the fake's own count."""

import pytest
from django.urls import reverse
from wagtail.test.utils import WagtailTestUtils

from syndicate_fakes import FakeMastodon
from syndicate_fakes._counting import count_graphemes, mastodon_length
from tests.utils import (
    card_texts,
    connect_account,
    give_the_site_a_public_name,
    make_image,
    make_photo_page,
    preview_html,
    run_tasks,
)
from wagtail_syndicate.models import SyndicationRecord

pytestmark = pytest.mark.django_db

# A link of about 250 characters: counted as 23 it leaves room a full-length count has not.
LONG_SLUG = "a-long-walk-along-the-harbour-wall-" * 7
TITLE = "Morning boats on the harbour wall, seen from the lighthouse at first light " * 2
INTRO = "Five boats went out before sunrise and came back with the tide. " * 10


@pytest.fixture(params=[400, 422], ids=["400", "422"])
def server(request):
    """A server that counts links at full length and refuses a longer text with the status."""
    give_the_site_a_public_name()
    with FakeMastodon(
        tokens={"good-token": "alice"}, full_length_links=True, too_long_status=request.param
    ) as fake:
        yield fake


def long_page(slug=LONG_SLUG, **fields):
    return make_photo_page(
        image=make_image(), title=TITLE, slug=slug.strip("-"), search_description=INTRO, **fields
    )


def creates(fake):
    return [r for r in fake.requests if r.method == "POST" and r.path == "/api/v1/statuses"]


def test_a_refused_text_is_fitted_again_and_later_posts_fit_at_once(server):
    connect_account(server)
    page = long_page()
    assert len(page.get_full_url()) > 200

    assert run_tasks() == ["posted"]
    first, second = creates(server)
    refused = first.form["status"][0]
    # The first try fitted links as 23: within 500 so, not by the server's count.
    assert mastodon_length(refused) <= 500 < count_graphemes(refused)
    (status,) = server.statuses
    assert count_graphemes(status.text) <= 500
    assert page.get_full_url() in status.text
    record = SyndicationRecord.objects.get(page=page)
    assert record.state == SyndicationRecord.State.POSTED
    assert record.remote_id == status.id

    before = len(creates(server))
    other = long_page(slug="another-" + LONG_SLUG)
    assert run_tasks() == ["posted"]
    assert len(creates(server)) == before + 1  # no refusal first
    assert [s.text for s in server.statuses if other.get_full_url() in s.text]
    assert all(count_graphemes(s.text) <= 500 for s in server.statuses)


def test_a_text_that_cannot_fit_even_so_fails_in_words(server):
    connect_account(server)
    custom = "Our boats went out at dawn and came back with the whole harbour watching. " * 4
    page = long_page(syndication_text=custom.strip())

    assert run_tasks() == ["failed"]
    assert len(creates(server)) == 1  # refused once, then not sent again
    assert server.statuses == []
    record = SyndicationRecord.objects.get(page=page)
    assert record.state == SyndicationRecord.State.FAILED
    assert "over this server's limit of 500" in record.last_error
    assert "counts every link at its full length" in record.last_error


def test_the_preview_says_the_server_counts_links_at_full_length(client, server):
    connect_account(server)
    long_page()
    assert run_tasks() == ["posted"]
    client.force_login(WagtailTestUtils.create_superuser("editor", password="pw"))
    draft = long_page(slug="draft-" + LONG_SLUG, publish=False)

    content = client.get(reverse("wagtailadmin_pages:edit", args=[draft.pk])).content.decode()
    assert "counts every link at its full length" in content
    (text,) = card_texts(preview_html(content))
    assert draft.get_full_url() in text
    # The count shown is the server's, links at full length, and within its limit.
    assert f"{count_graphemes(text)} of 500 characters" in content
    assert mastodon_length(text) < count_graphemes(text) <= 500


def test_a_server_not_known_to_count_so_gets_no_note(client):
    give_the_site_a_public_name()
    with FakeMastodon(tokens={"good-token": "alice"}) as fake:
        connect_account(fake)
        client.force_login(WagtailTestUtils.create_superuser("editor", password="pw"))
        draft = long_page(publish=False)
        content = client.get(reverse("wagtailadmin_pages:edit", args=[draft.pk])).content
        assert b"data-preview-count" in content
        assert b"counts every link at its full length" not in content
