"""Fit a post to a network's limits: images within size and pixel limits, as renditions."""

import math
from dataclasses import dataclass

from django.utils.translation import gettext as _

from .exceptions import ContentError
from .posts import Media, focus_from_focal_point, image_source

CONTENT_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}
# Tried in order when an image is too large as it is: lossless first, then lossy at falling quality.
JPEG_QUALITIES = (85, 75, 65, 50)


@dataclass(frozen=True)
class Limits:
    """A network's limits. The defaults are Mastodon's."""

    max_characters: int = 500
    max_media: int = 4
    characters_per_url: int = 23
    image_size_limit: int = 16 * 1024 * 1024
    image_matrix_limit: int = 33_177_600
    description_limit: int = 1500
    supported_formats: frozenset[str] = frozenset(CONTENT_TYPES)


def fit_image(image, alt_text: str, limits: Limits) -> Media:
    """The image as it is when the network takes it, else the largest rendition that fits."""
    file, file_format, width, height, size = _fitting_file(image, limits)
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
    image_format = _format_of(image)
    size = image.file_size or image.file.size
    if (
        image_format in limits.supported_formats
        and size <= limits.image_size_limit
        and image.width * image.height <= limits.image_matrix_limit
    ):
        return image.file, image_format, image.width, image.height, size
    resize = _resize_filter(image.width, image.height, limits.image_matrix_limit)
    for spec, rendition_format in _rendition_specs(resize, image_format, limits):
        rendition = image.get_rendition(spec)
        if rendition.file.size <= limits.image_size_limit:
            return (
                rendition.file,
                rendition_format,
                rendition.width,
                rendition.height,
                rendition.file.size,
            )
    raise ContentError(
        _("The image “%(title)s” is too large to share even at reduced quality.")
        % {"title": image.title}
    )


def _format_of(image) -> str:
    with image.get_willow_image() as willow:
        return willow.format_name


def _resize_filter(width: int, height: int, matrix_limit: int) -> str:
    """A ``max-WxH`` filter keeping the aspect ratio with W×H within the pixel limit."""
    if width * height <= matrix_limit:
        return f"max-{width}x{height}"
    scale = math.sqrt(matrix_limit / (width * height))
    new_width, new_height = max(1, int(width * scale)), max(1, int(height * scale))
    while new_width * new_height > matrix_limit:
        new_width -= 1
        new_height = max(1, int(height * new_width / width))
    return f"max-{new_width}x{new_height}"


def _rendition_specs(resize: str, image_format: str, limits: Limits):
    if image_format in limits.supported_formats and image_format in ("png", "gif"):
        yield f"{resize}|format-{image_format}", image_format
    if image_format == "webp" and "webp" in limits.supported_formats:
        for quality in JPEG_QUALITIES:
            yield f"{resize}|format-webp|webpquality-{quality}", "webp"
    for quality in JPEG_QUALITIES:
        yield f"{resize}|format-jpeg|jpegquality-{quality}", "jpeg"


def _filename(name: str, image_format: str) -> str:
    stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0] or "image"
    return f"{stem}.{'jpg' if image_format == 'jpeg' else image_format}"
