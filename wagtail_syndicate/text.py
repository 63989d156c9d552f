"""Status length counting the way Mastodon does it, with the standard library only.

Used by the plugin to fit posts and by FakeMastodon to check them; the tests hold it to an
independent oracle (the ``regex`` package's ``\\X``), so sharing it does not hide mistakes.

Mastodon's ``StatusLengthValidator`` counts *grapheme clusters* (what a reader
sees as one character) of ``spoiler_text + text``, after replacing every URL
with a fixed-size placeholder and every ``@user@domain`` mention with
``@user``.  This module reimplements a close approximation of the Unicode
extended grapheme cluster rules (UAX #29) using :mod:`unicodedata`:

* CR LF is one cluster; other controls always stand alone;
* combining marks (``Mn``, ``Me``, ``Mc`` or a non-zero combining class),
  variation selectors, emoji skin-tone modifiers and emoji tag characters
  extend the previous cluster;
* ZERO WIDTH JOINER joins the following code point (emoji ZWJ sequences);
* regional indicators pair up into flags;
* Hangul jamo sequences form syllables;
* a consonant, a virama and a consonant of the main Indic scripts form a conjunct (GB9c).

Plain ASCII text, what most posts are, takes a fast path (``str.isascii()``) that gives the same
results: in ASCII only CR LF joins, so its clusters are its characters but for each "\r\n", and
each of them weighs 1 on X. In other text (a shortened one ends in "…") each printable ASCII
character is taken in one step of the walk. ``full_walk()`` turns both off (for the tests and
``bench/counting.py``, which compare them with the walk as it was).
"""

from __future__ import annotations

import re
import unicodedata
from contextlib import contextmanager
from urllib.parse import urlsplit

__all__ = [
    "count_graphemes",
    "full_walk",
    "graphemes",
    "status_length",
    "weighted_length",
    "shorten_links",
    "URL_RE",
    "MENTION_RE",
]

CR, LF, ZWJ, ZWNJ = 0x0D, 0x0A, 0x200D, 0x200C

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


def _is_regional_indicator(cp: int) -> bool:
    return 0x1F1E6 <= cp <= 0x1F1FF


# Spacing combining marks that UAX #29 does not count as extending (so they stand alone).
_NOT_SPACING_MARKS = frozenset(
    [0x102B, 0x102C, 0x1038, 0x1083, 0x108F, 0x1A61, 0xAA7B, 0xAA7D]
    + list(range(0x1062, 0x1065))
    + list(range(0x1067, 0x106E))
    + list(range(0x1087, 0x108D))
    + list(range(0x109A, 0x109D))
    + list(range(0x1A63, 0x1A65))
    + list(range(0x11720, 0x11722))
)
# Letters that UAX #29 counts as spacing marks all the same (Thai and Lao SARA AM).
_SPACING_LETTERS = frozenset([0x0E33, 0x0EB3])
# Prepend characters: they join the character after them (GB9b).
_PREPEND = frozenset(
    list(range(0x0600, 0x0606))
    + [0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2, 0x0D4E, 0x110BD, 0x110CD, 0x111C2, 0x111C3]
    + [0x1193F, 0x11941, 0x11A3A, 0x11D46, 0x11F02]
    + list(range(0x11A84, 0x11A8A))
)
# Extended_Pictographic, approximately: the blocks where emoji live.
_PICTOGRAPHIC_RANGES = (
    (0x00A9, 0x00A9), (0x00AE, 0x00AE), (0x203C, 0x203C), (0x2049, 0x2049),
    (0x2122, 0x2122), (0x2139, 0x2139), (0x2194, 0x2199), (0x21A9, 0x21AA),
    (0x231A, 0x231B), (0x2328, 0x2328), (0x2388, 0x2388), (0x23CF, 0x23CF),
    (0x23E9, 0x23F3), (0x23F8, 0x23FA), (0x24C2, 0x24C2), (0x25AA, 0x25AB),
    (0x25B6, 0x25B6), (0x25C0, 0x25C0), (0x25FB, 0x25FE), (0x2600, 0x27BF),
    (0x2934, 0x2935), (0x2B05, 0x2B07), (0x2B1B, 0x2B1C), (0x2B50, 0x2B50),
    (0x2B55, 0x2B55), (0x3030, 0x3030), (0x303D, 0x303D), (0x3297, 0x3297),
    (0x3299, 0x3299), (0x1F000, 0x1F0FF), (0x1F10D, 0x1F10F), (0x1F12F, 0x1F12F),
    (0x1F16C, 0x1F171), (0x1F17E, 0x1F17F), (0x1F18E, 0x1F18E), (0x1F191, 0x1F19A),
    (0x1F1AD, 0x1F1E5), (0x1F201, 0x1F20F), (0x1F21A, 0x1F21A), (0x1F22F, 0x1F22F),
    (0x1F232, 0x1F23A), (0x1F23C, 0x1F23F), (0x1F249, 0x1F3FA), (0x1F400, 0x1F53D),
    (0x1F546, 0x1F64F), (0x1F680, 0x1F6FF), (0x1F774, 0x1F77F), (0x1F7D5, 0x1F7FF),
    (0x1F80C, 0x1F80F), (0x1F848, 0x1F84F), (0x1F85A, 0x1F85F), (0x1F888, 0x1F88F),
    (0x1F8AE, 0x1F8FF), (0x1F90C, 0x1F93A), (0x1F93C, 0x1F945), (0x1F947, 0x1FAFF),
    (0x1FC00, 0x1FFFD),
)  # fmt: skip


def _is_pictographic(cp: int) -> bool:
    return any(low <= cp <= high for low, high in _PICTOGRAPHIC_RANGES)


def _is_extend(cp: int, ch: str) -> bool:
    if cp in _NOT_SPACING_MARKS:
        return False
    if cp in _SPACING_LETTERS:
        return True
    if cp in (ZWJ, ZWNJ):
        return True
    if 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF:  # variation selectors
        return True
    if 0x1F3FB <= cp <= 0x1F3FF:  # emoji skin-tone modifiers
        return True
    if 0xE0020 <= cp <= 0xE007F:  # emoji tag sequences (subdivision flags)
        return True
    if cp in (0xFF9E, 0xFF9F):  # halfwidth katakana sound marks
        return True
    return unicodedata.category(ch) in ("Mn", "Me", "Mc") or unicodedata.combining(ch) != 0


def _is_control(cp: int, ch: str) -> bool:
    if cp in (ZWJ, ZWNJ) or 0xE0020 <= cp <= 0xE007F or cp in _PREPEND:
        return False
    return unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs")


def _hangul_type(cp: int) -> str | None:
    if 0x1100 <= cp <= 0x115F or 0xA960 <= cp <= 0xA97C:
        return "L"
    if 0x1160 <= cp <= 0x11A7 or 0xD7B0 <= cp <= 0xD7C6:
        return "V"
    if 0x11A8 <= cp <= 0x11FF or 0xD7CB <= cp <= 0xD7FB:
        return "T"
    if 0xAC00 <= cp <= 0xD7A3:
        return "LV" if (cp - 0xAC00) % 28 == 0 else "LVT"
    return None


def _hangul_joins(prev: str | None, cur: str | None) -> bool:
    if prev is None or cur is None:
        return False
    if prev == "L":
        return cur in ("L", "V", "LV", "LVT")
    if prev in ("LV", "V"):
        return cur in ("V", "T")
    if prev in ("LVT", "T"):
        return cur == "T"
    return False


# GB9c (Unicode 15.1): a consonant, a virama (Indic_Conjunct_Break=Linker) and a consonant of
# Devanagari, Bengali, Gujarati, Oriya, Telugu or Malayalam make one cluster (a conjunct).
_INCB_LINKERS = frozenset({0x094D, 0x09CD, 0x0ACD, 0x0B4D, 0x0C4D, 0x0D4D})
_INCB_CONSONANTS = (
    (0x0915, 0x0939), (0x0958, 0x095F), (0x0978, 0x097F),  # Devanagari
    (0x0995, 0x09A8), (0x09AA, 0x09B0), (0x09B2, 0x09B2), (0x09B6, 0x09B9),
    (0x09DC, 0x09DD), (0x09DF, 0x09DF), (0x09F0, 0x09F1),  # Bengali
    (0x0A95, 0x0AA8), (0x0AAA, 0x0AB0), (0x0AB2, 0x0AB3), (0x0AB5, 0x0AB9),
    (0x0AF9, 0x0AF9),  # Gujarati
    (0x0B15, 0x0B28), (0x0B2A, 0x0B30), (0x0B32, 0x0B33), (0x0B35, 0x0B39),
    (0x0B5C, 0x0B5D), (0x0B5F, 0x0B5F), (0x0B71, 0x0B71),  # Oriya
    (0x0C15, 0x0C28), (0x0C2A, 0x0C39), (0x0C58, 0x0C5A),  # Telugu
    (0x0D15, 0x0D3A),  # Malayalam
)  # fmt: skip


def _is_incb_consonant(cp: int) -> bool:
    return any(low <= cp <= high for low, high in _INCB_CONSONANTS)


# Whether ASCII text takes the fast path (``full_walk()`` turns it off).
_ascii_fast_path = True
_ASCII_CLUSTER = re.compile(r"\r\n|.", re.DOTALL)


@contextmanager
def full_walk():
    """Count ASCII text too by the full walk of the rules, as all text was counted before
    the fast path (this process, every thread, for the ``with`` block)."""
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
        # ASCII has no marks, joiners, prepends, jamo or regional indicators: only CR LF
        # joins (GB3), and every other character is a cluster of its own (GB4, GB5, GB999).
        return _ASCII_CLUSTER.findall(text) if "\r\n" in text else list(text)
    return _walk(text)


def _walk(text: str) -> list[str]:
    """The clusters of ``text`` by the rules above, one code point after the other."""
    clusters: list[str] = []
    prev_cp: int | None = None
    prev_ch = ""
    ri_run = 0  # regional indicators immediately before the current position
    pictographic = False  # the current cluster is an emoji (and may go on after a ZWJ)
    conjunct = ""  # GB9c: "consonant" after one, "linked" once a virama followed it
    fast = _ascii_fast_path
    for ch in text:
        cp = ord(ch)
        if fast and 0x20 <= cp < 0x7F:
            # Printable ASCII (in a text that is not all ASCII): no rule but GB9b (after a
            # prepend) joins it to what is before it, and it ends any emoji, flag or conjunct.
            if prev_cp in _PREPEND:
                clusters[-1] += ch
            else:
                clusters.append(ch)
                pictographic = False
            ri_run, conjunct, prev_cp, prev_ch = 0, "", cp, ch
            continue
        if prev_cp is None:
            joins = False
        elif prev_cp == CR and cp == LF:
            joins = True
        elif prev_cp in (CR, LF) or cp in (CR, LF):
            joins = False
        elif _is_control(prev_cp, prev_ch) or _is_control(cp, ch):
            joins = False
        elif _hangul_joins(_hangul_type(prev_cp), _hangul_type(cp)):
            joins = True
        elif _is_extend(cp, ch):
            joins = True
        elif conjunct == "linked" and _is_incb_consonant(cp):
            joins = True  # GB9c
        elif prev_cp == ZWJ:
            joins = pictographic and _is_pictographic(cp)  # GB11: emoji ZWJ sequences only
        elif prev_cp in _PREPEND:
            joins = True
        elif _is_regional_indicator(cp) and ri_run % 2 == 1:
            joins = True
        else:
            joins = False
        if joins:
            clusters[-1] += ch
        else:
            clusters.append(ch)
            pictographic = _is_pictographic(cp)
        ri_run = ri_run + 1 if _is_regional_indicator(cp) else 0
        if _is_incb_consonant(cp):
            conjunct = "consonant"
        elif cp in _INCB_LINKERS and conjunct:
            conjunct = "linked"
        elif not (conjunct and (cp == ZWJ or _is_extend(cp, ch))):
            conjunct = ""
        prev_cp, prev_ch = cp, ch
    return clusters


def count_graphemes(text: str) -> int:
    """Number of user-perceived characters (extended grapheme clusters)."""
    if _plain_ascii(text):
        return len(text) - text.count("\r\n")  # CR LF is one cluster; the pairs never overlap
    return len(_walk(text))


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
_KEYCAP_BASES = frozenset("#*0123456789")


def _is_emoji(cluster: str) -> bool:
    """Whether twitter-text counts ``cluster`` as one emoji: a flag, a keycap, or a sequence
    (modifiers, presentation selector, joined emoji) that starts with a pictograph."""
    first = cluster[0]
    if _is_regional_indicator(ord(first)):
        return True
    if first in _KEYCAP_BASES:
        return cluster[-1] == "\u20e3"
    return len(cluster) > 1 and _is_pictographic(ord(first))


def _weigh(text: str) -> int:
    """The weight of ``text``'s clusters: for ASCII, one a character (no emoji, every code
    point in the light range; CR LF is two characters of weight 1)."""
    if _plain_ascii(text):
        return len(text)
    return sum(map(_weight, _walk(text)))


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
