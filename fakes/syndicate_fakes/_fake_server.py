"""FakeServer: what every fake network server shares.

A real HTTP server on a loopback port, served from a daemon thread (``_server.py``), with
the request log, queued :class:`Fault` injection and seeded chaos faults (``_chaos.py``).
A fake network (FakeMastodon, FakeBluesky, ...) subclasses it and supplies the API:

* ``_handle(method, path, query, headers, body) -> Response`` answers one request (it
  never raises); ``query`` is the URL's ``(key, value)`` pairs, ``body`` a ``ParsedBody``;
* ``_account_for(headers) -> str | None`` names the account a request acts as, for the
  log (never raises);
* ``_clear()`` forgets its state, calling ``super()._clear()``, under ``self._lock``.

Only the standard library is used: this package must not import Django.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable

from ._chaos import DEFAULT_KINDS, Chaos, ChaosFault
from ._http import Headers, ParsedBody, Response
from ._models import Fault, RecordedRequest
from ._server import Server

__all__ = ["FakeServer"]


class FakeServer:
    """A fake network's HTTP server on ``http://HOST:PORT`` (``port=0`` picks a free one).

    ``verbose=True`` prints one line per request (method, path, status; never headers) to
    ``log``. ``clock`` returns epoch seconds; tests may replace it to expire what the fake
    keeps for a time (sessions, idempotency keys, rate-limit windows).
    """

    # Where chaos mode injects faults: the API, not the HTML pages or media files.
    chaos_paths: tuple[str, ...] = ("/api/",)

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False, log=None):
        self.bind_host = host
        self.port = port
        self.verbose = verbose
        self.log = log
        self.clock: Callable[[], float] = time.time
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._local = threading.local()  # the request each handler thread is answering

    def _clear(self) -> None:
        with self._lock:
            self._requests: list[RecordedRequest] = []
            self._faults: list[Fault] = []
            self._chaos: Chaos | None = None

    # ---------------------------------------------------------------- what a fake supplies

    def _handle(
        self, method: str, path: str, query: list, headers: Headers, body: ParsedBody
    ) -> Response:
        raise NotImplementedError

    def _account_for(self, headers: Headers) -> str | None:
        return None

    # ---------------------------------------------------------------- lifecycle

    def start(self):
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = Server((self.bind_host, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}:{self.port}",
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

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def host(self) -> str:
        return f"{self.bind_host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}"

    # ---------------------------------------------------------------- requests and faults

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
        """Give each API request (a path under ``chaos_paths``) a random fault with
        probability ``rate``.

        The kind is drawn from ``kinds`` ("500", "502", "503", "429", "timeout", "reset")
        by ``random.Random(seed)``, in the order requests arrive, so the same requests in
        the same order get the same faults. "timeout" is silence for ``delay`` seconds
        (set it past the client's read time-out); "timeout" and "reset" happen after the
        server did the work (a post stored, the client never told) with probability
        ``after_rate``. Paths starting with one of ``exempt`` get no fault. A fault queued
        with :meth:`inject` wins over chaos. ``rate=0`` stops it; :meth:`reset` too.
        """
        chaos = Chaos(
            rate,
            seed,
            kinds,
            delay=delay,
            after_rate=after_rate,
            paths=self.chaos_paths,
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
        """Forget what the fake stored, the requests, faults (chaos mode too) and counters;
        its configuration (accounts, tokens, limits) stays."""
        self._clear()

    # ---------------------------------------------------------------- plumbing used by the handler

    def _record(self, request: RecordedRequest) -> None:
        self._local.request = request
        with self._lock:
            self._requests.append(request)

    def _current_request(self) -> RecordedRequest | None:
        """The request this thread is answering, as received (its raw ``body`` too, for an
        API that takes bytes rather than a form or JSON)."""
        return getattr(self._local, "request", None)

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

    def _held(self, fault) -> bool:
        """Set ``fault.arrived``, then wait for ``fault.hold`` to be set (no wait without
        one); True if the server stopped first."""
        if fault.arrived is not None:
            fault.arrived.set()
        while fault.hold is not None and not fault.hold.wait(0.05):
            if self._stopping.is_set():
                return True
        return False

    def _log(self, line: str) -> None:
        if self.verbose:
            print(line, file=self.log or sys.stdout, flush=True)
