"""FakeBluesky itself, held to what the PDS (@atproto/pds) and the atproto lexicons do: the
records it refuses, the blobs it takes, its sessions and its version."""

import io
import random

import pytest
import requests
from PIL import Image as PILImage

from syndicate_fakes import FakeBluesky

POST = "app.bsky.feed.post"


def xrpc(fake, nsid, session=None, **kwargs):
    headers = kwargs.pop("headers", {})
    if session:
        headers["Authorization"] = f"Bearer {session['accessJwt']}"
    return requests.post(f"{fake.base_url}/xrpc/{nsid}", headers=headers, timeout=5, **kwargs)


def png(width=10, height=10) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), "red").save(buffer, "PNG")
    return buffer.getvalue()


def sign_in(fake, handle="alice.test", password="pw") -> dict:
    return xrpc(
        fake,
        "com.atproto.server.createSession",
        json={"identifier": handle, "password": password},
    ).json()


def upload(fake, session, data, content_type="image/png"):
    return xrpc(
        fake,
        "com.atproto.repo.uploadBlob",
        session,
        data=data,
        headers={"Content-Type": content_type},
    )


def create_post(fake, session, record):
    return xrpc(
        fake,
        "com.atproto.repo.createRecord",
        session,
        json={"repo": session["did"], "collection": POST, "record": record},
    )


def image_post(blob, text="A cup"):
    image = {"alt": "A cup", "image": blob, "aspectRatio": {"width": 10, "height": 10}}
    return {"text": text, "createdAt": "2025-01-01T00:00:00.000Z",
            "embed": {"$type": "app.bsky.embed.images", "images": [image]}}  # fmt: skip


@pytest.fixture
def fake():
    with FakeBluesky(accounts={"alice.test": "pw"}) as fake:
        yield fake


@pytest.mark.parametrize(
    "change, error",
    [
        ({"text": "x" * 301}, "300 graphemes"),
        ({"text": "👨‍👩‍👧‍👦" * 150}, "3000"),
        ({"createdAt": "yesterday"}, "createdAt"),
        ({"facets": [{"index": {"byteStart": 6, "byteEnd": 6}, "features": []}]}, "byteStart"),
        ({"facets": "offsets"}, "facets"),
        ("five images", "more than 4"),
        ("no alt", '"alt"'),
        ("bad ratio", "aspectRatio"),
    ],
)
def test_the_fake_refuses_records_the_lexicon_refuses(fake, change, error):
    session = sign_in(fake)
    blob = upload(fake, session, png()).json()["blob"]
    record = image_post(blob, "Café ☕ https://example.com/a")
    image = record["embed"]["images"][0]
    if change == "five images":
        record["embed"]["images"] = [image] * 5
    elif change == "no alt":
        record["embed"]["images"] = [{"image": blob}]
    elif change == "bad ratio":
        record["embed"]["images"] = [{**image, "aspectRatio": {"width": 0, "height": 3}}]
    else:
        record.update(change)
    answer = create_post(fake, session, record)
    assert answer.status_code == 400, answer.text
    assert error in answer.json()["message"]
    assert fake.posts == []


def test_an_unknown_blob_is_blob_not_found(fake):
    session = sign_in(fake)
    blob = upload(fake, session, png()).json()["blob"]
    answer = create_post(fake, session, image_post({**blob, "ref": {"$link": "bafk"}}))
    assert (answer.status_code, answer.json()["error"]) == (400, "BlobNotFound")
    assert fake.posts == []


def test_a_link_facet_is_not_checked_against_the_text_it_covers(fake):
    # The lexicon has no such rule: a PDS takes offsets counted in characters, wrong as they are.
    session = sign_in(fake)
    text = "Café ☕ https://example.com/a"
    start = text.index("https")  # characters, not bytes
    link = {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/a"}
    record = {"text": text, "createdAt": "2025-01-01T00:00:00.000Z",
              "facets": [{"index": {"byteStart": start, "byteEnd": start + 21},
                          "features": [link]}]}  # fmt: skip
    assert create_post(fake, session, record).status_code == 200
    assert fake.posts[0].facets[0]["index"] == {"byteStart": start, "byteEnd": start + 21}


def test_upload_blob_takes_up_to_five_mebibytes_and_answers_413_above(fake):
    session = sign_in(fake)
    header = b"\x89PNG\r\n\x1a\n"
    too_big = upload(fake, session, header + b"\0" * (5 * 1024 * 1024 + 1 - len(header)))
    assert (too_big.status_code, too_big.json()["error"]) == (413, "PayloadTooLarge")
    assert fake.blobs == {}
    just = upload(fake, session, header + b"\0" * (5 * 1024 * 1024 - len(header)))
    assert just.status_code == 200
    assert just.json()["blob"]["size"] == 5 * 1024 * 1024


def test_a_blob_is_stored_with_the_type_sniffed_from_its_bytes(fake):
    session = sign_in(fake)
    mislabelled = upload(fake, session, png(), content_type="image/jpeg")
    assert mislabelled.status_code == 200
    assert mislabelled.json()["blob"]["mimeType"] == "image/png"
    assert [b.mime_type for b in fake.blobs.values()] == ["image/png"]


def test_any_image_type_is_accepted_in_a_post(fake):
    session = sign_in(fake)
    heic = b"\0\0\0\x18ftypheic" + b"\0" * 100  # no sniffer here knows it: declared is kept
    blob = upload(fake, session, heic, content_type="image/heic").json()["blob"]
    assert blob["mimeType"] == "image/heic"
    assert create_post(fake, session, image_post(blob)).status_code == 200
    text = upload(fake, session, b"plain words", content_type="text/plain").json()["blob"]
    refused = create_post(fake, session, image_post(text))
    assert refused.status_code == 400
    assert "mimeType" in refused.json()["message"]


def noise_png(size: int) -> bytes:
    """A PNG of ``size`` bytes or a few more (random pixels do not compress)."""
    side = int((size / 3) ** 0.5) + 1
    pixels = random.Random(1).randbytes(side * side * 3)
    buffer = io.BytesIO()
    PILImage.frombytes("RGB", (side, side), pixels).save(buffer, "PNG", compress_level=0)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "version, limit", [("0.4.218", 2_000_000), ("0.5.35", 2_000_000), ("0.4.217", 1_000_000)]
)
def test_an_image_in_a_post_may_have_2_000_000_bytes_on_current_servers(version, limit):
    with FakeBluesky(accounts={"alice.test": "pw"}, version=version) as fake:
        health = requests.get(f"{fake.base_url}/xrpc/_health", timeout=5)
        assert health.json() == {"version": version}
        session = sign_in(fake)
        data = noise_png(1_200_000)
        blob = upload(fake, session, data).json()["blob"]
        answer = create_post(fake, session, image_post(blob))
        assert (answer.status_code == 200) is (len(data) <= limit), answer.text
        if answer.status_code != 200:
            assert f"{limit} bytes maximum" in answer.json()["message"]


def test_the_default_version_is_a_current_pds(fake):
    assert requests.get(f"{fake.base_url}/xrpc/_health", timeout=5).json() == {"version": "0.4.218"}
    assert fake.image_limit == 2_000_000


def test_a_request_without_a_token_is_auth_missing(fake):
    answer = upload(fake, None, png())
    assert (answer.status_code, answer.json()["error"]) == (401, "AuthMissing")


def refresh(fake, token):
    return requests.post(
        f"{fake.base_url}/xrpc/com.atproto.server.refreshSession",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )


def test_a_used_refresh_token_stays_valid_for_two_hours(fake):
    now = [1_000_000.0]
    fake.clock = lambda: now[0]
    first = sign_in(fake)["refreshJwt"]
    second = refresh(fake, first)
    assert second.status_code == 200
    now[0] += 2 * 3600 - 1
    assert refresh(fake, first).status_code == 200  # an answer lost: the same token again
    now[0] += 1
    expired = refresh(fake, first)
    assert (expired.status_code, expired.json()["error"]) == (400, "ExpiredToken")
    assert refresh(fake, second.json()["refreshJwt"]).status_code == 200


def test_after_delete_session_the_refresh_token_is_revoked(fake):
    token = sign_in(fake)["refreshJwt"]
    deleted = requests.post(
        f"{fake.base_url}/xrpc/com.atproto.server.deleteSession",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert deleted.status_code == 200
    answer = refresh(fake, token)
    assert answer.status_code == 400
    assert answer.json() == {"error": "ExpiredToken", "message": "Token has been revoked"}


def test_the_grace_of_a_used_refresh_token_can_be_configured():
    with FakeBluesky(accounts={"alice.test": "pw"}, refresh_grace=0) as fake:
        first = sign_in(fake)["refreshJwt"]
        assert refresh(fake, first).status_code == 200
        again = refresh(fake, first)
        assert (again.status_code, again.json()["error"]) == (400, "ExpiredToken")
