"""Fit a post to a server's limits: images (as renditions if need be), alt text and text."""

import math
import re

from django.utils.translation import gettext as _

from .exceptions import ContentError
from .limits import Limits
from .posts import Media, focus_from_focal_point, image_source
from .text import graphemes

CONTENT_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "avif": "image/avif",
    "heic": "image/heic",
}
# Tried in order when an image is too large as it is: lossless first, then lossy at falling quality.
JPEG_QUALITIES = (85, 75, 65, 50)


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


# Text ----------------------------------------------------------------------------------------

ELLIPSIS = "…"
# Placeholders whose words may be shortened, in the order they give way.
SHORTENABLE = ("intro", "title")


PLACEHOLDER = re.compile(r"\{(title|intro|url|tags)\}")


def render_text(template: str, values: dict[str, str]) -> str:
    """``template`` with its placeholders (``{title}``, ``{intro}``, ``{url}``, ``{tags}``)
    filled in and other braces left alone, tidied: no trailing spaces, no runs of blank lines
    left by empty placeholders."""
    text = PLACEHOLDER.sub(lambda match: values.get(match.group(1), ""), template)
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
    raise ContentError(
        _(
            "The text of the post is %(over)s characters over this server's limit of "
            "%(limit)s and cannot be shortened: shorten the custom text or content warning."
        )
        % {"over": over, "limit": limits.max_characters}
    )


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
