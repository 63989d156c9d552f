"""FakeMastodon's chaos mode: seeded random faults, with plain ``requests``.

Runs alone, without Django: ``cd fakes && python -m pytest tests/test_fake_mastodon_chaos.py``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
import requests

from syndicate_fakes import FakeMastodon, Fault

ROOT = Path(__file__).resolve().parent.parent
ALICE = {"Authorization": "Bearer good-token"}


@pytest.fixture
def fake(fake_mastodon):
    """The pytest plugin's FakeMastodon: good-token for alice, other-token for bob."""
    return fake_mastodon


def verify(fake, timeout=5):
    return requests.get(
        f"{fake.base_url}/api/v1/accounts/verify_credentials", headers=ALICE, timeout=timeout
    )


def post_status(fake, text="Hello", key=None, timeout=5):
    headers = {**ALICE, **({"Idempotency-Key": key} if key else {})}
    return requests.post(
        f"{fake.base_url}/api/v1/statuses", headers=headers, data={"status": text}, timeout=timeout
    )


def outcomes(fake, count):
    """Send ``count`` quick requests one after another; the status code of each."""
    return [verify(fake).status_code for _ in range(count)]


def test_same_seed_same_faults_other_seed_other_faults():
    runs = {}
    for seed in (7, 7, 8):
        with FakeMastodon(tokens={"good-token": "alice"}) as fake:
            fake.chaos(rate=0.3, seed=seed, kinds=("500", "502", "503", "429"))
            codes = outcomes(fake, 60)
            runs.setdefault(seed, []).append((codes, fake.chaos_faults))
    (first, again), (other,) = runs[7], runs[8]
    assert first == again
    assert first[0] != other[0]


def test_rate_kinds_and_counts(fake):
    fake.chaos(rate=0.25, seed=1234, kinds=("500", "503"))
    codes = outcomes(fake, 200)
    faults = fake.chaos_faults
    assert 30 <= len(faults) <= 70, len(faults)
    assert sorted(c for c in codes if c != 200) == sorted(int(f.kind) for f in faults)
    counts = fake.chaos_counts()
    assert set(counts) == {"500", "503"} and sum(counts.values()) == len(faults)
    assert len(fake.requests) == 200  # every request is recorded, faulted or not


def test_only_api_requests_and_not_exempt_ones(fake):
    fake.chaos(rate=1, seed=1, kinds=("500",), exempt=("/api/v1/accounts/verify_credentials",))
    assert requests.get(fake.base_url + "/", timeout=5).status_code == 200  # an HTML page
    assert verify(fake).status_code == 200
    assert requests.get(f"{fake.base_url}/api/v2/instance", timeout=5).status_code == 500
    assert [(f.path, f.kind) for f in fake.chaos_faults] == [("/api/v2/instance", "500")]


def test_errors_look_like_mastodon_and_its_proxy(fake):
    fake.chaos(rate=1, seed=1, kinds=("500",))
    response = verify(fake)
    assert response.status_code == 500 and "error" in response.json()
    fake.chaos(rate=1, seed=1, kinds=("502",))
    response = verify(fake)
    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("text/html")
    assert "502 Bad Gateway" in response.text


def test_429_resets_a_second_or_two_ahead(fake):
    fake.chaos(rate=1, seed=3, kinds=("429",))
    for _ in range(5):
        response = verify(fake)
        assert response.status_code == 429
        assert response.json() == {"error": "Too many requests"}
        assert response.headers["X-RateLimit-Remaining"] == "0"
        reset = datetime.fromisoformat(response.headers["X-RateLimit-Reset"].replace("Z", "+00:00"))
        assert 0.9 <= reset.timestamp() - time.time() <= 2.1


def test_429_reset_follows_the_fake_clock(fake):
    fake.clock = lambda: time.time() + 3600
    fake.chaos(rate=1, seed=3, kinds=("429",))
    reset = datetime.fromisoformat(verify(fake).headers["X-RateLimit-Reset"].replace("Z", "+00:00"))
    assert 3600 < reset.timestamp() - time.time() < 3603


@pytest.mark.parametrize("after", [False, True], ids=["before", "after"])
def test_timeout_outlasts_the_client_and_after_stores_the_status(fake, after):
    fake.chaos(rate=1, seed=1, kinds=("timeout",), delay=0.6, after_rate=1.0 if after else 0.0)
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        post_status(fake, "slow", key="k1", timeout=0.2)
    assert time.monotonic() - started < 0.5
    time.sleep(0.1)  # the handler stores (or not) at once; the answer is what is late
    assert [s.text for s in fake.statuses] == (["slow"] if after else [])
    assert fake.chaos_faults[0].after is after
    fake.chaos(rate=0)
    again = post_status(fake, "slow", key="k1")
    assert again.status_code == 200 and len(fake.statuses) == 1  # the key makes it one


@pytest.mark.parametrize("after", [False, True], ids=["before", "after"])
def test_reset_drops_the_connection_and_after_stores_the_status(fake, after):
    fake.chaos(rate=1, seed=1, kinds=("reset",), after_rate=1.0 if after else 0.0)
    with pytest.raises(requests.ConnectionError):
        post_status(fake, "lost?")
    assert [s.text for s in fake.statuses] == (["lost?"] if after else [])
    assert fake.chaos_counts() == {("reset after" if after else "reset"): 1}


def test_after_is_drawn_for_some_timeouts_and_resets(fake):
    fake.chaos(rate=1, seed=5, kinds=("reset",))
    for _ in range(20):
        with pytest.raises(requests.ConnectionError):
            verify(fake)
    counts = fake.chaos_counts()
    assert counts["reset"] and counts["reset after"]


def test_an_injected_fault_wins_and_reset_ends_chaos(fake):
    fake.chaos(rate=1, seed=1, kinds=("500",))
    fake.inject(Fault(path="/api/v1/accounts", status=418))
    assert verify(fake).status_code == 418
    assert verify(fake).status_code == 500
    fake.reset()
    assert verify(fake).status_code == 200 and fake.chaos_faults == []


def test_bad_arguments(fake):
    with pytest.raises(ValueError, match="Unknown chaos kinds"):
        fake.chaos(rate=0.1, kinds=("404",))
    with pytest.raises(ValueError, match="probability"):
        fake.chaos(rate=2)


def test_process_mode_flags():
    proc = subprocess.Popen(
        [sys.executable, "-m", "syndicate_fakes", "--port", "0", "--token", "t1"]
        + ["--chaos-rate", "1", "--chaos-seed", "9", "--chaos-kinds", "503", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    try:
        banner = [proc.stdout.readline() for _ in range(4)]
        match = re.search(r"http://127\.0\.0\.1:\d+", banner[0])
        assert match, banner
        assert "Chaos: 100% of API requests fail (503; seed 9)\n" in banner
        deadline = time.monotonic() + 5
        while True:
            try:
                response = requests.get(f"{match.group(0)}/api/v2/instance", timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert response.status_code == 503
        os.kill(proc.pid, signal.SIGTERM)
        _out, err = proc.communicate(timeout=5)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
