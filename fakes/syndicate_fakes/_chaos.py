"""Chaos mode: seeded random faults on FakeMastodon's API requests.

Each API request (a path under ``/api/``; the HTML pages and media files are
left alone) gets a fault with probability ``rate``. The fault, whether it hits
before or after the server does the work, and a 429's reset time are drawn
from one ``random.Random(seed)`` in the order requests arrive: the same
requests in the same order get the same faults. (With several clients at once
the order requests arrive in is not deterministic, and so neither is which
request gets which fault; the rate and the kinds still are.)

Kinds:

* ``"500"``, ``"502"``, ``"503"``: a server error; 502 and 503 come with the
  HTML page a proxy in front of Mastodon would send;
* ``"429"``: ``Too many requests`` with ``X-RateLimit-Reset`` 1-2 seconds ahead
  (by the fake's clock) and ``X-RateLimit-Remaining: 0``;
* ``"timeout"``: no answer for ``delay`` seconds (set it past the client's read
  time-out), then the connection is dropped; with ``after`` the request is
  handled first (a status is stored) and the answer never arrives in time;
* ``"reset"``: the connection is dropped without an answer; with ``after`` the
  request is handled first.

``after`` is drawn for ``timeout`` and ``reset`` with probability
``after_rate`` (default one half).

Only the standard library is used.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from ._models import Fault

__all__ = ["CHAOS_KINDS", "Chaos", "ChaosFault"]

CHAOS_KINDS = ("500", "502", "503", "429", "timeout", "reset")
DEFAULT_KINDS = ("500", "502", "timeout", "reset", "429")

PROXY_PAGE = (
    "<html><head><title>{status} {reason}</title></head><body>"
    "<center><h1>{status} {reason}</h1></center><hr><center>nginx</center></body></html>"
)
REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


@dataclass(frozen=True)
class ChaosFault:
    """A fault chaos mode injected: on which request, of what kind, and whether the server
    did the work first (``after``)."""

    method: str
    path: str
    kind: str
    after: bool


class Chaos:
    """The random source and the record of what it injected (thread-safe)."""

    def __init__(
        self,
        rate: float,
        seed: int | None = None,
        kinds: Iterable[str] = DEFAULT_KINDS,
        *,
        delay: float = 2.0,
        after_rate: float = 0.5,
        paths: Iterable[str] = ("/api/",),
        exempt: Iterable[str] = (),
        clock: Callable[[], float],
    ):
        kinds = tuple(kinds)
        unknown = sorted(set(kinds) - set(CHAOS_KINDS))
        if unknown or not kinds:
            raise ValueError(
                f"Unknown chaos kinds {unknown or kinds}; known: {', '.join(CHAOS_KINDS)}."
            )
        if not 0 <= rate <= 1:
            raise ValueError("The chaos rate is a probability, between 0 and 1.")
        self.rate = rate
        self.seed = seed
        self.kinds = kinds
        self.delay = delay
        self.after_rate = after_rate
        self.paths = tuple(paths)
        self.exempt = tuple(exempt)
        self.clock = clock
        self.injected: list[ChaosFault] = []
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def applies_to(self, path: str) -> bool:
        return path.startswith(self.paths) and not (self.exempt and path.startswith(self.exempt))

    def draw(self, method: str, path: str) -> Fault | None:
        """The fault for this request, if chaos picks one (one draw per eligible request)."""
        if not self.applies_to(path):
            return None
        with self._lock:
            if self._random.random() >= self.rate:
                return None
            kind = self._random.choice(self.kinds)
            after = kind in ("timeout", "reset") and self._random.random() < self.after_rate
            reset_in = 1 + self._random.random()  # drawn always, so later draws do not shift
            self.injected.append(ChaosFault(method, path, kind, after))
        return self._fault(kind, after, reset_in)

    def _fault(self, kind: str, after: bool, reset_in: float) -> Fault:
        if kind == "timeout":
            # Before: no answer, and the request is never handled. After: handled, then silence.
            return Fault(delay=self.delay, drop=not after, after=after)
        if kind == "reset":
            return Fault(drop=True, after=after)
        status = int(kind)
        if status == 429:
            reset = datetime.fromtimestamp(self.clock() + reset_in, UTC)
            return Fault(
                status=429,
                body={"error": "Too many requests"},
                headers={
                    "X-RateLimit-Limit": "300",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": reset.isoformat(timespec="microseconds").replace(
                        "+00:00", "Z"
                    ),
                },
            )
        if status == 500:
            return Fault(status=500, body={"error": "We're sorry, but something went wrong."})
        return Fault(status=status, body=PROXY_PAGE.format(status=status, reason=REASONS[status]))

    def counts(self) -> Counter:
        """How many faults of each kind were injected; ``"timeout after"`` and ``"reset
        after"`` count those where the server did the work first."""
        with self._lock:
            return Counter(f"{f.kind} after" if f.after else f.kind for f in self.injected)
