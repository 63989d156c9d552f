"""Peak memory of sharing a 48-megapixel photo, against Wagtail making the same rendition alone.

    python bench/memory.py               # 3 rounds
    python bench/memory.py --rounds 5

The photo is an 8000×6000 JPEG (a gradient with grain, so it is the size of a real one).
Mastodon takes at most 33,177,600 pixels, so the plugin has a rendition made (scaled to fit,
JPEG) and uploads that. Each measurement is a fresh process (``python bench/memory.py --child
...``) on the same site, which reports its peak resident set size (``VmHWM`` in
``/proc/self/status``), all having imported the same modules before the work:

* **Wagtail alone**: ``image.get_rendition(spec)`` for the rendition(s) the plugin makes;
* **plugin**: the worker's run (``wagtail_syndicate.pipeline.tasks.share``) for the page: the same
  rendition, then the upload to FakeMastodon (in a process of its own) and the status;
* **plugin, upload only**: the same run with the rendition already made (so the peak is the
  upload's), to see what the upload itself holds in memory.

Renditions are deleted before the first two, so each makes its own. Rounds alternate the
variants in a shuffled order; the table gives medians.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common  # noqa: E402

TARGET = 1.10
VARIANTS = {
    "wagtail": "Wagtail alone: the rendition",
    "plugin": "plugin: rendition + upload + status",
    "upload": "plugin, rendition already made: upload + status",
}


# The child: one measurement ------------------------------------------------------------------


def child(variant: str, bench_dir: str, page_id: int, specs: list[str]) -> None:
    _common.bootstrap(bench_dir=bench_dir, migrate_it=False)
    # Both variants import the same modules before the work starts.
    import requests  # noqa: F401
    from wagtail.images import get_image_model

    from wagtail_syndicate.models import SyndicationRecord
    from wagtail_syndicate.pipeline.queueing import queue_page
    from wagtail_syndicate.pipeline.tasks import share

    page = _common.photo_page_model().objects.get(pk=page_id)
    image = get_image_model().objects.get(pk=page.photo_id)
    if variant != "upload":
        image.renditions.all().delete()
    with _common.peak_memory() as answer:
        if variant == "wagtail":
            for spec in specs:
                image.get_rendition(spec)
        else:
            SyndicationRecord.objects.filter(page=page).delete()  # post it anew
            (record,) = queue_page(page)
            outcome = share(record.pk, record.generation)
            record.refresh_from_db()
            assert outcome == "posted", (outcome, record.last_error)
            answer["uploaded"] = [r.file.size for r in image.renditions.all()]
    answer["specs"] = [r.filter_spec for r in image.renditions.order_by("pk")]
    _common.report(answer)


# The driver ----------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--child", nargs=3, metavar=("VARIANT", "DIR", "PAGE"), help="internal")
    parser.add_argument("--spec", action="append", default=[], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]), args.spec)
        return 0

    print(__doc__.split("\n\n")[0].strip())
    _common.print_machine()
    bench_dir = _common.bootstrap()
    print("\nMaking the 8000×6000 photo...", flush=True)
    image = _common.make_image(_common.jpeg_bytes(8000, 6000, noise=10), title="Harbour")
    print(f"Photo: {image.width}×{image.height} JPEG, {image.file.size / 1e6:.1f} MB", flush=True)

    with _common.FakeProcess(count=False) as fake:
        _common.connect_account(fake.base_url)
        page = _common.make_photo_page(image, title="Harbour at dawn")

        def measure(variant: str, specs=()) -> dict:
            command = [__file__, "--child", variant, bench_dir, str(page.pk)]
            for spec in specs:
                command += ["--spec", spec]
            return _common.run_child(bench_dir, *command)

        warm_up = measure("plugin")  # also tells which renditions the plugin makes
        specs = warm_up["specs"]
        print(f"The plugin's rendition(s): {', '.join(specs)}", flush=True)
        print(f"Uploaded: {', '.join(f'{s / 1e6:.1f} MB' for s in warm_up['uploaded'])}")
        results: dict[str, list[dict]] = {variant: [] for variant in VARIANTS}
        print(f"Measuring: {args.rounds} rounds of fresh processes...", flush=True)
        for _round, variant in _common.interleaved(list(VARIANTS), args.rounds):
            results[variant].append(measure(variant, specs if variant == "wagtail" else ()))

    base = _common.median(r["peak"] for r in results["wagtail"])
    rows = []
    for variant, label in VARIANTS.items():
        peak = _common.median(r["peak"] for r in results[variant])
        before = _common.median(r["before"] for r in results[variant])
        rows.append(
            (
                label,
                len(results[variant]),
                f"{peak / 2**20:.0f}",
                f"{before / 2**20:.0f}",
                f"{(peak - before) / 2**20:.0f}",
                f"{_common.median(r['seconds'] for r in results[variant]):.1f}",
                f"{peak / base:.2f}",
            )
        )
    _common.print_table(
        ["process", "runs", "peak RSS MiB", "RSS before work", "added", "seconds", "ratio"],
        rows,
        title="Peak memory of one fresh process (medians; ratio: peak / peak of Wagtail alone)",
    )
    ratio = _common.median(r["peak"] for r in results["plugin"]) / base
    print(
        f"\nSharing the photo peaks at {ratio:.2f} × Wagtail making its rendition alone; "
        f"target ≤ {TARGET:.2f}: {_common.verdict(ratio <= TARGET)}."
    )
    uploaded = sum(warm_up["uploaded"])
    added = _common.median(r["peak"] - r["before"] for r in results["upload"])
    print(
        f"The upload alone adds {added / 2**20:.0f} MiB for a {uploaded / 2**20:.1f} MiB file: "
        f"{added / uploaded:.1f} × its size (bench/upload_memory.py measures the upload alone)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
