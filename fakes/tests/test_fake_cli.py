"""`python -m syndicate_fakes --network bluesky|x` (the demo runs the three fakes so),
and the pages FakeBluesky and FakeX show a person: the posts with their images and alt text."""

from __future__ import annotations

import html
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
import requests

from syndicate_fakes import FakeBluesky, FakeX
from test_fake_mastodon import ROOT, make_png

PNG = make_png(4, 3)
ALT = 'Boats <at> "dawn"'


def run_fake(*options):
    """Start the command; return the process and the base URL from its first line."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "syndicate_fakes", "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    first = proc.stdout.readline()
    match = re.fullmatch(r"(Fake\w+) running at (http://127\.0\.0\.1:\d+)\n", first)
    assert match, first + proc.stderr.read()
    proc.banner = first
    while not proc.banner.endswith("Press Ctrl-C to stop.\n"):
        proc.banner += proc.stdout.readline()
    return proc, match.group(1), match.group(2)


def stop(proc):
    os.kill(proc.pid, signal.SIGTERM)
    out, err = proc.communicate(timeout=5)
    assert proc.returncode == 0, err
    return proc.banner + out


def answer(call, deadline=5.0):
    end = time.monotonic() + deadline
    while True:
        try:
            return call()
        except requests.ConnectionError:
            assert time.monotonic() < end
            time.sleep(0.05)


def test_bluesky_process_signs_in_the_account_given():
    proc, name, base = run_fake(
        "--network", "bluesky", "--handle", "demo.test", "--app-password", "pw-1"
    )
    try:
        assert name == "FakeBluesky"
        session = answer(
            lambda: requests.post(
                f"{base}/xrpc/com.atproto.server.createSession",
                json={"identifier": "demo.test", "password": "pw-1"},
                timeout=2,
            )
        )
        assert session.status_code == 200 and session.json()["handle"] == "demo.test"
        out = stop(proc)
        assert "Accounts: @demo.test" in out and "FakeBluesky stopped." in out
        assert "pw-1" not in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_x_process_accepts_the_token_given_and_names_its_oauth_app():
    proc, name, base = run_fake(
        "--network",
        "x",
        "--token",
        "x-tok",
        "--username",
        "demo",
        "--client-id",
        "my-app",
        "--quiet",
    )
    try:
        assert name == "FakeX"
        me = answer(
            lambda: requests.get(
                f"{base}/2/users/me", headers={"Authorization": "Bearer x-tok"}, timeout=2
            )
        )
        assert me.json()["data"]["username"] == "demo"
        consent = requests.get(
            f"{base}/i/oauth2/authorize",
            params={
                "response_type": "code",
                "client_id": "my-app",
                "scope": "tweet.read",
                "redirect_uri": "http://127.0.0.1/cb",
                "state": "s",
                "code_challenge": "c",
                "code_challenge_method": "S256",
            },
            timeout=2,
        )
        assert consent.status_code == 200 and "Signed in as @demo" in consent.text
        out = stop(proc)
        assert "OAuth consent pages sign in as @demo" in out and "x-tok" not in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    "options, message",
    [
        (["--network", "x", "--processing-seconds", "1"], "--processing-seconds: for --network"),
        (["--network", "bluesky", "--no-oauth-metadata"], "--no-oauth-metadata: for --network"),
        (["--network", "bluesky", "--token", "t"], "give --handle and --app-password"),
        (["--handle", "a.test"], "--handle and --app-password are for --network bluesky"),
        (
            ["--network", "bluesky", "--handle", "a", "--handle", "b", "--app-password", "p"],
            "one --app-password per --handle",
        ),
    ],
)
def test_options_of_another_network_are_refused(options, message):
    result = subprocess.run(
        [sys.executable, "-m", "syndicate_fakes", "--port", "0", *options],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        timeout=30,
    )
    assert result.returncode == 2 and message in result.stderr


def image_of(base, page_html):
    """The only post's image on a fake's front page: its alt text and its bytes."""
    images = re.findall(r'<img src="([^"]+)" alt="([^"]*)">', page_html)
    assert len(images) == 1, page_html
    src, alt = images[0]
    response = requests.get(base + src.replace("&amp;", "&"), timeout=2)
    assert response.status_code == 200
    return alt, response.content


def test_fake_x_front_page_lists_posts_with_images_and_alt_text():
    with FakeX(tokens={"t": "demo"}) as fake:
        assert "Nothing posted yet" in requests.get(fake.base_url + "/", timeout=2).text
        auth = {"Authorization": "Bearer t"}
        media = requests.post(
            f"{fake.base_url}/2/media/upload",
            headers=auth,
            timeout=2,
            files={"media": ("a.png", PNG, "image/png")},
        ).json()["data"]
        requests.post(
            f"{fake.base_url}/2/media/metadata",
            headers=auth,
            timeout=2,
            json={"id": media["id"], "metadata": {"alt_text": {"text": ALT}}},
        )
        created = requests.post(
            f"{fake.base_url}/2/tweets",
            headers=auth,
            timeout=2,
            json={
                "text": "Boats\n\nhttps://example.com/boats/",
                "media": {"media_ids": [media["id"]]},
            },
        )
        assert created.status_code == 201
        page = requests.get(fake.base_url + "/", timeout=2)
        assert page.headers["content-type"].startswith("text/html")
        assert "FakeX</a> &middot; a local stand-in for X" in page.text
        assert "@demo" in page.text and '<a href="https://example.com/boats/"' in page.text
        assert "Alt text: Boats &lt;at&gt; &quot;dawn&quot;" in page.text
        assert image_of(fake.base_url, page.text) == (html.escape(ALT), PNG)
        assert requests.get(fake.base_url + "/media/1", timeout=2).status_code == 404


def test_fake_bluesky_front_page_lists_posts_with_images_and_alt_text():
    with FakeBluesky({"demo.test": "pw"}) as fake:
        session = requests.post(
            f"{fake.base_url}/xrpc/com.atproto.server.createSession",
            json={"identifier": "demo.test", "password": "pw"},
            timeout=2,
        ).json()
        auth = {"Authorization": f"Bearer {session['accessJwt']}"}
        blob = requests.post(
            f"{fake.base_url}/xrpc/com.atproto.repo.uploadBlob",
            data=PNG,
            headers={**auth, "Content-Type": "image/png"},
            timeout=2,
        ).json()["blob"]
        record = {
            "$type": "app.bsky.feed.post",
            "text": "Bateaux à l’aube\n\nexample.com/boats/",
            "facets": [
                {
                    "index": {"byteStart": 21, "byteEnd": 39},
                    "features": [
                        {
                            "$type": "app.bsky.richtext.facet#link",
                            "uri": "https://example.com/boats/",
                        }
                    ],
                }
            ],
            "createdAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "langs": ["en"],
            "embed": {"$type": "app.bsky.embed.images", "images": [{"image": blob, "alt": ALT}]},
        }
        created = requests.post(
            f"{fake.base_url}/xrpc/com.atproto.repo.createRecord",
            headers=auth,
            timeout=2,
            json={"repo": session["did"], "collection": "app.bsky.feed.post", "record": record},
        )
        assert created.status_code == 200, created.text
        page = requests.get(fake.base_url + "/", timeout=2)
        assert "FakeBluesky</a> &middot; a local stand-in for Bluesky" in page.text
        assert "@demo.test" in page.text and "language: en" in page.text
        assert '<p>Bateaux à l’aube</p><p><a href="https://example.com/boats/"' in page.text
        assert ">example.com/boats/</a></p>" in page.text
        assert image_of(fake.base_url, page.text) == (html.escape(ALT), PNG)
        assert requests.get(fake.base_url + "/elsewhere", timeout=2).status_code == 404
