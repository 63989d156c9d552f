"""The values page models hand the plugin (``SyndicatedPageMixin``'s methods return them)."""

import unicodedata
from dataclasses import dataclass
from typing import Any, NamedTuple

# The first letter of the Unicode categories of characters that show: letters, numbers,
# punctuation and symbols (emoji are symbols). Spaces, format characters (zero-width ones),
# controls and combining marks on their own show nothing.
VISIBLE_CATEGORIES = frozenset("LNPS")


def has_visible_characters(text: str | None) -> bool:
    """True when ``text`` has a character that shows (a letter, number, punctuation mark or
    symbol, emoji included), not only spaces, zero-width or other format characters, controls
    or combining marks."""
    return any(unicodedata.category(character)[0] in VISIBLE_CATEGORIES for character in text or "")


class SyndicationImage(NamedTuple):
    """One image of a post and its alt text, from ``get_syndication_images()``. A plain
    ``(image, alt_text)`` pair is taken too. An alt text with no visible character counts as
    none: the post is refused with the reason, never sent without one."""

    image: Any
    alt_text: str

    @classmethod
    def described(cls, image, alt_text: str | None = "") -> "SyndicationImage":
        """``image`` with ``alt_text``, else the image's own ``description`` (the fallback the
        mixin uses for its image field), else no alt text."""
        for text in (alt_text, getattr(image, "description", "")):
            text = (text or "").strip()
            if has_visible_characters(text):
                return cls(image, text)
        return cls(image, "")


@dataclass(frozen=True)
class SyndicationOptions:
    """What a post says besides its words, from ``get_syndication_options(account)``: its
    content warning (``""``: none), visibility (one of the account network's visibilities,
    e.g. Mastodon's "public", "unlisted", "private", "direct") and language (an ISO 639-1 code
    such as "en", or ``None`` to let the network decide)."""

    spoiler_text: str = ""
    visibility: str = "public"
    language: str | None = None
