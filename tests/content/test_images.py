"""Images are sent as they are when Mastodon takes them, else as a rendition that fits."""

import pytest
from PIL import Image as PILImage

from tests.utils import connect_account, make_image, make_photo_page, run_tasks
from wagtail_syndicate.content.images import fit_image, focus_from_focal_point
from wagtail_syndicate.networks.limits import Limits

pytestmark = pytest.mark.django_db

MATRIX_LIMIT = 33_177_600


def test_large_image_is_uploaded_as_a_rendition_within_the_limits(fake_mastodon):
    connect_account(fake_mastodon)
    image = make_image(6000, 6000)
    with pytest.raises(NotImplementedError):
        _ = image.file.path  # media storage has no filesystem path: files are read through it
    make_photo_page(image=image)
    assert run_tasks() == ["posted"]
    media = fake_mastodon.statuses[0].media[0]
    assert media.width * media.height <= MATRIX_LIMIT
    assert media.width == media.height >= 5700
    assert len(media.data) <= 16 * 1024 * 1024


def test_small_supported_image_is_sent_unchanged():
    image = make_image(300, 200, image_format="JPEG")
    media = fit_image(image, "alt", Limits())
    assert media.file.name == image.file.name
    assert media.content_type == "image/jpeg"


def test_unsupported_format_is_converted_to_jpeg():
    image = make_image(300, 200, image_format="BMP")
    media = fit_image(image, "alt", Limits())
    assert media.content_type == "image/jpeg"
    with media.file.open("rb") as file:
        assert PILImage.open(file).format == "JPEG"


def test_image_over_the_byte_limit_is_recompressed():
    image = make_image(800, 600, image_format="PNG")
    limit = image.file.size - 1
    media = fit_image(image, "alt", Limits(image_size_limit=limit))
    assert media.size <= limit
    assert (media.width, media.height) == (800, 600)


@pytest.mark.parametrize(
    ("centre", "expected"),
    [
        ((0, 0), (-1.0, 1.0)),
        ((640, 480), (1.0, -1.0)),
        ((320, 240), (0.0, 0.0)),
        ((160, 360), (-0.5, -0.5)),
    ],
)
def test_focal_point_maps_to_mastodon_focus(centre, expected):
    image = make_image(
        640,
        480,
        focal_point_x=centre[0],
        focal_point_y=centre[1],
        focal_point_width=10,
        focal_point_height=10,
    )
    assert focus_from_focal_point(image) == expected


def test_no_focal_point_sends_no_focus(fake_mastodon):
    connect_account(fake_mastodon)
    make_photo_page(image=make_image())
    run_tasks()
    assert fake_mastodon.statuses[0].media[0].focus is None
    upload = next(r for r in fake_mastodon.requests if r.path == "/api/v2/media")
    assert "focus" not in upload.form


def test_image_that_cannot_fit_fails_with_a_reason():
    from wagtail_syndicate.exceptions import ContentError

    image = make_image(800, 600)
    with pytest.raises(ContentError, match="too large to share even at reduced quality"):
        fit_image(image, "alt", Limits(image_size_limit=100))
