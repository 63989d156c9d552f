"""What the benchmarks share: a fresh site to measure in, its pages, images and accounts,
FakeMastodon in a process of its own, statistics, the machine and the tables.

Each benchmark is one command (``python bench/NAME.py``). It calls :func:`bootstrap` before it
touches Django: that points ``DJANGO_SETTINGS_MODULE`` at ``bench.settings``, with a SQLite file
and the images in a new temporary folder, and migrates it. Child processes (``python
bench/NAME.py --child ...``) are given the folder and call ``bootstrap(bench_dir=...,
migrate_it=False)``.

Timings on a shared machine are noise unless compared side by side: benchmarks interleave what
they compare in one run and report medians and ratios, never absolute targets.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as ``python bench/NAME.py``
    sys.path.insert(0, str(ROOT))

SETTINGS = "bench.settings"
TOKEN = "bench-token"
USERNAME = "bench"

# Django setup --------------------------------------------------------------------------------


def new_site_dir() -> str:
    """A new temporary folder for a site (its database and images), removed at exit."""
    import atexit

    bench_dir = tempfile.mkdtemp(prefix="wagtail-syndicate-bench-")
    atexit.register(shutil.rmtree, bench_dir, ignore_errors=True)
    os.makedirs(os.path.join(bench_dir, "media"))
    return bench_dir


def migrate(bench_dir: str, *, plugin: bool = True, wait: bool = True):
    """Create the database of the site in ``bench_dir`` (``manage.py migrate``) in a process
    of its own, so no process that is measured ever sees the migrating-only pragmas. With
    ``wait=False``, return the process (to migrate several sites at once)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "django", "migrate", "--verbosity", "0"],
        env={**os.environ, **child_env(plugin, bench_dir), "BENCH_MIGRATING": "1"},
        cwd=ROOT,
    )
    if wait:
        check_exit(process)
    return process


def check_exit(process: subprocess.Popen) -> None:
    if process.wait() != 0:
        raise RuntimeError(f"{' '.join(map(str, process.args))} failed ({process.returncode})")


def bootstrap(*, plugin: bool = True, bench_dir: str | None = None, migrate_it: bool = True):
    """Set up Django in this process with ``bench.settings`` for the site in ``bench_dir``
    (a new one, migrated, by default). ``plugin=False``: the site without wagtail-syndicate.
    Returns the folder."""
    if bench_dir is None:
        bench_dir = new_site_dir()
    if migrate_it:
        migrate(bench_dir, plugin=plugin)
    os.environ.update(child_env(plugin, bench_dir))
    import django

    django.setup()
    return bench_dir


def child_env(plugin: bool, bench_dir: str) -> dict[str, str]:
    """The environment of a process that works on the site in ``bench_dir``."""
    return {
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "BENCH_DIR": bench_dir,
        "BENCH_PLUGIN": "1" if plugin else "0",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }


def postgres_settings(url: str) -> dict:
    """Django's ``DATABASES`` entry for ``postgresql://USER[:PASSWORD]@HOST:PORT/NAME``."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError(f"not a postgresql:// URL: {url!r}")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/"),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "127.0.0.1",
        "PORT": str(parts.port or 5432),
    }


@contextlib.contextmanager
def throwaway_postgres():
    """A PostgreSQL cluster of its own (``initdb`` in a temporary folder, default settings,
    listening on a free port of 127.0.0.1 only) for the ``with`` block; yields the URL of its
    ``postgres`` database. As root, the server runs as the ``postgres`` user (it refuses
    root). Stopped (``pg_ctl stop``, the cluster's own pid file) and removed at the end."""
    import glob
    import socket

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key)
    initdb = shutil.which("initdb") or (found[-1] if found else None)
    if not initdb:
        raise RuntimeError("no initdb: install PostgreSQL, or pass the URL of a server")
    bin_dir = os.path.dirname(os.path.realpath(initdb))
    folder = tempfile.mkdtemp(prefix="wagtail-syndicate-pg-")
    data = os.path.join(folder, "data")
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if run_as:
        shutil.chown(folder, "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.STDOUT}
    try:
        subprocess.run(
            [*run_as, f"{bin_dir}/initdb", "-D", data, "-U", "postgres", "-A", "trust"],
            check=True,
            **quiet,
        )
        options = f"-p {port} -c listen_addresses=127.0.0.1 -k {folder}"
        subprocess.run(
            [*run_as, f"{bin_dir}/pg_ctl", "-D", data, "-l", f"{folder}/server.log", "-w"]
            + ["-o", options, "start"],
            check=True,
            **quiet,
        )
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run(
                [*run_as, f"{bin_dir}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"], **quiet
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _version_key(path: str) -> list[int]:
    return [int(part) for part in re.findall(r"\d+", path)]


def photo_page_model():
    """``tests.testapp.PhotoPage`` (with the mixin), or the plain one without the plugin."""
    from django.conf import settings

    if settings.PLUGIN:
        from tests.testapp.models import PhotoPage

        return PhotoPage
    from bench.plainapp.models import PlainPhotoPage

    return PlainPhotoPage


# Content -------------------------------------------------------------------------------------


def jpeg_bytes(width: int, height: int, *, noise: float = 12.0, quality: int = 90, seed=1):
    """A JPEG of a colour gradient with Gaussian noise (``noise`` is its sigma): it compresses
    about as a photograph does (a few bits a pixel), unlike a flat or a purely random image."""
    from PIL import Image, ImageChops

    random.seed(seed)
    gradient = Image.linear_gradient("L").resize((width, height))
    channels = []
    for shift in (0, 85, 170):
        grain = Image.effect_noise((width, height), noise)  # mean 128
        channel = ImageChops.add(gradient.point(lambda v, s=shift: (v + s) % 256), grain, 1, -128)
        channels.append(channel)
        del grain
    picture = Image.merge("RGB", channels)
    del channels, gradient
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def make_image(data: bytes, *, title: str = "Harbour at dawn", name: str = "photo.jpg", **fields):
    """A Wagtail image whose file is ``data`` (stored through the default storage)."""
    from django.core.files.images import ImageFile
    from wagtail.images import get_image_model

    return get_image_model().objects.create(
        title=title, file=ImageFile(io.BytesIO(data), name=name), **fields
    )


def make_photo_page(image, *, title: str, syndicate: bool = True, publish: bool = True):
    """A photo page under the home page, a draft with a saved revision unless ``publish``.
    Works with and without the plugin (``syndicate`` is ignored without it)."""
    from wagtail.models import Page

    model = photo_page_model()
    fields = {"title": title, "photo": image, "alt_text": f"{title}: boats in the harbour"}
    if hasattr(model, "syndicate"):
        fields["syndicate"] = syndicate
    page = model(live=False, **fields)
    Page.objects.get(depth=2).add_child(instance=page)
    revision = page.save_revision()
    if publish:
        revision.publish()
    return model.objects.get(pk=page.pk)


def republish(page, **changes):
    """Publish ``page`` again with ``changes``, from a fresh instance (as the admin has)."""
    page = type(page).objects.get(pk=page.pk)
    for name, value in changes.items():
        setattr(page, name, value)
    page.save_revision().publish()
    return page


def connect_account(base_url: str, token: str = TOKEN, username: str = USERNAME):
    from wagtail_syndicate.models import SyndicationAccount

    account = SyndicationAccount(
        network="mastodon", instance_url=base_url, handle=f"@{username}@{base_url[7:]}"
    )
    account.access_token = token
    account.save()
    return account


def fan_out_publishes() -> None:
    """Make the records of the publishes so far, as the worker's ``fan_out`` task does (the
    publish itself writes only its intent)."""
    from wagtail_syndicate.models import SyndicationIntent
    from wagtail_syndicate.pipeline.outbox import fan_out

    for intent_id in (
        SyndicationIntent.objects.pending().order_by("pk").values_list("pk", flat=True)
    ):
        fan_out(intent_id)


def records_of(page):
    from wagtail_syndicate.models import SyndicationRecord

    return list(SyndicationRecord.objects.filter(page=page).order_by("pk"))


def run_worker() -> None:
    """Run every task queued in the database, here, as ``manage.py db_worker --batch`` does
    (the plugin's and Wagtail's own), then return."""
    from django.core.management import call_command

    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)


def task_result_model():
    """The database queue's model (django-tasks-db, or django-tasks 0.7's own)."""
    try:
        from django_tasks_db.models import DBTaskResult
    except ImportError:
        from django_tasks.backends.database.models import DBTaskResult
    return DBTaskResult


def queued_syndication_tasks() -> int:
    """The plugin's tasks waiting in the database queue (a publish queues one: its fan-out)."""
    return (
        task_result_model()
        .objects.filter(task_path__startswith="wagtail_syndicate.", status="READY")
        .count()
    )


# FakeMastodon in a process of its own ----------------------------------------------------------

REQUEST_LINE = re.compile(r"^(GET|POST|PUT|PATCH|DELETE|HEAD) (\S+) -> (\d+|dropped)$")
MARKER = "/bench-marker"


class FakeProcess:
    """FakeMastodon on a free port of 127.0.0.1 in a process of its own (``python
    bench/_common.py fake ...``, like ``python -m syndicate_fakes`` but with
    ``limits``), so the CPU time and memory it uses are not counted in this process.

    ``limits`` are merged into the fake's (its upload rate limit is lifted by default: a
    benchmark posts more than 30 images). With ``count=True`` it prints a line per request,
    read here by a thread: :meth:`requests_during` gives the requests made in a ``with`` block
    (a request to ``/bench-marker`` closes the block, so no line is missed). ``count=False``
    keeps it quiet (no thread in this process to use CPU while it is measured)."""

    def __init__(self, *, processing_polls=0, count=True, tokens=None, limits=None) -> None:
        self.tokens = tokens or {TOKEN: USERNAME}
        self.processing_polls = processing_polls
        self.limits = {"media_rate_limit": 10**9, "api_rate_limit": 10**9, **(limits or {})}
        self.count = count
        self.lines: list[tuple[str, str, str]] = []
        self._seen = threading.Condition()
        self.process: subprocess.Popen | None = None
        self.base_url = ""

    def __enter__(self) -> FakeProcess:
        command = [sys.executable, __file__, "fake", "--tokens", json.dumps(self.tokens)]
        command += ["--limits", json.dumps(self.limits)]
        command += ["--processing-polls", str(self.processing_polls)]
        if not self.count:
            command.append("--quiet")
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ}
        )
        first = self.process.stdout.readline()
        match = re.search(r"running at (http://127\.0\.0\.1:\d+)", first)
        if not match:
            self.__exit__()
            raise RuntimeError(f"FakeMastodon did not start: {first!r}")
        self.base_url = match.group(1)
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self) -> None:
        for line in self.process.stdout:
            match = REQUEST_LINE.match(line.strip())
            if match:
                with self._seen:
                    self.lines.append(match.groups())
                    self._seen.notify_all()

    def __exit__(self, *exc_info) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # this process's own child, by its pid
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    @contextlib.contextmanager
    def requests_during(self):
        """``with fake.requests_during() as made: ...``; then ``made`` lists (method, path,
        status) of each request of the block."""
        import requests

        if not self.count:
            raise RuntimeError("FakeProcess(count=False) does not see its requests")
        made: list[tuple[str, str, str]] = []
        start = len(self.lines)
        yield made
        requests.get(self.base_url + MARKER, timeout=10)
        deadline = time.monotonic() + 10
        with self._seen:
            while not any(line[1] == MARKER for line in self.lines[start:]):
                if not self._seen.wait(timeout=max(0.0, deadline - time.monotonic())):
                    raise RuntimeError("FakeMastodon's request log stopped")
            made += [line for line in self.lines[start:] if line[1] != MARKER]


# Child processes that stay up and take commands ------------------------------------------------

RESULT = "RESULT "


class Child:
    """``python SCRIPT ARGS...`` kept running; :meth:`ask` sends it one command (a line of
    JSON on its standard input) and returns its answer (the line its :func:`serve` wrote)."""

    def __init__(self, script: str, *args: str, env: dict | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, script, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
        )

    def ask(self, *command):
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        for line in self.process.stdout:
            if line.startswith(RESULT):
                return json.loads(line[len(RESULT) :])
        raise RuntimeError(f"{self.process.args[1]} ended ({self.process.wait()})")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()  # serve() returns at the end of its input
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()  # this process's own child, by its pid
                self.process.wait()


def serve(handlers: dict) -> None:
    """The child's side of :class:`Child`: run each command read from standard input with
    ``handlers[name](*arguments)`` and write its JSON answer, until the input ends."""
    for line in sys.stdin:
        name, *arguments = json.loads(line)
        answer = handlers[name](*arguments)
        sys.stdout.write(RESULT + json.dumps(answer) + "\n")
        sys.stdout.flush()


def sql_statement(sql: str) -> str:
    """A captured SQL query as "VERB table" (``SELECT wagtailcore_page``), to count by kind."""
    verb = sql.split(None, 1)[0].upper()
    table = re.search(r'(?:FROM|INTO|UPDATE)\s+"(\w+)"', sql)
    return f"{verb} {table.group(1)}" if table else verb


# Statistics and output -----------------------------------------------------------------------


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def interleaved(names: Sequence[str], rounds: int, seed: int = 0) -> list[tuple[int, str]]:
    """``rounds`` rounds, each running every one of ``names`` once in a shuffled order, so a
    slow patch of the machine falls on all of them alike."""
    shuffler = random.Random(seed)
    order = []
    for number in range(rounds):
        names_now = list(names)
        shuffler.shuffle(names_now)
        order += [(number, name) for name in names_now]
    return order


def machine() -> list[tuple[str, str]]:
    """The machine and versions, as rows for :func:`print_table`."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    rows = [
        ("CPU", cpu),
        ("cores", f"{os.cpu_count()} ({usable} usable)"),
        ("load average at start (1, 5, 15 min)", load),
        ("Python", platform.python_version()),
    ]
    for label, module in (("Wagtail", "wagtail"), ("Django", "django")):
        rows.append((label, _version(module)))
    import sqlite3

    rows.append(("SQLite", sqlite3.sqlite_version))
    return rows


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def package_version(distribution: str) -> str:
    return _version(distribution)


def print_table(headers: Sequence[str], rows: Iterable[Sequence], *, title: str = "") -> None:
    """A Markdown table (so it can be pasted into the README as it is)."""
    rows = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    if title:
        print(f"\n{title}\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("| " + " | ".join("-" * w for w in widths) + " |")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    sys.stdout.flush()


def print_machine(extra: Iterable[tuple[str, str]] = ()) -> None:
    print_table(["machine", ""], [*machine(), *extra], title="Machine")


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def _serve_fake(argv: list[str]) -> int:
    """``python bench/_common.py fake``: what :class:`FakeProcess` runs."""
    import argparse
    import signal

    from syndicate_fakes import FakeMastodon

    parser = argparse.ArgumentParser(prog="bench/_common.py fake")
    parser.add_argument("--tokens", type=json.loads, required=True)
    parser.add_argument("--limits", type=json.loads, default={})
    parser.add_argument("--processing-polls", type=int, default=0)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    fake = FakeMastodon(
        tokens=args.tokens,
        processing_polls=args.processing_polls,
        limits=args.limits,
        verbose=not args.quiet,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    fake.start()
    print(f"FakeMastodon running at {fake.base_url}", flush=True)
    while not stop.wait(0.5):
        pass
    fake.stop()
    return 0


if __name__ == "__main__" and sys.argv[1:2] == ["fake"]:
    sys.exit(_serve_fake(sys.argv[2:]))


@contextlib.contextmanager
def peak_memory(*, restart: bool = False):
    """A child's measurement of the work in the block: yields a dict that holds, once the block
    ends, ``before`` (resident bytes at its start), ``seconds`` and ``peak`` (the process's
    peak resident bytes). ``restart``: collect garbage and start the peak again at the block
    (``5`` into ``/proc/self/clear_refs``), so what the process held before does not count."""
    if restart:
        gc.collect()
        Path("/proc/self/clear_refs").write_text("5")
    answer = {"before": proc_status("VmRSS")}
    start = time.perf_counter()
    yield answer
    answer["seconds"] = time.perf_counter() - start
    answer["peak"] = proc_status("VmHWM")


def report(answer: dict) -> None:
    """A child's answer to its driver (``run_child`` reads it)."""
    print(RESULT + json.dumps(answer), flush=True)


def run_child(bench_dir: str, *command: str, env: dict | None = None) -> dict:
    """Run ``python *command`` (a script and its arguments) in a fresh process on the site in
    ``bench_dir``, with ``env`` added, and return what it reported (``report``)."""
    done = subprocess.run(
        [sys.executable, *command],
        capture_output=True,
        text=True,
        env={**os.environ, **child_env(True, bench_dir), **(env or {})},
    )
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    line = next(x for x in done.stdout.splitlines() if x.startswith(RESULT))
    return json.loads(line[len(RESULT) :])


def proc_status(name: str) -> int:
    """``VmHWM`` (the peak resident set size) or ``VmRSS`` (now) of this process, in bytes.

    Not ``getrusage(RUSAGE_SELF).ru_maxrss``: Linux carries that over from the parent through
    fork and exec, so a child of a process that held a photo would start at its peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {name} in /proc/self/status (Linux only)")
