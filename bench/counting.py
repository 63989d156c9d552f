"""Time of counting and fitting a post's text: ``regex``'s ``\\X`` for every text, against the
fast path for plain ASCII text (as shipped).

    python bench/counting.py               # 7 rounds
    python bench/counting.py --rounds 11

Each row times one piece of work on a post in English (a title, an intro of a few sentences,
the page's URL and three hashtags: plain ASCII, as most posts are) many times over, with
the fast path off (every text counted by ``\\X``) and on, alternating in shuffled rounds in
this one process; the table gives the median time of one call and the ratio. The last rows are
the same post with one emoji in its title: no longer ASCII, it is counted by ``\\X`` both ways.
Fitting for Bluesky and X shortens the intro, and the "…" it ends in makes every candidate
text not ASCII. Both ways give the same counts (checked here, and in
``tests/content/test_counting_fast_path.py``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common  # noqa: E402

VARIANTS = {"x": "\\X for every text", "fast": "ASCII fast path (shipped)"}
TITLE = "Morning boats leave the harbour at dawn while the fish market opens on the quay"
INTRO = (
    "The first boats left before five, their lights still on, and the gulls followed them out "
    "past the breakwater. On the quay the market was already busy: crates of mackerel and "
    "sardines, ice shovelled by the barrow-load, and the auctioneer's call over all of it. "
    "By seven the harbour was quiet again, the water flat and bright under a clear sky."
)
URL = "https://photos.example.com/2024/06/morning-boats-leave-the-harbour/"
TAGS = "#harbour #photography #dawn"


def cases():
    """(label, function) pairs: each function does one piece of work and returns its result."""
    from wagtail_syndicate.content.fitting import fit_text
    from wagtail_syndicate.networks.bluesky.client import BLUESKY_LIMITS
    from wagtail_syndicate.networks.limits import Limits
    from wagtail_syndicate.networks.text import count_graphemes, status_length, weighted_length
    from wagtail_syndicate.networks.x.client import X_LIMITS

    template = "{title}\n\n{intro}\n\n{url}\n\n{tags}"
    out = []
    for suffix, title in (("", TITLE), (", one emoji", TITLE + " \U0001f6a4")):
        values = {"title": title, "intro": INTRO, "url": URL, "tags": TAGS}
        post = template.format(**values)
        out += [
            (f"count_graphemes (post{suffix})", lambda p=post: count_graphemes(p)),
            (f"status_length, Mastodon (post{suffix})", lambda p=post: status_length(p)),
            (f"weighted_length, X (post{suffix})", lambda p=post: weighted_length(p)),
        ]
        for network, limits in (
            ("Mastodon, 500", Limits()),
            ("Bluesky, 300", BLUESKY_LIMITS),
            ("X, 280", X_LIMITS),
        ):
            out.append(
                (
                    f"fit_text, {network} (post{suffix})",
                    lambda v=values, lim=limits: fit_text(template, v, lim),
                )
            )
    return out


def per_call(function, budget: float = 0.05) -> float:
    """Seconds one call takes: as many calls as take about ``budget`` seconds, divided."""
    calls, start = 0, time.perf_counter()
    while True:
        function()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= budget:
            return elapsed / calls


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="rounds (default 7)")
    args = parser.parse_args(argv)

    print(__doc__.split("\n\n")[0].strip())
    _common.print_machine()
    _common.bootstrap(bench_dir=_common.new_site_dir(), migrate_it=False)  # settings only
    from wagtail_syndicate.networks.text import _without_ascii_fast_path

    work = cases()
    for label, function in work:  # the same results both ways
        with _without_ascii_fast_path():
            expected = function()
        assert function() == expected, label
    times: dict[tuple[str, str], list[float]] = {}
    for _round, variant in _common.interleaved(list(VARIANTS), args.rounds):
        for label, function in work:
            if variant == "x":
                with _without_ascii_fast_path():
                    seconds = per_call(function)
            else:
                seconds = per_call(function)
            times.setdefault((label, variant), []).append(seconds)

    rows = []
    for label, _function in work:
        by_x = _common.median(times[label, "x"])
        fast = _common.median(times[label, "fast"])
        rows.append((label, f"{by_x * 1e6:.1f}", f"{fast * 1e6:.1f}", f"{by_x / fast:.1f}"))
    _common.print_table(
        ["work", f"{VARIANTS['x']} µs", f"{VARIANTS['fast']} µs", "speed-up"],
        rows,
        title=f"One call, medians of {args.rounds} interleaved rounds (same results both ways)",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
