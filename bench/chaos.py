"""The fault-injection run: real workers, a real database, a Mastodon that fails 20 % of the time.

    python bench/chaos.py                       # 500 pages, 2 accounts, 4 workers, 2 kills
    python bench/chaos.py --pages 100 --workers 2 --kills 1
    python bench/chaos.py --postgres postgresql://USER@127.0.0.1:PORT/postgres
    python bench/chaos.py --no-idempotency      # a server that ignores Idempotency-Key

One run:

1. a fresh database (a SQLite file in a temporary folder, or a new PostgreSQL database on the
   server given), migrated with ``python -m django migrate`` and ``tests.chaos_settings``;
2. FakeMastodon in this process, with two accounts and chaos mode (5xx, 429, time-outs and
   dropped connections, some after the server did the work) on a fixed seed; with
   ``idempotency=False`` it ignores ``Idempotency-Key``, as some servers that speak the
   Mastodon API do, so only looking before creating again keeps a post from being doubled;
3. ``bench.chaos_driver`` creates the pages (each with its own image and alt text) and
   publishes each twice, retitling it at once, while its run is in flight, or after it posted;
4. ``python -m django db_worker`` processes do the work; one is SIGKILLed in the middle of a
   run (``kills`` times) and a new one started; ``manage.py syndicate --retry-due`` runs every
   couple of seconds (a deployment runs it from cron) and takes over the killed worker's record
   once its lease has expired;
5. when no record is queued, posting or retrying (or after ``time_limit``, listing the stuck
   ones), everything started is stopped and the outcome checked against the fake and the
   database: one status per page and account, with the latest title and one image with the
   page's alt text; no duplicates; no record failed or left behind.

``run()`` returns a :class:`Result`; ``Result.problems()`` lists what is wrong (empty: all
right). Only processes this module started are ever signalled, by their pid.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as ``python bench/chaos.py``
    sys.path.insert(0, str(ROOT))

from syndicate_fakes import FakeMastodon  # noqa: E402

ACTIVE = ("queued", "posting", "retrying")
RECORDS = "wagtail_syndicate_syndicationrecord"
TASK_RESULTS = "django_tasks_database_dbtaskresult"
# django-tasks 0.7 (Wagtail 7.0) has its own db_worker: no --worker-id, no --no-reload.
LEGACY_TASKS = importlib.util.find_spec("django_tasks.backends.database") is not None
ACCOUNTS = {"chaos-token-alice": "alice", "chaos-token-bob": "bob"}


class ChaosError(AssertionError):
    """The run did not settle in time, or a process it needs failed."""


@dataclass
class Result:
    database: str
    pages: int
    accounts: int
    workers: int
    seed: int
    rate: float
    idempotency: bool = True
    elapsed: float = 0.0
    records: Counter = field(default_factory=Counter)
    statuses: int = 0
    duplicates: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    wrong: list = field(default_factory=list)
    stray: int = 0
    records_not_matching: list = field(default_factory=list)
    requests: int = 0
    faults: Counter = field(default_factory=Counter)
    task_outcomes: Counter = field(default_factory=Counter)
    task_errors: Counter = field(default_factory=Counter)
    retry_due: Counter = field(default_factory=Counter)
    kills: list = field(default_factory=list)
    crashes: list = field(default_factory=list)
    diagnostics: str = ""
    locked_log_lines: int = 0
    publishes_locked: int = 0
    second_publish_saw: dict = field(default_factory=dict)
    edits: int = 0
    publish_seconds: float = 0.0

    @property
    def expected(self) -> int:
        return self.pages * self.accounts

    def problems(self) -> list[str]:
        found = []
        if self.duplicates:
            found.append(f"{len(self.duplicates)} duplicate posts: {self.duplicates[:5]}")
        if self.missing:
            found.append(f"{len(self.missing)} posts missing: {self.missing[:5]}")
        if self.wrong:
            found.append(f"{len(self.wrong)} posts not as the page is now: {self.wrong[:5]}")
        if self.stray:
            found.append(f"{self.stray} statuses on the fake that link to no page")
        if self.records_not_matching:
            found.append(f"records not matching the fake: {self.records_not_matching[:5]}")
        if self.records["posted"] != self.expected:
            found.append(
                f"records by state: {dict(self.records)}; all {self.expected} should be posted"
            )
        return found

    def table(self) -> str:
        outcomes = self.task_outcomes
        rows = [
            ("database", self.database),
            ("pages × accounts", f"{self.pages} × {self.accounts} = {self.expected}"),
            ("workers (SIGKILLed mid-run)", f"{self.workers} ({len(self.kills)})"),
            ("chaos", f"{self.rate:.0%} of API requests, seed {self.seed}"),
            ("Idempotency-Key", "honoured" if self.idempotency else "ignored"),
            ("elapsed", f"{self.elapsed:.1f} s (publishing took {self.publish_seconds:.1f} s)"),
            ("requests to the fake", self.requests),
            ("faults injected", f"{sum(self.faults.values())} {_counts(self.faults)}"),
            ("task runs", f"{sum(outcomes.values())} {_counts(outcomes)}"),
            ("tasks that raised", f"{sum(self.task_errors.values())} {_counts(self.task_errors)}"),
            ("run by --retry-due", f"{sum(self.retry_due.values())} {_counts(self.retry_due)}"),
            ("second publish saw", _counts(self.second_publish_saw)),
            ("statuses on the fake", f"{self.statuses} (edited: {self.edits})"),
            ("duplicates", len(self.duplicates)),
            ("missing / wrong text or image", f"{len(self.missing)} / {len(self.wrong)}"),
            ("records", _counts(self.records)),
            ("'database is locked' in logs", self.locked_log_lines),
            ("publishes retried (locked)", self.publishes_locked),
        ]
        rows += [("kill", kill) for kill in self.kills]
        rows += [("worker crashed, restarted", crash) for crash in self.crashes]
        rows += [("diagnostics", self.diagnostics)] if self.diagnostics else []
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def _counts(counter) -> str:
    return "(" + ", ".join(f"{k}: {v}" for k, v in sorted(counter.items())) + ")"


# ------------------------------------------------------------------ databases


class Database:
    """Plain SQL on the run's database from this process (which has no Django set up)."""

    def __init__(self, *, sqlite_path: str | None = None, postgres_url: str | None = None):
        self.sqlite_path = sqlite_path
        self.postgres_url = postgres_url

    def json(self, value):
        """A JSON column's value: SQLite gives its text, psycopg the decoded value."""
        return json.loads(value) if self.sqlite_path and isinstance(value, str) else value

    def query(self, sql: str) -> list[tuple]:
        if self.sqlite_path:
            connection = sqlite3.connect(self.sqlite_path, timeout=20, isolation_level=None)
            try:
                return connection.execute(sql).fetchall()
            finally:
                connection.close()
        import psycopg

        with psycopg.connect(self.postgres_url, autocommit=True) as connection:
            return connection.execute(sql).fetchall()


def create_postgres_database(server_url: str) -> str:
    """A new empty database on the server of ``server_url``; returns its URL."""
    import psycopg

    name = f"wagtail_syndicate_chaos_{os.getpid()}_{int(time.time() * 1000) % 10**9}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def drop_postgres_database(server_url: str, url: str) -> None:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ------------------------------------------------------------------ processes


class Process:
    """A child process with its output in a log file; stopped by its pid only."""

    def __init__(self, name: str, args: list[str], env: dict, log_dir: Path):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self.pid = self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
        self.popen.wait()
        self._log.close()

    def stop(self, grace: float = 5.0) -> None:
        if self.alive():
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.popen.wait()
        self._log.close()

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")


def django(*args: str) -> list[str]:
    return ["-m", "django", *args]


def worker_args(worker_id: str, interval: float) -> list[str]:
    args = django("db_worker", "--interval", str(interval), "--no-startup-delay")
    if not LEGACY_TASKS:
        args += ["--no-reload", "--worker-id", worker_id]
    return args


class RetryDue(threading.Thread):
    """``manage.py syndicate --retry-due`` every ``interval`` seconds, one at a time (cron)."""

    def __init__(self, env: dict, log_dir: Path, interval: float):
        super().__init__(name="retry-due", daemon=True)
        self.env, self.log_dir, self.interval = env, log_dir, interval
        self.stopping = threading.Event()
        self.outcomes: Counter = Counter()
        self.runs = 0
        self.current: Process | None = None

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            self.runs += 1
            process = Process(
                f"retry-due-{self.runs}", django("syndicate", "--retry-due"), self.env, self.log_dir
            )
            self.current = process
            try:
                process.popen.wait(timeout=120)
            except subprocess.TimeoutExpired:
                pass
            process.stop()
            self.current = None
            for line in process.output().splitlines():
                if "→" in line and ": " in line:
                    self.outcomes[line.rsplit(": ", 1)[1].strip()] += 1

    def stop(self) -> None:
        self.stopping.set()
        current = self.current
        if current is not None:
            current.stop()
        self.join(timeout=30)


# ------------------------------------------------------------------ the run


def run(
    *,
    pages: int = 100,
    workers: int = 2,
    kills: int = 1,
    rate: float = 0.2,
    seed: int = 1234,
    postgres: str | None = None,
    sqlite_immediate: bool = False,
    sqlite_wal: bool = False,
    time_limit: float = 300.0,
    worker_interval: float = 0.1,
    retry_due_interval: float = 2.0,
    lease_timeout: float = 8.0,
    read_timeout: float = 1.0,
    idempotency: bool = True,
    keep: bool = False,
    log=None,
) -> Result:
    """One fault-injection run; see the module's docstring. ``postgres`` is the URL of a
    PostgreSQL server's maintenance database (a new database is made on it and dropped
    after); without it, SQLite. Raises ``ChaosError`` if the run does not settle in
    ``time_limit`` seconds; otherwise returns the figures (check ``problems()``)."""
    say = (lambda text: print(text, file=log, flush=True)) if log else (lambda text: None)
    workdir = Path(tempfile.mkdtemp(prefix="wagtail-syndicate-chaos-"))
    database_url = create_postgres_database(postgres) if postgres else None
    sqlite_path = None if postgres else str(workdir / "db.sqlite3")
    db = Database(sqlite_path=sqlite_path, postgres_url=database_url)
    result = Result(
        database="PostgreSQL"
        if postgres
        else "SQLite" + (" IMMEDIATE" * sqlite_immediate) + (" WAL" * sqlite_wal),
        pages=pages,
        accounts=len(ACCOUNTS),
        workers=workers,
        seed=seed,
        rate=rate,
        idempotency=idempotency,
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.chaos_settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "CHAOS_MEDIA_ROOT": str(workdir / "media"),
        "CHAOS_LEASE_TIMEOUT": str(lease_timeout),
        "CHAOS_READ_TIMEOUT": str(read_timeout),
        "CHAOS_SQLITE_IMMEDIATE": "1" if sqlite_immediate else "0",
        "CHAOS_SQLITE_WAL": "1" if sqlite_wal else "0",
    }
    env.pop("CHAOS_DATABASE_URL", None)
    env.pop("CHAOS_SQLITE_PATH", None)
    env.update({"CHAOS_DATABASE_URL": database_url} if database_url else {})
    env.update({"CHAOS_SQLITE_PATH": sqlite_path} if sqlite_path else {})

    # Mastodon allows 30 uploads per 30 minutes per account: lifted, or a run takes hours.
    fake = FakeMastodon(
        tokens=ACCOUNTS,
        limits={"media_rate_limit": 10**6, "api_rate_limit": 10**6},
        idempotency=idempotency,
    )
    started_processes: list[Process] = []
    retry_due = RetryDue(env, workdir, retry_due_interval)
    started = time.monotonic()
    settled = False
    try:
        migrate = subprocess.run(
            [sys.executable, *django("migrate", "--no-input", "-v", "0")],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        if migrate.returncode:
            raise ChaosError(f"migrate failed:\n{migrate.stdout}\n{migrate.stderr}")
        say(f"migrated {result.database} in {time.monotonic() - started:.1f} s ({workdir})")

        fake.start()
        # Time-outs stay silent past the client's read time-out.
        fake.chaos(rate=rate, seed=seed, delay=read_timeout + 0.5)
        started = time.monotonic()
        manifest = workdir / "manifest.json"
        driver = Process(
            "driver",
            ["-m", "bench.chaos_driver", "--pages", str(pages), "--instance", fake.base_url]
            + [arg for token, name in ACCOUNTS.items() for arg in ("--account", f"{token}:{name}")]
            + ["--manifest", str(manifest)],
            env,
            workdir,
        )
        started_processes.append(driver)
        pool: dict[str, Process] = {}
        for number in range(workers):
            worker_id = f"chaos-w{number}"
            args = worker_args(worker_id, worker_interval)
            pool[worker_id] = Process(worker_id, args, env, workdir)
            started_processes.append(pool[worker_id])
        retry_due.start()

        names = itertools.count(workers)
        kill_at = [result.expected * (k + 1) // (kills + 2) for k in range(kills)]
        deadline = started + time_limit
        while True:
            if time.monotonic() > deadline:
                raise ChaosError(_stuck_report(db, time_limit, driver))
            if not driver.alive() and driver.popen.returncode:
                raise ChaosError(f"the driver failed:\n{driver.output()[-3000:]}")
            for worker_id, worker in list(pool.items()):
                if not worker.alive():  # as a process supervisor would: note it, start another
                    last = worker.output().strip().splitlines()[-1:] or ["?"]
                    result.crashes.append(
                        f"{worker_id} exited {worker.popen.returncode}: {last[0]}"
                    )
                    say(f"crash: {result.crashes[-1]}")
                    worker.stop()
                    del pool[worker_id]
                    name = f"chaos-w{next(names)}"
                    pool[name] = Process(name, worker_args(name, worker_interval), env, workdir)
                    started_processes.append(pool[name])
            states = dict(db.query(f"SELECT state, COUNT(*) FROM {RECORDS} GROUP BY state"))
            if kill_at and states.get("posted", 0) >= kill_at[0]:
                killed = _kill_one_mid_run(db, pool, names, worker_interval, env, workdir)
                if killed:
                    kill_at.pop(0)
                    started_processes.append(pool[killed[0]])
                    result.kills.append(killed[1])
                    say(f"kill: {killed[1]}")
                    continue
                time.sleep(0.01)
                continue
            if (
                not driver.alive()
                and not kill_at
                and sum(states.values()) == result.expected
                and not any(states.get(state) for state in ACTIVE)
            ):
                break
            time.sleep(0.25)
        result.elapsed = time.monotonic() - started
        say(f"settled in {result.elapsed:.1f} s")
        settled = True
    finally:
        retry_due.stop()
        for process in started_processes:
            process.stop()
        fake.stop()
        if not settled:  # a failed run leaves nothing behind either, unless asked (--keep)
            _clean_up(keep, postgres, database_url, workdir)

    try:
        _collect(result, db, fake, json.loads(manifest.read_text()), workdir, retry_due)
    finally:
        _clean_up(keep, postgres, database_url, workdir)
    return result


def _clean_up(keep, postgres, database_url, workdir):
    if keep:
        return
    if database_url:
        drop_postgres_database(postgres, database_url)
    shutil.rmtree(workdir, ignore_errors=True)


def _kill_one_mid_run(db, pool, names, interval, env, workdir):
    """SIGKILL a worker that is running a syndicate task now, start another in its place;
    returns (new worker id, description) or None when no worker is in a run."""
    running = db.query(
        f"SELECT worker_ids, args_kwargs FROM {TASK_RESULTS} WHERE status = 'RUNNING' "
        "AND task_path LIKE '%syndicate_record'"
        if not LEGACY_TASKS
        else f"SELECT '[]', args_kwargs FROM {TASK_RESULTS} WHERE status = 'RUNNING' "
        "AND task_path LIKE '%syndicate_record'"
    )
    for worker_ids, args_kwargs in running:
        ids = db.json(worker_ids)
        if LEGACY_TASKS:  # no worker ids: any worker, while some run is going on
            ids = [next(iter(pool))]
        victim = ids[-1] if ids else None
        if victim not in pool or not pool[victim].alive():
            continue
        process = pool.pop(victim)
        process.kill()
        replacement = f"chaos-w{next(names)}"
        record_id = db.json(args_kwargs)["args"][0]
        time.sleep(0.5)
        pool[replacement] = Process(replacement, worker_args(replacement, interval), env, workdir)
        state = db.query(f"SELECT state FROM {RECORDS} WHERE id = {int(record_id)}")[0][0]
        described = (
            f"SIGKILLed {victim} (pid {process.pid}) during its run of record {record_id} "
            f"(left {state}); started {replacement}"
        )
        return replacement, described
    return None


def _stuck_report(db, time_limit, driver) -> str:
    rows = db.query(
        "SELECT r.id, p.title, r.account_id, r.state, r.generation, r.attempts, "
        f"r.lease_expires_at, r.next_attempt_at, r.last_error FROM {RECORDS} r "
        "JOIN wagtailcore_page p ON p.id = r.page_id "
        f"WHERE r.state IN ('queued', 'posting', 'retrying') ORDER BY r.id"
    )
    lines = [
        f"The run did not settle in {time_limit:.0f} s"
        + (" (the driver was still publishing)" if driver.alive() else "")
        + f"; {len(rows)} record(s) stuck:"
    ]
    lines += [
        f"  record {r[0]} «{r[1]}» account {r[2]}: {r[3]}, generation {r[4]}, attempt {r[5]}, "
        f"lease until {r[6]}, next attempt {r[7]}, last error: {r[8]!r}"
        for r in rows[:40]
    ]
    return "\n".join(lines)


def _collect(result: Result, db: Database, fake: FakeMastodon, manifest, workdir, retry_due):
    pages = manifest["pages"]
    accounts = manifest["accounts"]
    result.second_publish_saw = manifest["second_publish_saw"]
    result.publishes_locked = manifest["publishes_locked"]
    result.publish_seconds = manifest["publish_seconds"]
    result.requests = len(fake.requests)
    result.faults = fake.chaos_counts()
    result.retry_due = retry_due.outcomes
    states = db.query(f"SELECT state, COUNT(*) FROM {RECORDS} GROUP BY state")
    result.records = Counter(dict(states))

    for status, value, path, exception in db.query(
        f"SELECT status, return_value, task_path, exception_class_path FROM {TASK_RESULTS}"
    ):
        if not path.endswith("syndicate_record"):
            continue
        if status == "FAILED":
            result.task_errors[exception.rsplit(".", 1)[-1] or "?"] += 1
        elif status in ("SUCCESSFUL", "SUCCEEDED"):
            result.task_outcomes[db.json(value)] += 1
        else:
            result.task_outcomes[f"({status.lower()})"] += 1

    statuses = fake.statuses
    result.statuses = len(statuses)
    result.edits = sum(1 for status in statuses if status.edits)
    by_key: dict[tuple[str, str], list] = {}
    for status in statuses:
        url = status.text.rsplit("\n", 1)[-1]
        by_key.setdefault((status.account, url), []).append(status)
    urls = {page["url"] for page in pages.values()}
    result.stray = sum(len(found) for (_, url), found in by_key.items() if url not in urls)
    for page in pages.values():
        for username in accounts.values():
            found = by_key.get((username, page["url"]), [])
            where = f"{page['title']} @{username}"
            if not found:
                result.missing.append(where)
                continue
            if len(found) > 1:
                result.duplicates.append(f"{where}: statuses {[s.id for s in found]}")
            for status in found:
                expected = f"{page['title']}\n\n{page['url']}"
                media = [m.description for m in status.media]
                if status.text != expected or media != [page["alt_text"]]:
                    result.wrong.append(f"{where}: status {status.id} {status.text!r} {media}")

    if result.wrong or result.duplicates:
        _diagnose(result, db, fake, pages, accounts, by_key, workdir)

    remote = {(s.account, s.id) for s in statuses}
    for record_id, account_id, state, remote_id in db.query(
        f"SELECT id, account_id, state, remote_id FROM {RECORDS}"
    ):
        username = accounts[str(account_id)]
        if state == "posted" and (username, remote_id) not in remote:
            result.records_not_matching.append(f"record {record_id}: {remote_id!r} not on fake")

    for log_file in Path(workdir).glob("*.log"):
        text = log_file.read_text(errors="replace")
        result.locked_log_lines += len(re.findall("database is locked", text))


def _diagnose(result, db, fake, pages, accounts, by_key, workdir):
    """For each page whose post is wrong or doubled: its records, its page history and every
    request about it, in ``diagnostics.txt`` (kept with ``--keep``)."""
    lines = []
    bad = {w.split(": status")[0] for w in result.wrong + result.duplicates}
    for page_id, page in pages.items():
        for account_id, username in accounts.items():
            if f"{page['title']} @{username}" not in bad:
                continue
            ids = {s.id for s in by_key.get((username, page["url"]), [])}
            lines.append(f"== page {page_id} «{page['title']}» @{username}: statuses {ids}")
            lines += [
                f"record {row}"
                for row in db.query(
                    "SELECT id, state, generation, attempts, remote_id, content_hash, "
                    f"unknown_outcome_key, updated_at FROM {RECORDS} "
                    f"WHERE page_id = {int(page_id)} AND account_id = {int(account_id)}"
                )
            ]
            lines += [
                f"history {row}"
                for row in db.query(
                    "SELECT timestamp, action, data FROM wagtailcore_pagelogentry "
                    f"WHERE page_id = {int(page_id)} AND action LIKE 'wagtail_syndicate.%' "
                    "ORDER BY timestamp, id"
                )
                if username in str(row[2])
            ]
            for request in fake.requests:
                text = (request.form.get("status") or [""])[0]
                if request.account == username and (
                    page["url"] in text or any(i in request.path for i in ids)
                ):
                    key = request.headers.get("idempotency-key")
                    lines.append(f"request {request.method} {request.path} key={key} {text!r}")
            faults = [f for f in fake.chaos_faults if any(i in f.path for i in ids)]
            lines += [f"fault {f}" for f in faults]
    (Path(workdir) / "diagnostics.txt").write_text("\n".join(lines) + "\n")
    result.diagnostics = str(Path(workdir) / "diagnostics.txt")


# ------------------------------------------------------------------ command line


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python bench/chaos.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--rate", type=float, default=0.2, help="share of requests that fail")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TEST_POSTGRES_URL"),
        help="postgresql://USER@HOST:PORT/postgres: run on a new database there "
        "(default: $TEST_POSTGRES_URL; without it, SQLite)",
    )
    parser.add_argument("--sqlite", action="store_true", help="SQLite even if --postgres is set")
    parser.add_argument(
        "--immediate", action="store_true", help="SQLite transactions BEGIN IMMEDIATE"
    )
    parser.add_argument("--wal", action="store_true", help="SQLite in write-ahead-log mode")
    parser.add_argument(
        "--no-idempotency",
        action="store_true",
        help="the fake ignores Idempotency-Key, as some servers that speak Mastodon's API do",
    )
    parser.add_argument("--time-limit", type=float, default=1200.0)
    parser.add_argument("--keep", action="store_true", help="keep the database and logs")
    args = parser.parse_args(argv)
    result = run(
        pages=args.pages,
        workers=args.workers,
        kills=args.kills,
        rate=args.rate,
        seed=args.seed,
        postgres=None if args.sqlite else args.postgres,
        sqlite_immediate=args.immediate,
        sqlite_wal=args.wal,
        time_limit=args.time_limit,
        idempotency=not args.no_idempotency,
        keep=args.keep,
        log=sys.stderr,
    )
    print(result.table())
    problems = result.problems()
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
