"""One decode of an image serves every rendition a fit tries: the source is decoded once (a
JPEG at the smallest scale that still gives the largest rendition), a fit whose renditions are
stored decodes nothing, and networks whose limits call for the same rendition share it.

Decodes are counted where Pillow turns a file's data into pixels (``ImageFile.load`` with data
still to read), with the name of the file and the size decoded. (Wagtail itself decodes each
new rendition's file to read its size; those files are named by their spec and counted apart.)
"""

import io

import pytest
from PIL import Image, ImageFile, ImageOps

from tests.photos import EXIF_ORIENTATION, distance, draw, encode, stored, thumbnail, way_up
from wagtail_syndicate.content.images import fit_image
from wagtail_syndicate.networks import get_network
from wagtail_syndicate.networks.limits import Limits

pytestmark = pytest.mark.django_db


class Decodes(list):
    """The name and decoded size of every file Pillow decodes, in order."""

    def of_source(self) -> list[tuple[int, int]]:
        # (A nameless file is the test's own look at what was sent.)
        return [size for name, size in self if name and "max-" not in name]


@pytest.fixture
def decodes(monkeypatch):
    seen = Decodes()
    load = ImageFile.ImageFile.load

    def counting_load(picture):
        if picture.tile:  # data still to decode (a loaded picture has none)
            name = getattr(picture.fp, "name", "")
            pixels = load(picture)
            seen.append((name, picture.size))
            return pixels
        return load(picture)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting_load)
    return seen


def sent(media) -> Image.Image:
    with media.file.open("rb") as file:
        return Image.open(io.BytesIO(file.read()))


def detailed_jpeg(width=1200, height=800, orientation=1) -> bytes:
    return encode(draw("detail", width, height, seed=7), "jpeg", orientation, quality=95)


# Limits that make the fitter try several renditions: the first sizes are over the bytes.
TIGHT = Limits(image_size_limit=40_000, display_side=1000)


def test_every_try_of_a_fit_is_made_from_one_decode_of_the_source(decodes):
    image = stored(detailed_jpeg(), "harbour.jpg")
    decodes.clear()
    media = fit_image(image, "alt", TIGHT)
    assert image.renditions.count() > 2  # several qualities and sizes were tried...
    assert decodes.of_source() == [(1200, 800)]  # ...from one decode
    assert media.size <= TIGHT.image_size_limit


def test_a_png_s_tries_share_one_decode_too(decodes):
    picture = draw("noise", 400, 300, seed=3)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    image = stored(buffer.getvalue(), "static.png")
    decodes.clear()
    media = fit_image(image, "alt", Limits(image_size_limit=30_000))
    assert image.renditions.count() > 2
    assert decodes.of_source() == [(400, 300)]
    assert media.content_type == "image/jpeg" and media.size <= 30_000


def test_a_jpeg_twice_the_size_needed_is_decoded_at_a_smaller_scale(decodes):
    """Pillow's JPEG decoder scales by 1/2, 1/4 or 1/8 as it decodes: a fit for 250 px decodes
    the 1200×800 photo at 300×200 (a sixteenth of its pixels), and sends what the full decode
    would, at the size the source itself scales to."""
    data = detailed_jpeg()
    image = stored(data, "harbour.jpg")
    decodes.clear()
    media = fit_image(image, "alt", Limits(image_size_limit=60_000, display_side=250))
    assert decodes.of_source() == [(300, 200)]
    picture = sent(media)
    assert picture.size == (media.width, media.height) == (250, 166)
    full = Image.open(io.BytesIO(data)).resize((250, 166), Image.Resampling.LANCZOS)
    assert distance(thumbnail(picture, 16), thumbnail(full, 16)) < 6


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_a_turned_jpeg_decoded_at_a_smaller_scale_is_sent_upright(decodes, orientation):
    data = detailed_jpeg(800, 400, orientation)
    image = stored(data, "turned.jpg")
    decodes.clear()
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    media = fit_image(image, "alt", Limits(image_size_limit=15_000, display_side=190))
    assert decodes.of_source() == [(200, 100)]  # a quarter a side, as stored (before turning)
    picture = sent(media)
    assert picture.getexif().get(EXIF_ORIENTATION, 1) == 1
    assert way_up(picture, upright) == 1
    assert picture.size == (media.width, media.height)
    assert (picture.width > picture.height) == (upright.width > upright.height)
    assert max(picture.size) <= 190


def test_a_fit_whose_renditions_are_stored_decodes_nothing(decodes):
    image = stored(detailed_jpeg(), "harbour.jpg")
    first = fit_image(image, "alt", TIGHT)
    assert image.renditions.count() > 2
    decodes.clear()
    again = fit_image(image, "alt", TIGHT)  # a retry, or a second account on this network
    assert decodes == []
    assert (again.width, again.height, again.size) == (first.width, first.height, first.size)


def test_networks_whose_limits_call_for_the_same_rendition_share_it(decodes):
    """Mastodon's and X's default limits both scale a 40-megapixel photo to 33,177,600 pixels:
    the second network's fit decodes nothing."""
    image = stored(encode(draw("gradient", 7800, 5200, seed=1), "jpeg"), "wide.jpg")
    decodes.clear()
    mastodon = fit_image(image, "alt", get_network("mastodon").default_limits)
    assert len(decodes.of_source()) == 1
    decodes.clear()
    x = fit_image(image, "alt", get_network("x").default_limits)
    assert decodes.of_source() == []
    assert (x.width, x.height, x.size) == (mastodon.width, mastodon.height, mastodon.size)
