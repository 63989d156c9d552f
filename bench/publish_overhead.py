"""What the plugin adds to a publish: ``revision.publish()`` of a photo page, with and without
wagtail-syndicate, side by side.

    python bench/publish_overhead.py                 # 12 rounds of 10 publishes per variant
    python bench/publish_overhead.py --rounds 30 --batch 20 --accounts 1 2 10 50
    python bench/publish_overhead.py --admin --accounts 1 10  # the admin's publish POST

Three variants, each publishing new draft pages (the first publish of a page, which is when a
post is made) with ``revision.publish()`` in code, the way scheduled publishing and workflow
approval do:

* **not installed**: a site without wagtail-syndicate (not in ``INSTALLED_APPS``) whose photo
  page is ``bench.plainapp.PlainPhotoPage``: the same fields, no mixin (an installed app cannot
  be taken out of a process, and a receiver disconnected would still leave the mixin's fields);
* **installed, toggle off**: ``tests.testapp.PhotoPage`` with "Share when published" off, with
  1, 2, 10 and 50 accounts connected (what every other publish on a site with the plugin costs);
* **installed, toggle on**: the same with the toggle on: each publish writes one intent and
  enqueues one task (the worker's fan-out, not run here, makes the records), whatever the
  number of accounts.

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
TARGET_OFF = 1.03
TARGET_STATEMENTS = 2
LABELS = {"plain": "not installed", "off": "installed, toggle off", "on": "installed, toggle on"}


def variants(counts: list[int]) -> dict[str, tuple[str, int]]:
    """Each variant's (kind, accounts), by name: "plain", then "off-N" and "on-N"."""
    found = {"plain": ("plain", 0)}
    for count in counts:
        found[f"off-{count}"] = ("off", count)
        found[f"on-{count}"] = ("on", count)
    return found


# The child: one site, publishing on command ----------------------------------------------------


def child(variant: str, bench_dir: str, accounts: int) -> None:
    variant = variant.split("-")[0]
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

    client = None

    def admin(count: int, follow: bool) -> list[float]:
        """The editor's real path: the edit form posted with "Publish" by a logged-in
        superuser, and with ``follow`` the page its redirect leads to loaded too."""
        nonlocal client
        from django.test import Client
        from django.urls import reverse

        if client is None:
            from django.contrib.auth import get_user_model

            user = get_user_model().objects.create_superuser("editor", "e@example.com", "pw")
            client = Client()
            client.force_login(user)
        times = []
        for revision in drafts(count, syndicate=variant == "on"):
            page = revision.content_object
            data = {
                "title": page.title,
                "slug": page.slug,
                "photo": page.photo_id,
                "alt_text": page.alt_text,
                "action-publish": "action-publish",
            }
            if variant == "on":
                data["syndicate"] = "on"
            url = reverse("wagtailadmin_pages:edit", args=[page.pk])
            start = time.perf_counter()
            response = client.post(url, data)
            if follow:
                client.get(response["Location"])
            times.append(time.perf_counter() - start)
            assert response.status_code == 302, response.content[:2000]
        return times

    def queries() -> list[str]:
        """The SQL statements of one publish, each as "VERB table"."""
        (revision,) = drafts(1, syndicate=variant == "on")
        with CaptureQueriesContext(connection) as captured:
            revision.publish()
        return [_common.sql_statement(query["sql"]) for query in captured.captured_queries]

    def admin_queries() -> list[str]:
        """The SQL statements of one publish POST of the admin's edit form."""
        with CaptureQueriesContext(connection) as captured:
            admin(1, False)
        return [_common.sql_statement(query["sql"]) for query in captured.captured_queries]

    def check() -> dict:
        """What the toggled-on publishes left: records, their states, tasks queued."""
        if not plugin:
            return {}
        from wagtail_syndicate.models import SyndicationIntent, SyndicationRecord

        states = Counter(SyndicationRecord.objects.values_list("state", flat=True))
        states["intents"] = SyndicationIntent.objects.count()
        tasks = Counter()
        for path, arguments in _common.task_result_model().objects.values_list(
            "task_path", "args_kwargs"
        ):
            if path.endswith(("syndicate_record", "fan_out_task")):
                tasks[path.rsplit(".", 1)[-1]] += 1
            elif arguments["args"][:2] == ["wagtail_syndicate", "syndicationrecord"]:
                tasks[path.rsplit(".", 1)[-1] + " of a SyndicationRecord"] += 1
        return {"records": dict(states), "tasks": dict(tasks)}

    _common.serve(
        {
            "publish": publish,
            "admin": admin,
            "queries": queries,
            "admin_queries": admin_queries,
            "check": check,
        }
    )


# The driver ----------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=12, help="rounds (default 12)")
    parser.add_argument("--batch", type=int, default=10, help="publishes per variant and round")
    parser.add_argument(
        "--accounts",
        type=int,
        nargs="+",
        default=[1, 2, 10, 50],
        help="the numbers of accounts connected, a variant each (default 1 2 10 50)",
    )
    parser.add_argument(
        "--admin",
        action="store_true",
        help="time the admin's publish POST (alone, and with the page its redirect loads) "
        "instead of revision.publish()",
    )
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1], args.accounts[0])
        return 0

    print(__doc__.split("\n\n")[0].strip())
    _common.print_machine()
    every = variants(args.accounts)
    sites = {variant: _common.new_site_dir() for variant in every}
    print("\nMigrating a fresh site for each variant...", flush=True)
    migrating = [
        _common.migrate(d, plugin=every[v][0] != "plain", wait=False) for v, d in sites.items()
    ]
    for process in migrating:
        _common.check_exit(process)
    script = str(Path(__file__).resolve())
    children = {
        variant: _common.Child(
            script, "--child", variant, bench_dir, "--accounts", str(every[variant][1])
        )
        for variant, bench_dir in sites.items()
    }
    if args.admin:
        try:
            return admin_main(args, every, children)
        finally:
            for process in children.values():
                process.close()
    try:
        for process in children.values():  # warm-up, not counted
            process.ask("publish", 3)
        times: dict[str, list[float]] = {variant: [] for variant in every}
        print(f"Publishing: {args.rounds} rounds × {args.batch} per variant...", flush=True)
        for _round, variant in _common.interleaved(list(every), args.rounds):
            times[variant] += children[variant].ask("publish", args.batch)
        statements = {variant: children[variant].ask("queries") for variant in every}
        left = {v: children[v].ask("check") for v in every if every[v][0] == "on"}
    finally:
        for process in children.values():
            process.close()

    base = _common.median(times["plain"])
    rows = []
    for variant, (kind, count) in every.items():
        label = LABELS[kind] + (f", {count} account{'s' if count != 1 else ''}" if count else "")
        middle = _common.median(times[variant])
        rows.append(
            (
                label,
                len(times[variant]),
                f"{middle * 1000:.1f}",
                f"{_common.quantile(times[variant], 0.9) * 1000:.1f}",
                f"{middle / base:.2f}",
                len(statements[variant]),
                len(statements[variant]) - len(statements["plain"]),
            )
        )
    _common.print_table(
        ["variant", "publishes", "median ms", "p90 ms", "ratio", "SQL", "SQL added"],
        rows,
        title="revision.publish() of a new photo page (ratio: median / median not installed)",
    )
    print()
    for count in args.accounts:
        on = _common.median(times[f"on-{count}"]) / base
        off = _common.median(times[f"off-{count}"]) / base
        added = Counter(statements[f"on-{count}"]) - Counter(statements[f"off-{count}"])
        print(
            f"{count} accounts: toggle on {on:.2f} (target ≤ {TARGET:.2f}: "
            f"{_common.verdict(on <= TARGET)}), toggle off {off:.2f} (target ≤ {TARGET_OFF:.2f}: "
            f"{_common.verdict(off <= TARGET_OFF)}); the toggle adds {sum(added.values())} "
            f"statements (target {TARGET_STATEMENTS}: "
            f"{_common.verdict(sum(added.values()) <= TARGET_STATEMENTS)})"
        )
    last = args.accounts[-1]
    added = Counter(statements[f"on-{last}"]) - Counter(statements[f"off-{last}"])
    _common.print_table(
        ["statement", "count"],
        sorted(added.items(), key=lambda item: (-item[1], item[0])),
        title=f"What the toggle adds to one publish ({last} accounts): "
        f"{sum(added.values())} statements",
    )
    for variant, found in left.items():
        print(f"Left by {variant}: {found} (none run: no worker here).")
    return 0


ADMIN_TARGETS = {"POST": TARGET, "POST + redirect": TARGET_OFF}


def admin_main(args, every: dict, children: dict) -> int:
    """The editor's path: the edit form's publish POST, alone and with the page its redirect
    loads (the explorer), each variant against "not installed"."""
    kinds = {"POST": False, "POST + redirect": True}
    for process in children.values():  # warm-up, not counted
        process.ask("admin", 2, True)
    times = {(variant, kind): [] for variant in every for kind in kinds}
    print(f"Publishing in the admin: {args.rounds} rounds × {args.batch} per variant...")
    for _round, variant in _common.interleaved(list(every), args.rounds):
        for kind, follow in kinds.items():
            times[(variant, kind)] += children[variant].ask("admin", args.batch, follow)
    statements = {variant: children[variant].ask("admin_queries") for variant in every}
    rows, verdicts = [], []
    for variant, (kind_of_site, count) in every.items():
        label = LABELS[kind_of_site] + (
            f", {count} account{'s' if count != 1 else ''}" if count else ""
        )
        added = len(statements[variant]) - len(statements["plain"])
        for kind in kinds:
            middle = _common.median(times[(variant, kind)])
            ratio = middle / _common.median(times[("plain", kind)])
            rows.append(
                (
                    label,
                    kind,
                    len(times[(variant, kind)]),
                    f"{middle * 1000:.1f}",
                    f"{ratio:.2f}",
                    added,
                )
            )
            if kind_of_site == "on":
                target = ADMIN_TARGETS[kind]
                verdicts.append(
                    f"{label}, {kind}: {ratio:.2f} (target ≤ {target:.2f}: "
                    f"{_common.verdict(ratio <= target)})"
                )
    _common.print_table(
        ["variant", "request", "publishes", "median ms", "ratio", "SQL added (POST)"],
        rows,
        title="The admin's publish POST of a new photo page (ratio: median / median not installed)",
    )
    print()
    print("\n".join(verdicts))
    last = f"on-{args.accounts[-1]}"
    # The page model's table by one name on both sites, so only the plugin's statements remain.
    plain = [
        sql.replace("plainapp_plainphotopage", "testapp_photopage") for sql in statements["plain"]
    ]
    added = Counter(statements[last]) - Counter(plain)
    _common.print_table(
        ["statement", "count"],
        sorted(added.items(), key=lambda item: (-item[1], item[0])),
        title=f"What the plugin adds to one publish POST ({last}): "
        f"{sum(added.values())} statements",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
