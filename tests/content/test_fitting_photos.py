"""The image fitter on photo-like images (tests/photos.py): whatever the picture, storage, EXIF
orientation and aspect ratio, what it sends is within the network's bytes and pixels, shows the
picture the right way up at the aspect ratio it reports, and is made no smaller than needed.

The checks decode what is sent with Pillow and compare it with the picture as it is meant to be
seen; small pictures and limits scaled to them keep this quick.
"""

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from tests.photos import (
    EXIF_ORIENTATION,
    as_seen,
    distance,
    draw,
    encode,
    jpeg_size,
    photos,
    stored,
    thumbnail,
    way_up,
)
from wagtail_syndicate.content.images import MIN_SIDE, fit_image
from wagtail_syndicate.exceptions import ContentError
from wagtail_syndicate.networks.bluesky.client import BLUESKY_LIMITS, limits_for_version
from wagtail_syndicate.networks.limits import DEFAULT_FORMATS, Limits

pytestmark = pytest.mark.django_db

PROPERTY = settings(
    max_examples=25,
    deadline=None,
    database=None,  # nothing written to the working tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}


@st.composite
def small_limits(draw_from):
    """A network's limits scaled to pictures of a few hundred pixels."""
    return Limits(
        image_size_limit=draw_from(st.integers(3_000, 150_000)),
        image_matrix_limit=draw_from(st.sampled_from([33_177_600, 40_000, 12_000])),
        max_side=draw_from(st.sampled_from([None, 300, 150])),
        display_side=draw_from(st.sampled_from([None, 200, 120])),
        supported_formats=draw_from(
            st.sampled_from([DEFAULT_FORMATS, BLUESKY_LIMITS.supported_formats])
        ),
    )


def sent(media) -> tuple[bytes, Image.Image]:
    with media.file.open("rb") as file:
        data = b"".join(file.chunks())
    return data, Image.open(io.BytesIO(data))


def full_size(width: int, height: int, limits: Limits, *, display: bool) -> tuple[int, int]:
    """The largest size within the limits (and the display size) at the picture's aspect
    ratio, found by trying every longer side from the picture's own down, each scaled as
    Wagtail's ``max-`` filter scales (the shorter side rounded down)."""
    longest = max(width, height)
    for side in range(longest, 0, -1):
        if width >= height:
            size = (side, max(1, height * side // longest))
        else:
            size = (max(1, width * side // longest), side)
        if size[0] * size[1] > limits.image_matrix_limit:
            continue
        if any(
            limit and side > limit for limit in (limits.max_side, display and limits.display_side)
        ):
            continue
        return size
    raise AssertionError("no size fits")


@PROPERTY
@given(photo=photos(), limits=small_limits())
def test_what_is_sent_fits_shows_the_picture_upright_and_is_no_smaller_than_needed(photo, limits):
    image = stored(photo.data, photo.filename)
    upright = photo.upright()
    width, height = upright.size
    original = Image.open(io.BytesIO(photo.data))
    as_it_is = (
        original.format.lower() in limits.supported_formats
        and len(photo.data) <= limits.image_size_limit
        and original.width * original.height <= limits.image_matrix_limit
        and (limits.max_side is None or max(original.size) <= limits.max_side)
    )
    try:
        media = fit_image(image, "alt", limits)
    except ContentError as err:
        # Only when even the smallest size the fitter tries is over, at its lowest quality.
        assert image.title in str(err)
        assert not as_it_is
        smallest = (
            max(1, round(MIN_SIDE * width / max(width, height))),
            max(1, round(MIN_SIDE * height / max(width, height))),
        )
        if max(width, height) < MIN_SIDE:
            smallest = (width, height)
        assert jpeg_size(upright, smallest, 50) > 0.8 * limits.image_size_limit
        return

    data, picture = sent(media)
    # Within the limits, and what it says it is.
    assert len(data) == media.size <= limits.image_size_limit
    assert FORMATS[media.content_type] == picture.format
    assert (media.width, media.height) == picture.size
    assert media.width * media.height <= limits.image_matrix_limit
    assert limits.max_side is None or max(picture.size) <= limits.max_side
    assert picture.format.lower() in limits.supported_formats
    # The aspect ratio of the picture as seen, within a pixel.
    assert (
        min(
            abs(media.width - media.height * width / height),
            abs(media.height - media.width * height / width),
        )
        <= 1
    )
    if as_it_is and photo.orientation == 1:
        assert data == photo.data  # sent as it is: not re-encoded, not scaled
        return
    # Turned as it is meant to be seen, with no orientation left for a viewer to apply again.
    assert picture.getexif().get(EXIF_ORIENTATION, 1) == 1
    assert way_up(picture, upright) == 1
    assert distance(thumbnail(picture), thumbnail(upright)) < 40
    # No smaller than needed: when a JPEG at quality 50 of the largest size allowed fits with
    # room to spare, that size is what is sent.
    largest = full_size(width, height, limits, display=not as_it_is)
    if jpeg_size(upright, largest, 50) <= 0.8 * limits.image_size_limit:
        assert max(abs(a - b) for a, b in zip(picture.size, largest, strict=True)) <= 1


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_applied_to_a_rendition(orientation):
    picture = draw("gradient", 240, 120, seed=orientation)
    data = encode(picture, "jpeg", orientation)
    image = stored(data, "turned.jpg")
    # A Bluesky PDS of today; the picture is small enough to keep its size.
    media = fit_image(image, "alt", limits_for_version("0.4.218"))
    _data, sent_picture = sent(media)
    upright = Image.open(io.BytesIO(data))
    from PIL import ImageOps

    upright = ImageOps.exif_transpose(upright)
    assert sent_picture.size == upright.size == (media.width, media.height)
    assert way_up(sent_picture, upright) == 1
    if orientation == 1:
        assert _data == data


def test_a_16_bit_grey_photo_is_made_a_jpeg_with_its_tones():
    data = encode(draw("noise", 300, 200), "grey16")
    image = stored(data, "scan.png")
    assert Image.open(io.BytesIO(data)).mode == "I;16"
    limit = len(data) // 4
    media = fit_image(image, "alt", Limits(image_size_limit=limit))
    _data, picture = sent(media)
    assert media.content_type == "image/jpeg" and media.size <= limit
    # Tones kept (not clipped to white as a plain 16-to-8-bit conversion would).
    expected = as_seen(Image.open(io.BytesIO(data)))
    assert distance(thumbnail(picture), thumbnail(expected)) < 10


def test_a_24_megapixel_detailed_photo_fits_bluesky():
    """A 6000×4000 high-detail JPEG from a modern camera: scaled to the 2000 px the Bluesky
    app shows, within 2,000,000 bytes on a current PDS and 1,000,000 on an older one."""
    data = encode(draw("detail", 6000, 4000, seed=24), "jpeg", quality=92)
    assert len(data) > 5 * 1024 * 1024  # over even uploadBlob's own limit
    image = stored(data, "camera.jpg")
    for version, limit in (("0.4.218", 2_000_000), ("0.4.100", 1_000_000)):
        media = fit_image(image, "alt", limits_for_version(version))
        sent_data, picture = sent(media)
        assert len(sent_data) == media.size <= limit
        assert (media.width, media.height) == picture.size == (2000, 1333)


def test_an_image_that_cannot_fit_says_why_and_what_to_do():
    image = stored(encode(draw("noise", 400, 300), "jpeg"), "noise.jpg", title="Static")
    with pytest.raises(ContentError) as caught:
        fit_image(image, "alt", Limits(image_size_limit=1_000))
    message = str(caught.value)
    assert "“Static”" in message and "1,000" in message
    assert "Upload a smaller or less detailed image" in message
