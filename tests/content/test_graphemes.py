"""Grapheme clusters held to Unicode's own answer key: every line of GraphemeBreakTest.txt
(Unicode 15.0.0, tests/data/, as Debian's unicode-data package ships it), the few lines later
versions changed, and the rules that came after it (Indic conjuncts), case by case.

The plugin counts by the ``regex`` module's ``\\X`` (``wagtail_syndicate.networks.text``), so
comparing it to ``\\X`` would prove nothing: these expectations are Unicode's, or UAX #29's
rules applied by hand. Pure functions only: no database.
"""

from pathlib import Path

import pytest

from wagtail_syndicate.networks.text import count_graphemes, graphemes, status_length

BREAK_TEST = Path(__file__).parents[1] / "data" / "GraphemeBreakTest-15.0.0.txt"

# Lines whose answer a later Unicode version changed, with the answer of the version that
# ``regex`` (>= 2025.10.23, pyproject.toml) implements. Unicode 17.0 took Extended_Pictographic
# from the 672 characters that are not emoji (UTC #182, L2/25-006 item 5.1), U+2701 UPPER BLADE
# SCISSORS among them: GB11 joins a ZWJ to a pictograph only, so the ZWJ ends its cluster.
LATER_ANSWERS = {
    "÷ 2701 × 200D × 2701 ÷": "÷ 2701 × 200D ÷ 2701 ÷",
}


# The flag of Scotland: a black flag, the tag characters "gbsct" and a cancel tag.
SCOTLAND = "🏴" + "".join(chr(0xE0000 + ord(letter)) for letter in "gbsct") + "\U000e007f"


def clusters_of(line: str) -> list[str]:
    """The clusters a GraphemeBreakTest.txt line gives: hex code points, "÷" between clusters
    (a break), "×" inside one (no break)."""
    return [
        "".join(chr(int(code, 16)) for code in part.split() if code != "×")
        for part in line.strip("÷ \t").split("÷")
    ]


def break_test_cases():
    for number, line in enumerate(BREAK_TEST.read_text("utf-8").splitlines(), 1):
        case = line.partition("#")[0].strip()
        if case:
            yield pytest.param(LATER_ANSWERS.get(case, case), id=f"line-{number}")


def test_the_answer_key_is_all_there():
    cases = list(break_test_cases())
    assert len(cases) == 602  # GraphemeBreakTest-15.0.0.txt's count of test lines
    assert set(LATER_ANSWERS) <= {
        line.partition("#")[0].strip() for line in BREAK_TEST.read_text("utf-8").splitlines()
    }


@pytest.mark.parametrize("case", list(break_test_cases()))
def test_graphemes_agree_with_unicodes_grapheme_break_test(case):
    expected = clusters_of(case)
    text = "".join(expected)
    assert graphemes(text) == expected
    assert count_graphemes(text) == len(expected)


# Rules after Unicode 15.0 and scripts a simple counter gets wrong, with their count by UAX #29's
# rules. Undercounting is the dangerous direction: the plugin thinks a text fits, Mastodon
# answers 422.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # GB9c (Unicode 15.1): consonant, Indic_Conjunct_Break=Linker (a virama), consonant.
        pytest.param("क्ष", 1, id="devanagari-conjunct"),
        pytest.param("क्षत्रिय", 3, id="devanagari-word"),  # क्ष, त्रि, य
        pytest.param("क़्ष", 1, id="nukta-inside-a-conjunct"),  # an Extend between them
        pytest.param("क्\u200dष", 1, id="zwj-inside-a-conjunct"),
        pytest.param("ক্ষমা স্বাগতম", 7, id="bengali-conjuncts"),
        pytest.param("ક્ષ્મ", 1, id="gujarati-double-conjunct"),
        pytest.param("క్ష", 1, id="telugu-conjunct"),
        pytest.param("ക്\u200dഷ", 1, id="malayalam-conjunct-with-joiner"),
        pytest.param("क्", 1, id="a-virama-at-the-end"),  # GB9: the virama extends
        pytest.param("क् ष", 3, id="a-space-breaks-the-conjunct"),  # GB999
        # Unicode 17.0: Khmer's coeng is a linker too.
        pytest.param("\u1780\u17d2\u1780", 1, id="khmer-coeng"),
        # Sinhala's virama is no linker: GB9 keeps the ZWJ, GB11 does not join a letter to it.
        pytest.param("ශ්\u200dරී ලංකා", 5, id="zwj-before-a-letter"),
        # Myanmar's vowel sign AA and visarga are neither Extend nor SpacingMark.
        pytest.param("ကား", 3, id="myanmar-vowel-sign-aa"),
        pytest.param("น้ำ", 1, id="thai-sara-am"),  # GB9 then GB9a: SARA AM is a SpacingMark
        pytest.param("\u0600١٢", 2, id="prepend"),  # GB9b: the prepend joins what follows
        pytest.param("🇫🇷🇩🇪🇯", 3, id="flags-and-a-lone-regional-indicator"),  # GB12, GB13
        pytest.param("👨\u200d👩\u200d👧\u200d👦", 1, id="zwj-family"),  # GB11
        pytest.param(SCOTLAND, 1, id="flag-of-tags"),  # GB9: tag characters are Extend
        pytest.param("\u1100\u1161\u11a8", 1, id="hangul-l-v-t"),  # GB6, GB7
        pytest.param("1\ufe0f\u20e3", 1, id="keycap"),  # GB9
        pytest.param("❤\ufe0f", 1, id="emoji-presentation"),  # GB9
        pytest.param("ﾊﾟ", 1, id="halfwidth-katakana-sound-mark"),  # GB9
        pytest.param("a\r\n\r\nb", 4, id="cr-lf"),  # GB3; ASCII, and by \X after the "é" below
    ],
)
def test_count_graphemes_follows_uax_29(text, expected):
    assert count_graphemes(text) == expected
    assert count_graphemes("é" + text) == expected + 1  # never the ASCII fast path
    assert "".join(graphemes(text)) == text
    assert status_length(text) == expected


def test_the_examples_the_fakes_count_too():
    """The texts fakes/tests/test_fake_mastodon.py counts with the fakes' own counter."""
    for text in ["👍🏽", "🇫🇷", "e\u0301", "👨‍👩‍👧", "❤️", "1️⃣", "한", "\r\n", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"]:
        assert count_graphemes(text) == 1, text
    assert count_graphemes("🇫🇷🇩🇪") == 2
    assert count_graphemes("abc") == 3
    assert status_length("see https://example.com/" + "a" * 100 + ".") == 4 + 23 + 1
    assert status_length("hi @someone@example.social") == len("hi @someone")
