"""Test helpers for wagtail-syndicate.

:class:`FakeMastodon` is a real HTTP server on 127.0.0.1 that behaves like a
Mastodon instance for the endpoints wagtail-syndicate uses; :class:`Fault`
injects failures into it::

    from syndicate_fakes import FakeMastodon, Fault

    with FakeMastodon(tokens={"good-token": "alice"}) as fake:
        fake.inject(Fault(method="POST", path="/api/v1/statuses", status=503))
        ...  # point the code under test at fake.base_url
        assert fake.statuses[0].media[0].description == "A red square"

``fake.chaos(rate=0.2, seed=1)`` gives API requests seeded random faults.

:class:`FakeBluesky` does the same for a Bluesky PDS (XRPC sessions, blobs, post records
validated as the lexicon does); both are :class:`FakeServer` subclasses, with the same
fault injection.

Run it as a process for a demo: ``python -m syndicate_fakes``.
The fakes use the standard library and ``regex`` (which the plugin needs too), and no code of the
plugin they judge: they count text with their own ``_counting.py``.
"""

from ._fake_server import FakeServer
from .fake_bluesky import FakeBlob, FakeBluesky, FakeBlueskyAccount, FakePost
from .fake_mastodon import (
    DEFAULT_LIMITS,
    ChaosFault,
    FakeApp,
    FakeMastodon,
    FakeMedia,
    FakeStatus,
    FakeStatusEdit,
    Fault,
    RecordedRequest,
)
from .fake_x import FakeTweet, FakeX, FakeXMedia

__all__ = [
    "ChaosFault",
    "DEFAULT_LIMITS",
    "FakeBlob",
    "FakeBluesky",
    "FakeBlueskyAccount",
    "FakePost",
    "FakeServer",
    "FakeApp",
    "FakeMastodon",
    "FakeMedia",
    "FakeStatus",
    "FakeStatusEdit",
    "Fault",
    "RecordedRequest",
    "FakeTweet",
    "FakeX",
    "FakeXMedia",
]
