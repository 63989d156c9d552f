"""One decode of an image serves every rendition a fit tries and every network's fit: the
source is decoded once, a large source once for all networks (through its stored working
copy), and a fit whose renditions are all stored decodes nothing.

Decodes are counted where Pillow turns a file's data into pixels (``ImageFile.load`` with data
still to read), by the name of the file decoded. (Wagtail itself decodes each new rendition's
file to read its size; those decodes are of the small result, named by its spec, and are
counted apart.)
"""

import io

import pytest
from PIL import Image, ImageFile, ImageOps

from tests.photos import EXIF_ORIENTATION, distance, draw, encode, stored, thumbnail, way_up
from wagtail_syndicate import fitting
from wagtail_syndicate.fitting import fit_image
from wagtail_syndicate.limits import Limits

pytestmark = pytest.mark.django_db


class Decodes(list):
    """The name and decoded size of every file Pillow decodes, in order."""

    def of_source(self) -> int:
        # (A nameless file is the test's own look at what was sent.)
        return len(self.sizes_of_source())

    def sizes_of_source(self) -> list[tuple[int, int]]:
        return [size for name, size in self if name and "max-" not in name]

    def of_working_copy(self) -> int:
        return sum(WORKING in name for name, _size in self)


WORKING = "webready.format-jpeg.jpegquality-95"  # the working copy's spec, in its file name


@pytest.fixture
def decodes(monkeypatch):
    seen = Decodes()
    load = ImageFile.ImageFile.load

    def counting_load(picture):
        if picture.tile:  # data still to decode (a loaded picture has none)
            name = getattr(picture.fp, "name", "")
            load(picture)
            seen.append((name, picture.size))
            return None
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
LOOSE = Limits(image_size_limit=400_000, display_side=900)


def test_every_try_of_a_fit_is_made_from_one_decode_of_the_source(decodes):
    image = stored(detailed_jpeg(), "harbour.jpg")
    decodes.clear()
    media = fit_image(image, "alt", TIGHT)
    assert image.renditions.count() > 2  # several qualities and sizes were tried...
    assert decodes.of_source() == 1  # ...from one decode
    assert media.size <= TIGHT.image_size_limit


def test_a_jpeg_twice_the_size_needed_is_decoded_at_a_smaller_scale(decodes):
    """Pillow's JPEG decoder scales by 1/2, 1/4 or 1/8 as it decodes: a fit for 250 px decodes
    the 1200×800 photo at 300×200 (a sixteenth of its pixels), and sends what the full decode
    would."""
    data = detailed_jpeg()
    image = stored(data, "harbour.jpg")
    decodes.clear()
    media = fit_image(image, "alt", Limits(image_size_limit=60_000, display_side=250))
    assert decodes.sizes_of_source() == [(300, 200)]
    picture = sent(media)
    assert picture.size == (media.width, media.height) == (250, 166)  # as the source scales
    full = Image.open(io.BytesIO(data)).resize((250, 166), Image.Resampling.LANCZOS)
    assert distance(thumbnail(picture, 16), thumbnail(full, 16)) < 6


def test_a_large_source_is_decoded_once_for_every_network(decodes, monkeypatch):
    """Over ``WORKING_PIXELS``, the first fit makes the working copy from the source; the other
    networks' fits start from that copy, each decoding it once for all its tries."""
    monkeypatch.setattr(fitting, "WORKING_PIXELS", 900_000)
    image = stored(detailed_jpeg(), "harbour.jpg")
    decodes.clear()
    fit_image(image, "alt", TIGHT)
    assert decodes.of_source() == 1  # to make the working copy
    (working,) = [r for r in image.renditions.all() if r.filter_spec.endswith("jpegquality-95")]
    assert (working.width, working.height) == (1162, 774)  # 899,388 pixels
    for limits in (LOOSE, Limits(image_size_limit=60_000, display_side=800, max_side=1000)):
        decodes.clear()
        media = fit_image(image, "alt", limits)
        assert decodes.of_source() == 0
        assert decodes.of_working_copy() == 1
        assert media.size <= limits.image_size_limit


def test_a_fit_whose_renditions_are_stored_decodes_nothing(decodes):
    image = stored(detailed_jpeg(), "harbour.jpg")
    first = fit_image(image, "alt", TIGHT)
    assert image.renditions.count() > 2
    decodes.clear()
    again = fit_image(image, "alt", TIGHT)  # a retry, or a second account on this network
    assert decodes == []
    assert (again.width, again.height, again.size) == (first.width, first.height, first.size)


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_a_turned_source_through_its_working_copy_is_sent_upright(
    decodes, monkeypatch, orientation
):
    monkeypatch.setattr(fitting, "WORKING_PIXELS", 100_000)
    data = detailed_jpeg(600, 300, orientation)
    image = stored(data, "turned.jpg")
    decodes.clear()
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    small = (
        Limits(image_size_limit=15_000, display_side=400),
        Limits(image_size_limit=30_000, display_side=300),
    )
    for limits in small:
        media = fit_image(image, "alt", limits)
        picture = sent(media)
        assert picture.getexif().get(EXIF_ORIENTATION, 1) == 1
        assert way_up(picture, upright) == 1
        assert picture.size == (media.width, media.height)
        assert (picture.width > picture.height) == (upright.width > upright.height)
    assert decodes.of_source() == 1


def test_a_png_source_keeps_a_lossless_working_copy(decodes, monkeypatch):
    """A PNG that a network takes as PNG is still sent as PNG when made from the working copy."""
    monkeypatch.setattr(fitting, "WORKING_PIXELS", 200_000)
    picture = draw("gradient", 800, 500, seed=3)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    data = buffer.getvalue()
    image = stored(data, "chart.png")
    decodes.clear()
    media = fit_image(image, "alt", Limits(image_size_limit=len(data) - 1, display_side=500))
    assert media.content_type == "image/png"
    assert sent(media).size == (500, 312)  # as from the source: sizes not rounded twice
    assert any(r.filter_spec.endswith("webready|format-png") for r in image.renditions.all())
    assert decodes.of_source() == 1
