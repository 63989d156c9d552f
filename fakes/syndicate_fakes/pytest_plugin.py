"""pytest fixtures for the fakes, registered by the ``pytest11`` entry point of
wagtail-syndicate-fakes: installing the distribution makes them available to every test.

Each fixture is a fake started on 127.0.0.1 (a port of its own) for one test and stopped after
it:

* ``fake_mastodon``: FakeMastodon with the tokens ``good-token`` (alice) and ``other-token`` (bob).
* ``fake_bluesky``: FakeBluesky with alice.test (app password ``alice-app-pass``) and bob.test
  (``bob-app-pass``).
* ``fake_x``: FakeX with the bearer token ``x-token`` for alice (it never expires) and the
  OAuth 1.0a user token ``carol-token`` (secret ``carol-token-secret``) for carol, signed by the
  consumer ``x-consumer-key`` / ``x-consumer-secret``.

A test that needs other accounts, limits or versions starts its own fake (``with FakeX(...) as
fake:``), or overrides the fixture in its conftest.py.
"""

from __future__ import annotations

import pytest

from .fake_bluesky import FakeBluesky
from .fake_mastodon import FakeMastodon
from .fake_x import FakeX

__all__ = ["fake_bluesky", "fake_mastodon", "fake_x"]


@pytest.fixture
def fake_mastodon():
    """FakeMastodon with the tokens ``good-token`` (alice) and ``other-token`` (bob)."""
    with FakeMastodon(tokens={"good-token": "alice", "other-token": "bob"}) as fake:
        yield fake


@pytest.fixture
def fake_bluesky():
    """FakeBluesky with alice.test (app password ``alice-app-pass``) and bob.test
    (``bob-app-pass``)."""
    with FakeBluesky(accounts={"alice.test": "alice-app-pass", "bob.test": "bob-app-pass"}) as fake:
        yield fake


@pytest.fixture
def fake_x():
    """FakeX with a never-expiring bearer token for alice (``x-token``) and OAuth 1.0a user
    tokens for carol (``carol-token`` / ``carol-token-secret``, consumer ``x-consumer-key`` /
    ``x-consumer-secret``)."""
    with FakeX(
        tokens={"x-token": "alice"},
        consumer_key="x-consumer-key",
        consumer_secret="x-consumer-secret",
        oauth1={"carol-token": ("carol-token-secret", "carol")},
    ) as fake:
        yield fake
