"""The values page models hand the plugin (``SyndicatedPageMixin``'s methods return them)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class SyndicationOptions:
    """What a post says besides its words, from ``get_syndication_options(account)``: its
    content warning (``""``: none), visibility (one of the account network's visibilities,
    e.g. Mastodon's "public", "unlisted", "private", "direct") and language (an ISO 639-1 code
    such as "en", or ``None`` to let the network decide)."""

    spoiler_text: str = ""
    visibility: str = "public"
    language: str | None = None
