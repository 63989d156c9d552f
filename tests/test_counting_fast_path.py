"""Plain ASCII text is counted by a fast path (``str.isascii()``); it must give exactly what the
full walk of the grapheme rules gives, for every counting rule of every network."""

import regex
from hypothesis import given
from hypothesis import strategies as st

from wagtail_syndicate import text
from wagtail_syndicate.text import (
    count_graphemes,
    countable_text,
    full_walk,
    graphemes,
    status_length,
    weighted_length,
)

# Pieces that the counting rules treat apart: line ends (CR LF is one grapheme), links with
# and without a top-level domain, trailing punctuation and brackets, bare domains (X counts
# them as links), hashtags, local and remote mentions, controls.
PIECES = [
    "\r\n",
    "\r",
    "\n",
    "\r\r\n\n",
    "\t",
    "\x00",
    "\x7f",
    " ",
    "https://example.com/harbour?at=dawn#boats",
    "http://test.co",
    "https://localhost:8000/x",
    "http://127.0.0.1/",
    "(https://en.wikipedia.org/wiki/Harbour_(disambiguation)).",
    "https://example.com/path.",
    "http://",
    "example.com",
    "photos.example.co.uk/2024/harbour",
    "#harbour",
    "#1",
    "@alice",
    "@alice@mastodon.example",
    "a@b.example",
    "x" * 70 + ".com",
    "...",
    "#*0123456789",
]

ascii_texts = st.lists(
    st.one_of(
        st.sampled_from(PIECES),
        st.text(st.characters(max_codepoint=127), max_size=20),
    ),
    max_size=30,
).map("".join)


# Characters that join an ASCII character before or after them, or that the walk treats apart:
# combining marks, a spacing mark, joiners, variation selectors, a keycap, a prepend, emoji,
# regional indicators, Hangul jamo, a Devanagari conjunct, the ellipsis a shortened text ends in.
OTHERS = [
    "\u2026",
    "\u0301",
    "\u0903",
    "\u200d",
    "\u200c",
    "\ufe0f",
    "\u20e3",
    "\u0600",
    "\U0001f6a4",
    "\U0001f3fd",
    "\U0001f1eb\U0001f1f7",
    "\U0001f1eb",
    "\u1100\u1161",
    "\u0915\u094d\u0937",
    "\u00e9",
    "\u3000",
]
mixed_texts = st.lists(
    st.one_of(st.sampled_from(PIECES), st.sampled_from(OTHERS), st.text(max_size=5)),
    max_size=30,
).map("".join)


def full(function, *args):
    with full_walk():
        return function(*args)


@given(ascii_texts)
def test_the_ascii_fast_path_counts_as_the_full_walk(value):
    assert value.isascii()
    assert graphemes(value) == full(graphemes, value)
    assert count_graphemes(value) == full(count_graphemes, value)
    assert text._weigh(value) == full(text._weigh, value)
    for url_length in (23, 5):
        assert countable_text(value, url_length) == full(countable_text, value, url_length)
        assert weighted_length(value, url_length) == full(weighted_length, value, url_length)
    assert status_length(value, "CW\r\n") == full(status_length, value, "CW\r\n")


@given(ascii_texts)
def test_the_ascii_fast_path_agrees_with_the_regex_oracle(value):
    assert graphemes(value) == regex.findall(r"\X", value)
    assert count_graphemes(value) == len(regex.findall(r"\X", value))


def test_full_walk_turns_the_fast_path_off_and_back_on():
    assert graphemes("a\r\nb") == ["a", "\r\n", "b"]
    with full_walk():
        assert not text._ascii_fast_path
        assert graphemes("a\r\nb") == ["a", "\r\n", "b"]
    assert text._ascii_fast_path


@given(mixed_texts)
def test_text_with_ascii_in_it_counts_as_the_full_walk(value):
    assert graphemes(value) == full(graphemes, value)
    assert text._weigh(value) == full(text._weigh, value)
    assert status_length(value) == full(status_length, value)
    assert weighted_length(value) == full(weighted_length, value)
