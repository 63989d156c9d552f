"""Text length counted the way Mastodon, Bluesky and X count it.

Used by the plugin to fit posts. Mastodon's ``StatusLengthValidator`` and Bluesky count
*grapheme clusters* (what a reader sees as one character): Mastodon of ``spoiler_text + text``,
after replacing every URL with a fixed-size placeholder and every ``@user@domain`` mention with
``@user``. The clusters are Unicode's extended grapheme clusters (UAX #29), found by the
``regex`` module's ``\\X``, which follows Unicode's releases. X weighs each code point by its
range and each emoji as 2 (twitter-text's configuration v3).

Plain ASCII text, what most posts are, takes a fast path (``str.isascii()``) that gives the same
results: in ASCII only CR LF joins, so its clusters are its characters but for each "\\r\\n",
and each of them weighs 1 on X (``bench/counting.py`` and
``tests/content/test_counting_fast_path.py`` compare it with ``\\X``).
"""

from __future__ import annotations

import re
import unicodedata
from contextlib import contextmanager
from urllib.parse import urlsplit

import regex

__all__ = [
    "count_graphemes",
    "graphemes",
    "status_length",
    "weighted_length",
    "shorten_links",
    "URL_RE",
    "MENTION_RE",
]

# Twitter-text style URL: not glued to a preceding word, http(s) only, ending before a
# directional formatting mark (as twitter-text's conformance cases have it).
URL_RE = re.compile(
    r"(?<![A-Za-z0-9@$#＠＃])https?://[^\s<>\"'\u3000\u200e\u200f\u202a-\u202e\u2066-\u2069]+",
    re.IGNORECASE,
)
# Mastodon's Account::MENTION_RE: only "@username" counts, not the domain.
MENTION_RE = re.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@[\w.-]+\w+)?",
    re.IGNORECASE,
)
_TRAILING_PUNCTUATION = ".,:;!?'\"*"


# An extended grapheme cluster (UAX #29), by the ``regex`` module, which follows Unicode's
# releases: CR LF, combining marks, emoji ZWJ sequences, flags, Hangul syllables, Indic
# conjuncts (GB9c) and every rule of the version it implements.
_CLUSTER = regex.compile(r"\X")

# Whether ASCII text takes the fast path (``bench/counting.py`` and the tests turn it off to
# compare it with ``\X``).
_ascii_fast_path = True
_ASCII_CLUSTER = re.compile(r"\r\n|.", re.DOTALL)


@contextmanager
def _without_ascii_fast_path():
    r"""Count ASCII text by ``\X`` too (this process, every thread, for the ``with`` block)."""
    global _ascii_fast_path
    previous, _ascii_fast_path = _ascii_fast_path, False
    try:
        yield
    finally:
        _ascii_fast_path = previous


def _plain_ascii(text: str) -> bool:
    return _ascii_fast_path and text.isascii()


def graphemes(text: str) -> list[str]:
    """``text`` split into user-perceived characters (extended grapheme clusters)."""
    if _plain_ascii(text):
        # In ASCII only CR LF joins (GB3); every other character is a cluster of its own (GB4,
        # GB5, GB999): ASCII has no marks, joiners, prepends, jamo or regional indicators.
        return _ASCII_CLUSTER.findall(text) if "\r\n" in text else list(text)
    return _CLUSTER.findall(text)


def count_graphemes(text: str) -> int:
    """Number of user-perceived characters (extended grapheme clusters)."""
    if _plain_ascii(text):
        return len(text) - text.count("\r\n")  # CR LF is one cluster; the pairs never overlap
    return len(_CLUSTER.findall(text))


def url_end(text: str, start: int, end: int) -> int:
    """Trim trailing punctuation (and unbalanced closing brackets) off a URL."""
    while end > start:
        last = text[end - 1]
        if last in _TRAILING_PUNCTUATION:
            end -= 1
        elif last in ")]}":
            opening = {")": "(", "]": "[", "}": "{"}[last]
            segment = text[start:end]
            if segment.count(opening) < segment.count(last):
                end -= 1
            else:
                break
        else:
            break
    return end


def link_spans(text: str) -> list[tuple[int, int]]:
    """Where the http(s) URLs of ``text`` are, as (start, end) indexes, trailing punctuation
    left out: the one reading of links that every counting rule and the Bluesky facets use."""
    spans = []
    for match in URL_RE.finditer(text):
        end = url_end(text, match.start(), match.end())
        if text[match.start() : end].lower() not in ("http://", "https://"):
            spans.append((match.start(), end))
    return spans


def countable_text(text: str, url_length: int = 23) -> str:
    """The text Mastodon measures: URLs become ``url_length`` placeholder
    characters, remote mentions lose their domain."""
    pieces: list[str] = []
    pos = 0
    for start, end in link_spans(text):
        pieces.append(_strip_mention_domains(text[pos:start]))
        url = text[start:end]
        # A URL that may not be linked counts as the longer of the two readings.
        linked = _surely_linked(url) or count_graphemes(url) <= url_length
        pieces.append("x" * url_length if linked else url)
        pos = end
    pieces.append(_strip_mention_domains(text[pos:]))
    return "".join(pieces)


def short_url(url: str) -> str:
    """A link as the Bluesky app shows it (``toShortUrl`` in bluesky-social/social-app): no
    scheme, and a path (with query and fragment) longer than 15 characters cut to 13 and
    "..."."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return url
    path = "" if parts.path == "/" else parts.path
    path += ("?" + parts.query if parts.query else "") + (
        "#" + parts.fragment if parts.fragment else ""
    )
    return parts.netloc + (path[:13] + "..." if len(path) > 15 else path)


def shorten_links(text: str) -> tuple[str, list[tuple[int, int, str]]]:
    """``text`` with each link shown short (``short_url``), and where each one is in it: its
    UTF-8 byte offsets (start, end) and the full URL it stands for."""
    pieces: list[str] = []
    links = []
    pos, size = 0, 0
    for start, end in link_spans(text):
        before, shown = text[pos:start], short_url(text[start:end])
        size += len(before.encode())
        links.append((size, size + len(shown.encode()), text[start:end]))
        size += len(shown.encode())
        pieces += [before, shown]
        pos = end
    pieces.append(text[pos:])
    return "".join(pieces), links


def _strip_mention_domains(text: str) -> str:
    return MENTION_RE.sub(lambda m: "@" + m.group(1), text)


def status_length(text: str, spoiler_text: str = "", url_length: int = 23) -> int:
    """Length of a status as Mastodon's StatusLengthValidator computes it: the content
    warning as it is, then the text with its URLs and mentions shortened."""
    return count_graphemes(spoiler_text + countable_text(text, url_length))


# X's weighted count (twitter-text configuration v3): code points in these ranges weigh 1,
# every other code point 2, an emoji (a whole sequence) 2, every URL ``url_length``.
_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
# twitter-text's emoji: a flag (or a lone regional indicator), a keycap, or a sequence
# (modifiers, presentation selector, joined emoji) that starts with a pictograph.
_EMOJI = regex.compile(r"\p{RI}.*|[#*0-9].*\u20e3|\p{Extended_Pictographic}.+", regex.DOTALL)


def _is_emoji(cluster: str) -> bool:
    """Whether twitter-text counts ``cluster`` as one emoji."""
    return _EMOJI.fullmatch(cluster) is not None


def _weigh(text: str) -> int:
    """The weight of ``text``'s clusters: for ASCII, one a character (no emoji, every code
    point in the light range; CR LF is two characters of weight 1)."""
    if _plain_ascii(text):
        return len(text)
    return sum(map(_weight, _CLUSTER.findall(text)))


def _weight(cluster: str) -> int:
    if _ascii_fast_path and cluster.isascii():
        return len(cluster)  # no emoji, every character light
    if _is_emoji(cluster):
        return 2
    return sum(
        1 if any(low <= ord(ch) <= high for low, high in _LIGHT_RANGES) else 2 for ch in cluster
    )


def _host(url: str) -> str:
    host = re.split(r"[/?#]", url.split("://", 1)[1], maxsplit=1)[0].rsplit("@", 1)[-1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _valid_host(url: str) -> bool:
    """twitter-text takes no URL whose host has a label longer than 63 characters once
    encoded for DNS (punycode for labels that are not ASCII)."""
    for label in _host(url).split("."):
        encoded = label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii")
        if len(encoded) > 63:
            return False
    return True


_TLD_RE = re.compile(r"[^\W\d_]{2,}|xn--[a-z0-9-]+", re.IGNORECASE)


def _surely_linked(url: str) -> bool:
    """Whether every server takes ``url`` for a link. Mastodon and X link only hosts that end
    in a top-level domain (twitter-text's rule: not ``http://localhost/`` nor an address),
    and count any other URL at its full length."""
    host = _host(url).rstrip(".")
    return "." in host and bool(_TLD_RE.fullmatch(host.rsplit(".", 1)[-1]))


# A domain written without http(s):// ("example.com", "example.com/path"), which X links too
# when it knows the top-level domain.
_BARE_DOMAIN_RE = re.compile(
    r"(?<![\w@#$./:-])(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}(?![\w@-])(?:/[^\s<>\"']*)?"
)


def _plain_weight(text: str, url_length: int) -> int:
    """The weight of text without http(s) links. A bare domain counts as ``url_length`` if X
    takes it for a link, else as its characters; which X does depends on its list of top-level
    domains, so the larger of the two is counted: never less than X counts."""
    length, pos = 0, 0
    for match in _BARE_DOMAIN_RE.finditer(text):
        end = url_end(text, match.start(), match.end())
        domain = text[match.start() : end]
        length += _weigh(text[pos : match.start()])
        own = _weigh(domain)
        length += max(own, url_length) if _valid_host("http://" + domain) else own
        pos = end
    return length + _weigh(text[pos:])


def weighted_length(text: str, url_length: int = 23) -> int:
    """Length of a post as X counts it: the text in Unicode NFC, each URL as ``url_length``,
    most Latin, Greek, Cyrillic, Hebrew and Arabic characters (up to U+10FF) and common
    punctuation as 1, other characters (CJK, Hangul, ...) as 2, each emoji as 2. A domain
    without http(s):// counts as at least ``url_length`` (see ``_plain_weight``)."""
    if not _plain_ascii(text):  # ASCII is in NFC already
        text = unicodedata.normalize("NFC", text)
    length, pos = 0, 0
    for start, end in link_spans(text):
        url = text[start:end]
        if not _valid_host(url):
            continue
        own = 0 if _surely_linked(url) else _weigh(url)
        length += _plain_weight(text[pos:start], url_length) + max(own, url_length)
        pos = end
    return length + _plain_weight(text[pos:], url_length)
