"""The data FakeMastodon keeps, and the Fault it can be told to inject."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from ._http import Headers

__all__ = [
    "DEFAULT_LIMITS",
    "FakeApp",
    "FakeMedia",
    "FakeStatus",
    "FakeStatusEdit",
    "Fault",
    "RecordedRequest",
]

DEFAULT_LIMITS: dict = {
    # advertised in /api/v2/instance and enforced
    "max_characters": 500,
    "max_media_attachments": 4,
    "characters_reserved_per_url": 23,
    "image_size_limit": 16 * 1024 * 1024,
    "image_matrix_limit": 33_177_600,
    "description_limit": 1500,
    "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp"],
    # advertised only (the fake does not accept video)
    "video_size_limit": 103_809_024,
    "video_frame_rate_limit": 120,
    "video_matrix_limit": 8_294_400,
    # rate limits: per token for the API, per user for media uploads and deletes (Mastodon's
    # rack-attack defaults) and for statuses posted (its RateLimiter's "statuses" family)
    "media_rate_limit": 30,
    "media_rate_period": 30 * 60,
    "api_rate_limit": 300,
    "api_rate_period": 5 * 60,
    "delete_rate_limit": 30,
    "delete_rate_period": 30 * 60,
    "status_rate_limit": 300,
    "status_rate_period": 3 * 3600,
    # media no status uses are deleted this long after their upload (MediaCleanupScheduler)
    "unattached_media_lifetime": 86400,
}


@dataclass
class Fault:
    """A failure to inject with :meth:`FakeMastodon.inject`.

    It applies to the next ``times`` requests whose method is ``method`` (or
    any, with ``"*"``) and whose path starts with ``path``; queued faults are
    tried in order and the first match is used. The request is recorded first.

    * ``status``: answer with this status and ``body`` (a dict is sent as JSON, a
      str as HTML; default ``{"error": "Injected fault"}``) plus ``headers``,
      without handling it;
    * ``delay``: sleep this many seconds first (to trip client time-outs);
    * ``drop``: close the connection without any response;
    * ``after=True``: handle the request normally first (a status gets
      stored), *then* delay, drop, or replace the response by ``status`` -
      "the server did it but the client never heard back";
    * ``arrived``: an event set when the fault takes hold of the request (before it is
      handled; with ``after``, once it is), so a test can act while the client waits,
      without guessing how long that is;
    * ``hold``: an event the answer then waits for (before ``delay``): the client waits
      until the test sets it (or the server stops, which drops the connection).
    """

    method: str = "*"
    path: str = ""
    status: int | None = None
    body: dict | str | None = None
    headers: dict | None = None
    delay: float = 0.0
    drop: bool = False
    after: bool = False
    times: int = 1
    arrived: threading.Event | None = field(default=None, compare=False, repr=False)
    hold: threading.Event | None = field(default=None, compare=False, repr=False)

    def matches(self, method: str, path: str) -> bool:
        wanted = self.method.upper()
        return wanted in ("*", method.upper()) and path.startswith(self.path)


@dataclass
class FakeMedia:
    id: str
    filename: str  # the uploaded file name, as sent by the client
    content_type: str  # sniffed from the bytes, not the declared one
    data: bytes = field(repr=False)
    description: str
    focus: tuple[float, float | None] | None  # y is None when only x was sent
    width: int | None
    height: int | None
    processed: bool
    account: str
    declared_content_type: str = ""
    status_id: str | None = None  # the status it is attached to
    polls_left: int = 0  # GET polls answered 206 before it is processed
    uploaded_at: float | None = None  # by the fake's clock


@dataclass
class FakeStatusEdit:
    """A previous version of an edited status."""

    text: str
    spoiler_text: str
    sensitive: bool
    language: str | None
    media: list[tuple[str, str, tuple[float, float] | None]]  # (id, description, focus)
    created_at: datetime


@dataclass
class FakeStatus:
    id: str
    text: str
    media: list[FakeMedia]
    visibility: str
    spoiler_text: str
    sensitive: bool
    language: str | None
    account: str
    url: str
    idempotency_key: str | None
    created_at: datetime
    edits: list[FakeStatusEdit] = field(default_factory=list)
    edited_at: datetime | None = None


@dataclass
class RecordedRequest:
    """One request as received. ``headers`` is a dict with lower-cased keys
    (lookups are case-insensitive; its repr hides Authorization). ``form`` and
    ``files`` come from the body only; ``query`` from the URL."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Headers
    form: dict[str, list[str]]
    files: dict[str, list[tuple[str, str, bytes]]] = field(repr=False)
    body: bytes = field(default=b"", repr=False)
    json: object = None
    account: str | None = None  # whose valid token it carried, if any


@dataclass
class FakeApp:
    """An application registered with ``POST /api/v1/apps``."""

    id: str
    name: str
    website: str | None
    redirect_uris: list[str]
    scopes: list[str]
    client_id: str
    client_secret: str = field(repr=False)


@dataclass
class FakeGrant:
    """An authorization code handed out on the consent page, until it is exchanged."""

    code: str = field(repr=False)
    client_id: str
    redirect_uri: str
    scopes: list[str]
    username: str
    code_challenge: str | None
    expires_at: float
