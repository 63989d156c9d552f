"""Fit a post's image to a server's limits (as renditions if need be, all from one decode of
its file), with its focus and the source it is known by."""

import io
import math
from contextlib import contextmanager

from django.utils.translation import gettext as _
from PIL import Image as PILImage
from PIL import ImageCms, ImageOps
from wagtail.images.image_operations import FilterOperation, ImageTransform
from wagtail.images.models import Filter
from willow.image import Image as WillowImage
from willow.plugins.pillow import PillowImage

from wagtail_syndicate.content.image_files import IMAGE_ERRORS, image_error, probe
from wagtail_syndicate.exceptions import ContentError
from wagtail_syndicate.networks.limits import Limits
from wagtail_syndicate.networks.post import Media

CONTENT_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "avif": "image/avif",
    "heic": "image/heic",
}
# Tried in order at each size, when an image must be re-encoded to fit.
JPEG_QUALITIES = (85, 75, 65, 50)
# Below this many pixels on its longer side an image is not worth sharing: the fitter gives up.
MIN_SIDE = 100
# Each smaller size is at most this fraction of the one before (so the search ends), and aims a
# little under the limit (bytes grow less than in proportion to the pixels as detail is lost).
MAX_SHRINK = 0.85
SHRINK_MARGIN = 0.9
# Formats whose picture is decoded once and kept for every try of a fit (others, such as SVG
# and animated GIF, go through Wagtail's renditions one by one).
DECODED_ONCE = ("jpeg", "png", "webp", "heic", "avif")


class WebReadyOperation(FilterOperation):
    """``webready`` (registered in ``wagtail_hooks.py``): a picture as every viewer shows it
    alike, for JPEG and WebP: 16 or 32 bits a channel (a scan, a camera's export) made 8, CMYK
    made RGB (through its colour profile when it has one, then sRGB). Other pictures pass
    unchanged."""

    def construct(self):
        pass

    def run(self, willow, image, env):
        picture = willow.get_pillow_image()
        if picture.mode.startswith("I;16"):
            picture = picture.convert("L")  # scaled to 0-255 by Pillow
        elif picture.mode in ("I", "F"):
            low, high = picture.getextrema()
            scale = 255 / (high - low) if high > low else 0
            picture = picture.point(lambda v: (v - low) * scale).convert("L")
        elif picture.mode == "CMYK":
            picture = _cmyk_to_srgb(picture)
        else:
            return None
        return PillowImage(picture)


def image_source(image) -> str:
    # A new file uploaded to a Wagtail image gets a new name, so this changes with the picture.
    return f"{image.pk}:{image.file.name}"


def focus_from_focal_point(image) -> tuple[float, float] | None:
    """Mastodon's focus ``(x, y)`` in [-1, 1] (y up) from a Wagtail focal point, or ``None``.

    Wagtail stores the centre of the focal area in pixels from the top-left corner; renditions
    are scaled, never cropped, so the same focus holds for the uploaded frame.
    """
    if image.focal_point_x is None or image.focal_point_y is None:
        return None
    x = 2 * image.focal_point_x / image.width - 1
    y = 1 - 2 * image.focal_point_y / image.height
    return (round(max(-1.0, min(1.0, x)), 2), round(max(-1.0, min(1.0, y)), 2))


def _cmyk_to_srgb(picture):
    profile = picture.info.get("icc_profile")
    try:
        rgb = ImageCms.profileToProfile(
            picture,
            ImageCms.ImageCmsProfile(io.BytesIO(profile)),
            ImageCms.createProfile("sRGB"),
            outputMode="RGB",
        )
    except (TypeError, ImageCms.PyCMSError, OSError):  # no profile, or one that is broken
        rgb = picture.convert("RGB")
    rgb.info = {k: v for k, v in picture.info.items() if k != "icc_profile"}
    return rgb


def fit_image(image, alt_text: str, limits: Limits) -> Media:
    """The image as it is when the network takes it, else the largest rendition that fits.
    Raises ``ImageError`` (in words) for a missing or unreadable file or one with too many
    pixels (checked from its header, before it is decoded), ``ContentError`` when nothing
    fits."""
    try:
        file, file_format, width, height, size = _fitting_file(image, limits)
    except ContentError:
        raise
    except IMAGE_ERRORS as err:
        raise image_error(image, err) from err
    return Media(
        file=file,
        filename=_filename(image.file.name, file_format),
        content_type=CONTENT_TYPES[file_format],
        alt_text=alt_text,
        focus=focus_from_focal_point(image),
        width=width,
        height=height,
        size=size,
        source=image_source(image),
    )


def _fitting_file(image, limits: Limits):
    """The original when it fits; else renditions are tried: first at the network's display
    size (when the original is larger), at falling quality, then at smaller sizes, until one
    is within the byte limit. An original that fits but for its EXIF orientation is turned
    at its own size. Raises ``ContentError`` naming the image when nothing fits."""
    image_format, orientation = probe(image)
    size = image.file_size or image.file.size
    width, height = image.width, image.height
    fits_but_turned = (
        image_format in limits.supported_formats
        and size <= limits.image_size_limit
        and _within(width, height, limits)
    )
    if fits_but_turned and orientation == 1:
        return image.file, image_format, width, height, size
    if orientation in (5, 6, 7, 8):  # turned a quarter: the picture is shown the other way
        width, height = height, width
    side = _longest_side(width, height, limits, display=not fits_but_turned)
    source = _Source(image, image_format, width, height, side)
    lossless = True
    while True:
        for spec, rendition_format in _rendition_specs(side, image_format, limits, lossless):
            rendition = source.rendition(spec)
            if rendition.file.size <= limits.image_size_limit:
                return (
                    rendition.file,
                    rendition_format,
                    rendition.width,
                    rendition.height,
                    rendition.file.size,
                )
        lossless = False
        if side <= MIN_SIDE:
            raise ContentError(
                _(
                    "The image “%(title)s” is too large to share even at reduced quality and "
                    "size: at %(width)s×%(height)s pixels it is still %(size)s bytes, over this "
                    "server's limit of %(limit)s. Upload a smaller or less detailed image, or "
                    "choose another one."
                )
                % {
                    "title": image.title,
                    "width": rendition.width,
                    "height": rendition.height,
                    "size": f"{rendition.file.size:,}",
                    "limit": f"{limits.image_size_limit:,}",
                }
            )
        shrink = SHRINK_MARGIN * math.sqrt(limits.image_size_limit / rendition.file.size)
        side = max(MIN_SIDE, int(side * min(MAX_SHRINK, shrink)))


class _Source:
    """The renditions of one image for one fit, all made from one decode of its file (Wagtail
    would decode it again for each). The picture is decoded when the first rendition not
    already stored is made, turned as its EXIF orientation says, and kept for the others; a
    JPEG is decoded at the smallest scale its decoder offers that still gives the fit's largest
    rendition (Pillow's ``draft``: a quarter of the pixels or fewer for a photo twice the size
    needed). Networks whose limits call for the same rendition share it, as Wagtail keeps it."""

    def __init__(self, image, image_format: str, width: int, height: int, side: int):
        self.image = image
        self.format = image_format  # as ``probe`` read it from the file's header
        self.decoded_once = image_format in DECODED_ONCE
        self.size = (width, height)  # as it is seen (turned by its EXIF orientation)
        self.side = side  # the longer side of the largest rendition the fit makes
        self._picture = None

    def rendition(self, spec: str):
        if not self.decoded_once:
            return self.image.get_rendition(spec)
        rendition_filter = _DecodedFilter(spec, self._decoded, self.size)
        try:
            return self.image.find_existing_rendition(rendition_filter)
        except self.image.get_rendition_model().DoesNotExist:
            return self.image.create_rendition(rendition_filter)

    def _decoded(self):
        if self._picture is None:
            with self.image.open_file() as file:
                want = scaled_size(self.image.width, self.image.height, self.side)
                self._picture = _decode(file, self.format, want)
        return self._picture


class _Decoded(PillowImage):
    """A decoded picture, already turned upright, as Wagtail's ``Filter.run`` reads a file (it
    asks for its format, to turn it and to crop it to the whole picture: nothing to do, so no
    copy of every pixel is made; the scaling that follows makes the new picture)."""

    def __init__(self, picture, format_name: str):
        super().__init__(picture)
        self.format_name = format_name

    def auto_orient(self):
        return self

    def crop(self, rect):
        if tuple(rect) == (0, 0, *self.image.size):
            return self
        return super().crop(rect)


def _decode(file, image_format: str, want: tuple[int, int]) -> _Decoded:
    """The picture in ``file`` (of ``image_format``, as Willow names it), decoded (a JPEG at no
    less than ``want``, its size as stored) and turned upright."""
    if image_format == "jpeg":
        picture = PILImage.open(file)
        picture.draft(None, want)
        picture.load()
    else:  # through Willow, which opens HEIC and AVIF too
        picture = WillowImage.open(file).get_pillow_image()
    ImageOps.exif_transpose(picture, in_place=True)
    return _Decoded(picture, image_format)


class _DecodedFilter(Filter):
    """A rendition ``Filter`` that starts from a picture already decoded (Wagtail's operations
    make new pictures and leave it as it is), instead of decoding the image's file again.

    When the picture is smaller than the source (a JPEG decoded at a smaller scale;
    ``source_size``: the source's size as seen), it gives the size the source itself
    would give, so no size is rounded twice (the fitter's specs only scale: the whole picture
    is kept)."""

    def __init__(self, spec: str, decoded, source_size: tuple[int, int]):
        super().__init__(spec=spec)
        self._decoded = decoded
        self._source_size = source_size

    @contextmanager
    def get_willow_image(self, image, source=None):
        yield self._decoded()

    def get_transform(self, image, size=None):
        if not size or tuple(size) == self._source_size:
            return super().get_transform(image, size)
        target = super().get_transform(image, self._source_size).size
        return ImageTransform(tuple(size)).resize(target)


def _within(width: int, height: int, limits: Limits) -> bool:
    return width * height <= limits.image_matrix_limit and (
        limits.max_side is None or max(width, height) <= limits.max_side
    )


def scaled_size(width: int, height: int, side: int) -> tuple[int, int]:
    """``width``×``height`` with its longer side made ``side`` (as Wagtail's ``max-`` filter
    scales, the shorter side rounded down, at least 1)."""
    longest = max(width, height)
    if side >= longest:
        return width, height
    if width >= height:
        return side, max(1, int(height * side / longest))
    return max(1, int(width * side / longest)), side


def _longest_side(width: int, height: int, limits: Limits, *, display: bool) -> int:
    """The longer side of the largest picture within the pixel limits (and, with ``display``,
    within the network's display size) at the aspect ratio of ``width``×``height``."""
    side = max(width, height)
    for limit in (limits.max_side, limits.display_side if display else None):
        if limit:
            side = min(side, limit)
    scale = math.sqrt(limits.image_matrix_limit / (width * height))
    side = min(side, int(max(width, height) * scale) + 1)
    while side > 1 and not _within(*scaled_size(width, height, side), limits):
        side -= 1
    return side


def _rendition_specs(side: int, image_format: str, limits: Limits, lossless: bool):
    box = f"max-{side}x{side}"
    if lossless and image_format in limits.supported_formats and image_format in ("png", "gif"):
        yield f"{box}|format-{image_format}", image_format
    if image_format == "webp" and "webp" in limits.supported_formats:
        for quality in JPEG_QUALITIES:
            yield f"{box}|webready|format-webp|webpquality-{quality}", "webp"
    for quality in JPEG_QUALITIES:
        yield f"{box}|webready|format-jpeg|jpegquality-{quality}", "jpeg"


def _filename(name: str, image_format: str) -> str:
    stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0] or "image"
    return f"{stem}.{'jpg' if image_format == 'jpeg' else image_format}"
