"""How each real service measures a post's text, written for the fakes alone.

The fakes judge the plugin, so they never use its counting: this module is theirs, and it
leans on judges nobody on the project wrote.

* Graphemes are the ``regex`` package's ``\\X`` (Unicode's extended grapheme clusters, UAX #29),
  as Mastodon (Ruby's ``grapheme_clusters``) and Bluesky (the lexicon's ``maxGraphemes``) count.
* X's weighted length follows twitter-text's published configuration v3 (``X_CONFIG``).

Links are found by a rule of the fakes' own, simpler than twitter-text's (see ``links``):
an ``http://`` or ``https://`` URL, running to the first space, quote, angle bracket or
directional formatting mark, less trailing punctuation and unbalanced closing brackets, whose
host ends in a top-level domain of two letters or more (any: twitter-text knows which exist);
a host with a label longer than 63 characters once encoded for DNS is no link (as twitter-text
says).
For X only, a domain written without a scheme is a link when its top-level domain is one of
``_BARE_GENERIC_TLDS`` or a two-letter country code with a path or a third label after it;
twitter-text knows every top-level domain instead, so the fake links fewer bare domains than X.
"""

from __future__ import annotations

import re
import unicodedata

import regex

__all__ = [
    "X_CONFIG",
    "bluesky_text_problem",
    "count_graphemes",
    "graphemes",
    "links",
    "mastodon_length",
    "x_weighted_length",
]

_GRAPHEME = regex.compile(r"\X")


def graphemes(text: str) -> list[str]:
    """``text`` in extended grapheme clusters (``regex``'s ``\\X``)."""
    return _GRAPHEME.findall(text)


def count_graphemes(text: str) -> int:
    return len(graphemes(text))


# --------------------------------------------------------------------------------------- links

_DIRECTIONAL = "\u200e\u200f\u202a-\u202e\u2066-\u2069"
_URL = re.compile(rf"(?<![\w@$#＠＃/.-])https?://[^\s<>\"'\u3000{_DIRECTIONAL}]+", re.IGNORECASE)
_BARE = re.compile(
    rf"(?<![\w@$#＠＃/.:-])(?:[^\W_](?:[\w-]*[^\W_])?\.)+([a-z]{{2,}})(?![\w@-])"
    rf"(/[^\s<>\"'\u3000{_DIRECTIONAL}]*)?",
    re.IGNORECASE,
)
_BARE_GENERIC_TLDS = frozenset(
    "com net org edu gov mil int info biz name pro mobi app dev io me tv co blog shop".split()
)
_CLOSING = {")": "(", "]": "[", "}": "{"}


def _trim(text: str, start: int, end: int) -> int:
    """Where a link found at ``text[start:end]`` really ends: without the punctuation that
    ends a sentence, nor a closing bracket it did not open."""
    while end > start:
        last = text[end - 1]
        if last in ".,:;!?'\"*":
            end -= 1
        elif last in _CLOSING and text[start:end].count(_CLOSING[last]) < text[start:end].count(
            last
        ):
            end -= 1
        else:
            break
    return end


_TLD = re.compile(r"[^\W\d_]{2,}|xn--[a-z0-9-]+", re.IGNORECASE)


def _host_ok(link: str) -> bool:
    """Whether the host ends in a top-level domain (letters, two or more: "localhost" and
    "example.x" are no links on X nor Mastodon) and has no label longer than 63 characters
    once encoded for DNS."""
    host = re.split(r"[/?#]", link.split("://", 1)[-1], maxsplit=1)[0]
    host = host.rsplit("@", 1)[-1].split(":", 1)[0]
    if "." not in host or not _TLD.fullmatch(host.rsplit(".", 1)[-1]):
        return False
    for label in host.split("."):
        try:
            encoded = label.encode("idna") if label else b""
        except UnicodeError:
            encoded = ("xn--" + label.encode("punycode").decode("ascii")).encode()
        if len(encoded) > 63:
            return False
    return True


def links(text: str, *, bare: bool = False) -> list[tuple[int, int]]:
    """The links of ``text`` as ``(start, end)`` indexes; with ``bare``, domains written
    without a scheme too (as X links them; see the module's docstring)."""
    found = []
    for match in _URL.finditer(text):
        end = _trim(text, match.start(), match.end())
        if _host_ok(text[match.start() : end]):
            found.append((match.start(), end))
    if bare:
        taken = [range(s, e) for s, e in found]
        for match in _BARE.finditer(text):
            if any(match.start() in span for span in taken):
                continue
            tld, path = match.group(1).lower(), match.group(2)
            labels = match.group(0).split("/", 1)[0].count(".") + 1
            if tld not in _BARE_GENERIC_TLDS and not (len(tld) == 2 and (path or labels > 2)):
                continue
            end = _trim(text, match.start(), match.end())
            if _host_ok("http://" + text[match.start() : end]):
                found.append((match.start(), end))
        found.sort()
    return found


# ------------------------------------------------------------------------------------ Mastodon

# A remote mention counts as its local part: "@alice@example.social" is "@alice".
_REMOTE_MENTION = re.compile(r"(?<![=/\w])(@[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)@\w+(?:[.-]+\w+)*", re.I)


def mastodon_length(text: str, spoiler_text: str = "", url_length: int = 23) -> int:
    """What Mastodon's StatusLengthValidator counts: the graphemes of the content warning and
    of the text, where each http(s) URL counts as ``url_length`` and a remote mention as its
    local part."""
    pieces, pos = [], 0
    for start, end in links(text):
        pieces += [_REMOTE_MENTION.sub(r"\1", text[pos:start]), "x" * url_length]
        pos = end
    pieces.append(_REMOTE_MENTION.sub(r"\1", text[pos:]))
    return count_graphemes(spoiler_text) + count_graphemes("".join(pieces))


# ------------------------------------------------------------------------------------- Bluesky

BLUESKY_MAX_GRAPHEMES, BLUESKY_MAX_BYTES = 300, 3000  # app.bsky.feed.post's text


def bluesky_text_problem(text: str) -> str:
    """Why the lexicon refuses ``text`` as a post's text, or "" when it takes it."""
    if len(text.encode()) > BLUESKY_MAX_BYTES:
        return f"Record/text must not be longer than {BLUESKY_MAX_BYTES} characters"
    if count_graphemes(text) > BLUESKY_MAX_GRAPHEMES:
        return f"Record/text must not be longer than {BLUESKY_MAX_GRAPHEMES} graphemes"
    return ""


# ------------------------------------------------------------------------------------------- X

# twitter-text's configuration v3, as published in twitter/twitter-text, config/v3.json
# (https://github.com/twitter/twitter-text/blob/30e2430d90cff3b46393ea54caf511441983c260/config/v3.json).
X_CONFIG = {
    "version": 3,
    "maxWeightedTweetLength": 280,
    "scale": 100,
    "defaultWeight": 200,
    "emojiParsingEnabled": True,
    "transformedURLLength": 23,
    "ranges": [
        {"start": 0, "end": 4351, "weight": 100},
        {"start": 8192, "end": 8205, "weight": 100},
        {"start": 8208, "end": 8223, "weight": 100},
        {"start": 8242, "end": 8247, "weight": 100},
    ],
}
_EMOJI = regex.compile(
    r"\p{Regional_Indicator}{2}"
    r"|[#*0-9]\ufe0f?\u20e3"
    r"|\p{Emoji_Presentation}.*"
    r"|\p{Extended_Pictographic}[\ufe0f\u200d\p{Emoji_Modifier}\U000e0020-\U000e007f].*",
    regex.DOTALL,
)


def _code_point_weight(char: str) -> int:
    cp = ord(char)
    for span in X_CONFIG["ranges"]:
        if span["start"] <= cp <= span["end"]:
            return span["weight"]
    return X_CONFIG["defaultWeight"]


def _plain_weight(text: str) -> int:
    """The weight, in configuration units, of text without links: an emoji (a whole grapheme
    cluster that is one) weighs ``defaultWeight``, other code points their range's weight."""
    total = 0
    for cluster in graphemes(text):
        if X_CONFIG["emojiParsingEnabled"] and _EMOJI.fullmatch(cluster):
            total += X_CONFIG["defaultWeight"]
        else:
            total += sum(map(_code_point_weight, cluster))
    return total


def x_weighted_length(text: str) -> int:
    """A post's weighted length as twitter-text's configuration v3 gives it: in Unicode NFC,
    each link as ``transformedURLLength``, the rest by weight, divided by ``scale``."""
    text = unicodedata.normalize("NFC", text)
    scale = X_CONFIG["scale"]
    total, pos = 0, 0
    for start, end in links(text, bare=True):
        total += _plain_weight(text[pos:start]) + X_CONFIG["transformedURLLength"] * scale
        pos = end
    total += _plain_weight(text[pos:])
    return total // scale
