"""Posts before index updates: db_workers on PostgreSQL with Wagtail's index tasks queued alongside.

    python bench/queue_priority.py                  # a PostgreSQL cluster of its own
    python bench/queue_priority.py --postgres postgresql://postgres@127.0.0.1:PORT/postgres
    python bench/queue_priority.py --posts 20 --per-post 8 --workers 1,2,4 --latency 6

Backlog runs. In one transaction, ``--posts`` pages are published (one account, one image
each), and before each publish Wagtail's own index tasks are queued until ``--per-post`` of
them stand before its post, as on a real site where each publish queues about eight search and
reference index updates: the ones the publish itself queues, and more of the same real tasks
(``update_reference_index_task`` and ``insert_or_update_object_task`` for the page). Then the
transaction commits while 1, 2 or 4 ``manage.py db_worker`` processes (started before, polling)
wait for work, and the clock starts. A run ends when every post is out (and, where the workers
take Wagtail's queue, when the backlog is done too). Three ways to queue the plugin's tasks:

* ``arrival``: ``TASK_PRIORITY`` 0, Wagtail's priority: the order they arrived in, as before;
* ``priority``: the default ``TASK_PRIORITY`` (10), every worker on the one queue;
* ``own queue``: ``QUEUE_NAME`` "syndication" and the workers started with ``--queue-name
  syndication``: the plugin's tasks alone (Wagtail's wait for workers of their own).

The figures: posts per second (the posts over the time the last one went out), when the posts
went out (median and last, seconds after the commit) and when the index backlog was done, and
how many index tasks had finished before the last post.

Idle latency: one worker waits on an empty queue; a page is published (its own transaction, as
in the admin) at a random moment of the worker's polling interval, and the time from the start
of ``revision.publish()`` to the record's ``posted_at`` is taken, ``--latency`` times, with the
worker's default ``--interval`` (1 s) and with 0.1 s, after one unmeasured post (a new worker reads
the server's limits first).

FakeMastodon runs in a process of its own and answers at once: a real server's answer time
would add to each post, not to the index tasks. Every process started here is stopped by its pid.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common  # noqa: E402
from bench.chaos import Process, worker_args  # noqa: E402

# The plugin's tasks (the fan-out of a publish and the post), by their path.
PLUGIN_TASKS = "wagtail_syndicate."

# name: (what it is, WAGTAIL_SYNDICATE changes, the --queue-name of the workers)
MODES = {
    "arrival": ("TASK_PRIORITY 0 (arrival order, as before)", {"TASK_PRIORITY": 0}, "default"),
    "priority": ("TASK_PRIORITY 10 (the default), one queue", {}, "default"),
    "own queue": (
        'QUEUE_NAME "syndication", workers for it alone',
        {"QUEUE_NAME": "syndication"},
        "syndication",
    ),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", help="a server's postgres:// URL (default: a cluster here)")
    parser.add_argument("--posts", type=int, default=20, help="posts in a backlog run (20)")
    parser.add_argument("--per-post", type=int, default=8, help="index tasks before each (8)")
    parser.add_argument("--workers", default="1,2,4", help="worker counts (1,2,4)")
    parser.add_argument("--modes", default=",".join(MODES), help=f"of {', '.join(MODES)}")
    parser.add_argument("--latency", type=int, default=6, help="idle publishes per interval (6)")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.workers.split(",")]
    modes = [m.strip() for m in args.modes.split(",")]
    print(__doc__.split("\n\n")[0].strip())
    if args.postgres:
        return _run(args.postgres, args, counts, modes)
    with _common.throwaway_postgres() as url:
        return _run(url, args, counts, modes)


def _run(server_url, args, counts, modes) -> int:
    from bench.chaos import create_postgres_database, drop_postgres_database

    database_url = create_postgres_database(server_url)
    try:
        os.environ["BENCH_DATABASE_URL"] = database_url
        started = time.monotonic()
        _common.print_machine([("PostgreSQL", _server_version(database_url))])
        _common.bootstrap()
        with _common.FakeProcess(count=False) as fake:
            bench = Bench(fake.base_url)
            rows = []
            for workers in counts:
                for mode in modes:
                    rows.append(bench.backlog(mode, workers, args.posts, args.per_post))
            latencies = [bench.idle_latency(interval, args.latency) for interval in (1.0, 0.1)]
        _common.print_table(
            [
                "workers",
                "plugin's tasks",
                "posts/s",
                "posts out (median; last)",
                "index backlog done",
                "index tasks done before the last post",
            ],
            rows,
            title=f"{args.posts} posts, each behind {args.per_post} of Wagtail's index tasks "
            f"({args.posts * args.per_post} in all; {bench.own_tasks} of them queued by its "
            "publish itself), seconds after the commit",
        )
        _common.print_table(
            ["worker --interval", "publishes", "median s", "p90 s", "max s", "publish s"],
            latencies,
            title="From revision.publish() to posted, one idle worker",
        )
        print(f"\nRun time: {time.monotonic() - started:.0f} s")
    finally:
        from django.db import connections

        connections.close_all()
        drop_postgres_database(server_url, database_url)
    return 0


def _server_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        return connection.execute("SHOW server_version").fetchone()[0].split()[0]


class Bench:
    def __init__(self, base_url: str) -> None:
        from django.conf import settings

        self.base = dict(settings.WAGTAIL_SYNDICATE)
        self.account = _common.connect_account(base_url)
        self.image = _common.make_image(_common.jpeg_bytes(640, 480), title="Boats")
        self.numbers = iter(range(10**9))
        self.log_dir = Path(os.environ["BENCH_DIR"])
        self.env = {**os.environ}
        # What one publish queues of Wagtail's own (a new page: its creation and its publish).
        self.tasks().delete()
        self.sample = self.page()
        self.own_tasks = self.tasks().exclude(task_path__startswith=PLUGIN_TASKS).count()
        self.tasks().delete()

    def tasks(self):
        return _common.task_result_model().objects.all()

    def page(self):
        return _common.make_photo_page(self.image, title=f"Harbour {next(self.numbers)}")

    def settings(self, changes: dict):
        from django.test import override_settings

        return override_settings(WAGTAIL_SYNDICATE={**self.base, **changes})

    def start_workers(
        self, count: int, queue: str, interval: float, changes: dict | None = None
    ) -> list[Process]:
        """``count`` workers on ``queue``, with the settings ``changes`` of the run: the
        workers' fan-out queues the posts, so they must queue them as the run says."""
        kept = json.loads(self.env.get("BENCH_SYNDICATE") or "{}")
        env = {**self.env, "BENCH_SYNDICATE": json.dumps({**kept, **(changes or {})})}
        workers = []
        for _ in range(count):
            name = f"worker-{next(self.numbers)}"
            args = [*worker_args(name, interval), "--queue-name", queue, "--verbosity", "1"]
            workers.append(Process(name, args, env, self.log_dir))
        deadline = time.monotonic() + 60
        while not all("Starting worker" in w.output() for w in workers):
            if time.monotonic() > deadline or not all(w.alive() for w in workers):
                raise RuntimeError("a worker did not start:\n" + workers[0].output())
            time.sleep(0.05)
        return workers

    def backlog(self, mode: str, count: int, posts: int, per_post: int):
        from django.db import transaction
        from django.utils import timezone
        from wagtail.search.tasks import insert_or_update_object_task
        from wagtail.tasks import update_reference_index_task

        from wagtail_syndicate.models import SyndicationRecord

        label, changes, queue = MODES[mode]
        print(f"\n{count} worker(s), {label}...", flush=True)
        self.tasks().delete()
        extra = max(0, per_post - self.own_tasks)
        top_up = [update_reference_index_task, insert_or_update_object_task]
        sample = (self.sample._meta.app_label, self.sample._meta.model_name, str(self.sample.pk))
        workers = []
        try:
            with self.settings(changes), transaction.atomic():
                pages = []
                for _ in range(posts):
                    for number in range(extra):  # real index updates, of a photo page
                        top_up[number % 2].enqueue(*sample)
                    pages.append(self.page())
                    if not workers:  # they start while the rest is written, unseen
                        workers = self.start_workers(count, queue, interval=0.1, changes=changes)
            start = timezone.now()
            records = SyndicationRecord.objects.filter(page__in=pages)
            index = self.tasks().exclude(task_path__startswith=PLUGIN_TASKS)
            wait_index = queue != "syndication"
            deadline = time.monotonic() + 240
            # The worker's fan-out makes the records: none may exist yet at the start.
            while records.filter(state="posted").count() < len(pages) or (
                wait_index and index.filter(finished_at__isnull=True).exists()
            ):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{mode}, {count} workers: not done in 240 s")
                time.sleep(0.05)
        finally:
            for worker in workers:
                worker.stop()
        out = sorted((r.posted_at - start).total_seconds() for r in records)
        done = sorted((t.finished_at - start).total_seconds() for t in index if t.finished_at)
        last = out[-1]
        backlog = f"{done[-1]:.2f}" if wait_index else "(not run)"
        before = sum(1 for t in done if t < last)
        return (
            count,
            label,
            f"{posts / last:.1f}",
            f"{_common.median(out):.2f}; {last:.2f}",
            backlog,
            f"{before} of {index.count()}",
        )

    def idle_latency(self, interval: float, publishes: int):
        from django.utils import timezone

        from wagtail_syndicate.models import SyndicationRecord

        print(f"\nIdle worker, --interval {interval:g}...", flush=True)
        self.tasks().delete()
        (worker,) = self.start_workers(1, "default", interval=interval)
        times, publishing = [], []
        try:
            shuffler = random.Random(interval)
            for number in range(publishes + 1):  # the first warms the worker up (limits)
                time.sleep(interval + shuffler.uniform(0, interval))  # anywhere in its wait
                start = timezone.now()
                page = self.page()
                published = (timezone.now() - start).total_seconds()
                record = SyndicationRecord.objects.filter(page=page)
                deadline = time.monotonic() + 30
                while not record.filter(state="posted").exists():
                    if time.monotonic() > deadline:
                        raise RuntimeError("the idle worker did not post within 30 s")
                    time.sleep(0.01)
                if number:
                    times.append((record.get().posted_at - start).total_seconds())
                    publishing.append(published)
                # Let it drain what the publish queued of Wagtail's before the next one.
                while self.tasks().filter(finished_at__isnull=True).exists():
                    time.sleep(0.02)
        finally:
            worker.stop()
        return (
            f"{interval:g} s",
            len(times),
            f"{_common.median(times):.2f}",
            f"{_common.quantile(times, 0.9):.2f}",
            f"{max(times):.2f}",
            f"{_common.median(publishing):.2f}",
        )


if __name__ == "__main__":
    sys.exit(main())
