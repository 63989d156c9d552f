"""What a server accepts (``Limits``), and how each network counts the length of a post."""

from dataclasses import dataclass, field

from wagtail_syndicate.networks.text import (
    count_graphemes,
    shorten_links,
    status_length,
    weighted_length,
)

# Mastodon's own defaults, used when a server does not say.
DEFAULT_FORMATS = frozenset({"jpeg", "png", "gif", "webp"})


# How a network counts the length of a post (``Limits.counting``).
COUNTING_RULES = {
    # Mastodon: graphemes of the content warning and the text, each URL as characters_per_url,
    # remote mentions without their domain.
    "mastodon": lambda text, spoiler, limits: (
        count_graphemes(spoiler + text)
        if limits.full_length_links
        else status_length(text, spoiler, limits.characters_per_url)
    ),
    # Graphemes of the text as written, links included; no content-warning text.
    "graphemes": lambda text, spoiler, limits: count_graphemes(text),
    # Bluesky: graphemes of the text as shown, each link short (``Limits.shown``).
    "bluesky": lambda text, spoiler, limits: count_graphemes(limits.shown(text)),
    # X: weighted characters (CJK and emoji 2), each URL as characters_per_url.
    "weighted": lambda text, spoiler, limits: weighted_length(text, limits.characters_per_url),
}


@dataclass(frozen=True)
class Limits:
    """A server's limits. The defaults are Mastodon's."""

    max_characters: int = 500
    max_media: int = 4
    characters_per_url: int = 23
    image_size_limit: int = 16 * 1024 * 1024
    image_matrix_limit: int = 33_177_600
    description_limit: int = 1500
    supported_formats: frozenset[str] = field(default=DEFAULT_FORMATS)
    # The name of the rule the network counts text with (a key of ``COUNTING_RULES``).
    counting: str = "mastodon"
    # A limit on the size of the text as posted, in UTF-8 bytes, when the network has one.
    max_bytes: int | None = None
    # The longest side, in pixels, the network takes (None: no limit but the matrix limit).
    max_side: int | None = None
    # The longest side the network shows an image at (the Bluesky app: 2000 px). An image that
    # must be made smaller is first scaled to it, when it is larger; one that fits as it is,
    # is sent as it is. None: the image's own size, within the pixel limits.
    display_side: int | None = None
    # The server counts every link (and mention) as written, whatever it says it reserves per
    # URL (``FULL_LENGTH_LINKS``).
    full_length_links: bool = False

    def length(self, text: str, spoiler_text: str = "") -> int:
        """The length of a post with ``text`` and content warning ``spoiler_text``, counted
        as the network counts it (compare with ``max_characters``)."""
        return COUNTING_RULES[self.counting](text, spoiler_text, self)

    def shown(self, text: str) -> str:
        """``text`` as the network shows it: on Bluesky each link short (``text.short_url``),
        as its app writes links; elsewhere as it is."""
        return shorten_links(text)[0] if self.counting == "bluesky" else text

    def fits(self, text: str, spoiler_text: str = "") -> bool:
        """Whether a post with ``text`` is within ``max_characters`` and ``max_bytes``."""
        if self.length(text, spoiler_text) > self.max_characters:
            return False
        return self.max_bytes is None or len(self.shown(text).encode()) <= self.max_bytes
