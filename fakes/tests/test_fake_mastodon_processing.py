"""Images Mastodon processes in the background: FakeMastodon's time-based processing, its
command line (limits, processing) and its rate windows aligned to the epoch."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from syndicate_fakes import FakeMastodon
from test_fake_mastodon import ALICE, PNG, post_status, upload

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fake(fake_mastodon):
    return fake_mastodon


def poll(fake, media_id):
    return requests.get(f"{fake.base_url}/api/v1/media/{media_id}", headers=ALICE, timeout=5)


def test_processing_seconds_go_by_the_clock_not_the_polls(fake):
    now = [1_800_000_000.0]
    fake.clock = lambda: now[0]
    fake.processing_seconds = 30
    response = upload(fake)
    assert response.status_code == 202
    assert response.json()["url"] is None
    media_id = response.json()["id"]
    assert [poll(fake, media_id).status_code for _ in range(5)] == [206] * 5
    not_ready = post_status(fake, data={"status": "x", "media_ids[]": [media_id]})
    assert not_ready.status_code == 422
    now[0] += 29.9
    assert poll(fake, media_id).status_code == 206
    now[0] += 0.1
    ready = poll(fake, media_id)
    assert ready.status_code == 200
    assert ready.json()["url"].endswith("/red.png")
    assert post_status(fake, data={"status": "x", "media_ids[]": [media_id]}).status_code == 200


def test_an_image_processed_meanwhile_can_be_attached_without_a_poll(fake):
    now = [1_800_000_000.0]
    fake.clock = lambda: now[0]
    fake.processing_seconds = 2
    media_id = upload(fake).json()["id"]
    now[0] += 2
    assert post_status(fake, data={"status": "x", "media_ids[]": [media_id]}).status_code == 200


def test_polls_and_seconds_together_take_both(fake):
    now = [1_800_000_000.0]
    fake.clock = lambda: now[0]
    fake.processing_polls = 1
    fake.processing_seconds = 10
    media_id = upload(fake).json()["id"]
    now[0] += 10
    assert [poll(fake, media_id).status_code for _ in range(2)] == [206, 200]


def test_v1_uploads_and_the_default_are_processed_at_once(fake):
    assert upload(fake).status_code == 200
    fake.processing_seconds = 30
    response = requests.post(
        f"{fake.base_url}/api/v1/media",
        headers=ALICE,
        files={"file": ("red.png", PNG, "image/png")},
        timeout=5,
    )
    assert response.status_code == 200 and response.json()["url"]


def test_aligned_rate_windows_reset_at_a_multiple_of_the_period():
    with FakeMastodon(tokens={"good-token": "alice"}, aligned_rate_windows=True) as fake:
        fake.clock = lambda: 1_800_000_100.5  # 1_800_000_000 is a multiple of 1800
        response = upload(fake)
        assert response.status_code == 200
        reset = response.headers["X-RateLimit-Reset"]
        assert reset.startswith("2027-01-15T08:30:00")  # 1_800_001_800 s after the epoch
    with FakeMastodon(tokens={"good-token": "alice"}) as fake:  # the default: from the first
        fake.clock = lambda: 1_800_000_100.5
        assert upload(fake).headers["X-RateLimit-Reset"].startswith("2027-01-15T08:31:40.5")


def test_the_command_takes_limits_and_processing_seconds():
    command = [sys.executable, "-m", "syndicate_fakes", "--port", "0", "--quiet"]
    command += ["--token", "good-token", "--username", "alice", "--processing-seconds", "30"]
    command += ["--limits", '{"max_characters": 100, "media_rate_limit": 1}']
    command += ["--aligned-rate-windows"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        base_url = re.search(r"running at (\S+)", process.stdout.readline()).group(1)
        instance = requests.get(f"{base_url}/api/v2/instance", timeout=5).json()
        assert instance["configuration"]["statuses"]["max_characters"] == 100
        fake = type("Remote", (), {"base_url": base_url})
        assert upload(fake).status_code == 202  # processing for 30 s
        assert upload(fake).status_code == 429  # one upload per window
    finally:
        process.terminate()  # the process this test started, by its pid
        process.wait(timeout=10)


def test_the_command_refuses_unknown_limits():
    command = [sys.executable, "-m", "syndicate_fakes", "--port", "0"]
    result = subprocess.run(
        [*command, "--limits", '{"max_chars": 100}'], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 2
    assert "unknown limits max_chars" in result.stderr
