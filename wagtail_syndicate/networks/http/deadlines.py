"""Deadlines: the whole time one request may take (a watchdog shuts a trickling connection
down), and the bound a run's lease puts on every request of the run."""

import socket
import threading
import time
from contextlib import contextmanager

from wagtail_syndicate.conf import get_setting


class Deadline:
    """The total time one request may take (connect, send, receive), from ``clock``.

    A watchdog shuts the request's connection down when the time is up, so a server that
    trickles its answer (each byte within ``READ_TIMEOUT``) cannot hold the request longer:
    the read that waits on it ends at once. It acts on a duplicate of the socket's file
    descriptor that the deadline owns and closes, never on a descriptor the request may
    have closed and the system given to another socket."""

    def __init__(self, seconds: float, clock=time.monotonic) -> None:
        self.seconds = float(seconds)
        self.clock = clock
        self.at = clock() + self.seconds
        self.expired = False
        self._lock = threading.Lock()
        self._watched: list[socket.socket] = []
        self._done = False
        self._timer = threading.Timer(max(self.seconds, 0.0), self.expire)
        self._timer.daemon = True

    def left(self) -> float:
        return self.at - self.clock()

    def passed(self) -> bool:
        return self.expired or self.left() <= 0

    def start(self) -> "Deadline":
        self._timer.start()
        return self

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            if self._done:
                return
            try:
                duplicate = socket.fromfd(sock.fileno(), sock.family, sock.type)
            except OSError:
                return
            self._watched.append(duplicate)
            if self.expired:
                _shut(duplicate)

    def expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            for duplicate in self._watched:
                _shut(duplicate)

    def finish(self) -> None:
        """Stop watching (before the connection goes back to the pool for another request)."""
        with self._lock:
            if self._done:
                return
            self._done = True
            self._timer.cancel()
            for duplicate in self._watched:
                duplicate.close()
            self._watched.clear()


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by the server or the request


# The request this thread is sending: its deadline, resolver and whether addresses are
# checked. HttpClient.request sets it; the connections (``addresses``) read it.
_current = threading.local()


class _Sending:
    def __init__(self, deadline: Deadline | None, resolver, check: bool) -> None:
        self.deadline, self.resolver, self.check = deadline, resolver, check


def _sending() -> _Sending:
    sending = getattr(_current, "sending", None)
    if sending is None:  # a request not sent by HttpClient.request: check as it would
        sending = _Sending(None, None, _checks_addresses())
    return sending


def _checks_addresses() -> bool:
    return not get_setting("ALLOW_INSECURE_INSTANCES")


# Seconds of a run kept for its own work (reading the page, writing the outcome) when its
# requests are bounded by its lease (``run_deadline``): a minute, or a quarter of a shorter
# lease (a short lease is for tests and chaos runs, whose runs are short too).
RUN_MARGIN = 60.0


def run_margin() -> float:
    """The seconds of a run's lease kept for its own work (``RUN_MARGIN`` at most)."""
    return min(RUN_MARGIN, get_setting("LEASE_TIMEOUT") / 4)


def network_time_per_run() -> float:
    """How long one run may spend on the network: its lease less ``run_margin()``."""
    return get_setting("LEASE_TIMEOUT") - run_margin()


class _RunDeadline:
    def __init__(self, seconds: float, clock) -> None:
        self.seconds, self.clock = seconds, clock
        self.at = clock() + seconds

    def left(self) -> float:
        return self.at - self.clock()


@contextmanager
def run_deadline(seconds: float | None = None, clock=time.monotonic):
    """Bound every request made in this block (by this thread) to end within ``seconds``
    (default ``network_time_per_run()``) of the block's start: each request's deadline is
    the shorter of ``REQUEST_DEADLINE`` and the time left, and a request with no time left
    is not sent (``TransientNetworkError``: the run is retried later). A worker wraps a run
    in it right after claiming its record, so the run cannot outlive its lease."""
    previous = getattr(_current, "run", None)
    _current.run = _RunDeadline(network_time_per_run() if seconds is None else seconds, clock)
    try:
        yield _current.run
    finally:
        _current.run = previous


class _TooLate(Exception):
    """The request's deadline passed while its answer was read."""
