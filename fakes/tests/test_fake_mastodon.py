"""Tests of FakeMastodon itself, with plain ``requests`` against the running server.

Runs alone, without Django: ``cd fakes && python -m pytest tests/test_fake_mastodon.py``.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import struct
import subprocess
import sys
import time
import zlib
from datetime import datetime
from pathlib import Path

import pytest
import requests

from syndicate_fakes import FakeMastodon, Fault, _counting
from syndicate_fakes._images import image_info

ROOT = Path(__file__).resolve().parent.parent
ALICE = {"Authorization": "Bearer good-token"}
BOB = {"Authorization": "Bearer other-token"}


@pytest.fixture
def fake(fake_mastodon):
    """The pytest plugin's FakeMastodon: good-token for alice, other-token for bob."""
    return fake_mastodon


def make_png(width: int = 3, height: int = 2, text: bytes = b"") -> bytes:
    """A valid RGB PNG built with zlib and struct (optionally with a tEXt chunk)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + b"\xc0\x10\x10" * width for _ in range(min(height, 4)))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + (chunk(b"tEXt", b"Comment\x00" + text) if text else b"")
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = make_png()


def upload(fake, headers=ALICE, data=PNG, name="red.png", ctype="image/png", **fields):
    return requests.post(
        f"{fake.base_url}/api/v2/media",
        headers=headers,
        files={"file": (name, data, ctype)},
        data=fields,
        timeout=5,
    )


def post_status(fake, headers=ALICE, **kwargs):
    kwargs.setdefault("timeout", 5)
    return requests.post(f"{fake.base_url}/api/v1/statuses", headers=headers, **kwargs)


def error_of(response) -> str:
    return response.json()["error"]


# ------------------------------------------------------------------ instance & auth


def test_instance_is_public_and_reflects_limits(fake):
    fake.limits["max_characters"] = 1000
    data = requests.get(f"{fake.base_url}/api/v2/instance", timeout=5).json()
    assert data["domain"] == fake.host
    assert data["configuration"]["statuses"] == {
        "max_characters": 1000,
        "max_media_attachments": 4,
        "characters_reserved_per_url": 23,
    }
    media = data["configuration"]["media_attachments"]
    assert "image/png" in media["supported_mime_types"]
    assert media["description_limit"] == 1500
    assert media["image_size_limit"] == 16777216
    v1 = requests.get(f"{fake.base_url}/api/v1/instance", timeout=5).json()
    assert v1["uri"] == fake.host
    assert v1["configuration"]["statuses"]["max_characters"] == 1000


def test_verify_credentials(fake):
    response = requests.get(f"{fake.base_url}/api/v1/accounts/verify_credentials", headers=ALICE)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    data = response.json()
    assert (data["id"], data["username"], data["acct"]) == ("1", "alice", "alice")
    assert data["url"] == f"{fake.base_url}/@alice"


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "good-token"}]
)
def test_bad_or_missing_token_is_401(fake, headers):
    for method, path in [
        ("GET", "/api/v1/accounts/verify_credentials"),
        ("POST", "/api/v1/statuses"),
        ("POST", "/api/v2/media"),
    ]:
        response = requests.request(method, fake.base_url + path, headers=headers, timeout=5)
        assert response.status_code == 401
        assert response.json() == {"error": "The access token is invalid"}
        assert "X-RateLimit-Limit" not in response.headers


def test_unknown_route_is_404(fake):
    response = requests.get(f"{fake.base_url}/api/v1/nothing", headers=ALICE)
    assert response.status_code == 404
    assert response.json() == {"error": "Record not found"}
    assert requests.delete(f"{fake.base_url}/api/v2/instance").status_code == 404


def test_requests_are_recorded_with_case_insensitive_headers(fake):
    post_status(fake, data={"status": "hello", "media_ids[]": []}, params={"x": "1"})
    recorded = fake.requests[-1]
    assert (recorded.method, recorded.path, recorded.query) == (
        "POST",
        "/api/v1/statuses",
        {"x": ["1"]},
    )
    assert recorded.form == {"status": ["hello"]}
    assert recorded.headers["authorization"] == "Bearer good-token"
    assert recorded.headers.get("AUTHORIZATION") == "Bearer good-token"
    assert recorded.account == "alice"
    assert "good-token" not in repr(recorded)


# ------------------------------------------------------------------ media upload


def test_file_sent_as_form_field_is_rejected(fake):
    """The classic mistake: the file in ``data=`` instead of ``files=``."""
    response = requests.post(
        f"{fake.base_url}/api/v2/media", headers=ALICE, data={"file": PNG.decode("latin-1")}
    )
    assert response.status_code == 422
    assert response.json() == {"error": "Validation failed: File can't be blank"}
    # Same mistake in multipart: a "file" part without a filename.
    response = requests.post(
        f"{fake.base_url}/api/v2/media",
        headers=ALICE,
        files={"file": (None, PNG), "description": (None, "alt")},
    )
    assert response.status_code == 422
    assert error_of(response) == "Validation failed: File can't be blank"
    assert fake.media == {}


def test_upload_with_description_and_focus(fake):
    response = upload(fake, data=make_png(7, 5), description="A red square", focus="0.5,-0.25")
    assert response.status_code == 200
    data = response.json()
    assert data["type"] == "image"
    assert data["description"] == "A red square"
    assert data["url"] == f"{fake.base_url}/media/{data['id']}/red.png"
    assert data["meta"]["original"] == {"width": 7, "height": 5, "size": "7x5", "aspect": 1.4}
    assert data["meta"]["focus"] == {"x": 0.5, "y": -0.25}
    media = fake.media[data["id"]]
    assert (media.width, media.height, media.focus) == (7, 5, (0.5, -0.25))
    assert (media.description, media.content_type, media.account) == (
        "A red square",
        "image/png",
        "alice",
    )
    assert media.processed
    recorded = fake.requests[-1]
    assert recorded.files["file"][0][:2] == ("red.png", "image/png")
    assert recorded.form == {"description": ["A red square"], "focus": ["0.5,-0.25"]}
    served = requests.get(data["url"])
    assert served.headers["Content-Type"] == "image/png" and served.content == media.data


def test_binary_upload_survives_the_multipart_parser_byte_for_byte(fake):
    tricky = os.urandom(4096) + b"\r\n--boundary\r\n\r\n\n\r\x00\r"
    data = make_png(2, 2, text=tricky)
    response = upload(fake, data=data, description="Zoë’s 🐈 — “quoted”")
    assert response.status_code == 200
    media = fake.media[response.json()["id"]]
    assert media.data == data
    assert media.description == "Zoë’s 🐈 — “quoted”"


def test_upload_field_validation(fake):
    response = upload(fake, description="x" * 1501)
    assert response.status_code == 422
    assert error_of(response) == (
        "Validation failed: Description is too long (maximum is 1500 characters)"
    )
    assert fake.media == {}


@pytest.mark.parametrize(
    "focus, stored",
    [
        ("0.5", (0.5, None)),
        ("a,b", (0.0, 0.0)),
        ("1.5,0", (1.5, 0.0)),
        ("0,-1.01", (0.0, -1.01)),
        (" .25x,1e-1", (0.25, 0.1)),
        ("", None),
    ],
)
def test_a_focus_is_read_as_mastodon_reads_it_and_never_refused(fake, focus, stored):
    # MediaAttachment#focus=: blank is skipped, else "x,y".split(",").map(&:to_f), no range.
    response = upload(fake, focus=focus)
    assert response.status_code == 200
    assert fake.media[response.json()["id"]].focus == stored


def test_description_at_the_limit_is_accepted(fake):
    assert upload(fake, description="x" * 1500, focus="-1,1").status_code == 200


@pytest.mark.parametrize(
    "data, ctype, message",
    [
        (b"not an image at all", "image/png", "File type of uploaded media could not be verified"),
        (PNG[:-20], "image/png", "File type of uploaded media could not be verified"),
        (b"%PDF-1.4 ...", "application/pdf", "Validation failed: File content type is invalid"),
    ],
)
def test_undecodable_or_unsupported_files_are_rejected(fake, data, ctype, message):
    response = upload(fake, data=data, ctype=ctype)
    assert response.status_code == 422
    assert error_of(response) == message


def test_content_type_is_sniffed_not_trusted(fake):
    response = upload(fake, ctype="application/octet-stream", name="picture")
    assert response.status_code == 200
    assert fake.media[response.json()["id"]].content_type == "image/png"
    fake.limits["supported_mime_types"] = ["image/jpeg"]
    response = upload(fake)
    assert response.status_code == 422
    assert error_of(response) == "Validation failed: File content type is invalid"


def test_size_and_matrix_limits(fake):
    fake.limits["image_size_limit"] = 50
    response = upload(fake)
    assert response.status_code == 422
    assert error_of(response) == "Validation failed: File file size must be less than 50 Bytes"
    fake.limits["image_size_limit"] = 16 * 1024 * 1024
    big = make_png(6000, 6000)  # header says 36 megapixels, over 33177600
    response = upload(fake, data=big)
    assert response.status_code == 422
    assert error_of(response) == "6000x6000 images are not supported"


def test_jpeg_gif_webp_dimensions():
    Image = pytest.importorskip("PIL.Image")
    for fmt, mime in [("JPEG", "image/jpeg"), ("GIF", "image/gif"), ("WEBP", "image/webp")]:
        buffer = io.BytesIO()
        Image.new("RGB", (33, 21), "red").save(buffer, fmt)
        assert image_info(buffer.getvalue()) == (mime, 33, 21)
    buffer = io.BytesIO()
    Image.new("RGBA", (40, 30), (0, 0, 0, 0)).save(buffer, "WEBP", lossless=True)
    assert image_info(buffer.getvalue()) == ("image/webp", 40, 30)
    assert image_info(b"hello") is None


def test_update_media_before_attaching(fake):
    media_id = upload(fake).json()["id"]
    response = requests.put(
        f"{fake.base_url}/api/v1/media/{media_id}",
        headers=ALICE,
        data={"description": "New alt", "focus": "0.1,0.2"},
    )
    assert response.status_code == 200
    assert response.json()["description"] == "New alt"
    assert fake.media[media_id].focus == (0.1, 0.2)
    assert requests.get(f"{fake.base_url}/api/v1/media/{media_id}", headers=BOB).status_code == 404
    assert requests.put(f"{fake.base_url}/api/v1/media/{media_id}", headers=BOB).status_code == 404


# ------------------------------------------------------------------ statuses


def test_media_ids_without_brackets_are_ignored(fake):
    media_id = upload(fake).json()["id"]
    response = post_status(fake, data={"status": "Hello", "media_ids": media_id})
    assert response.status_code == 200
    assert response.json()["media_attachments"] == []
    assert fake.statuses[-1].media == []
    response = post_status(fake, data={"media_ids": media_id})
    assert response.status_code == 422
    assert error_of(response) == "Validation failed: Text can't be blank"


def test_media_ids_with_brackets_attach(fake):
    first, second = upload(fake).json()["id"], upload(fake, description="two").json()["id"]
    response = post_status(
        fake,
        data={"status": "Two pictures", "media_ids[]": [second, first], "visibility": "unlisted"},
    )
    assert response.status_code == 200
    data = response.json()
    assert [m["id"] for m in data["media_attachments"]] == [second, first]
    assert data["visibility"] == "unlisted"
    assert data["content"] == "<p>Two pictures</p>"
    status = fake.statuses[-1]
    assert [m.id for m in status.media] == [second, first]
    assert status.url == data["url"] == f"{fake.base_url}/@alice/{data['id']}"
    assert fake.media[first].status_id == data["id"]


def test_json_and_multipart_status_bodies(fake):
    media_id = upload(fake).json()["id"]
    response = post_status(
        fake, json={"status": "JSON", "media_ids": [media_id], "sensitive": True, "language": "en"}
    )
    assert response.status_code == 200
    assert response.json()["sensitive"] is True and response.json()["language"] == "en"
    assert len(response.json()["media_attachments"]) == 1
    response = post_status(
        fake, files={"status": (None, "multipart"), "spoiler_text": (None, "cw")}
    )
    assert response.status_code == 200
    data = response.json()
    assert (data["spoiler_text"], data["sensitive"]) == ("cw", True)
    assert int(fake.statuses[1].id) > int(fake.statuses[0].id)


@pytest.mark.parametrize("visibility", ["friends", "PUBLIC"])
def test_invalid_visibility(fake, visibility):
    response = post_status(fake, data={"status": "x", "visibility": visibility})
    assert response.status_code == 422


def test_unknown_foreign_or_attached_media_are_rejected(fake):
    response = post_status(fake, data={"status": "x", "media_ids[]": ["999"]})
    assert response.status_code == 422
    assert error_of(response) == "Media 999 not found or already attached to another post"
    bobs = upload(fake, headers=BOB).json()["id"]
    assert post_status(fake, data={"status": "x", "media_ids[]": [bobs]}).status_code == 422
    mine = upload(fake).json()["id"]
    assert post_status(fake, data={"status": "a", "media_ids[]": [mine]}).status_code == 200
    response = post_status(fake, data={"status": "b", "media_ids[]": [mine]})
    assert response.status_code == 422
    assert "already attached" in error_of(response)
    assert len(fake.statuses) == 1


def test_too_many_media(fake):
    ids = [upload(fake).json()["id"] for _ in range(5)]
    response = post_status(fake, data={"status": "x", "media_ids[]": ids})
    assert response.status_code == 422
    assert error_of(response) == "Cannot attach more than 4 files"
    assert post_status(fake, data={"status": "x", "media_ids[]": ids[:4]}).status_code == 200


def test_text_length_counts_urls_as_23(fake):
    response = post_status(fake, data={"status": "x" * 501})
    assert response.status_code == 422
    assert response.json() == {"error": "Validation failed: Text character limit of 500 exceeded"}
    url = "https://example.com/" + "a" * 180  # 200 characters, counts as 23
    assert post_status(fake, data={"status": "x" * 476 + " " + url}).status_code == 200
    assert post_status(fake, data={"status": "x" * 477 + " " + url}).status_code == 422
    # the content warning counts too
    response = post_status(fake, data={"status": "x" * 490, "spoiler_text": "y" * 11})
    assert response.status_code == 422
    assert post_status(fake, data={"status": "x" * 500}).status_code == 200


def test_graphemes_count_as_one(fake):
    # The plugin's own counting of the same texts: tests/content/test_graphemes.py.
    for text in ["👍🏽", "🇫🇷", "e\u0301", "👨‍👩‍👧", "❤️", "1️⃣", "한", "\r\n", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"]:
        assert _counting.count_graphemes(text) == 1, text
    assert _counting.count_graphemes("🇫🇷🇩🇪") == 2
    assert _counting.count_graphemes("abc") == 3
    assert _counting.mastodon_length("see https://example.com/" + "a" * 100 + ".") == 4 + 23 + 1
    assert _counting.mastodon_length("hi @someone@example.social") == len("hi @someone")
    assert post_status(fake, data={"status": "👍🏽" * 500}).status_code == 200
    assert post_status(fake, data={"status": "🇫🇷" * 501}).status_code == 422


def test_idempotency_key_returns_the_original_status(fake):
    headers = {**ALICE, "Idempotency-Key": "abc-123"}
    first = post_status(fake, headers=headers, data={"status": "Once"})
    again = post_status(fake, headers=headers, data={"status": "Twice?"})
    assert first.status_code == again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["content"] == "<p>Once</p>"
    assert len(fake.statuses) == 1
    assert fake.statuses[0].idempotency_key == "abc-123"
    # Per account: Bob's request with the same key is a new status.
    assert (
        post_status(
            fake, headers={**BOB, "Idempotency-Key": "abc-123"}, data={"status": "B"}
        ).json()["id"]
        != first.json()["id"]
    )
    # Forgotten after an hour.
    real_clock = fake.clock
    fake.clock = lambda: real_clock() + 3601
    later = post_status(fake, headers=headers, data={"status": "Later"})
    assert later.json()["id"] != first.json()["id"]


def test_processing_media_must_be_polled_before_attaching(fake):
    fake.processing_polls = 2
    response = upload(fake)
    assert response.status_code == 202
    assert response.json()["url"] is None
    media_id = response.json()["id"]
    response = post_status(fake, data={"status": "x", "media_ids[]": [media_id]})
    assert response.status_code == 422
    assert response.json() == {
        "error": "Cannot attach files that have not finished processing. Try again in a moment!"
    }
    codes = [
        requests.get(f"{fake.base_url}/api/v1/media/{media_id}", headers=ALICE).status_code
        for _ in range(3)
    ]
    assert codes == [206, 206, 200]
    done = requests.get(f"{fake.base_url}/api/v1/media/{media_id}", headers=ALICE).json()
    assert done["url"].endswith("/red.png")
    assert post_status(fake, data={"status": "x", "media_ids[]": [media_id]}).status_code == 200
    # attached media are no longer reachable through /api/v1/media/:id (as in Mastodon)
    assert (
        requests.get(f"{fake.base_url}/api/v1/media/{media_id}", headers=ALICE).status_code == 404
    )


def test_edit_replaces_media_and_updates_alt_text(fake):
    a, b, c = (upload(fake, description=d).json()["id"] for d in ("A", "B", "C"))
    status_id = post_status(fake, data={"status": "v1", "media_ids[]": [a, b]}).json()["id"]
    response = requests.put(
        f"{fake.base_url}/api/v1/statuses/{status_id}",
        headers=ALICE,
        data=[
            ("status", "v2"),
            ("media_ids[]", b),
            ("media_ids[]", c),
            ("media_attributes[][id]", b),
            ("media_attributes[][description]", "B, better"),
            ("media_attributes[][id]", c),
            ("media_attributes[][focus]", "0.5,0.5"),
        ],
    )
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["content"] == "<p>v2</p>" and data["edited_at"]
    assert [m["id"] for m in data["media_attachments"]] == [b, c]
    status = fake.statuses[0]
    assert [m.description for m in status.media] == ["B, better", "C"]
    assert status.media[1].focus == (0.5, 0.5)
    assert [(e.text, [m[0] for m in e.media]) for e in status.edits] == [("v1", [a, b])]
    assert (
        requests.put(
            f"{fake.base_url}/api/v1/statuses/{status_id}", headers=BOB, data={"status": "x"}
        ).status_code
        == 404
    )
    assert (
        requests.put(
            f"{fake.base_url}/api/v1/statuses/1", headers=ALICE, data={"status": "x"}
        ).status_code
        == 404
    )


def test_delete_and_account_statuses(fake):
    ids = [post_status(fake, data={"status": f"post {i}"}).json()["id"] for i in range(3)]
    post_status(fake, headers=BOB, data={"status": "bob's"})
    listed = requests.get(
        f"{fake.base_url}/api/v1/accounts/1/statuses", headers=ALICE, params={"limit": 2}
    )
    assert [s["id"] for s in listed.json()] == [ids[2], ids[1]]
    assert (
        requests.delete(f"{fake.base_url}/api/v1/statuses/{ids[0]}", headers=BOB).status_code == 404
    )
    response = requests.delete(f"{fake.base_url}/api/v1/statuses/{ids[0]}", headers=ALICE)
    assert response.status_code == 200 and response.json()["text"] == "post 0"
    assert [s.id for s in fake.statuses if s.account == "alice"] == ids[1:]
    assert (
        requests.get(f"{fake.base_url}/api/v1/statuses/{ids[0]}", headers=ALICE).status_code == 404
    )
    assert requests.get(f"{fake.base_url}/api/v1/statuses/{ids[1]}").status_code == 200


# ------------------------------------------------------------------ faults


def test_fault_status_then_normal(fake):
    fake.inject(
        Fault(method="POST", path="/api/v1/statuses", status=503, headers={"Retry-After": "7"})
    )
    response = post_status(fake, data={"status": "x"})
    assert response.status_code == 503
    assert response.json() == {"error": "Injected fault"}
    assert response.headers["Retry-After"] == "7"
    assert fake.statuses == []
    assert post_status(fake, data={"status": "x"}).status_code == 200
    assert len(fake.requests) == 2  # both attempts were recorded


def test_fault_matching_and_times(fake):
    fake.inject(Fault(method="GET", path="/api/v2/media", status=500))  # wrong method
    fake.inject(
        Fault(path="/api/v2/media", status=429, body={"error": "Too many requests"}, times=2)
    )
    assert upload(fake).status_code == 429
    assert upload(fake).status_code == 429
    assert upload(fake).status_code == 200
    fake.reset()
    assert fake.requests == [] and fake.media == {}
    assert requests.get(f"{fake.base_url}/api/v2/media").status_code == 404  # the GET fault is gone


def test_fault_delay_times_out_the_client_and_the_server_keeps_working(fake):
    fake.inject(Fault(path="/api/v1/statuses", delay=2))
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        post_status(fake, data={"status": "slow"}, timeout=0.2)
    assert time.monotonic() - started < 1.5
    assert post_status(fake, data={"status": "fast"}).status_code == 200
    assert [s.text for s in fake.statuses] == ["fast"]


@pytest.mark.parametrize("after", [False, True], ids=["before", "after"])
def test_fault_hold_answers_when_the_test_says_and_arrived_says_when_to(fake, after):
    import threading

    arrived, hold = threading.Event(), threading.Event()
    fake.inject(Fault(path="/api/v1/statuses", arrived=arrived, hold=hold, after=after))
    answers = []
    client = threading.Thread(
        target=lambda: answers.append(post_status(fake, data={"status": "held"}))
    )
    client.start()
    assert arrived.wait(10)
    # The handler stores the status before it holds the answer (after) or after it (before).
    assert [s.text for s in fake.statuses] == (["held"] if after else [])
    assert answers == []  # still waiting for the answer
    hold.set()
    client.join(10)
    assert [a.status_code for a in answers] == [200]
    assert [s.text for s in fake.statuses] == ["held"]


def test_fault_drop_closes_the_connection(fake):
    fake.inject(Fault(method="POST", path="/api/v1/statuses", drop=True))
    with pytest.raises(requests.ConnectionError):
        post_status(fake, data={"status": "lost"})
    assert fake.statuses == []
    assert post_status(fake, data={"status": "ok"}).status_code == 200


def test_fault_after_drop_stores_the_status(fake):
    fake.inject(Fault(method="POST", path="/api/v1/statuses", drop=True, after=True))
    with pytest.raises(requests.ConnectionError):
        post_status(fake, headers={**ALICE, "Idempotency-Key": "k1"}, data={"status": "stored"})
    assert [s.text for s in fake.statuses] == ["stored"]
    retry = post_status(fake, headers={**ALICE, "Idempotency-Key": "k1"}, data={"status": "stored"})
    assert retry.status_code == 200 and retry.json()["id"] == fake.statuses[0].id
    assert len(fake.statuses) == 1


def test_stop_is_prompt_while_a_handler_sleeps():
    fake = FakeMastodon().start()
    fake.inject(Fault(delay=30))
    with pytest.raises(requests.Timeout):
        requests.get(f"{fake.base_url}/api/v2/instance", timeout=0.2)
    started = time.monotonic()
    fake.stop()
    assert time.monotonic() - started < 2


# ------------------------------------------------------------------ rate limits


def test_media_upload_rate_limit(fake):
    for i in range(30):
        response = upload(fake)
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Remaining"] == str(29 - i)
    response = upload(fake)
    assert response.status_code == 429
    assert response.json() == {"error": "Too many requests"}
    assert response.headers["X-RateLimit-Limit"] == "30"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    reset = datetime.fromisoformat(response.headers["X-RateLimit-Reset"].replace("Z", "+00:00"))
    assert 1700 < reset.timestamp() - time.time() <= 1800
    # other endpoints carry their own (larger) limit
    other = requests.get(f"{fake.base_url}/api/v1/accounts/verify_credentials", headers=ALICE)
    assert other.status_code == 200 and other.headers["X-RateLimit-Limit"] == "300"
    assert upload(fake, headers=BOB).status_code == 200  # per user


# ------------------------------------------------------------------ HTML pages


def test_status_page_shows_text_images_and_alt(fake):
    media_id = upload(fake, description='Alt <with> "quotes"', focus="0.25,0.5").json()["id"]
    status = post_status(
        fake, data={"status": "Hello <b>world</b>", "media_ids[]": [media_id]}
    ).json()
    page = requests.get(status["url"])
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    html = page.text
    assert "Hello &lt;b&gt;world&lt;/b&gt;" in html
    assert 'alt="Alt &lt;with&gt; &quot;quotes&quot;"' in html
    assert re.search(r"<figcaption>[^<]*Alt &lt;with&gt; &quot;quotes&quot;", html)
    assert "visibility: public" in html and "0.25, 0.5" in html
    index = requests.get(fake.base_url + "/").text
    assert status["url"] in index and "Hello &lt;b&gt;" in index
    assert requests.get(f"{fake.base_url}/@alice/123").status_code == 404
    assert requests.get(f"{fake.base_url}/media/{media_id}/wrong.png").status_code == 404


# ------------------------------------------------------------------ process mode


def test_process_mode_serves_until_terminated():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "syndicate_fakes",
            "--port",
            "0",
            "--token",
            "t1",
            "--username",
            "demo",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert match, line
        base = match.group(0)
        deadline = time.monotonic() + 5
        while True:
            try:
                response = requests.get(
                    f"{base}/api/v1/accounts/verify_credentials",
                    headers={"Authorization": "Bearer t1"},
                    timeout=1,
                )
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert response.json()["username"] == "demo"
        os.kill(proc.pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=5)
        assert proc.returncode == 0, err
        assert "GET /api/v1/accounts/verify_credentials -> 200" in out
        assert "t1" not in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_module_imports_only_the_standard_library():
    code = (
        "import sys, json; import syndicate_fakes; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('django', 'wagtail', 'requests'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ).stdout
    assert json.loads(out) == []


# ------------------------------------------------------------------ as Mastodon's source does


def clocked(fake, start=1_000_000.0):
    """Put ``fake`` on a clock the test moves: returns the list holding the time."""
    now = [start]
    fake.clock = lambda: now[0]
    return now


def test_a_blank_focus_in_an_edit_leaves_the_focus_as_it_was(fake):
    media_id = upload(fake, focus="0.25,-0.5").json()["id"]
    status_id = post_status(fake, data={"status": "v1", "media_ids[]": [media_id]}).json()["id"]
    response = requests.put(
        f"{fake.base_url}/api/v1/statuses/{status_id}",
        headers=ALICE,
        data=[
            ("status", "v2"),
            ("media_ids[]", media_id),
            ("media_attributes[][id]", media_id),
            ("media_attributes[][description]", "New alt"),
            ("media_attributes[][focus]", ""),
        ],
    )
    assert response.status_code == 200, response.text
    assert response.json()["media_attachments"][0]["meta"]["focus"] == {"x": 0.25, "y": -0.5}
    assert fake.statuses[0].media[0].description == "New alt"


def test_media_no_status_uses_are_deleted_after_a_day(fake):
    now = clocked(fake)
    kept = upload(fake).json()["id"]
    post_status(fake, data={"status": "uses it", "media_ids[]": [kept]})
    lost = upload(fake).json()["id"]
    now[0] += 86400 - 1
    assert requests.get(f"{fake.base_url}/api/v1/media/{lost}", headers=ALICE).status_code == 200
    now[0] += 1
    assert requests.get(f"{fake.base_url}/api/v1/media/{lost}", headers=ALICE).status_code == 404
    late = post_status(fake, data={"status": "too late", "media_ids[]": [lost]})
    assert late.status_code == 422
    assert set(fake.media) == {kept}


def test_a_repeated_idempotency_key_whose_status_was_deleted_is_not_found(fake):
    headers = {**ALICE, "Idempotency-Key": "gone-1"}
    status_id = post_status(fake, headers=headers, data={"status": "Once"}).json()["id"]
    requests.delete(f"{fake.base_url}/api/v1/statuses/{status_id}", headers=ALICE)
    again = post_status(fake, headers=headers, data={"status": "Once"})
    assert again.status_code == 404
    assert fake.statuses == []


def test_a_content_warning_makes_a_status_sensitive_even_with_sensitive_false(fake):
    # PostStatusService: sensitive = options[:sensitive] || options[:spoiler_text].present?
    # (mastodon/mastodon app/services/post_status_service.rb, main as of 2026).
    data = {"status": "x", "spoiler_text": "cw", "sensitive": "false"}
    assert post_status(fake, data=data).json()["sensitive"] is True
    plain = post_status(fake, data={"status": "y", "sensitive": "false", "spoiler_text": " "})
    assert plain.json()["sensitive"] is False


def test_deletes_are_limited_to_30_per_30_minutes_per_user(fake):
    now = clocked(fake)
    answers = [
        requests.delete(f"{fake.base_url}/api/v1/statuses/{i}", headers=ALICE) for i in range(31)
    ]
    assert [a.status_code for a in answers] == [404] * 30 + [429]
    assert answers[-1].json() == {"error": "Too many requests"}
    assert requests.delete(f"{fake.base_url}/api/v1/statuses/1", headers=BOB).status_code == 404
    now[0] += 30 * 60
    assert requests.delete(f"{fake.base_url}/api/v1/statuses/1", headers=ALICE).status_code == 404


def test_statuses_are_limited_to_300_per_3_hours_per_user():
    limits = {"api_rate_limit": 10_000}  # the per-token API limit out of the way
    with FakeMastodon(tokens={"good-token": "alice", "second": "alice"}, limits=limits) as fake:
        now = clocked(fake)
        for i in range(300):
            answer = post_status(fake, data={"status": f"post {i}"})
            assert answer.status_code == 200
        assert answer.headers["X-RateLimit-Limit"] == "300"
        assert answer.headers["X-RateLimit-Remaining"] == "0"
        # The same user with another token: the limit is the user's.
        refused = post_status(fake, headers={"Authorization": "Bearer second"},
                              data={"status": "one more"})  # fmt: skip
        assert refused.status_code == 429
        assert len(fake.statuses) == 300
        now[0] += 3 * 3600
        assert post_status(fake, data={"status": "later"}).status_code == 200


def test_a_refused_status_does_not_count_towards_the_limit():
    with FakeMastodon(tokens={"good-token": "alice"}, limits={"status_rate_limit": 1}) as fake:
        assert post_status(fake, data={"status": ""}).status_code == 422
        assert post_status(fake, data={"status": "first"}).status_code == 200
        assert post_status(fake, data={"status": "second"}).status_code == 429
