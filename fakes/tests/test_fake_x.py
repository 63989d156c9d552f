"""FakeX itself, held to X's API v2 (its OpenAPI document and documentation): OAuth 2.0
scopes, refresh tokens only with offline.access, media categories and media that expire."""

import io

import pytest
import requests
from PIL import Image as PILImage

from syndicate_fakes import FakeX


def image(kind="PNG") -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (8, 8), "red").save(buffer, kind)
    return buffer.getvalue()


def upload(fake, token, data=None, category="tweet_image"):
    return requests.post(
        f"{fake.base_url}/2/media/upload",
        headers={"Authorization": f"Bearer {token}"},
        files={"media": ("a.png", data or image())},
        data={"media_category": category},
        timeout=5,
    )


def call(fake, token, method, path, **kwargs):
    return requests.request(
        method,
        fake.base_url + path,
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
        **kwargs,
    )


@pytest.fixture
def fake():
    with FakeX(tokens={"any": "alice"}) as fake:
        yield fake


def test_media_endpoints_need_media_write(fake):
    without = fake.issue("alice", scopes=["tweet.read", "tweet.write", "users.read"])
    token = without["access_token"]
    refused = upload(fake, token)
    assert refused.status_code == 403
    assert "media.write" in refused.json()["detail"]
    metadata = {"id": "1", "metadata": {"alt_text": {"text": "A cup"}}}
    assert call(fake, token, "POST", "/2/media/metadata", json=metadata).status_code == 403
    assert fake.media == {}
    assert call(fake, token, "POST", "/2/tweets", json={"text": "Hello"}).status_code == 201


def test_posting_needs_tweet_write(fake):
    token = fake.issue("alice", scopes=["tweet.read", "users.read", "media.write"])["access_token"]
    assert upload(fake, token).status_code == 200
    assert call(fake, token, "POST", "/2/tweets", json={"text": "Hello"}).status_code == 403
    assert fake.tweets == []


def test_a_token_given_to_the_fake_may_do_anything(fake):
    assert upload(fake, "any").status_code == 200


def test_a_refresh_token_comes_only_with_offline_access(fake):
    assert "refresh_token" not in fake.issue("alice", scopes=["tweet.read", "users.read"])
    issued = fake.issue("alice", scopes=["tweet.read", "users.read", "offline.access"])
    renewed = requests.post(
        f"{fake.base_url}/2/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": issued["refresh_token"],
            "client_id": fake.client_id,
        },
        timeout=5,
    ).json()
    # The refreshed token keeps the scopes granted: no more.
    assert renewed["scope"] == "tweet.read users.read offline.access"
    assert upload(fake, renewed["access_token"]).status_code == 403


@pytest.mark.parametrize("category", ["tweet_image", "tweet_gif", "tweet_video"])
def test_the_media_categories_for_posts_are_accepted(fake, category):
    data = image("GIF") if category == "tweet_gif" else image()
    assert upload(fake, "any", data, category).status_code == 200


def test_another_media_category_is_refused(fake):
    assert upload(fake, "any", category="banner").status_code == 400


def test_media_expire_after_expires_after_secs(fake):
    now = [1_000_000.0]
    fake.clock = lambda: now[0]
    answer = upload(fake, "any").json()["data"]
    assert answer["expires_after_secs"] == 86400
    now[0] += 86400 - 1
    media = {"media": {"media_ids": [answer["id"]]}}
    assert call(fake, "any", "POST", "/2/tweets", json={"text": "a", **media}).status_code == 201
    now[0] += 1
    late = call(fake, "any", "POST", "/2/tweets", json={"text": "b", **media})
    assert late.status_code == 400
    alt = {"id": answer["id"], "metadata": {"alt_text": {"text": "A cup"}}}
    assert call(fake, "any", "POST", "/2/media/metadata", json=alt).status_code == 400
    assert [t.text for t in fake.tweets] == ["a"]


def test_the_media_lifetime_can_be_configured():
    with FakeX(tokens={"any": "alice"}, media_lifetime=60) as fake:
        assert upload(fake, "any").json()["data"]["expires_after_secs"] == 60
