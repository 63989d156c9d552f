"""What the plugin adds to a publish: ``revision.publish()`` of a photo page, with and without
wagtail-syndicate, side by side.

    python bench/publish_overhead.py                 # 12 rounds of 10 publishes per variant
    python bench/publish_overhead.py --rounds 30 --batch 20

Three variants, each publishing new draft pages (the first publish of a page, which is when a
post is made) with ``revision.publish()`` in code, the way scheduled publishing and workflow
approval do:

* **not installed**: a site without wagtail-syndicate (not in ``INSTALLED_APPS``) whose photo
  page is ``bench.plainapp.PlainPhotoPage``: the same fields, no mixin (an installed app cannot
  be taken out of a process, and a receiver disconnected would still leave the mixin's fields);
* **installed, toggle off**: ``tests.testapp.PhotoPage`` with "Share when published" off, two
  accounts connected (what every other publish on a site with the plugin costs);
* **installed, toggle on**: the same with the toggle on: each publish creates two records, two
  history entries and enqueues two tasks.

Each variant is a process of its own with a fresh site of its own (a SQLite file in WAL mode, as
the README recommends, and the database task queue, so the publish only writes rows; the worker,
not run here, would do the network work), publishing as many pages as the others. Rounds
alternate the variants in a shuffled order; the table gives the median of every publish of each
variant, and the ratio of medians to "not installed". The pages are created and their revisions
saved before the clock starts; only ``revision.publish()`` is timed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common  # noqa: E402

TARGET = 1.10
VARIANTS = {
    "plain": "not installed",
    "off": "installed, toggle off",
    "on": "installed, toggle on",
}


# The child: one site, publishing on command ----------------------------------------------------


def child(variant: str, bench_dir: str, accounts: int) -> None:
    plugin = variant != "plain"
    _common.bootstrap(plugin=plugin, bench_dir=bench_dir, migrate_it=False)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    image = _common.make_image(_common.jpeg_bytes(1200, 800))
    if plugin:
        for number in range(accounts):
            # Never contacted: a publish makes no request.
            _common.connect_account("http://127.0.0.1:9", f"token-{number}", f"user{number}")
    made = iter(range(10**9))

    def drafts(count: int, syndicate: bool):
        pages = [
            _common.make_photo_page(
                image, title=f"Boats {next(made)}", syndicate=syndicate, publish=False
            )
            for _ in range(count)
        ]
        return [page.get_latest_revision() for page in pages]

    def publish(count: int) -> list[float]:
        times = []
        for revision in drafts(count, syndicate=variant == "on"):
            start = time.perf_counter()
            revision.publish()
            times.append(time.perf_counter() - start)
        return times

    def queries() -> list[str]:
        """The SQL statements of one publish, each as "VERB table"."""
        (revision,) = drafts(1, syndicate=variant == "on")
        with CaptureQueriesContext(connection) as captured:
            revision.publish()
        return [_common.sql_statement(query["sql"]) for query in captured.captured_queries]

    def check() -> dict:
        """What the toggled-on publishes left: records, their states, tasks queued."""
        if not plugin:
            return {}
        from wagtail_syndicate.models import SyndicationRecord

        states = Counter(SyndicationRecord.objects.values_list("state", flat=True))
        tasks = Counter()
        for path, arguments in _common.task_result_model().objects.values_list(
            "task_path", "args_kwargs"
        ):
            if path.endswith("syndicate_record"):
                tasks["syndicate_record"] += 1
            elif arguments["args"][:2] == ["wagtail_syndicate", "syndicationrecord"]:
                tasks[path.rsplit(".", 1)[-1] + " of a SyndicationRecord"] += 1
        return {"records": dict(states), "tasks": dict(tasks)}

    _common.serve({"publish": publish, "queries": queries, "check": check})


# The driver ----------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=12, help="rounds (default 12)")
    parser.add_argument("--batch", type=int, default=10, help="publishes per variant and round")
    parser.add_argument("--accounts", type=int, default=2, help="accounts connected (default 2)")
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1], args.accounts)
        return 0

    print(__doc__.split("\n\n")[0].strip())
    _common.print_machine()
    sites = {variant: _common.new_site_dir() for variant in VARIANTS}
    print("\nMigrating a fresh site for each variant...", flush=True)
    migrating = [_common.migrate(d, plugin=v != "plain", wait=False) for v, d in sites.items()]
    for process in migrating:
        _common.check_exit(process)
    script = str(Path(__file__).resolve())
    children = {
        variant: _common.Child(
            script, "--child", variant, bench_dir, "--accounts", str(args.accounts)
        )
        for variant, bench_dir in sites.items()
    }
    try:
        for process in children.values():  # warm-up, not counted
            process.ask("publish", 3)
        times: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
        print(f"Publishing: {args.rounds} rounds × {args.batch} per variant...", flush=True)
        for _round, variant in _common.interleaved(list(VARIANTS), args.rounds):
            times[variant] += children[variant].ask("publish", args.batch)
        statements = {variant: children[variant].ask("queries") for variant in VARIANTS}
        left = children["on"].ask("check")
    finally:
        for process in children.values():
            process.close()

    base = _common.median(times["plain"])
    rows = []
    for variant, label in VARIANTS.items():
        if variant != "plain":
            label += f", {args.accounts} accounts"
        middle = _common.median(times[variant])
        rows.append(
            (
                label,
                len(times[variant]),
                f"{middle * 1000:.1f}",
                f"{_common.quantile(times[variant], 0.9) * 1000:.1f}",
                f"{middle / base:.2f}",
                len(statements[variant]),
            )
        )
    _common.print_table(
        ["variant", "publishes", "median ms", "p90 ms", "ratio", "SQL queries"],
        rows,
        title="revision.publish() of a new photo page (ratio: median / median not installed)",
    )
    ratio = _common.median(times["on"]) / base
    print(
        f"\nToggle on with {args.accounts} accounts: {ratio:.2f} × the publish without the "
        f"plugin; target ≤ {TARGET:.2f}: {_common.verdict(ratio <= TARGET)}."
    )
    added = Counter(statements["on"]) - Counter(statements["off"])
    _common.print_table(
        ["statement", "count"],
        sorted(added.items(), key=lambda item: (-item[1], item[0])),
        title=f"What the toggle adds to one publish ({args.accounts} accounts): "
        f"{sum(added.values())} statements",
    )
    print(
        f"\nLeft by the toggled-on publishes: records {left['records']}; tasks queued "
        f"(none run: no worker here) {left['tasks']}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
