"""The page editor shows, per account, exactly what publishing will post."""

import html
import re

import pytest
from django.urls import reverse

from tests.utils import (
    card_count,
    card_texts,
    connect_account,
    make_image,
    make_photo_page,
    preview_html,
    preview_sections,
    publish_page,
    run_tasks,
)
from wagtail_syndicate.models.accounts import network_name
from wagtail_syndicate.networks.text import count_graphemes, status_length, weighted_length

pytestmark = pytest.mark.django_db


def preview_of(client, page) -> str:
    response = client.get(reverse("wagtailadmin_pages:edit", args=[page.pk]))
    assert response.status_code == 200
    return preview_html(response.content.decode())


def shown(pattern, preview) -> list[str]:
    return [html.unescape(m) for m in re.findall(pattern, preview, re.S)]


def test_preview_shows_text_count_images_and_options(editor, fake_mastodon):
    account = connect_account(fake_mastodon)
    page = make_photo_page(
        image=make_image(),
        publish=False,
        search_description="Five boats went out before sunrise.",
        syndication_content_warning="Bright light",
        syndication_visibility="unlisted",
    )
    preview = preview_of(editor, page)
    (text,) = card_texts(preview)
    assert text == (
        f"Morning boats\n\nFive boats went out before sunrise.\n\n{page.get_full_url()}"
    )
    assert account.handle in preview
    expected = status_length(text, "Bright light")
    assert f"{expected} of 500 characters" in preview
    assert shown(r"data-preview-alt>(.*?)</figcaption>", preview) == [page.alt_text]
    assert shown(r"data-preview-spoiler>(.*?)</span>", preview) == ["Bright light"]
    assert "Visibility: unlisted" in preview
    assert "Language: en" in preview


def test_the_server_receives_what_the_preview_showed(editor, fake_mastodon):
    connect_account(fake_mastodon)
    page = make_photo_page(
        image=make_image(), publish=False, search_description="A calm sea. " * 60
    )
    preview = preview_of(editor, page)
    (text,) = card_texts(preview)
    assert "…" in text, "the intro was shortened to fit 500 characters"

    publish_page(page)
    assert run_tasks() == ["posted"]
    (status,) = fake_mastodon.statuses
    assert status.text == text
    assert [m.description for m in status.media] == shown(
        r"data-preview-alt>(.*?)</figcaption>", preview
    )


def test_preview_shows_why_a_page_cannot_be_posted(editor, fake_mastodon):
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image(description=""), alt_text="", publish=False)
    preview = preview_of(editor, page)
    (problem,) = shown(r"data-preview-problem>(.*?)</p>", preview)
    assert problem.startswith("The image “Harbour at dawn” has no alt text")


def test_preview_without_accounts_says_nothing_will_be_posted(editor):
    page = make_photo_page(image=make_image(), publish=False)
    assert "No social account is connected" in preview_of(editor, page)


def test_preview_of_a_page_not_set_to_share(editor, fake_mastodon):
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image(), publish=False, syndicate=False)
    assert "Tick “Share when published”" in html.unescape(preview_of(editor, page))
    assert fake_mastodon.requests == []


def test_preview_shows_each_network_as_it_will_post(editor, fake_mastodon, fake_bluesky, fake_x):
    from tests.utils import connect_bluesky_account, connect_x_account

    mastodon = connect_account(fake_mastodon)
    bluesky = connect_bluesky_account(fake_bluesky)
    x = connect_x_account(fake_x)
    page = make_photo_page(
        image=make_image(),
        publish=False,
        search_description="Boats 🚣 and 港の朝 at dawn. " * 20,
        syndication_content_warning="Bright light",
    )
    url = page.get_full_url()
    preview = preview_of(editor, page)
    sections = preview_sections(preview)
    assert sorted(sections) == sorted(str(a.pk) for a in (mastodon, bluesky, x))

    def part(account, pattern):
        return shown(pattern, sections[str(account.pk)])

    counts = {
        name: card_count(sections[str(account.pk)])
        for name, account in (("mastodon", mastodon), ("bluesky", bluesky), ("x", x))
    }
    (m_text,) = card_texts(sections[str(mastodon.pk)])
    (b_text,) = card_texts(sections[str(bluesky.pk)], as_posted=False)
    (x_text,) = card_texts(sections[str(x.pk)])
    # Each fitted to its own network's limit and way of counting.
    assert counts["mastodon"] == f"{status_length(m_text, 'Bright light')} of 500"
    assert counts["bluesky"] == f"{count_graphemes(b_text)} of 300"
    assert counts["x"] == f"{weighted_length(x_text)} of 280"
    assert int(counts["x"].split()[0]) <= 280 and int(counts["bluesky"].split()[0]) <= 300
    # Bluesky shows the link short; the others as it is.
    assert m_text.endswith(url) and x_text.endswith(url)
    assert b_text.endswith(url.removeprefix("http://"))
    # The content warning: Mastodon shows it, Bluesky marks the post, X cannot.
    assert part(mastodon, r"data-preview-spoiler>(.*?)</span>") == ["Bright light"]
    assert "marked sensitive" in part(bluesky, r"data-preview-spoiler-note>(.*?)</p>")[0]
    assert "not posted" in part(x, r"data-preview-spoiler-note>(.*?)</p>")[0]
    # Visibility is Mastodon's; every image shows its alt text on every network.
    assert "Visibility: public" in sections[str(mastodon.pk)]
    assert "Visibility" not in sections[str(bluesky.pk)] + sections[str(x.pk)]
    for account in (mastodon, bluesky, x):
        assert part(account, r"data-preview-alt>(.*?)</figcaption>") == [page.alt_text]
        assert f"({network_name(account.network)})" in sections[str(account.pk)]
