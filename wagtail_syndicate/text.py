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
* Hangul jamo sequences form syllables.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["count_graphemes", "graphemes", "status_length", "URL_RE", "MENTION_RE"]

CR, LF, ZWJ, ZWNJ = 0x0D, 0x0A, 0x200D, 0x200C

# Twitter-text style URL: not glued to a preceding word, http(s) only.
URL_RE = re.compile(r"(?<![A-Za-z0-9@$#＠＃])https?://[^\s<>\"'\u3000]+", re.IGNORECASE)
# Mastodon's Account::MENTION_RE: only "@username" counts, not the domain.
MENTION_RE = re.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@[\w.-]+\w+)?",
    re.IGNORECASE,
)
_TRAILING_PUNCTUATION = ".,:;!?'\"*"


def _is_regional_indicator(cp: int) -> bool:
    return 0x1F1E6 <= cp <= 0x1F1FF


def _is_extend(cp: int, ch: str) -> bool:
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
    if cp in (ZWJ, ZWNJ) or 0xE0020 <= cp <= 0xE007F:
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


def graphemes(text: str) -> list[str]:
    """``text`` split into user-perceived characters (extended grapheme clusters)."""
    clusters: list[str] = []
    prev_cp: int | None = None
    prev_ch = ""
    ri_run = 0  # regional indicators immediately before the current position
    for ch in text:
        cp = ord(ch)
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
        elif prev_cp == ZWJ:
            joins = True
        elif _is_regional_indicator(cp) and ri_run % 2 == 1:
            joins = True
        else:
            joins = False
        if joins:
            clusters[-1] += ch
        else:
            clusters.append(ch)
        ri_run = ri_run + 1 if _is_regional_indicator(cp) else 0
        prev_cp, prev_ch = cp, ch
    return clusters


def count_graphemes(text: str) -> int:
    """Number of user-perceived characters (extended grapheme clusters)."""
    return len(graphemes(text))


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


def countable_text(text: str, url_length: int = 23) -> str:
    """The text Mastodon measures: URLs become ``url_length`` placeholder
    characters, remote mentions lose their domain."""
    pieces: list[str] = []
    pos = 0
    for match in URL_RE.finditer(text):
        end = url_end(text, match.start(), match.end())
        if text[match.start() : end].lower() in ("http://", "https://"):
            continue
        pieces.append(_strip_mention_domains(text[pos : match.start()]))
        pieces.append("x" * url_length)
        pos = end
    pieces.append(_strip_mention_domains(text[pos:]))
    return "".join(pieces)


def _strip_mention_domains(text: str) -> str:
    return MENTION_RE.sub(lambda m: "@" + m.group(1), text)


def status_length(text: str, spoiler_text: str = "", url_length: int = 23) -> int:
    """Length of a status as Mastodon's StatusLengthValidator computes it."""
    return count_graphemes(countable_text(spoiler_text + text, url_length))
