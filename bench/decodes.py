"""Time and peak memory of fitting large photos for Mastodon, Bluesky and X: each try
decoding the source (as before), against one decode for all the tries of a fit (as shipped).

    python bench/decodes.py               # 3 rounds
    python bench/decodes.py --rounds 5

Two photos, each larger than any of the three networks takes, so each fit makes renditions:
a 9000×6000 JPEG of a gradient with grain (54 megapixels, 12 MiB: one rendition a network
fits) and a detailed 6000×4000 JPEG (24 megapixels, high detail: several qualities and sizes
tried). Each measurement is a fresh process (``python bench/decodes.py --child ...``) on the
same site, with the image's renditions deleted first, fitting the photo with each network's
default limits in turn (as one worker runs a page's three records), and reporting seconds,
peak resident set size (``VmHWM``), renditions made and source decodes (counted where Pillow
decodes a file):

* **each try decodes**: every rendition tried is made by Wagtail from the file (the fitter
  before one decode served them: ``DECODED_ONCE`` emptied);
* **one decode a fit** (shipped): the tries of each fit share one decode, turned upright once,
  a JPEG decoded at the smallest scale that still gives the largest rendition.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common  # noqa: E402

NETWORKS = ("mastodon", "bluesky", "x")
VARIANTS = {
    "each_try": "each try decodes the source",
    "shipped": "one decode a fit (shipped)",
}


def child(variant: str, bench_dir: str, image_id: int) -> None:
    _common.bootstrap(bench_dir=bench_dir, migrate_it=False)
    from PIL import ImageFile
    from wagtail.images import get_image_model

    from wagtail_syndicate.content import images
    from wagtail_syndicate.networks import get_network

    if variant == "each_try":
        images.DECODED_ONCE = ()
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
    outcomes = []
    with _common.peak_memory() as answer:
        for network in NETWORKS:
            media = images.fit_image(image, "A harbour", get_network(network).default_limits)
            outcomes.append(f"{media.width}×{media.height}")
    del answer["before"]
    answer.update(
        outcomes=outcomes,
        source_decodes=decodes.count(source_name),
        tries=image.renditions.count(),
    )
    _common.report(answer)


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
    from tests.photos import draw, encode

    photos = {
        "54 MP grain": _common.make_image(
            _common.jpeg_bytes(9000, 6000, noise=8.0, quality=92), name="harbour.jpg"
        ),
        "24 MP detail": _common.make_image(
            encode(draw("detail", 6000, 4000, seed=24), "jpeg", quality=92), name="camera.jpg"
        ),
    }
    for label, image in photos.items():
        size = image.file.size / 2**20
        print(f"Photo {label}: {image.width}×{image.height} JPEG, {size:.1f} MiB", flush=True)

    def measure(variant: str, image) -> dict:
        return _common.run_child(bench_dir, __file__, "--child", variant, bench_dir, str(image.pk))

    cases = [(photo, variant) for photo in photos for variant in VARIANTS]
    results: dict[tuple, list[dict]] = {case: [] for case in cases}
    print(f"Measuring: {args.rounds} rounds of fresh processes...", flush=True)
    for _round, index in _common.interleaved(range(len(cases)), args.rounds):
        photo, variant = cases[index]
        results[photo, variant].append(measure(variant, photos[photo]))

    rows, ratios = [], []
    for photo, variant in cases:
        runs = results[photo, variant]
        seconds = _common.median(r["seconds"] for r in runs)
        before = _common.median(r["seconds"] for r in results[photo, "each_try"])
        peak = _common.median(r["peak"] for r in runs)
        peak_before = _common.median(r["peak"] for r in results[photo, "each_try"])
        if variant == "shipped":
            ratios.append(seconds / before)
        rows.append(
            (
                photo,
                VARIANTS[variant],
                len(runs),
                ", ".join(runs[0]["outcomes"]),
                runs[0]["tries"],
                runs[0]["source_decodes"],
                f"{seconds:.1f}",
                f"{seconds / before:.2f}",
                f"{peak / 2**20:.0f}",
                f"{peak / peak_before:.2f}",
            )
        )
    _common.print_table(
        [
            "photo",
            "fitter",
            "runs",
            "Mastodon, Bluesky, X",
            "renditions",
            "source decodes",
            "seconds",
            "time ratio",
            "peak RSS MiB",
            "peak ratio",
        ],
        rows,
        title="Fitting a photo for three networks (medians; ratios against each try decoding)",
    )
    worst = max(ratios)
    print(
        f"\nOne decode a fit takes at most {worst:.2f} × the time of decoding for each try; "
        f"target ≤ 1.00 (never slower): {_common.verdict(worst <= 1.0)}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
