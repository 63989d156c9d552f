"""FakeMastodon: a real HTTP server on 127.0.0.1 that behaves like Mastodon.

It implements the endpoints wagtail-syndicate uses and parses requests the way
Mastodon (Rails + Rack) does, so HTTP code can be tested against it without
patching anything:

* a file sent as a plain form field (``data=`` instead of ``files=``) is not
  a file: ``422 Validation failed: File can't be blank``;
* ``media_ids=1`` (no brackets) in a form is silently dropped, only
  ``media_ids[]=1`` (or a JSON list) attaches media;
* status length is counted in grapheme clusters with URLs counting as 23;
* image dimensions are decoded from the bytes (PNG, GIF, JPEG, WebP);
* ``Idempotency-Key`` is honoured for an hour, uploads are rate limited.

Failures are injected with :class:`Fault`, or at random with
:meth:`FakeMastodon.chaos` (seeded; see ``_chaos.py``). Every request is
recorded (before any fault applies) in :attr:`FakeMastodon.requests`.

Deleted statuses are removed from :attr:`FakeMastodon.statuses`; their media
stay in :attr:`FakeMastodon.media`, detached (as Mastodon keeps them for
"delete & redraft").

Error texts follow Mastodon 4.3 where it has its own (e.g. "Cannot attach more
than 4 files", "Media 12 not found or already attached to another post",
"File type of uploaded media could not be verified"); as in Mastodon,
``/api/v1/media/:id`` only reaches media not yet attached to a status.

Layout: this module holds the state (``_fake_server.py`` the lifecycle, requests
and faults every fake shares); ``_api.py`` and
``_media.py`` the endpoints; ``_server.py`` the HTTP layer and faults;
``_chaos.py`` random faults; ``_http.py`` body parsing;
``_counting.py`` status length (the fakes' own, never the plugin's);
``_images.py`` image sniffing; ``_pages.py`` the HTML; ``_models.py`` the
dataclasses.

The standard library is used, and ``regex`` (in the test extra) for grapheme clusters:
this package must not import Django or the rest of wagtail_syndicate (a test checks).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable

from ._api import MastodonAPI
from ._chaos import ChaosFault
from ._fake_server import FakeServer
from ._models import (
    DEFAULT_LIMITS,
    FakeApp,
    FakeMedia,
    FakeStatus,
    FakeStatusEdit,
    Fault,
    RecordedRequest,
)

__all__ = [
    "ChaosFault",
    "DEFAULT_LIMITS",
    "FakeApp",
    "FakeMastodon",
    "FakeMedia",
    "FakeStatus",
    "FakeStatusEdit",
    "Fault",
    "RecordedRequest",
]


def _snowflake() -> int:
    """An id that grows with time, like Mastodon's (milliseconds shifted left 16 bits), so a
    fake restarted (the demo) never reuses the ids of posts made before."""
    return int(time.time() * 1000) << 16


class FakeMastodon(MastodonAPI, FakeServer):
    """A Mastodon look-alike on ``http://127.0.0.1:PORT`` (lifecycle, requests, faults and
    chaos mode come from :class:`FakeServer`).

    ``tokens`` maps access tokens to usernames (default ``{"demo-token":
    "demo"}``). ``port=0`` picks a free port. ``verbose=True`` prints one line
    per request (method, path, status; never headers) to ``log``.
    ``clock`` returns epoch seconds; tests may replace it to expire
    idempotency keys or rate-limit windows.

    Images still processing: with ``processing_seconds`` (Mastodon's way: time) or
    ``processing_polls`` set, ``POST /api/v2/media`` answers 202 and ``GET
    /api/v1/media/:id`` answers 206 (no ``url``) until that many seconds have passed
    since the upload (by ``clock``) and that many polls were answered, then 200;
    attaching the image before fails with 422 as on Mastodon. ``/api/v1/media``
    uploads are processed at once.

    Rate limits (``limits["api_rate_limit"]`` per ``["api_rate_period"]`` seconds per token;
    ``media_rate_*`` for uploads, ``delete_rate_*`` for deletes, ``status_rate_*`` for
    statuses posted, per user) count in fixed windows, each starting at the first request
    after the last one ended; with ``aligned_rate_windows`` they start at multiples of the
    period since the epoch instead, as Mastodon's (Rack::Attack) do.

    As in Mastodon's source: media no status uses are deleted
    ``limits["unattached_media_lifetime"]`` seconds (a day) after their upload; a blank
    ``focus`` leaves the focus as it was and any other is read as Ruby's ``to_f`` reads it,
    never refused; a repeated ``Idempotency-Key`` whose status was deleted answers 404.

    Servers that speak Mastodon's API without being Mastodon: ``form_edits_fail=True``
    answers 500 to an edit whose form has ``media_attributes[][…]`` (the same edit as a JSON
    body works); ``instance_v2`` makes ``/api/v2/instance`` fail (``"500"``: a JSON 500,
    ``"html"``: a 500 HTML page, ``"404"``: not there) while ``/api/v1/instance`` works;
    ``version`` is the version the instance endpoints give (v1's may be a compatible one such
    as ``"2.7.2 (compatible; Pleroma 2.5.0)"``) and ``source_url`` v2's; ``html_errors=True``
    answers every API error with an HTML page (its title the error) instead of JSON.

    OAuth (``_oauth.py``): apps register with ``POST /api/v1/apps``; the consent
    page at ``/oauth/authorize`` acts for ``signed_in_user`` (default: the first
    username of ``tokens``); ``/oauth/token`` issues tokens limited to their
    scopes and ``/oauth/revoke`` revokes them. ``oauth_metadata=False`` acts as
    a server older than 4.3 (no ``/.well-known/oauth-authorization-server``, no
    ``profile`` scope, no PKCE); ``scopes_supported`` replaces the scopes the
    server knows.

    As servers that speak the Mastodon API but are not Mastodon do:
    ``idempotency=False`` ignores ``Idempotency-Key`` (the same key twice makes two
    statuses); ``partial_edits=True`` applies an edit's text, content warning and language
    but keeps the status's media and their descriptions as they were;
    ``new_id_per_edit=True`` gives the status a new id on every edit (its old ids still
    resolve to it); ``full_length_links=True`` counts every link at its full length (though
    the instance still says ``characters_reserved_per_url``) and refuses a longer text with
    ``too_long_status`` (400, or 422) ``{"error": "Status is too long"}``.

    A hostile or broken server: ``status_fields`` (a dict, settable at any time) replaces
    fields of every status the API answers with, e.g. ``{"url": "javascript:alert(1)//"}`` or
    an ``id`` too long to keep; the statuses themselves stay as they are.
    """

    def __init__(
        self,
        tokens: dict[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        processing_polls: int = 0,
        processing_seconds: float = 0.0,
        aligned_rate_windows: bool = False,
        limits: dict | None = None,
        verbose: bool = False,
        log=None,
        oauth_metadata: bool = True,
        scopes_supported: Iterable[str] | None = None,
        signed_in_user: str | None = None,
        form_edits_fail: bool = False,
        instance_v2: str | None = None,
        version: str = "4.3.0",
        source_url: str = "https://github.com/mastodon/mastodon",
        html_errors: bool = False,
        idempotency: bool = True,
        partial_edits: bool = False,
        new_id_per_edit: bool = False,
        full_length_links: bool = False,
        too_long_status: int = 400,
        status_fields: dict | None = None,
    ):
        super().__init__(host, port, verbose=verbose, log=log)
        self.form_edits_fail = form_edits_fail
        self.instance_v2 = instance_v2
        self.version = version
        self.source_url = source_url
        self.html_errors = html_errors
        self.idempotency = idempotency
        self.partial_edits = partial_edits
        self.new_id_per_edit = new_id_per_edit
        self.full_length_links = full_length_links
        self.too_long_status = too_long_status
        self.status_fields = dict(status_fields or {})
        self.tokens = dict(tokens if tokens is not None else {"demo-token": "demo"})
        self.processing_polls = processing_polls
        self.processing_seconds = processing_seconds
        self.aligned_rate_windows = aligned_rate_windows
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}
        self._account_ids: dict[str, str] = {}
        for username in self.tokens.values():
            self._account_ids.setdefault(username, str(len(self._account_ids) + 1))
        self._init_oauth(oauth_metadata, scopes_supported, signed_in_user)
        self._clear()

    def _clear(self) -> None:
        with self._lock:
            super()._clear()
            self._statuses: list[FakeStatus] = []
            self._media: dict[str, FakeMedia] = {}
            self._ready_at: dict[str, float] = {}  # media id → when its processing ends
            self._idempotency: dict[tuple[str, str], tuple[str, float]] = {}
            self._former_ids: dict[str, str] = {}  # an edited status's old id → its new one
            self._throttles: dict[tuple[str, str], list[float]] = {}
            first = _snowflake()
            self._status_ids = itertools.count(first + 1)
            self._media_ids = itertools.count(first + 1_000_001)

    # ---------------------------------------------------------------- state

    @property
    def statuses(self) -> list[FakeStatus]:
        """Snapshot of the (not deleted) statuses, oldest first."""
        with self._lock:
            return list(self._statuses)

    @property
    def media(self) -> dict[str, FakeMedia]:
        with self._lock:
            return dict(self._media)

    def reset(self) -> None:
        """Forget statuses, media, requests, faults (chaos mode too), idempotency keys and
        rate-limit counters (tokens, limits, processing_polls and processing_seconds stay)."""
        super().reset()
