"""Posts fitted to what the instance says it accepts, end to end against FakeMastodon: limits
read from /api/v2/instance (else v1, else the defaults), cached for an hour, refreshed when the
server refuses something over a limit; and what the editor previews is what the server gets."""

import functools
import io
import random
import types

import pytest
import regex
import requests
from django.core.cache.backends import locmem
from PIL import Image as PILImage
from wagtail.images import get_image_model
from wagtail.models import Locale

from syndicate_fakes import FakeMastodon, Fault
from tests.testapp.models import PhotoPage
from tests.utils import (
    connect_account,
    give_the_site_a_public_name,
    make_image,
    make_photo_page,
    run_tasks,
)
from wagtail_syndicate.content.posts import compose_post, plan_post
from wagtail_syndicate.exceptions import ContentError
from wagtail_syndicate.models import SyndicationRecord
from wagtail_syndicate.networks.limits import Limits
from wagtail_syndicate.networks.text import status_length, weighted_length
from wagtail_syndicate.pipeline.limits_cache import limits_for

pytestmark = pytest.mark.django_db

SMALL_LIMITS = {
    "max_characters": 200,
    "max_media_attachments": 2,
    "image_size_limit": 1024 * 1024,
    "image_matrix_limit": 2_000_000,
    "description_limit": 100,
}
LONG_TITLE = (
    "The whole fishing fleet of the harbour leaves before sunrise, seen from the lighthouse "
    "on the northern pier while the gulls follow the last boat out towards the open sea"
)
LONG_INTRO = (
    "Every morning in late summer the boats go out in the same order: first the trawlers, "
    "then the crab boats, then the small open boats of the retired fishermen. "
) * 3
LONG_ALT = (
    "A wide view of a harbour at dawn: a dozen fishing boats in a line leave between two "
    "stone piers, a red lighthouse on the left, gulls above the water, the sky orange over "
    "the hills and the town still dark behind the quay."
)
HTML_404 = (
    "<!DOCTYPE html><html><body><h1>The page you are looking for isn't here.</h1></body></html>"
)
HTML_502 = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
HTML_PROXY = "<html><head><title>Welcome</title></head><body>nginx</body></html>"


@pytest.fixture
def small_fake():
    with FakeMastodon(tokens={"good-token": "alice"}, limits=SMALL_LIMITS) as fake:
        yield fake


@functools.cache
def noisy_png(width: int, height: int) -> bytes:
    """A PNG that is large in bytes (coarse noise, smoothed): megabytes as PNG, a few hundred
    kilobytes as JPEG."""
    rng = random.Random(width * height)
    coarse = PILImage.frombytes(
        "RGB", (width // 10, height // 10), rng.randbytes(width // 10 * height // 10 * 3)
    )
    buffer = io.BytesIO()
    coarse.resize((width, height), PILImage.BILINEAR).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def make_noisy_image(width=3000, height=2000, title="Harbour panorama"):
    from django.core.files.images import ImageFile

    data = noisy_png(width, height)
    return get_image_model().objects.create(
        title=title, file=ImageFile(io.BytesIO(data), name="panorama.png")
    )


def requested(fake, method, path_start) -> list[str]:
    return [r.path for r in fake.requests if r.method == method and r.path.startswith(path_start)]


def instance_requests(fake) -> list[str]:
    return [r.path for r in fake.requests if r.path.endswith("/instance")]


def oracle_length(status, url: str, url_length: int) -> int:
    """Mastodon's count, independently: graphemes (regex \\X) of the content warning and the
    text, the page URL counting as ``url_length``."""
    text = status.text.replace(url, "x" * url_length)
    return len(regex.findall(r"\X", status.spoiler_text + text))


def assert_within_limits(fake, status, url):
    limits = fake.limits
    per_url = limits["characters_reserved_per_url"]
    assert status_length(status.text, status.spoiler_text, per_url) <= limits["max_characters"]
    assert oracle_length(status, url, per_url) <= limits["max_characters"]
    assert status.text.count(url) == 1
    assert len(status.media) <= limits["max_media_attachments"]
    for media in status.media:
        assert len(media.data) <= limits["image_size_limit"]
        assert media.width * media.height <= limits["image_matrix_limit"]
        assert len(media.description) <= limits["description_limit"]
        assert media.content_type in limits["supported_mime_types"]


def only_status(fake):
    assert len(fake.statuses) == 1, [s.text for s in fake.statuses]
    return fake.statuses[0]


def record_of(page) -> SyndicationRecord:
    return SyndicationRecord.objects.get(page=page)


# Fitted to small limits, and the same as the preview -------------------------------------------


def test_a_page_over_every_limit_is_fitted_and_posted_as_previewed(small_fake, monkeypatch):
    give_the_site_a_public_name()
    account = connect_account(small_fake)
    panorama = make_noisy_image()
    assert panorama.file.size > SMALL_LIMITS["image_size_limit"]
    boat, nets = make_image(640, 480, title="Boat"), make_image(800, 600, title="Nets")
    pairs = [(panorama, LONG_ALT), (boat, "A blue boat"), (nets, "Nets drying on the quay")]
    monkeypatch.setattr(PhotoPage, "get_syndication_images", lambda self: list(pairs))
    page = make_photo_page(
        image=panorama,
        alt_text=LONG_ALT,
        title=LONG_TITLE,
        search_description=LONG_INTRO,
        syndication_content_warning="Bright low sun",
    )

    assert run_tasks() == ["posted"]

    status = only_status(small_fake)
    url = page.get_full_url()
    assert_within_limits(small_fake, status, url)
    assert status.text.startswith(LONG_TITLE[:40]) and "…" in status.text
    assert len(status.media) == 2
    assert status.media[0].description.endswith("…")
    assert status.media[0].content_type == "image/jpeg"
    # Accepted the first time: one status, one upload per image, no 422 and no second try.
    assert len(requested(small_fake, "POST", "/api/v1/statuses")) == 1
    assert len(requested(small_fake, "POST", "/api/v2/media")) == 2
    record = record_of(page)
    assert (record.state, record.attempts, record.last_error) == ("posted", 1, "")

    # The preview (plan_post) and the task (compose_post) computed exactly what was sent.
    limits = limits_for(account, fetch=False)
    assert (limits.max_characters, limits.max_media, limits.description_limit) == (200, 2, 100)
    page = PhotoPage.objects.get(pk=page.pk)
    plan = plan_post(page, account, limits)
    post = compose_post(page, account, limits)
    assert status.text == plan.text == post.text
    assert status.spoiler_text == plan.spoiler_text == post.spoiler_text == "Bright low sun"
    alts = [m.description for m in status.media]
    assert alts == [alt for _image, alt, _focus in plan.images] == [m.alt_text for m in post.media]
    assert plan.images_left_out == 1
    assert [(m.width, m.height, len(m.data)) for m in status.media] == [
        (m.width, m.height, m.size) for m in post.media
    ]


def test_a_custom_text_too_long_for_the_instance_fails_with_the_reason(small_fake):
    connect_account(small_fake)
    custom = "Our boats went out at dawn and came back with the whole harbour watching. " * 3
    page = make_photo_page(image=make_image(), syndication_text=custom)

    assert run_tasks() == ["failed"]
    assert small_fake.statuses == []
    assert requested(small_fake, "POST", "/api/v1/statuses") == []
    assert "200" in record_of(page).last_error
    account = record_of(page).account
    with pytest.raises(ContentError) as raised:
        plan_post(page, account, limits_for(account, fetch=False))
    assert raised.value.field == "syndication_text"


# Where limits come from ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (404, {"error": "Record not found"}),
        (404, HTML_404),
        (200, HTML_PROXY),
    ],
    ids=["404-json", "404-html", "200-html"],
)
def test_an_instance_without_v2_is_read_through_v1(small_fake, status, body):
    small_fake.inject(
        Fault(method="GET", path="/api/v2/instance", status=status, body=body, times=1000)
    )
    account = connect_account(small_fake)
    page = make_photo_page(image=make_image(), title=LONG_TITLE, search_description=LONG_INTRO)

    assert run_tasks() == ["posted"]

    assert instance_requests(small_fake) == ["/api/v2/instance", "/api/v1/instance"]
    assert_within_limits(small_fake, only_status(small_fake), page.get_full_url())
    assert limits_for(account, fetch=False).max_characters == 200


def test_an_instance_that_does_not_describe_itself_gets_the_defaults():
    with FakeMastodon(tokens={"good-token": "alice"}, limits={"max_characters": 1000}) as fake:
        for path in ("/api/v2/instance", "/api/v1/instance"):
            fake.inject(Fault(method="GET", path=path, status=404, body=HTML_404, times=1000))
        account = connect_account(fake)
        page = make_photo_page(
            image=make_image(), title=LONG_TITLE, search_description=LONG_INTRO * 2
        )

        assert run_tasks() == ["posted"]

        assert instance_requests(fake) == ["/api/v2/instance", "/api/v1/instance"]
        status = only_status(fake)
        url = page.get_full_url()
        # Mastodon's default of 500 applies, though this server would take 1000.
        assert 450 < status_length(status.text) <= 500
        assert oracle_length(status, url, 23) <= 500
        assert limits_for(account, fetch=False) == Limits()


def test_a_server_error_on_the_instance_is_retried_not_guessed(small_fake):
    # v2 failing falls back to v1; only when both fail is the post retried.
    small_fake.inject(Fault(method="GET", path="/api/v2/instance", status=502, body=HTML_502))
    small_fake.inject(Fault(method="GET", path="/api/v1/instance", status=502, body=HTML_502))
    connect_account(small_fake)
    page = make_photo_page(image=make_image(), title=LONG_TITLE, search_description=LONG_INTRO)

    assert run_tasks() == ["retrying", "posted"]

    assert instance_requests(small_fake) == [
        "/api/v2/instance",
        "/api/v1/instance",
        "/api/v2/instance",
    ]
    assert_within_limits(small_fake, only_status(small_fake), page.get_full_url())


# Cached for an hour --------------------------------------------------------------------------


def test_limits_are_cached_for_an_hour_and_refreshed_on_demand(small_fake, monkeypatch):
    account = connect_account(small_fake)
    make_photo_page(image=make_image(), title="First boats")
    assert run_tasks() == ["posted"]
    assert instance_requests(small_fake) == ["/api/v2/instance"]

    make_photo_page(image=make_image(), title="Second boats")
    assert run_tasks() == ["posted"]
    assert len(small_fake.statuses) == 2
    assert instance_requests(small_fake) == ["/api/v2/instance"], "the second post used the cache"

    small_fake.limits["max_characters"] = 300
    assert limits_for(account).max_characters == 200
    assert limits_for(account, refresh=True).max_characters == 300
    assert instance_requests(small_fake) == ["/api/v2/instance"] * 2
    assert limits_for(account).max_characters == 300, "the refreshed limits are cached"

    small_fake.limits["max_characters"] = 400
    now = locmem.time.time()
    monkeypatch.setattr(locmem, "time", types.SimpleNamespace(time=lambda: now + 3500))
    assert limits_for(account).max_characters == 300
    monkeypatch.setattr(locmem, "time", types.SimpleNamespace(time=lambda: now + 3601))
    assert limits_for(account).max_characters == 400
    assert instance_requests(small_fake) == ["/api/v2/instance"] * 3


# Refused over a limit: read the limits again and fit again, in the same run -------------------


def test_a_422_over_a_text_limit_refreshes_the_limits_and_posts_shortened(fake_mastodon):
    account = connect_account(fake_mastodon)
    assert limits_for(account).max_characters == 500  # cached
    fake_mastodon.limits["max_characters"] = 200  # the admin lowered it since
    fake_mastodon.inject(
        Fault(
            method="POST",
            path="/api/v1/statuses",
            status=422,
            body={"error": "Validation failed: Text character limit of 500 exceeded"},
        )
    )
    page = make_photo_page(image=make_image(), title=LONG_TITLE, search_description=LONG_INTRO)

    assert run_tasks() == ["posted"]

    assert len(requested(fake_mastodon, "POST", "/api/v1/statuses")) == 2
    assert instance_requests(fake_mastodon) == ["/api/v2/instance"] * 2
    assert len(requested(fake_mastodon, "POST", "/api/v2/media")) == 1, "the upload is reused"
    status = only_status(fake_mastodon)
    assert_within_limits(fake_mastodon, status, page.get_full_url())
    assert 150 < status_length(status.text) <= 200
    record = record_of(page)
    assert (record.state, record.attempts) == ("posted", 1)
    assert limits_for(account, fetch=False).max_characters == 200


def test_the_servers_own_422_over_a_lowered_text_limit_is_recovered_from(fake_mastodon):
    account = connect_account(fake_mastodon)
    limits_for(account)
    fake_mastodon.limits["max_characters"] = 200
    page = make_photo_page(image=make_image(), title=LONG_TITLE, search_description=LONG_INTRO)

    assert run_tasks() == ["posted"]

    assert len(requested(fake_mastodon, "POST", "/api/v1/statuses")) == 2
    assert_within_limits(fake_mastodon, only_status(fake_mastodon), page.get_full_url())


def test_a_422_over_a_limit_that_did_not_change_fails_with_the_servers_words(fake_mastodon):
    connect_account(fake_mastodon)
    fake_mastodon.inject(
        Fault(
            method="POST",
            path="/api/v1/statuses",
            status=422,
            body={"error": "Validation failed: Text character limit of 500 exceeded"},
            times=5,
        )
    )
    page = make_photo_page(image=make_image())

    assert run_tasks() == ["failed"]

    assert fake_mastodon.statuses == []
    assert len(requested(fake_mastodon, "POST", "/api/v1/statuses")) == 1
    assert instance_requests(fake_mastodon) == ["/api/v2/instance"] * 2
    assert "character limit of 500 exceeded" in record_of(page).last_error


def test_a_422_over_a_lowered_media_count_posts_fewer_images(fake_mastodon, monkeypatch):
    account = connect_account(fake_mastodon)
    limits_for(account)
    fake_mastodon.limits["max_media_attachments"] = 2
    images = [make_image(320, 240, title=f"Boat {n}") for n in range(3)]
    pairs = [(image, f"Boat number {n}") for n, image in enumerate(images)]
    monkeypatch.setattr(PhotoPage, "get_syndication_images", lambda self: list(pairs))
    page = make_photo_page(image=images[0])

    assert run_tasks() == ["posted"]

    status = only_status(fake_mastodon)
    assert [m.description for m in status.media] == ["Boat number 0", "Boat number 1"]
    assert_within_limits(fake_mastodon, status, page.get_full_url())


def test_a_422_over_a_lowered_description_limit_trims_the_alt_text(fake_mastodon):
    account = connect_account(fake_mastodon)
    limits_for(account)
    fake_mastodon.limits["description_limit"] = 100
    page = make_photo_page(image=make_image(), alt_text=LONG_ALT)

    assert run_tasks() == ["posted"]

    (media,) = only_status(fake_mastodon).media
    assert len(media.description) <= 100 and media.description.endswith("…")
    assert_within_limits(fake_mastodon, only_status(fake_mastodon), page.get_full_url())


def test_a_422_over_a_lowered_image_size_limit_refits_the_image(fake_mastodon):
    account = connect_account(fake_mastodon)
    limits_for(account)
    fake_mastodon.limits["image_size_limit"] = 1024 * 1024
    image = make_noisy_image(1200, 1000)
    assert image.file.size > 1024 * 1024
    page = make_photo_page(image=image)

    assert run_tasks() == ["posted"], record_of(page).last_error
    assert_within_limits(fake_mastodon, only_status(fake_mastodon), page.get_full_url())


def test_a_422_over_a_lowered_pixel_limit_refits_the_image(fake_mastodon):
    account = connect_account(fake_mastodon)
    limits_for(account)
    fake_mastodon.limits["image_matrix_limit"] = 2_000_000
    page = make_photo_page(image=make_noisy_image())

    assert run_tasks() == ["posted"], record_of(page).last_error
    assert_within_limits(fake_mastodon, only_status(fake_mastodon), page.get_full_url())


# Media answers without "meta" ----------------------------------------------------------------


def next_media_id(fake) -> str:
    """Upload a probe image as the account; the fake numbers media in sequence."""
    buffer = io.BytesIO()
    PILImage.new("RGB", (4, 4)).save(buffer, "PNG")
    response = requests.post(
        fake.base_url + "/api/v2/media",
        headers={"Authorization": "Bearer good-token"},
        files={"file": ("probe.png", buffer.getvalue(), "image/png")},
        data={"description": "probe"},
        timeout=5,
    )
    response.raise_for_status()
    return str(int(response.json()["id"]) + 1)


def test_a_media_answer_without_meta_is_enough(fake_mastodon):
    connect_account(fake_mastodon)
    media_id = next_media_id(fake_mastodon)
    fake_mastodon.inject(
        Fault(
            method="POST",
            path="/api/v2/media",
            status=200,
            body={"id": media_id, "type": "image"},
            after=True,  # stored as usual; only the answer is cut down
        )
    )
    make_photo_page(image=make_image())

    assert run_tasks() == ["posted"]
    assert [m.id for m in only_status(fake_mastodon).media] == [media_id]


def test_a_processing_answer_and_poll_without_meta_are_enough(fake_mastodon):
    fake_mastodon.processing_polls = 1
    connect_account(fake_mastodon)
    media_id = next_media_id(fake_mastodon)
    fake_mastodon.inject(
        Fault(
            method="POST",
            path="/api/v2/media",
            status=202,
            body={"id": media_id},
            after=True,
        )
    )
    fake_mastodon.inject(
        Fault(
            method="GET",
            path=f"/api/v1/media/{media_id}",
            status=200,
            body={"id": media_id},
            after=True,
        )
    )
    make_photo_page(image=make_image())

    assert run_tasks() == ["posted"]
    assert [m.id for m in only_status(fake_mastodon).media] == [media_id]


# Content warning, visibility, language -------------------------------------------------------


def test_content_warning_and_the_accounts_visibility_reach_the_server(fake_mastodon):
    connect_account(fake_mastodon, visibility="unlisted")
    make_photo_page(image=make_image(), syndication_content_warning="  Flashing lights  ")

    assert run_tasks() == ["posted"]

    status = only_status(fake_mastodon)
    assert (status.spoiler_text, status.sensitive) == ("Flashing lights", True)
    assert status.visibility == "unlisted"
    assert status.language == "en"


@pytest.mark.parametrize(("language_code", "language"), [("fr", "fr"), ("pt-br", "pt")])
def test_the_pages_visibility_and_language_win(fake_mastodon, language_code, language):
    connect_account(fake_mastodon, visibility="unlisted")
    locale = Locale.objects.create(language_code=language_code)
    page = make_photo_page(image=make_image(), syndication_visibility="private", locale=locale)
    assert page.locale == locale and page.live

    assert run_tasks() == ["posted"]

    status = only_status(fake_mastodon)
    assert (status.spoiler_text, status.sensitive) == ("", False)
    assert status.visibility == "private"
    assert status.language == language


def test_a_link_without_a_top_level_domain_counts_at_full_length_on_mastodon_and_x():
    # Mastodon and X (twitter-text's rule) link only hosts with a top-level domain.
    local, public = "http://localhost/" + "a" * 40, "https://photos.example.com/" + "a" * 40
    assert status_length(f"Boats {local}") == status_length(f"Boats {public}") + len(local) - 23
    assert weighted_length(f"Boats {local}") == 6 + len(local)
    assert weighted_length(f"Boats {public}") == 6 + 23
    assert status_length("http://localhost/") == 23  # the longer of the two readings
