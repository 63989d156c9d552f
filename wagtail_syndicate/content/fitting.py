"""Fit a post's text to a server's limits: placeholders filled in, the intro and title
shortened, hashtags dropped; alt text trimmed; hashtags made from tag names."""

import re

from django.utils.translation import gettext as _

from wagtail_syndicate.exceptions import ContentError
from wagtail_syndicate.networks.limits import Limits
from wagtail_syndicate.networks.text import graphemes

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
