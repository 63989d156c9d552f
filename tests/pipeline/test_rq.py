"""Posting through the RQ backend: a page published in one process is posted by a real RQ
worker (``manage.py rqworker --burst``) from a real Redis server.

Needs django-tasks-rq (``pip install -e ".[rq]"``; it takes django-tasks 0.12 or later, so not
on Wagtail 7.0) and a Redis server named by ``TEST_REDIS_URL`` (``.ci/run`` starts one);
skipped without either.
"""

import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from syndicate_fakes import FakeMastodon, Fault

pytest.importorskip("django_tasks_rq", reason="django-tasks-rq is not installed (extra: rq)")

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL")


def redis_reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=1):
            return True
    except OSError:
        return False


pytestmark = [
    pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set (.ci/run starts Redis)"),
    pytest.mark.skipif(
        bool(REDIS_URL) and not redis_reachable(REDIS_URL),
        reason=f"no Redis server answers at {REDIS_URL}",
    ),
]


def run(args, env, timeout=120):
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def records(tmp_path):
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        query = "SELECT state, remote_id FROM wagtail_syndicate_syndicationrecord"
        return db.execute(query).fetchall()


def test_a_page_is_posted_by_an_rq_worker_and_retried_by_its_scheduler(tmp_path):
    import redis
    from rq.registry import ScheduledJobRegistry

    connection = redis.Redis.from_url(REDIS_URL)
    for key in connection.scan_iter("rq:*"):  # what an earlier run may have left queued
        connection.delete(key)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.rq_settings",
        "PYTHONPATH": str(ROOT),
        "CHAOS_SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "CHAOS_SQLITE_IMMEDIATE": "1",
        "CHAOS_MEDIA_ROOT": str(tmp_path / "media"),
    }
    env.pop("CHAOS_DATABASE_URL", None)
    with FakeMastodon(tokens={"rq-token": "alice"}) as fake:
        run(["-m", "django", "migrate", "--no-input", "-v", "0"], env)
        # One page, published twice (the second publish retitles it): two syndication tasks
        # in Redis, with Wagtail's own (search and reference index).
        run(
            ["-m", "bench.chaos_driver", "--pages", "1", "--instance", fake.base_url]
            + ["--account", "rq-token:alice", "--manifest", str(tmp_path / "manifest.json")],
            env,
        )
        assert connection.llen("rq:queue:default") >= 2
        assert fake.statuses == [], "nothing is posted before a worker runs"

        # The first post fails: the retry is re-enqueued with run_after, an RQ scheduled job.
        fake.inject(Fault(method="POST", path="/api/v1/statuses", status=503))
        worker = ["-m", "django", "rqworker", "--burst", "--with-scheduler"]
        worker += ["--job-class", "django_tasks_rq.Job", "default"]
        output = run(worker, env)
        assert fake.statuses == [] and records(tmp_path)[0][0] == "retrying", output
        assert len(ScheduledJobRegistry("default", connection=connection)) == 1

        # A burst worker's scheduler queues the jobs that are due when it starts.
        time.sleep(1)
        output = run(worker, env)
        (status,) = fake.statuses
        assert status.text == "Chaos page 0, retitled\n\nhttp://localhost/chaos-page-0/", output
        assert [m.description for m in status.media] == ["Square 0 on a field of its own colour"]
        assert records(tmp_path) == [("posted", status.id)]
        assert connection.llen("rq:queue:default") == 0
