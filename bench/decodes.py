"""Time and peak memory of fitting one large photo for Mastodon, Bluesky and X: each try
decoding the source (as before), one decode per network, and one decode for all three.

    python bench/decodes.py               # 3 rounds
    python bench/decodes.py --rounds 5

The photo is a detailed 9000×6000 JPEG (54 megapixels, under ``MAX_SOURCE_PIXELS``), larger
than any of the three networks takes, so each fit makes renditions. Each measurement is a fresh
process (``python bench/decodes.py --child ...``) on the same site, with the image's renditions
deleted first, fitting the photo with each network's default limits in turn (as one worker
runs a page's three records), and reporting seconds, peak resident set size (``VmHWM``) and the
source decodes counted where Pillow decodes a file:

* **each try decodes**: every rendition tried is made by Wagtail from the file (the fitter
  before one decode served them: ``DECODED_ONCE`` emptied, no working copy);
* **one decode per network**: the tries of each fit share one decode, a JPEG decoded at the
  smallest scale that still gives the largest rendition (no working copy);
* **one decode for all**: as shipped: the first fit makes the working copy (33 megapixels)
  from the source and every fit makes its renditions from that copy.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common  # noqa: E402

WIDTH, HEIGHT = 9000, 6000
NETWORKS = ("mastodon", "bluesky", "x")
VARIANTS = {
    "each_try": "each try decodes the source",
    "per_network": "one decode per network",
    "shipped": "one decode for all (shipped)",
}


def child(variant: str, bench_dir: str, image_id: int) -> None:
    _common.bootstrap(bench_dir=bench_dir, migrate_it=False)
    from PIL import ImageFile
    from wagtail.images import get_image_model

    from wagtail_syndicate import fitting
    from wagtail_syndicate.networks import get_network

    if variant in ("each_try", "per_network"):
        fitting.WORKING_PIXELS = 10**12
    if variant == "each_try":
        fitting.DECODED_ONCE = ()
    image = get_image_model().objects.get(pk=image_id)
    image.renditions.all().delete()
    source_name = image.file.name.rsplit("/", 1)[-1]
    decodes = []
    load = ImageFile.ImageFile.load

    def counting_load(picture):
        if picture.tile:
            decodes.append(str(getattr(picture.fp, "name", "")).rsplit("/", 1)[-1])
        return load(picture)

    ImageFile.ImageFile.load = counting_load
    start = time.perf_counter()
    outcomes = []
    for network in NETWORKS:
        media = fitting.fit_image(image, "A harbour", get_network(network).default_limits)
        outcomes.append(f"{media.width}×{media.height}")
    answer = {
        "seconds": time.perf_counter() - start,
        "peak": _status("VmHWM"),
        "outcomes": outcomes,
        "source_decodes": decodes.count(source_name),
        "tries": image.renditions.count(),
    }
    print(_common.RESULT + json.dumps(answer), flush=True)


def _status(name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {name} in /proc/self/status (Linux only)")


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
    data = _common.jpeg_bytes(WIDTH, HEIGHT, noise=8.0, quality=92)
    image = _common.make_image(data, name="harbour.jpg")
    print(f"\nImage: {image.width}×{image.height} JPEG, {len(data) / 2**20:.1f} MiB", flush=True)

    def measure(variant: str) -> dict:
        env = {**os.environ, **_common.child_env(True, bench_dir)}
        output = subprocess.run(
            [sys.executable, __file__, "--child", variant, bench_dir, str(image.pk)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        ).stdout
        line = next(x for x in output.splitlines() if x.startswith(_common.RESULT))
        return json.loads(line[len(_common.RESULT) :])

    results: dict[str, list[dict]] = {variant: [] for variant in VARIANTS}
    print(f"Measuring: {args.rounds} rounds of fresh processes...", flush=True)
    for _round, variant in _common.interleaved(list(VARIANTS), args.rounds):
        results[variant].append(measure(variant))

    before = _common.median(r["seconds"] for r in results["each_try"])
    rows = []
    for variant, label in VARIANTS.items():
        runs = results[variant]
        seconds = _common.median(r["seconds"] for r in runs)
        rows.append(
            (
                label,
                len(runs),
                ", ".join(runs[0]["outcomes"]),
                runs[0]["tries"],
                runs[0]["source_decodes"],
                f"{seconds:.1f}",
                f"{_common.median(r['peak'] for r in runs) / 2**20:.0f}",
                f"{seconds / before:.2f}",
            )
        )
    _common.print_table(
        [
            "fitter",
            "runs",
            "Mastodon, Bluesky, X",
            "renditions",
            "source decodes",
            "seconds",
            "peak RSS MiB",
            "time ratio",
        ],
        rows,
        title="Fitting one photo for three networks (medians; ratio: seconds / each try's)",
    )
    shipped = _common.median(r["seconds"] for r in results["shipped"]) / before
    print(
        f"\nOne decode for all takes {shipped:.2f} × the time of decoding for each try; "
        f"target ≤ 0.6: {_common.verdict(shipped <= 0.6)}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
