"""What the worker spends on one post: CPU time and SQL queries of one run of the task.

    python bench/worker_cost.py               # 25 rounds of a new post and an edit
    python bench/worker_cost.py --rounds 60 --profile 20

The clock is ``time.process_time()`` around ``wagtail_syndicate.pipeline.tasks.share`` (what the
``syndicate_record`` task runs), so it counts this process's CPU only: FakeMastodon runs in a
process of its own (``python -m syndicate_fakes``) and the time spent waiting for its
answers is not CPU time here. The image is a 1600×1200 JPEG of about 1 MB, which the server
takes as it is: no rendition is made (the memory benchmark covers renditions). The instance's
limits are cached by a warm-up post first, as they are for an hour after any post.

Two kinds of run alternate: a new page's first post (upload + status), and an edit of a posted
page whose title changed (one PUT). SQL queries are counted on separate runs (counting them
costs CPU too), and a profile of further runs shows where the CPU time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common  # noqa: E402

KINDS = {"post": "new post (upload + status)", "edit": "edit (title changed: one PUT)"}

# Where the CPU time of a run goes: (label, module file suffix, function name).
PARTS = [
    ("the whole run (share)", "pipeline/tasks.py", "share"),
    ("claim the record (compare-and-set)", "models/records.py", "claim"),
    ("history entries (Wagtail log)", "pipeline/history.py", "log_outcome"),
    ("read limits (cache)", "pipeline/limits_cache.py", "limits_for"),
    ("compose the post (text, image)", "content/posts.py", "compose_post"),
    (
        "  of which: open the image to learn its format",
        "content/image_files.py",
        "probe",
    ),
    ("HTTP requests (requests, client side)", "networks/http/client.py", "request"),
    ("decrypt the token", "wagtail_syndicate/tokens.py", "decrypt_token"),
    ("remember the upload on the record", "pipeline/runner.py", "_remember"),
    ("settle the record", "pipeline/runner.py", "_settle"),
]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=25, help="rounds of each kind (25)")
    parser.add_argument("--profile", type=int, default=10, help="runs of each kind profiled")
    args = parser.parse_args(argv)
    print(__doc__.split("\n\n")[0].strip())
    _common.print_machine()
    _common.bootstrap()

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from wagtail_syndicate.pipeline.tasks import share

    with _common.FakeProcess(count=False) as fake:
        _common.connect_account(fake.base_url)
        image = _common.make_image(_common.jpeg_bytes(1600, 1200), title="Boats")
        print(f"\nImage: 1600×1200 JPEG, {image.file.size / 1e6:.2f} MB", flush=True)
        posted = []
        numbers = iter(range(10**9))

        def prepare(kind: str):
            """Publish (not measured); return the record the worker would now run."""
            if kind == "post":
                page = _common.make_photo_page(image, title=f"Photo {next(numbers)}")
                posted.append(page)
            else:
                page = posted.pop(0)
                _common.republish(page, title=f"{page.title}, edited {next(numbers)}")
                posted.append(page)
            _common.fan_out_publishes()
            (record,) = _common.records_of(page)
            assert record.state == "queued", record.state
            return record

        def run(record) -> None:
            outcome = share(record.pk, record.generation)
            assert outcome == "posted", (outcome, _common.records_of(record.page)[0].last_error)

        for kind in ("post", "post", "edit"):  # warm-up: limits cached, code paths loaded
            run(prepare(kind))

        cpu: dict[str, list[float]] = {kind: [] for kind in KINDS}
        wall: dict[str, list[float]] = {kind: [] for kind in KINDS}
        print(f"Measuring: {args.rounds} rounds of each...", flush=True)
        for _round, kind in _common.interleaved(list(KINDS), args.rounds):
            record = prepare(kind)
            start_cpu, start_wall = time.process_time(), time.perf_counter()
            run(record)
            cpu[kind].append(time.process_time() - start_cpu)
            wall[kind].append(time.perf_counter() - start_wall)

        queries: dict[str, list[list[str]]] = {kind: [] for kind in KINDS}
        for _round, kind in _common.interleaved(list(KINDS), 3):
            record = prepare(kind)
            with CaptureQueriesContext(connection) as captured:
                run(record)
            queries[kind].append(
                [_common.sql_statement(q["sql"]) for q in captured.captured_queries]
            )

        profiles = {}
        for kind in KINDS:
            profiler = cProfile.Profile(time.process_time)
            for _ in range(args.profile):
                record = prepare(kind)
                profiler.enable()
                run(record)
                profiler.disable()
            profiles[kind] = pstats.Stats(profiler)

    rows = []
    for kind, label in KINDS.items():
        rows.append(
            (
                label,
                len(cpu[kind]),
                f"{_common.median(cpu[kind]) * 1000:.1f}",
                f"{_common.quantile(cpu[kind], 0.9) * 1000:.1f}",
                f"{_common.median(wall[kind]) * 1000:.1f}",
                f"{_common.median(len(q) for q in queries[kind]):.0f}",
            )
        )
    _common.print_table(
        ["run of the task", "runs", "CPU ms (median)", "CPU ms (p90)", "wall ms", "SQL queries"],
        rows,
        title="One run of wagtail_syndicate.pipeline.tasks.share (CPU of this process only)",
    )
    _common.print_table(
        ["statement", *KINDS],
        _statement_rows(queries),
        title="SQL statements of one run",
    )
    _common.print_table(
        ["part of the run", *(f"{kind}: share of CPU" for kind in KINDS)],
        [
            (label, *(_part(profiles[kind], suffix, name) for kind in KINDS))
            for label, suffix, name in PARTS
        ],
        title=f"Where the CPU goes (cProfile on CPU time, {args.profile} runs of each; a part "
        "includes what it calls)",
    )
    return 0


def _statement_rows(queries: dict[str, list[list[str]]]):
    counts = {kind: Counter(runs[0]) for kind, runs in queries.items()}
    names = sorted(set().union(*counts.values()), key=lambda n: (-counts["post"][n], n))
    return [(name, *(counts[kind][name] for kind in queries)) for name in names]


def _part(stats: pstats.Stats, suffix: str, name: str) -> str:
    """The cumulative time of a function as a share of the whole run's (``share``)."""

    def cumulative(suffix: str, name: str) -> float:
        return sum(
            row[3]
            for (filename, _line, function), row in stats.stats.items()
            if function == name and filename.endswith(suffix)
        )

    part = cumulative(suffix, name)
    return f"{part / cumulative('pipeline/tasks.py', 'share'):.0%}" if part else "-"


if __name__ == "__main__":
    sys.exit(main())
