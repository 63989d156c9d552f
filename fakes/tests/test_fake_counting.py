"""The fakes' own text counting (fakes/syndicate_fakes/_counting.py) against judges nobody
on the project wrote: twitter-text's published conformance cases for X's weighted length, and
Unicode's extended grapheme clusters for Mastodon and Bluesky."""

import json
from pathlib import Path

import pytest
import regex

from syndicate_fakes import _counting

CONFORMANCE = json.loads(
    (Path(__file__).parent / "data" / "twitter_text_weighted_v3.json").read_text("utf-8")
)
# twitter-text also calls a text with U+FFFE, U+FEFF or U+FFFF invalid, whatever its length.
INVALID_CHARACTERS = "\ufffe\ufeff\uffff"


@pytest.mark.parametrize(
    "case", CONFORMANCE["cases"], ids=[c["description"][:60] for c in CONFORMANCE["cases"]]
)
def test_x_weighted_length_matches_twitter_text_conformance(case):
    assert _counting.x_weighted_length(case["text"]) == case["weightedLength"]
    if not set(case["text"]) & set(INVALID_CHARACTERS):
        assert (case["weightedLength"] <= 280) is case["valid"]


def test_x_configuration_is_twitter_text_v3():
    config = _counting.X_CONFIG
    assert (config["maxWeightedTweetLength"], config["scale"], config["defaultWeight"]) == (
        280,
        100,
        200,
    )
    assert config["transformedURLLength"] == 23 and config["emojiParsingEnabled"] is True
    assert [(r["start"], r["end"], r["weight"]) for r in config["ranges"]] == [
        (0, 4351, 100),
        (8192, 8205, 100),
        (8208, 8223, 100),
        (8242, 8247, 100),
    ]


# (text, clusters) where the answer is Unicode's (UAX #29, as regex's \X implements it).
TRICKY = [
    ("\r\n", 1),
    ("e\u0301", 1),  # combining acute accent
    ("\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466", 1),  # family, ZWJ
    ("\U0001f1eb\U0001f1f7\U0001f1e9", 2),  # a flag and a lone regional indicator
    ("\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", 1),  # Scotland
    ("\U0001f44d\U0001f3fd", 1),  # skin tone
    ("1\ufe0f\u20e3", 1),  # keycap
    ("\u0915\u094d\u0937\u093f", 1),  # Devanagari conjunct (GB9c)
    ("\u1100\u1161\u11a8", 1),  # Hangul jamo L V T
    ("\u0e01\u0e33", 1),  # Thai SARA AM
    ("\u0600\u0661", 1),  # Arabic prepend
    ("a\u200db", 2),  # ZWJ joins emoji only
]


@pytest.mark.parametrize("text, clusters", TRICKY)
def test_fake_graphemes_are_unicode_extended_grapheme_clusters(text, clusters):
    assert _counting.count_graphemes(text) == clusters
    assert _counting.graphemes(text) == regex.findall(r"\X", text)


def test_mastodon_length_counts_links_as_reserved_and_remote_mentions_short():
    text = "Hi @alice@example.social, see https://example.com/a/very/long/path?query=1."
    expected = len("Hi @alice, see ") + 23 + len(".")
    assert _counting.mastodon_length(text) == expected
    assert _counting.mastodon_length(text, "CW: \U0001f468\u200d\U0001f469") == expected + 5
    assert _counting.mastodon_length("example.com") == 11  # no link without a scheme


def test_links_leave_out_trailing_punctuation_and_directional_marks():
    text = "(see https://example.com/a_(b)), \u2066https://example.org/x\u2069 https://"
    found = [text[s:e] for s, e in _counting.links(text)]
    assert found == ["https://example.com/a_(b)", "https://example.org/x"]


def test_x_bare_domains_count_as_links_only_with_a_known_top_level_domain():
    assert _counting.x_weighted_length("example.com") == 23
    assert _counting.x_weighted_length("example.jp") == 10  # a country code needs a path
    assert _counting.x_weighted_length("example.jp/a") == 23
    assert _counting.x_weighted_length("readme.txt") == 10


def test_bluesky_text_limits_are_graphemes_and_bytes():
    assert _counting.bluesky_text_problem("e\u0301" * 300) == ""  # 300 graphemes, 900 bytes
    assert "300 graphemes" in _counting.bluesky_text_problem("a" * 301)
    assert "3000" in _counting.bluesky_text_problem("\u0915\u094d\u0937\u093f" * 251)


def test_a_host_without_a_top_level_domain_is_no_link():
    # twitter-text's extract.yml: "DO NOT extract invalid URL: http://no-tld" (and ".x").
    assert _counting.links("http://no-tld http://tld-too-short.x http://localhost/a") == []
    assert _counting.x_weighted_length("http://localhost/a") == len("http://localhost/a")
