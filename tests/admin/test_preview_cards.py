"""The editor's preview cards, rendered from the form as the editor types: each network's card
(links shown as it shows them, hashtags, content warning, alt text, the count against the
limit, what publishing will do), nothing saved, no request to any server; and the errors of a
refused publish on the field to change, the preview's notes not counted as errors."""

import html
import re

import pytest
from django.urls import reverse
from wagtail.models import Page

from tests.testapp.models import PhotoPage
from tests.utils import (
    card_count,
    card_texts,
    connect_account,
    connect_bluesky_account,
    connect_x_account,
    log_in_as_editor,
    make_image,
    make_photo_page,
    preview_html,
    preview_sections,
    run_tasks,
)
from wagtail_syndicate.models import SyndicationRecord
from wagtail_syndicate.networks.text import short_url

pytestmark = pytest.mark.django_db

LINK = "https://example.com/harbour/boats/at-dawn-with-the-gulls"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def preview_url(page) -> str:
    return reverse("wagtail_syndicate_preview", args=[page.pk])


def edit_url(page) -> str:
    return reverse("wagtailadmin_pages:edit", args=[page.pk])


def form_values(page, **changes) -> dict:
    """The edit form's values for ``page`` as the browser sends them (a ticked box "on")."""
    values = {
        "title": page.title,
        "slug": page.slug,
        "photo": page.photo_id or "",
        "alt_text": page.alt_text,
        "syndicate": "on" if page.syndicate else "",
        "syndication_text": page.syndication_text,
        "syndication_content_warning": page.syndication_content_warning,
        "syndication_visibility": page.syndication_visibility,
        "search_description": page.search_description,
    }
    values.update(changes)
    return {name: value for name, value in values.items() if value != ""}


def cards_from(client, page, **changes) -> dict[str, str]:
    response = client.post(preview_url(page), form_values(page, **changes))
    assert response.status_code == 200
    return preview_sections(response.content.decode())


def requests_to(*fakes) -> int:
    return sum(len(fake.requests) for fake in fakes)


def test_each_network_gets_its_card_from_the_form_as_typed(
    editor, fake_mastodon, fake_bluesky, fake_x
):
    mastodon = connect_account(fake_mastodon)
    bluesky = connect_bluesky_account(fake_bluesky)
    x = connect_x_account(fake_x)
    page = make_photo_page(image=make_image(focal_point_x=480, focal_point_y=120), publish=False)
    fakes = (fake_mastodon, fake_bluesky, fake_x)
    before = requests_to(*fakes)

    cards = cards_from(
        editor,
        page,
        syndication_text=f"Dawn at the #harbour, see {LINK}",
        syndication_content_warning="Bright light",
        alt_text="Three boats, typed just now",
    )

    assert requests_to(*fakes) == before, "no request to any server"
    page.refresh_from_db()
    assert page.syndication_text == "" and page.alt_text != "Three boats, typed just now"
    assert sorted(cards) == sorted(str(a.pk) for a in (mastodon, bluesky, x))
    shown_links = {
        "mastodon": "example.com/harbour/boats/at-d…",
        "bluesky": short_url(LINK),
        "x": "example.com/harbour/boats…",
    }
    for account in (mastodon, bluesky, x):
        card = cards[str(account.pk)]
        (posted,) = card_texts(card)
        assert posted == f"Dawn at the #harbour, see {LINK}\n\n{page.get_full_url()}"
        links = re.findall(r'data-preview-link="([^"]*)"[^>]*>([^<]*)<', card)
        assert links[0] == (LINK, shown_links[account.network])
        assert re.findall(r"data-preview-hashtag>([^<]*)<", card) == ["#harbour"]
        assert re.findall(r"data-preview-alt>([^<]*)<", card) == ["Three boats, typed just now"]
        assert ">ALT</button>" in card
        # The focal point (480, 120 of 640 × 480) kept in view by the grid's crop.
        assert 'style="object-position: 75% 25%"' in card
        # The count against the limit, as a meter too.
        length, limit = card_count(card).split(" of ")
        assert f'<meter min="0" max="{limit}" high="{limit}" value="{length}"' in card
        assert "<a " not in card, "nothing in a card is a link to follow"
        assert 'data-preview-outcome="new"' in card
    assert card_count(cards[str(mastodon.pk)]).endswith(" of 500")
    assert card_count(cards[str(bluesky.pk)]).endswith(" of 300")
    assert card_count(cards[str(x.pk)]).endswith(" of 280")
    # The content warning: a fold on Mastodon (its words) and Bluesky (marked sensitive).
    fold = r"<details[^>]*data-preview-fold>(.*?)</details>"
    mastodon_fold = re.search(fold, cards[str(mastodon.pk)], re.S)
    assert mastodon_fold and "data-preview-spoiler>Bright light<" in mastodon_fold.group(1)
    assert "data-preview-text" in mastodon_fold.group(1), "the text is inside the fold"
    assert "<details" in cards[str(bluesky.pk)]
    assert "<details" not in cards[str(x.pk)]
    assert "not posted" in cards[str(x.pk)]
    assert "Visibility: public" in cards[str(mastodon.pk)]
    assert "Language: en" in cards[str(mastodon.pk)]


def test_hostile_text_and_alt_text_are_shown_as_words(editor, fake_mastodon):
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image(), publish=False)

    (card,) = cards_from(editor, page, syndication_text=HOSTILE, alt_text=HOSTILE).values()

    assert "<script" not in card and "<img src=x" not in card
    assert html.escape(HOSTILE, quote=True) in card
    (posted,) = card_texts(card)
    assert posted.startswith(HOSTILE)
    assert re.findall(r"data-preview-alt>([^<]*)<", card) == [html.escape(HOSTILE)]


def test_the_preview_follows_the_accounts_chosen_and_the_share_box(editor, fake_mastodon):
    alice = connect_account(fake_mastodon)
    bob = connect_account(fake_mastodon, token="other-token")
    page = make_photo_page(image=make_image(), publish=False)

    assert sorted(cards_from(editor, page, syndication_accounts=[bob.pk])) == [str(bob.pk)]
    assert sorted(cards_from(editor, page)) == sorted([str(alice.pk), str(bob.pk)])
    response = editor.post(preview_url(page), form_values(page, syndicate=""))
    assert "Tick “Share when published”" in response.content.decode()


def test_a_posted_page_says_whether_publishing_edits_its_post(editor, fake_mastodon, fake_bluesky):
    mastodon = connect_account(fake_mastodon)
    bluesky = connect_bluesky_account(fake_bluesky)
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["posted", "posted"]
    before = requests_to(fake_mastodon, fake_bluesky)

    same = cards_from(editor, page)
    changed = cards_from(editor, page, syndication_text="Boats, again")

    assert 'data-preview-outcome="unchanged"' in same[str(mastodon.pk)]
    assert 'data-preview-outcome="edit"' in changed[str(mastodon.pk)]
    assert 'data-preview-outcome="kept"' in changed[str(bluesky.pk)]
    assert "stays as it was first shared" in changed[str(bluesky.pk)]
    assert requests_to(fake_mastodon, fake_bluesky) == before


def test_only_those_who_may_edit_the_page_see_its_preview(client, fake_mastodon):
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image(), publish=False)
    log_in_as_editor(client, page_permissions=())

    response = client.post(preview_url(page), form_values(page))

    assert response.status_code == 302 and response.url == reverse("wagtailadmin_home")
    assert "data-preview-text" not in response.content.decode()
    assert fake_mastodon.requests == []


def test_a_page_not_yet_saved_has_its_cards_as_the_editor_fills_it_in(editor, fake_mastodon):
    account = connect_account(fake_mastodon)
    home = Page.objects.get(depth=2)
    add_url = reverse("wagtailadmin_pages:add", args=["testapp", "photopage", home.pk])
    image = make_image()
    before = len(fake_mastodon.requests)

    preview = preview_html(editor.get(add_url).content.decode())
    url = reverse("wagtail_syndicate_preview_on_add", args=["testapp", "photopage", home.pk])
    assert f'data-syndication-preview-url-value="{url}"' in preview
    assert "The preview appears as you fill in the page." in preview
    typed = {
        "title": "Evening boats",
        "slug": "evening-boats",
        "photo": image.pk,
        "alt_text": "Two boats at dusk",
        "syndicate": "on",
        "syndication_text": "Boats at the #harbour",
    }
    response = editor.post(url, typed)

    assert response.status_code == 200
    card = preview_sections(response.content.decode())[str(account.pk)]
    (posted,) = card_texts(card)
    assert posted.startswith("Boats at the #harbour\n\n") and posted.endswith("/evening-boats/")
    assert re.findall(r"data-preview-alt>([^<]*)<", card) == ["Two boats at dusk"]
    assert 'data-preview-outcome="new"' in card
    assert not PhotoPage.objects.filter(slug="evening-boats").exists(), "nothing is saved"
    assert len(fake_mastodon.requests) == before


def test_only_those_who_may_add_the_page_there_see_its_cards(client, fake_mastodon):
    connect_account(fake_mastodon)
    home = Page.objects.get(depth=2)
    log_in_as_editor(client, page_permissions=())
    url = reverse("wagtail_syndicate_preview_on_add", args=["testapp", "photopage", home.pk])

    response = client.post(url, {"title": "Evening boats", "syndicate": "on"})

    assert response.status_code in (302, 403)
    assert "data-preview-text" not in response.content.decode()


def test_the_preview_is_posted_to_not_fetched(editor, fake_mastodon):
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image(), publish=False)
    assert editor.get(preview_url(page)).status_code == 405


def test_preview_notes_are_not_form_errors(editor, fake_mastodon):
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image(description=""), alt_text="", publish=False)

    content = editor.get(edit_url(page)).content.decode()

    preview = preview_html(content)
    assert "has no alt text" in html.unescape(preview), "the preview says what is missing"
    assert not re.search(r"error-message|help-critical", preview)
    assert 'data-controller="syndication-preview"' in preview
    assert f'data-syndication-preview-url-value="{preview_url(page)}"' in preview


def field_errors(content, name) -> list[str]:
    """The error messages Wagtail shows under the field ``name``."""
    found = re.search(rf'id="panel-child-[\w-]+-child-{name}-errors">(.*?)</div>', content, re.S)
    errors = re.findall(r'class="error-message">(.*?)</p>', found.group(1), re.S) if found else []
    return [html.unescape(" ".join(error.split())) for error in errors]


def test_a_refused_publish_marks_the_field_to_change(editor, fake_mastodon):
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image(description=""), alt_text="", publish=False)
    publish = {"action-publish": "action-publish"}

    no_alt = editor.post(edit_url(page), {**form_values(page), **publish}).content.decode()
    too_long = editor.post(
        edit_url(page),
        {**form_values(page, alt_text="Boats", syndication_text="Boats " * 100), **publish},
    ).content.decode()

    (alt_error,) = field_errors(no_alt, "alt_text")
    assert alt_error.startswith("The image “Harbour at dawn” has no alt text")
    assert field_errors(no_alt, "syndication_text") == []
    (text_error,) = field_errors(too_long, "syndication_text")
    assert "characters over this server's limit" in text_error
    assert field_errors(too_long, "alt_text") == []
    for content in (no_alt, too_long):  # nothing else says "error" on the page
        assert not re.search(r"error-message|help-critical", preview_html(content))
    assert not SyndicationRecord.objects.exists()
