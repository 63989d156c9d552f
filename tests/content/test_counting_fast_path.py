"""Plain ASCII text is counted by a fast path (``str.isascii()``); it must give exactly what
``regex``'s ``\\X`` gives (how all other text is counted), for every counting rule of every
network."""

from hypothesis import given
from hypothesis import strategies as st

from wagtail_syndicate.networks import text
from wagtail_syndicate.networks.text import (
    count_graphemes,
    countable_text,
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


# Characters that join an ASCII character before or after them, or that ``\\X`` treats apart:
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


def by_x(function, *args):
    """``function(*args)`` with ASCII text counted by ``\\X`` as well."""
    with text._without_ascii_fast_path():
        return function(*args)


@given(ascii_texts)
def test_the_ascii_fast_path_counts_as_regex_x(value):
    assert value.isascii()
    assert graphemes(value) == by_x(graphemes, value)
    assert count_graphemes(value) == by_x(count_graphemes, value)
    assert text._weigh(value) == by_x(text._weigh, value)
    for url_length in (23, 5):
        assert countable_text(value, url_length) == by_x(countable_text, value, url_length)
        assert weighted_length(value, url_length) == by_x(weighted_length, value, url_length)
    assert status_length(value, "CW\r\n") == by_x(status_length, value, "CW\r\n")


def test_the_fast_path_is_back_on_after_the_comparison():
    with text._without_ascii_fast_path():
        assert not text._plain_ascii("a\r\nb")
    assert text._plain_ascii("a\r\nb")
    assert graphemes("a\r\nb") == ["a", "\r\n", "b"]


@given(mixed_texts)
def test_text_with_ascii_in_it_counts_as_regex_x(value):
    assert graphemes(value) == by_x(graphemes, value)
    assert text._weigh(value) == by_x(text._weigh, value)
    assert status_length(value) == by_x(status_length, value)
    assert weighted_length(value) == by_x(weighted_length, value)
