"""An image's file read and checked before anything is made from it: its format and EXIF
orientation from its header, its pixels within ``MAX_SOURCE_PIXELS``, and what an editor is
told when it is missing, unreadable or too large."""

from xml.etree.ElementTree import ParseError

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image as PILImage
from wagtail.images.models import SourceImageIOError
from willow.image import Image as WillowImage

from wagtail_syndicate.conf import get_setting
from wagtail_syndicate.exceptions import ImageError

EXIF_ORIENTATION = 0x0112
# What reading or decoding an image's file raises when it is missing, damaged or no picture.
IMAGE_ERRORS = (OSError, ValueError, SyntaxError, ParseError, PILImage.DecompressionBombError)
# MAX_SOURCE_PIXELS when neither it nor Wagtail's WAGTAILIMAGES_MAX_IMAGE_PIXELS is set.
DEFAULT_MAX_SOURCE_PIXELS = 100_000_000


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
        probe(image)
    except ImageError:
        raise
    except IMAGE_ERRORS as err:
        raise image_error(image, err) from err


def probe(image) -> tuple[str, int]:
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
