"""What a page brings cannot break a publish: a page model's code that raises, an image that is
missing, unreadable or too large to decode, alt text that shows nothing, a page with no
address. Each ends as a failed record (or a refused publish in the editor) with a sentence an
editor understands; the page is published all the same, and nothing is posted."""

import io
import logging
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from wagtail.images import get_image_model
from wagtail.models import Page

from tests.commits import committing
from tests.testapp.models import PhotoPage, TemperamentalPhotoPage
from tests.utils import (
    connect_account,
    edit_page,
    failed_record,
    field_errors,
    make_image,
    make_photo_page,
    one_bit_png,
    publish_page,
    run_tasks,
    schedule_and_come_due,
)
from wagtail_syndicate.admin.page_form import SharingCheck
from wagtail_syndicate.content.images import fit_image
from wagtail_syndicate.exceptions import ImageError
from wagtail_syndicate.models import SyndicationRecord
from wagtail_syndicate.networks.limits import Limits

pytestmark = pytest.mark.django_db

PUBLISH = {"action-publish": "action-publish"}
OVERRIDES = [
    "get_syndication_url",
    "get_syndication_images",
    "get_syndication_context",
    "get_syndication_options",
]


def temperamental_page(fails_in, **fields):
    return make_photo_page(
        image=make_image(), model=TemperamentalPhotoPage, fails_in=fails_in, **fields
    )


def nothing_posted(fake):
    assert run_tasks() == []
    assert fake.requests == []


# 10. A page model's own code ------------------------------------------------------------------


@pytest.mark.parametrize("method", OVERRIDES)
def test_an_override_that_raises_fails_the_record_in_words(fake_mastodon, caplog, method):
    connect_account(fake_mastodon)
    with caplog.at_level(logging.ERROR):
        page = temperamental_page(method)  # revision.publish(): it does not raise
    record = failed_record(page)
    assert record.last_error.startswith(
        f"The page model's {method}() raised ValueError: no value for 'Morning boats'."
    )
    assert any(r.exc_info and r.exc_info[0] is ValueError for r in caplog.records)
    nothing_posted(fake_mastodon)


def test_options_that_are_not_syndication_options_fail_the_record_in_words(
    fake_mastodon, monkeypatch
):
    """A page model that returns a dict (a misspelt key would otherwise be a TypeError deep in
    the plugin) is told which type to return."""
    connect_account(fake_mastodon)
    monkeypatch.setattr(
        TemperamentalPhotoPage, "get_syndication_options", lambda self, account: {"lang": "en"}
    )
    page = temperamental_page("")
    assert failed_record(page).last_error == (
        "The page model's get_syndication_options() returned dict, not "
        "wagtail_syndicate.contract.SyndicationOptions. Tell the site's developers."
    )
    nothing_posted(fake_mastodon)


def test_a_failing_choice_of_accounts_still_publishes_and_fails_the_record(fake_mastodon):
    """The page's own code fails inside queue_page, before any post is planned: the receiver
    keeps it from the publish, and the page's record still says what happened."""
    connect_account(fake_mastodon)
    page = temperamental_page("get_syndication_account_ids")
    record = failed_record(page)
    assert record.last_error.startswith(
        "The page model's get_syndication_account_ids() raised ValueError"
    )
    nothing_posted(fake_mastodon)


def test_an_unexpected_failure_inside_queueing_is_kept_from_the_publish(fake_mastodon, caplog):
    """What fails inside queue_page where no page method raised (here the plugin's query of
    the accounts, on ids that are not ids) is logged, undone, and written to the record."""
    connect_account(fake_mastodon)
    with caplog.at_level(logging.ERROR):
        page = temperamental_page("account ids that are not ids")
    record = failed_record(page)
    assert record.last_error == "Unexpected error (ValueError); the server log has details."
    assert "Could not queue page" in caplog.text
    nothing_posted(fake_mastodon)


def test_a_record_that_was_posted_fails_again_in_words_when_the_code_breaks(fake_mastodon):
    connect_account(fake_mastodon)
    page = temperamental_page("")
    assert run_tasks() == ["posted"]
    TemperamentalPhotoPage.objects.filter(pk=page.pk).update(fails_in="get_syndication_context")
    publish_page(page, title="Morning boats, later")
    record = failed_record(page)
    assert "get_syndication_context() raised ValueError" in record.last_error
    assert record.generation == 2
    assert run_tasks() == []
    assert len(fake_mastodon.statuses) == 1


def test_the_editor_is_refused_the_publish_with_the_reason(editor, fake_mastodon):
    connect_account(fake_mastodon)
    page = temperamental_page("get_syndication_context", publish=False)
    response = edit_page(editor, page, page.photo, **PUBLISH)
    assert response.status_code == 200
    errors = " ".join(sum(field_errors(response).values(), []))
    assert "The page model's get_syndication_context() raised ValueError" in errors
    assert not TemperamentalPhotoPage.objects.get(pk=page.pk).live
    assert not SyndicationRecord.objects.exists()


@pytest.mark.parametrize("method", ["get_syndication_context", "get_syndication_account_ids"])
def test_without_the_check_the_editor_publishes_and_is_told(
    editor,
    fake_mastodon,
    settings,
    method,
):
    settings.WAGTAIL_SYNDICATE = {**settings.WAGTAIL_SYNDICATE, "REQUIRE_ALT_TEXT": False}
    connect_account(fake_mastodon)
    page = temperamental_page(method, publish=False)
    response = edit_page(editor, page, page.photo, **PUBLISH)
    assert response.status_code == 302
    shown = editor.get(response.url).content.decode()
    assert f"The page model&#x27;s {method}() raised ValueError" in shown
    assert "raised ValueError" in failed_record(page).last_error
    nothing_posted(fake_mastodon)


@pytest.mark.parametrize("method", [*OVERRIDES, "get_syndication_account_ids"])
def test_the_page_editor_shows_a_page_whose_code_fails(editor, fake_mastodon, method):
    connect_account(fake_mastodon)
    page = temperamental_page(method, publish=False)
    response = editor.get(reverse("wagtailadmin_pages:edit", args=[page.pk]))
    assert response.status_code == 200
    assert f"The page model&#x27;s {method}() raised ValueError" in response.content.decode()


def test_publish_scheduled_goes_on_past_a_page_whose_code_fails(fake_mastodon):
    connect_account(fake_mastodon)
    broken = temperamental_page("get_syndication_images", publish=False, slug="broken")
    sound = make_photo_page(image=make_image(), publish=False, slug="sound")
    now = timezone.now()
    schedule_and_come_due(broken, now - timedelta(minutes=2))
    schedule_and_come_due(sound, now - timedelta(minutes=1))

    with committing():  # the command commits each page it publishes
        call_command("publish_scheduled")

    assert "get_syndication_images() raised ValueError" in failed_record(broken).last_error
    assert PhotoPage.objects.get(pk=sound.pk).live
    assert run_tasks() == ["posted"]
    assert SyndicationRecord.objects.get(page=sound).state == "posted"
    assert len(fake_mastodon.statuses) == 1


# 11. Bad images ------------------------------------------------------------------------------


def replace_file(image, content: bytes | None):
    """Put ``content`` in storage in place of ``image``'s file (None: remove the file)."""
    storage, name = image.file.storage, image.file.name
    storage.delete(name)
    if content is not None:
        storage.save(name, ContentFile(content))


BAD_FILES = {
    "missing": (None, "is missing from the site's storage"),
    "not an image": (b"%PDF-1.4 not a picture at all", "cannot be read as a picture"),
    "an SVG that is not XML": (b"<svg <<<", "cannot be read as a picture"),
}


def bad_image(kind):
    image = make_image(title="Harbour at dawn")
    content, reason = BAD_FILES[kind]
    replace_file(image, content)
    return image, reason


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_a_bad_image_file_fails_the_record_with_a_sentence(fake_mastodon, kind):
    connect_account(fake_mastodon)
    image, reason = bad_image(kind)
    page = make_photo_page(image=image)
    assert run_tasks() == ["failed"]
    record = failed_record(page)
    assert record.last_error.startswith("The file of the image “Harbour at dawn”")
    assert reason in record.last_error
    assert "Unexpected error" not in record.last_error
    assert fake_mastodon.statuses == []


def test_the_editor_is_refused_a_publish_with_a_missing_image_file(editor, fake_mastodon):
    connect_account(fake_mastodon)
    image, reason = bad_image("missing")
    page = make_photo_page(image=image, publish=False)
    response = edit_page(editor, page, image, **PUBLISH)
    assert response.status_code == 200
    assert reason in field_errors(response)["photo"][0]
    assert not PhotoPage.objects.get(pk=page.pk).live


@pytest.mark.parametrize("kind", ["not an image", "an SVG that is not XML"])
def test_the_publish_check_finds_an_unreadable_image_file(fake_mastodon, kind):
    """(Wagtail's own image chooser cannot show such a file in the editor, so the check is
    asked directly.)"""
    connect_account(fake_mastodon)
    image, reason = bad_image(kind)
    page = make_photo_page(image=image, publish=False)
    (problem,) = SharingCheck(page).problems
    assert reason in str(problem)
    assert problem.field == "photo"


# 15. Too many pixels ----------------------------------------------------------------------------


def bomb(width=11_000, height=11_000):
    content = one_bit_png(width, height)
    return get_image_model().objects.create(
        title="Harbour at dawn", file=ImageFile(io.BytesIO(content), name="bomb.png")
    )


def test_the_bomb_is_what_the_issue_describes():
    image = bomb()
    assert image.file.size < 20 * 1024
    assert (image.width, image.height) == (11_000, 11_000)


def test_an_image_with_too_many_pixels_fails_at_publish(fake_mastodon):
    connect_account(fake_mastodon)
    page = make_photo_page(image=bomb())
    record = failed_record(page)
    assert record.last_error == (
        "The image “Harbour at dawn” has too many pixels to be shared: 11000×11000 is "
        "121,000,000 pixels, over this site's limit of 100,000,000. Upload a smaller version "
        "of it, or choose another image."
    )
    nothing_posted(fake_mastodon)


def test_the_header_is_believed_over_the_image_row_before_decoding():
    """A row that says the picture is small (a file replaced behind Wagtail's back) does not
    get the file decoded: its header is read first."""
    image = bomb()
    get_image_model().objects.filter(pk=image.pk).update(width=100, height=100)
    image.refresh_from_db()
    with pytest.raises(ImageError, match="11000×11000 is 121,000,000 pixels"):
        fit_image(image, "alt", Limits())
    assert not image.renditions.exists()


def test_the_limit_is_a_setting_and_follows_wagtails_own(settings):
    image = make_image(400, 300)
    settings.WAGTAILIMAGES_MAX_IMAGE_PIXELS = 100_000
    with pytest.raises(ImageError, match="over this site's limit of 100,000"):
        fit_image(image, "alt", Limits())
    settings.WAGTAIL_SYNDICATE = {**settings.WAGTAIL_SYNDICATE, "MAX_SOURCE_PIXELS": 200_000}
    assert fit_image(image, "alt", Limits()).width == 400


def test_a_decompression_bomb_over_pillows_own_limit_is_refused_in_words(settings):
    settings.WAGTAIL_SYNDICATE = {**settings.WAGTAIL_SYNDICATE, "MAX_SOURCE_PIXELS": 10**12}
    image = bomb()
    # A file replaced behind Wagtail's back, past twice Pillow's limit: Pillow will not open it.
    replace_file(image, one_bit_png(20_000, 20_000))
    with pytest.raises(ImageError, match="has too many pixels to be shared safely"):
        fit_image(image, "alt", Limits())


def test_the_editor_is_refused_a_publish_with_too_many_pixels(editor, fake_mastodon):
    connect_account(fake_mastodon)
    image = bomb()
    page = make_photo_page(image=image, publish=False)
    response = edit_page(editor, page, image, **PUBLISH)
    assert "has too many pixels to be shared" in field_errors(response)["photo"][0]
    assert not PhotoPage.objects.get(pk=page.pk).live


# 12. Alt text that shows nothing ----------------------------------------------------------------

INVISIBLE = {
    "zero-width spaces": "\u200b\u200b",
    "other format characters": "\u2060\ufeff\u200d\u00ad",
    "whitespace": " \u3000\u00a0\t",
    "combining marks alone": "\u0301\u0308",
    "a control character": "\u0007",
}


@pytest.mark.parametrize("alt_text", list(INVISIBLE.values()), ids=list(INVISIBLE))
def test_alt_text_that_shows_nothing_is_no_alt_text(fake_mastodon, alt_text):
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image(description=""), alt_text=alt_text)
    assert failed_record(page).last_error.startswith("The image “Harbour at dawn” has no alt text")
    nothing_posted(fake_mastodon)


def test_the_images_description_is_used_in_place_of_invisible_alt_text(fake_mastodon):
    connect_account(fake_mastodon)
    make_photo_page(image=make_image(description="Boats in fog"), alt_text="\u200b")
    assert run_tasks() == ["posted"]
    assert fake_mastodon.statuses[0].media[0].description == "Boats in fog"


@pytest.mark.parametrize("alt_text", ["🌊", "٣", "…", "e\u0301", "漁船"])
def test_alt_text_that_shows_is_posted(fake_mastodon, alt_text):
    connect_account(fake_mastodon)
    make_photo_page(image=make_image(description=""), alt_text=alt_text)
    assert run_tasks() == ["posted"]
    assert fake_mastodon.statuses[0].media[0].description == alt_text


def test_the_editor_is_refused_a_publish_with_invisible_alt_text(editor, fake_mastodon):
    connect_account(fake_mastodon)
    image = make_image(description="")
    page = make_photo_page(image=image, publish=False)
    response = edit_page(editor, page, image, alt_text="\u200b\u200b", **PUBLISH)
    assert field_errors(response)["alt_text"][0].startswith(
        "The image “Harbour at dawn” has no alt text"
    )
    assert not PhotoPage.objects.get(pk=page.pk).live


# 13. A page with no address ---------------------------------------------------------------------

NO_ADDRESS = "The page has no address on the web (it is not under the home page of any site)"


def page_outside_every_site(**fields):
    return make_photo_page(image=make_image(), parent=Page.objects.get(depth=1), **fields)


def test_a_page_outside_every_site_fails_at_publish_with_the_reason(fake_mastodon):
    connect_account(fake_mastodon)
    page = page_outside_every_site()
    assert page.get_full_url() is None
    assert failed_record(page).last_error.startswith(NO_ADDRESS)
    nothing_posted(fake_mastodon)


def test_the_editor_is_refused_a_publish_of_a_page_outside_every_site(editor, fake_mastodon):
    connect_account(fake_mastodon)
    page = page_outside_every_site(publish=False)
    response = edit_page(editor, page, page.photo, **PUBLISH)
    assert response.status_code == 200
    assert field_errors(response)["syndicate"][0].startswith(NO_ADDRESS)
    assert not PhotoPage.objects.get(pk=page.pk).live


def test_a_new_page_in_a_site_is_not_refused_for_its_address(editor, fake_mastodon):
    """A page being created has no address yet: the check must not mistake it for one outside
    every site."""
    connect_account(fake_mastodon)
    image = make_image()
    home = Page.objects.get(depth=2)
    response = editor.post(
        reverse("wagtailadmin_pages:add", args=["testapp", "photopage", home.pk]),
        {
            "title": "Evening boats",
            "slug": "evening-boats",
            "photo": image.pk,
            "alt_text": "Boats coming home at dusk",
            "syndicate": "on",
            "syndication_text": "",
            **PUBLISH,
        },
    )
    assert response.status_code == 302, field_errors(response)
    assert run_tasks() == ["posted"]
    assert fake_mastodon.statuses[0].text.endswith("/evening-boats/")


def test_an_override_that_raises_never_runs_inside_the_publish(
    fake_mastodon, caplog, pending_fan_out
):
    """The publish only records the intent: the page model's code runs in the worker's
    fan-out, and its failure reaches the record there."""
    connect_account(fake_mastodon)
    with caplog.at_level(logging.ERROR):
        page = temperamental_page("get_syndication_context")
    assert TemperamentalPhotoPage.objects.get(pk=page.pk).live
    assert not SyndicationRecord.objects.exists()
    assert not any(r.exc_info for r in caplog.records)  # nothing raised in the publish

    with caplog.at_level(logging.ERROR):
        assert run_tasks() == []  # the fan-out: no post is queued
    record = failed_record(page)
    assert record.last_error.startswith(
        "The page model's get_syndication_context() raised ValueError: "
        "no value for 'Morning boats'."
    )
    assert any(r.exc_info and r.exc_info[0] is ValueError for r in caplog.records)
    nothing_posted(fake_mastodon)
