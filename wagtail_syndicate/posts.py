"""What gets posted: the ``Post`` and ``Media`` composed from a page.

Composing reads the database and storage (the page, its image, renditions); it makes no network
request, so the editor can be told at publish time when a page cannot be shared.
"""

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Media:
    """One image to upload. ``file`` is a Django ``File`` (read through storage, never by path).

    ``source`` names the original image file, so an upload can be recognised and reused.
    """

    file: Any = field(repr=False)
    filename: str
    content_type: str
    alt_text: str
    focus: tuple[float, float] | None
    width: int
    height: int
    size: int
    source: str


@dataclass(frozen=True)
class Post:
    text: str
    url: str
    media: list[Media] = field(default_factory=list)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.text, [(m.source, m.alt_text, m.focus) for m in self.media])


def fingerprint(text: str, images: list[tuple[str, str, tuple | None]]) -> str:
    """A hash of everything a post shows: its text and each image's source, alt text and focus.

    Computed both from a composed ``Post`` and, cheaply, from a page (``page_fingerprint``), so
    a republish can tell whether the post would change without making renditions.
    """
    payload = json.dumps([text, [[s, a, list(f) if f else None] for s, a, f in images]])
    return hashlib.sha256(payload.encode()).hexdigest()


def image_source(image) -> str:
    # A new file uploaded to a Wagtail image gets a new name, so this changes with the picture.
    return f"{image.pk}:{image.file.name}"


def focus_from_focal_point(image) -> tuple[float, float] | None:
    """Mastodon's focus ``(x, y)`` in [-1, 1] (y up) from a Wagtail focal point, or ``None``.

    Wagtail stores the centre of the focal area in pixels from the top-left corner.
    """
    if image.focal_point_x is None or image.focal_point_y is None:
        return None
    x = 2 * image.focal_point_x / image.width - 1
    y = 1 - 2 * image.focal_point_y / image.height
    return (round(max(-1.0, min(1.0, x)), 2), round(max(-1.0, min(1.0, y)), 2))


def page_fingerprint(page, account) -> str:
    """The fingerprint of the post ``compose_post`` would make, without making it."""
    images = [
        (image_source(image), alt_text, focus_from_focal_point(image))
        for image, alt_text in page.get_syndication_images()
    ]
    return fingerprint(page.get_syndication_text(account), images)


def compose_post(page, account) -> Post:
    """Compose the post of ``page`` (a specific, live page) for ``account``.

    Raises ``ContentError`` when the page cannot be posted (no image, no alt text, an image
    that cannot be made to fit).
    """
    from .fitting import Limits, fit_image

    limits = Limits()
    images = page.get_syndication_images()
    media = [fit_image(image, alt_text, limits) for image, alt_text in images]
    text = page.get_syndication_text(account)
    return Post(text=text, url=page.get_syndication_url(), media=media)
