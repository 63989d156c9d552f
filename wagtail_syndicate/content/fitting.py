"""Fit a post to a server's limits: images (as renditions if need be), alt text and text."""

import io
import math
import re
from contextlib import contextmanager
from xml.etree.ElementTree import ParseError

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image as PILImage
from PIL import ImageCms, ImageOps
from wagtail.images.image_operations import FilterOperation, ImageTransform
from wagtail.images.models import Filter, SourceImageIOError
from willow.image import Image as WillowImage
from willow.plugins.pillow import PillowImage

from wagtail_syndicate.conf import get_setting
from wagtail_syndicate.exceptions import ContentError, ImageError
from wagtail_syndicate.networks.limits import Limits
from wagtail_syndicate.networks.post import Media
from wagtail_syndicate.networks.text import graphemes

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
EXIF_ORIENTATION = 0x0112
# What reading or decoding an image's file raises when it is missing, damaged or no picture.
IMAGE_ERRORS = (OSError, ValueError, SyntaxError, ParseError, PILImage.DecompressionBombError)
# MAX_SOURCE_PIXELS when neither it nor Wagtail's WAGTAILIMAGES_MAX_IMAGE_PIXELS is set.
DEFAULT_MAX_SOURCE_PIXELS = 100_000_000
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


def max_source_pixels() -> int:
    """The ``MAX_SOURCE_PIXELS`` setting, else Wagtail's ``WAGTAILIMAGES_MAX_IMAGE_PIXELS``,
    else ``DEFAULT_MAX_SOURCE_PIXELS``."""
    configured = get_setting("MAX_SOURCE_PIXELS")
    if configured is None:
        configured = getattr(settings, "WAGTAILIMAGES_MAX_IMAGE_PIXELS", None)
    return int(configured) if configured else DEFAULT_MAX_SOURCE_PIXELS


def check_source_pixels(image, width, height) -> None:
    """Raise ``ImageError`` when a ``width``×``height`` picture is over ``max_source_pixels()``
    (decoding it would cost the worker memory in proportion to its pixels)."""
    if width and height and width * height > max_source_pixels():
        raise _too_many_pixels(image, width, height)


def _too_many_pixels(image, width, height) -> ImageError:
    return ImageError(
        _(
            "The image “%(title)s” has too many pixels to be shared: %(width)s×%(height)s is "
            "%(pixels)s pixels, over this site's limit of %(limit)s. Upload a smaller version "
            "of it, or choose another image."
        )
        % {
            "title": image.title,
            "width": width,
            "height": height,
            "pixels": f"{width * height:,}",
            "limit": f"{max_source_pixels():,}",
        }
    )


def image_error(image, err: BaseException) -> ImageError:
    """What an editor is told when reading or decoding ``image`` raised ``err``."""
    if isinstance(err, PILImage.DecompressionBombError):  # over twice Pillow's own limit
        return ImageError(
            _(
                "The image “%(title)s” has too many pixels to be shared safely (its file "
                "claims far more than its upload did). Upload a smaller version of it, or "
                "choose another image."
            )
            % {"title": image.title}
        )
    if isinstance(err, (SourceImageIOError, FileNotFoundError)):
        return ImageError(
            _(
                "The file of the image “%(title)s” is missing from the site's storage: upload "
                "the image again, or choose another one."
            )
            % {"title": image.title}
        )
    return ImageError(
        _(
            "The file of the image “%(title)s” cannot be read as a picture (it is damaged, or "
            "not an image): upload the image again, or choose another one."
        )
        % {"title": image.title}
    )


def check_source(image) -> None:
    """Raise ``ImageError`` when ``image``'s file is missing, unreadable or has too many
    pixels, reading only its header (for the editor's publish check)."""
    try:
        _probe(image)
    except ImageError:
        raise
    except IMAGE_ERRORS as err:
        raise image_error(image, err) from err


def _fitting_file(image, limits: Limits):
    """The original when it fits; else renditions are tried: first at the network's display
    size (when the original is larger), at falling quality, then at smaller sizes, until one
    is within the byte limit. An original that fits but for its EXIF orientation is turned
    at its own size. Raises ``ContentError`` naming the image when nothing fits."""
    image_format, orientation = _probe(image)
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
        self.format = image_format  # as ``_probe`` read it from the file's header
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


def _probe(image) -> tuple[str, int]:
    """The image's format (as Willow names it) and EXIF orientation (1: upright), read from
    the file's header without decoding the picture. Raises ``ImageError`` when the header
    gives more pixels than ``max_source_pixels()`` (and lets the errors of a missing or
    unreadable file through)."""
    with image.open_file() as file:
        image_format = WillowImage.open(file).format_name
        file.seek(0)
        try:
            with PILImage.open(file) as picture:
                check_source_pixels(image, *picture.size)
                if picture.format == "PNG" and "exif" not in picture.info:
                    # Pillow would decode every pixel to look for an eXIf chunk after them.
                    orientation = 1
                else:
                    orientation = picture.getexif().get(EXIF_ORIENTATION, 1)
        except PILImage.DecompressionBombError:
            raise
        except (OSError, ValueError, SyntaxError):  # a format Pillow cannot read (SVG)
            orientation = 1
    return image_format, orientation if orientation in range(1, 9) else 1


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


# Text ----------------------------------------------------------------------------------------

ELLIPSIS = "…"
# Placeholders whose words may be shortened, in the order they give way.
SHORTENABLE = ("intro", "title")


# The placeholders every page gives (an empty one when it has no value); a page model's
# ``get_syndication_context()`` may give more.
PLACEHOLDERS = ("title", "intro", "url", "tags")
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def render_text(template: str, values: dict[str, str]) -> str:
    """``template`` with its placeholders (``{title}``, ``{intro}``, ``{url}``, ``{tags}``
    and those ``values`` adds) filled in and other braces left alone, tidied: no trailing
    spaces, no runs of blank lines left by empty placeholders."""

    def value(match) -> str:
        name = match.group(1)
        if name in values:
            return str(values[name])
        return "" if name in PLACEHOLDERS else match.group(0)

    text = PLACEHOLDER.sub(value, template)
    lines = [line.rstrip() for line in text.strip().splitlines()]
    tidy: list[str] = []
    for line in lines:
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy).strip()


def fit_text(template: str, values: dict[str, str], limits: Limits, spoiler_text: str = "") -> str:
    """The text of the post, within ``limits.max_characters`` as the network counts it
    (``limits.length``: on Mastodon graphemes, every URL as ``characters_per_url``, the
    content warning included).

    Shortens the intro, then the title, on a word boundary with "…"; then drops hashtags from
    the end. Never cuts the URL, a hashtag or the rest of the template (such as an editor's
    custom text). Raises ``ContentError`` when even that does not fit.
    """
    values = dict(values)

    def fits(candidate: dict[str, str]) -> bool:
        return limits.fits(render_text(template, candidate), spoiler_text)

    for name in SHORTENABLE:
        if fits(values):
            return render_text(template, values)
        words = values.get(name, "")
        if not words or "{" + name + "}" not in template:
            continue
        shortened = _longest_fitting(words, lambda w, n=name: fits({**values, n: w}))
        if shortened is not None:
            return render_text(template, {**values, name: shortened})
        values[name] = ""
    tags = values.get("tags", "").split()
    while not fits(values) and tags:
        tags.pop()
        values["tags"] = " ".join(tags)
    if fits(values):
        return render_text(template, values)
    text = render_text(template, values)
    over = limits.length(text, spoiler_text) - limits.max_characters
    if over <= 0:  # within the characters, over the bytes
        raise ContentError(
            _(
                "The text of the post is over this server's limit of %(limit)s bytes and "
                "cannot be shortened: shorten the custom text."
            )
            % {"limit": limits.max_bytes}
        )
    message = _(
        "The text of the post is %(over)s characters over this server's limit of "
        "%(limit)s and cannot be shortened: shorten the custom text or content warning."
    ) % {"over": over, "limit": limits.max_characters}
    if limits.full_length_links:
        message += " " + _("This server counts every link at its full length.")
    raise ContentError(message)


def _longest_fitting(words: str, fits) -> str | None:
    """The longest shortening of ``words`` (whole words, then "…") that ``fits``, or None."""
    clusters = graphemes(words)
    low, high, best = 0, len(clusters) - 1, None
    while low <= high:  # binary search on how many characters to keep
        keep = (low + high) // 2
        candidate = _shorten(clusters, keep)
        if fits(candidate):
            best, low = candidate, keep + 1
        else:
            high = keep - 1
    return best


def _shorten(clusters: list[str], keep: int) -> str:
    head = "".join(clusters[:keep])
    if keep < len(clusters) and not clusters[keep].isspace():
        # Cut at the last whole word, unless that leaves nothing (one long word, CJK).
        cut = max(head.rfind(" "), head.rfind("\n"))
        if cut > 0:
            head = head[:cut]
    return head.rstrip(" \n,;:-–—") + ELLIPSIS


def trim_alt_text(alt_text: str, limit: int) -> str:
    """``alt_text`` within ``limit`` characters (code points, as Mastodon counts a
    description), shortened on a character boundary with "…" if needed."""
    if len(alt_text) <= limit:
        return alt_text
    kept, length = [], len(ELLIPSIS)
    for cluster in graphemes(alt_text):
        if length + len(cluster) > limit:
            break
        kept.append(cluster)
        length += len(cluster)
    return "".join(kept).rstrip() + ELLIPSIS


def hashtag(tag: str) -> str | None:
    """``#CamelCase`` from a tag name, or None when nothing valid is left (Mastodon hashtags are
    letters, digits and underscores, with at least one letter)."""
    words = re.findall(r"\w+", tag)
    name = "".join(word[:1].upper() + word[1:] for word in words)
    if not any(character.isalpha() for character in name):
        return None
    return "#" + name
