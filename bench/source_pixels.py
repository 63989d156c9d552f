"""Peak memory of fitting a 14 KiB, 121-megapixel 1-bit PNG: refused before decoding, against
decoded for one network and for three.

    python bench/source_pixels.py               # 3 rounds
    python bench/source_pixels.py --rounds 5

The PNG (11000×11000, black, 1 bit a pixel) is under Wagtail's own upload limit of 128
megapixels. Each measurement is a fresh process (``python bench/source_pixels.py --child
...``) on the same site, with its renditions deleted first, which reports its peak resident set
size (``VmHWM``), having imported the same modules before the work:

* **baseline**: the image row read, nothing fitted (what every variant starts from);
* **refused**: ``fit_image`` for Mastodon's limits with the default ``MAX_SOURCE_PIXELS``
  (100 million): it reads the file's header and refuses;
* **decoded, Mastodon**: the same with ``MAX_SOURCE_PIXELS`` raised past the picture, so a
  rendition is made (as before the limit);
* **decoded, 3 networks**: Mastodon's, Bluesky's and X's renditions in turn, as three records
  of one page are run by one worker: each network's rendition decodes the source again.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common  # noqa: E402

WIDTH = HEIGHT = 11_000
VARIANTS = {
    "baseline": ("baseline: the image row only", None, ()),
    "refused": ("refused before decoding", None, ("mastodon",)),
    "mastodon": ("decoded, Mastodon", 10**9, ("mastodon",)),
    "three": ("decoded, 3 networks", 10**9, ("mastodon", "bluesky", "x")),
}


def child(variant: str, bench_dir: str, image_id: int) -> None:
    _common.bootstrap(bench_dir=bench_dir, migrate_it=False)
    from wagtail.images import get_image_model

    from wagtail_syndicate.content.images import fit_image
    from wagtail_syndicate.exceptions import ImageError
    from wagtail_syndicate.networks import get_network

    image = get_image_model().objects.get(pk=image_id)
    image.renditions.all().delete()
    outcomes = []
    with _common.peak_memory() as answer:
        for network in VARIANTS[variant][2]:
            try:
                media = fit_image(image, "A black square", get_network(network).default_limits)
                outcomes.append(f"{media.width}×{media.height}")
            except ImageError:
                outcomes.append("refused")
    _common.report({**answer, "outcomes": outcomes})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--child", nargs=3, metavar=("VARIANT", "DIR", "IMAGE"), help="internal")
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return 0

    print(__doc__.split("\n\n")[0].strip())
    _common.print_machine()
    bench_dir = _common.bootstrap()
    from tests.utils import one_bit_png

    image = _common.make_image(one_bit_png(WIDTH, HEIGHT), name="bomb.png")
    size = image.file.size / 1024
    print(f"\nImage: {image.width}×{image.height} PNG, {size:.1f} KiB", flush=True)

    def measure(variant: str) -> dict:
        pixels = VARIANTS[variant][1]
        env = {"BENCH_SYNDICATE": json.dumps({"MAX_SOURCE_PIXELS": pixels})} if pixels else {}
        return _common.run_child(
            bench_dir, __file__, "--child", variant, bench_dir, str(image.pk), env=env
        )

    results: dict[str, list[dict]] = {variant: [] for variant in VARIANTS}
    print(f"Measuring: {args.rounds} rounds of fresh processes...", flush=True)
    for _round, variant in _common.interleaved(list(VARIANTS), args.rounds):
        results[variant].append(measure(variant))

    base = _common.median(r["peak"] for r in results["baseline"])
    rows = []
    for variant, (label, _pixels, _networks) in VARIANTS.items():
        runs = results[variant]
        peak = _common.median(r["peak"] for r in runs)
        rows.append(
            (
                label,
                len(runs),
                ", ".join(runs[0]["outcomes"]) or "-",
                f"{peak / 2**20:.0f}",
                f"{(peak - base) / 2**20:.0f}",
                f"{_common.median(r['seconds'] for r in runs):.1f}",
                f"{peak / base:.2f}",
            )
        )
    _common.print_table(
        ["process", "runs", "outcome", "peak RSS MiB", "over baseline", "seconds", "ratio"],
        rows,
        title="Peak memory of one fresh process (medians; ratio: peak / peak of the baseline)",
    )
    refused = _common.median(r["peak"] for r in results["refused"]) / base
    print(
        f"\nRefusing the picture peaks at {refused:.2f} × the baseline; "
        f"target ≤ 1.05: {_common.verdict(refused <= 1.05)}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
