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

Layout: this module holds the lifecycle and state; ``_api.py`` and
``_media.py`` the endpoints; ``_server.py`` the HTTP layer and faults;
``_chaos.py`` random faults; ``_http.py`` body parsing;
``wagtail_syndicate.text`` status length (shared with the plugin);
``_images.py`` image sniffing; ``_pages.py`` the HTML; ``_models.py`` the
dataclasses.

Only the standard library is used: this package must not import Django or the
rest of wagtail_syndicate.
"""

from __future__ import annotations

import dataclasses
import itertools
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable

from ._api import MastodonAPI
from ._chaos import DEFAULT_KINDS, Chaos, ChaosFault
from ._models import (
    DEFAULT_LIMITS,
    FakeApp,
    FakeMedia,
    FakeStatus,
    FakeStatusEdit,
    Fault,
    RecordedRequest,
)
from ._server import Server

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


class FakeMastodon(MastodonAPI):
    """A Mastodon look-alike on ``http://127.0.0.1:PORT``.

    ``tokens`` maps access tokens to usernames (default ``{"demo-token":
    "demo"}``). ``port=0`` picks a free port. ``verbose=True`` prints one line
    per request (method, path, status; never headers) to ``log``.
    ``clock`` returns epoch seconds; tests may replace it to expire
    idempotency keys or rate-limit windows.

    OAuth (``_oauth.py``): apps register with ``POST /api/v1/apps``; the consent
    page at ``/oauth/authorize`` acts for ``signed_in_user`` (default: the first
    username of ``tokens``); ``/oauth/token`` issues tokens limited to their
    scopes and ``/oauth/revoke`` revokes them. ``oauth_metadata=False`` acts as
    a server older than 4.3 (no ``/.well-known/oauth-authorization-server``, no
    ``profile`` scope, no PKCE); ``scopes_supported`` replaces the scopes the
    server knows.
    """

    def __init__(
        self,
        tokens: dict[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        processing_polls: int = 0,
        limits: dict | None = None,
        verbose: bool = False,
        log=None,
        oauth_metadata: bool = True,
        scopes_supported: Iterable[str] | None = None,
        signed_in_user: str | None = None,
    ):
        self.tokens = dict(tokens if tokens is not None else {"demo-token": "demo"})
        self.bind_host = host
        self.port = port
        self.processing_polls = processing_polls
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}
        self.verbose = verbose
        self.log = log
        self.clock: Callable[[], float] = time.time
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._account_ids: dict[str, str] = {}
        for username in self.tokens.values():
            self._account_ids.setdefault(username, str(len(self._account_ids) + 1))
        self._init_oauth(oauth_metadata, scopes_supported, signed_in_user)
        self._clear()

    def _clear(self) -> None:
        with self._lock:
            self._statuses: list[FakeStatus] = []
            self._media: dict[str, FakeMedia] = {}
            self._requests: list[RecordedRequest] = []
            self._faults: list[Fault] = []
            self._chaos: Chaos | None = None
            self._idempotency: dict[tuple[str, str], tuple[str, float]] = {}
            self._throttles: dict[tuple[str, str], list[float]] = {}
            first = _snowflake()
            self._status_ids = itertools.count(first + 1)
            self._media_ids = itertools.count(first + 1_000_001)

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> FakeMastodon:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = Server((self.bind_host, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeMastodon:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()  # wakes handlers sleeping in a delay fault
        server.shutdown()
        server.server_close()
        server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeMastodon:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def host(self) -> str:
        return f"{self.bind_host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}"

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

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def inject(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def chaos(
        self,
        rate: float = 0.2,
        seed: int | None = None,
        kinds: Iterable[str] = DEFAULT_KINDS,
        *,
        delay: float = 2.0,
        after_rate: float = 0.5,
        exempt: Iterable[str] = (),
    ) -> None:
        """Give each API request (``/api/...``) a random fault with probability ``rate``.

        The kind is drawn from ``kinds`` ("500", "502", "503", "429", "timeout", "reset")
        by ``random.Random(seed)``, in the order requests arrive, so the same requests in
        the same order get the same faults. "timeout" is silence for ``delay`` seconds
        (set it past the client's read time-out); "timeout" and "reset" happen after the
        server did the work (a status stored, the client never told) with probability
        ``after_rate``. Paths starting with one of ``exempt`` get no fault. A fault queued
        with :meth:`inject` wins over chaos. ``rate=0`` stops it; :meth:`reset` too.
        """
        chaos = Chaos(
            rate,
            seed,
            kinds,
            delay=delay,
            after_rate=after_rate,
            exempt=exempt,
            clock=lambda: self.clock(),
        )
        with self._lock:
            self._chaos = chaos if rate > 0 else None

    @property
    def chaos_faults(self) -> list[ChaosFault]:
        """The faults chaos mode injected, in order."""
        with self._lock:
            return list(self._chaos.injected) if self._chaos else []

    def chaos_counts(self) -> Counter:
        """Faults injected by chaos mode, by kind ("timeout after": the server did the work)."""
        with self._lock:
            return self._chaos.counts() if self._chaos else Counter()

    def reset(self) -> None:
        """Forget statuses, media, requests, faults (chaos mode too), idempotency keys and
        rate-limit counters (tokens, limits and processing_polls stay)."""
        self._clear()

    # ---------------------------------------------------------------- plumbing used by the handler

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return dataclasses.replace(fault)
            chaos = self._chaos
        return chaos.draw(method, path) if chaos is not None else None

    def _sleep(self, seconds: float) -> bool:
        """Sleep; True if interrupted because the server is stopping."""
        return self._stopping.wait(seconds) if seconds > 0 else self._stopping.is_set()

    def _log(self, line: str) -> None:
        if self.verbose:
            print(line, file=self.log or sys.stdout, flush=True)
