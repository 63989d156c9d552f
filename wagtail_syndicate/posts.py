"""What gets posted: the ``Post`` and ``Media`` composed from a page.

Composing reads the database and storage (the page, its image, renditions); it makes no network
request, so the editor can be told at publish time when a page cannot be shared.
"""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Media:
    """One image to upload. ``file`` is a Django ``File`` (read through storage, never by path)."""

    file: Any = field(repr=False)
    filename: str
    content_type: str
    alt_text: str
    focus: tuple[float, float] | None
    width: int
    height: int
    size: int


@dataclass(frozen=True)
class Post:
    text: str
    url: str
    media: list[Media] = field(default_factory=list)


def focus_from_focal_point(image) -> tuple[float, float] | None:
    """Mastodon's focus ``(x, y)`` in [-1, 1] (y up) from a Wagtail focal point, or ``None``.

    Wagtail stores the centre of the focal area in pixels from the top-left corner.
    """
    if image.focal_point_x is None or image.focal_point_y is None:
        return None
    x = 2 * image.focal_point_x / image.width - 1
    y = 1 - 2 * image.focal_point_y / image.height
    return (round(max(-1.0, min(1.0, x)), 2), round(max(-1.0, min(1.0, y)), 2))


def compose_post(page, account) -> Post:
    """Compose the post of ``page`` (a specific, live page) for ``account``.

    Raises ``ContentError`` when the page cannot be posted (no image, no alt text, an image
    that cannot be made to fit).
    """
    from .fitting import Limits, fit_image

    limits = Limits()
    media = [
        fit_image(image, alt_text, limits) for image, alt_text in page.get_syndication_images()
    ]
    return Post(
        text=page.get_syndication_text(account), url=page.get_syndication_url(), media=media
    )
