"""The one HTTP wrapper: time-outs, status codes mapped to exceptions, messages kept.

Every request of every network goes through ``HttpClient.request``. Tokens travel only in the
Authorization header and never appear in an exception message or a log line.
"""

import html
import ipaddress
import logging
import re
import socket
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests
import urllib3
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from requests_toolbelt import MultipartEncoder
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from wagtail_syndicate import __version__
from wagtail_syndicate.conf import get_setting
from wagtail_syndicate.exceptions import (
    ConfigurationError,
    PermanentNetworkError,
    RateLimited,
    TransientNetworkError,
)

logger = logging.getLogger(__name__)

# No answer this plugin reads is anywhere near this large.
MAX_RESPONSE_BYTES = 2 * 1024 * 1024

USER_AGENT = f"wagtail-syndicate/{__version__} (+https://pypi.org/project/wagtail-syndicate/)"

# The longest a server may make a record wait (its Retry-After or rate-limit reset): past it,
# the record fails with the server's words rather than waiting (for centuries, at worst).
MAX_RETRY_WAIT = timedelta(days=1)
# What a body is reduced to in a message: at most this many characters.
MESSAGE_CHARS = 200
_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_HIDDEN = re.compile(
    r"<(script|style|head)\b[^>]*>.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL
)
_TAG = re.compile(r"<[^>]*>")


def normalize_instance_url(url: str) -> str:
    """Return ``url`` as ``scheme://host[:port]``, or raise ``ConfigurationError``.

    Only https URLs of public hosts are accepted unless
    ``WAGTAIL_SYNDICATE["ALLOW_INSECURE_INSTANCES"]`` is true.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            _("“%(url)s” is not a web address like https://mastodon.social.") % {"url": url}
        )
    if not get_setting("ALLOW_INSECURE_INSTANCES"):
        if parts.scheme != "https":
            raise ConfigurationError(
                _(
                    "“%(url)s” does not use https. Set "
                    'WAGTAIL_SYNDICATE["ALLOW_INSECURE_INSTANCES"] = True only for development.'
                )
                % {"url": url}
            )
        if _is_local_host(parts.hostname):
            raise ConfigurationError(
                _(
                    "“%(url)s” is a local address. Set "
                    'WAGTAIL_SYNDICATE["ALLOW_INSECURE_INSTANCES"] = True only for development.'
                )
                % {"url": url}
            )
    return f"{parts.scheme}://{parts.netloc}"


def _is_local_host(hostname: str) -> bool:
    if hostname == "localhost" or hostname.endswith(".localhost"):
        return True
    try:
        return not is_public_address(hostname)
    except ValueError:
        return False


# NAT64's well-known prefix holds an IPv4 address in its last 32 bits; the local-use prefix
# (RFC 8215) may map to anything, so it is refused whole.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


def is_public_address(address) -> bool:
    """Whether ``address`` (an ``ipaddress`` address or its text) is a globally reachable
    unicast address: ``is_global``, after unwrapping an IPv4 address held in an IPv6 one
    (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible ``::a.b.c.d``, 6to4 ``2002::/16``,
    NAT64 ``64:ff9b::/96``), which must be public itself. Carrier-grade NAT
    (``100.64.0.0/10``), site-local ``fec0::/10``, private, loopback, link-local, reserved,
    multicast and unspecified addresses are not."""
    if not isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address):
        address = ipaddress.ip_address(str(address).split("%")[0])
    if address.version == 6:
        if address.is_site_local or address in _NAT64_LOCAL:
            return False  # Python before 3.13 calls these global
        inner = address.ipv4_mapped or address.sixtofour
        if inner is None and address in _NAT64:
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is None and int(address) >> 32 == 0:  # ::a.b.c.d, and :: and ::1
            inner = ipaddress.IPv4Address(int(address))
        if inner is not None:
            return is_public_address(inner)
    return address.is_global and not (address.is_multicast or address.is_reserved)


def resolve(host: str, port: int) -> list[tuple]:
    """The addresses ``host`` has, as ``socket.getaddrinfo`` gives them. Every connection the
    plugin opens asks this (through ``HttpClient``'s ``resolver``) and connects to exactly the
    address it checked; tests replace it to answer as a hostile name server would."""
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)


def _refuse(hostname: str, address) -> ConfigurationError:
    return ConfigurationError(
        f"{hostname} resolves to {address}, which is not a public address: "
        "requests there are refused."
    )


def ensure_public_host(hostname: str, resolver=None) -> None:
    """Refuse a host that resolves to a loopback, private or link-local address (so the site
    cannot be made to send requests into its own network), unless
    ``ALLOW_INSECURE_INSTANCES``. Checked before every request, not just when connecting an
    account, since DNS answers can change; the connection checks the address it connects to
    again (a name may answer differently the second time)."""
    if get_setting("ALLOW_INSECURE_INSTANCES"):
        return
    try:
        infos = (resolver or resolve)(hostname, None)
    except OSError as err:
        raise TransientNetworkError(
            _("Could not look up %(host)s: %(error)s.") % {"host": hostname, "error": err}
        ) from err
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not is_public_address(address):
            raise _refuse(hostname, address)


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
# checked. HttpClient.request sets it; the connections below read it.
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


class _CheckedConnectionMixin:
    """Resolve the host once, refuse it if any of its addresses is not public, and connect to
    the checked address itself, so the check and the connection cannot disagree (DNS
    rebinding). The Host header, TLS SNI and the certificate check still use the host name."""

    def _new_conn(self) -> socket.socket:
        sending = _sending()
        try:
            sock = _connect(self, sending)
        except socket.gaierror as e:
            raise NameResolutionError(self.host, self, e) from e
        except TimeoutError as e:
            raise ConnectTimeoutError(
                self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
            ) from e
        except OSError as e:
            raise NewConnectionError(self, f"Failed to establish a new connection: {e}") from e
        sys.audit("http.client.connect", self, self.host, self.port)
        if sending.deadline is not None:
            sending.deadline.watch(sock)
            self._deadline = sending.deadline
        return sock

    def request(self, *args, **kwargs):
        sending = getattr(_current, "sending", None)
        if (
            sending is not None
            and sending.deadline is not None
            and self.sock is not None
            and self._deadline is not sending.deadline
        ):
            sending.deadline.watch(self.sock)  # a kept-alive connection, reused
            self._deadline = sending.deadline
        return super().request(*args, **kwargs)

    _deadline = None


def _connect(conn, sending: _Sending) -> socket.socket:
    infos = (sending.resolver or resolve)(conn._dns_host, conn.port)
    if sending.check:
        for info in infos:
            address = ipaddress.ip_address(info[4][0].split("%")[0])
            if not is_public_address(address):
                raise _refuse(conn.host, address)
    error: OSError = OSError(f"{conn.host} has no address")
    for family, socktype, proto, _name, sockaddr in infos:
        timeout = conn.timeout if isinstance(conn.timeout, int | float) else None
        if sending.deadline is not None:
            left = sending.deadline.left()
            if left <= 0:
                raise TimeoutError("deadline")
            timeout = left if timeout is None else min(timeout, left)
        sock = socket.socket(family, socktype, proto)
        try:
            for option in conn.socket_options or ():
                sock.setsockopt(*option)
            sock.settimeout(timeout)
            if conn.source_address:
                sock.bind(conn.source_address)
            sock.connect((sockaddr[0], conn.port, *sockaddr[2:]))
            return sock
        except OSError as err:
            error = err
            sock.close()
    raise error


class _CheckedHTTPConnection(_CheckedConnectionMixin, HTTPConnection):
    pass


class _CheckedHTTPSConnection(_CheckedConnectionMixin, HTTPSConnection):
    pass


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class CheckedAdapter(HTTPAdapter):
    """requests' adapter with the connections above (a proxy, if the environment sets one,
    connects instead: then only ``ensure_public_host``'s check of the name applies)."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _CheckedHTTPPool,
            "https": _CheckedHTTPSPool,
        }


def error_message(response: requests.Response) -> str:
    """The server's own words: ``{"error": "..."}`` if it sent that (with its ``message``, as
    XRPC servers send: ``{"error": "ExpiredToken", "message": "Token has expired"}``), else
    the body's start."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, dict) and payload.get("error"):
        if isinstance(payload.get("message"), str) and payload["message"]:
            return f"{payload['error']}: {payload['message']}"
        return str(payload["error"])
    return reduce_body(response.text) or response.reason or "no message"


def reduce_body(text: str) -> str:
    """A body that is not the server's JSON, in a few words: an HTML page's title, else its
    first line of text (never its markup), else the first line of a plain body."""
    if _TAG.search(text):
        title = _TITLE.search(text)
        if title and title.group(1).strip():
            return _words(html.unescape(_TAG.sub(" ", title.group(1))))
        text = html.unescape(_TAG.sub("\n", _HIDDEN.sub("", text)))
    line = next((line for line in text.splitlines() if line.strip()), "")
    return _words(line)


def _words(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 1] + "…"


def retry_time(response: requests.Response) -> datetime | None:
    """When a rate-limited server allows more (``X-RateLimit-Reset`` or ``Retry-After``).
    The reset is an ISO-8601 time (Mastodon) or, in X's ``x-rate-limit-reset`` and Bluesky's
    ``ratelimit-reset``, epoch seconds."""
    headers = response.headers
    reset = (
        headers.get("X-RateLimit-Reset")
        or headers.get("X-Rate-Limit-Reset")
        or headers.get("RateLimit-Reset")
    )
    if reset:
        reset = reset.strip()
        if reset.isdigit():
            return epoch_time(reset)
        try:
            return datetime.fromisoformat(reset.replace("Z", "+00:00"))
        except ValueError:
            pass
    after = (headers.get("Retry-After") or "").strip()
    if after:
        if after.isdigit():
            return _at(lambda: datetime.now(UTC) + timedelta(seconds=int(after)))
        try:
            return parsedate_to_datetime(after)
        except (TypeError, ValueError):
            pass
    return None


def epoch_time(value: str) -> datetime | None:
    """A reset header in epoch seconds (X's, Bluesky's) as a time; the last time there is
    when it is beyond the clock's range, None when it is not a number."""
    value = str(value).strip()
    return _at(lambda: datetime.fromtimestamp(int(value), UTC)) if value.isdigit() else None


def _at(moment) -> datetime:
    """``moment()``, or the last time there is when it is beyond the clock's range (a server
    can send any number of seconds)."""
    try:
        return moment()
    except (OverflowError, OSError, ValueError):
        return datetime.max.replace(tzinfo=UTC)


def too_far(retry_at: datetime | None) -> bool:
    """Whether a server asks to wait longer than ``MAX_RETRY_WAIT`` (then the record fails)."""
    if retry_at is None:
        return False
    if retry_at.tzinfo is None:
        retry_at = retry_at.replace(tzinfo=UTC)
    return retry_at - datetime.now(UTC) > MAX_RETRY_WAIT


# How much of an uploaded file is read at a time (urllib3 asks for 16 KiB).
UPLOAD_CHUNK = 64 * 1024


class _FileReader:
    """The ``length`` bytes of an open file from where it is, read as they are sent: what
    requests and ``MultipartEncoder`` take for a body of known length (``len`` is what is left,
    as they expect), with none of the file's own ways (a Django ``File`` iterates by lines and
    proxies ``fileno``, which would make requests or the encoder handle it otherwise). A read
    gives at most ``UPLOAD_CHUNK`` bytes, as a raw stream may: its readers (urllib3, the
    encoder) read until it gives nothing."""

    def __init__(self, file, length: int) -> None:
        self.file, self.len = file, length

    def read(self, size: int = -1) -> bytes:
        if self.len <= 0:
            return b""
        size = self.len if size is None or size < 0 else min(size, self.len)
        chunk = self.file.read(min(size, UPLOAD_CHUNK))
        if not chunk:
            # Shorter than it said (changed since it was measured): the body cannot be
            # finished, and an encoder waiting for the rest would wait for ever.
            raise OSError("the file ended before its announced length")
        self.len -= len(chunk)
        return chunk


def _file_length(file) -> int:
    """The bytes from the file's start to its end, measured on the open file itself (what will
    be read), else its ``size`` (a file that cannot seek to its end)."""
    try:
        file.seek(0, 2)
        length = file.tell()
        file.seek(0)
    except (AttributeError, OSError, ValueError):
        return int(file.size)
    return length


@dataclass
class Upload:
    """A request body streamed from an open file (a Django ``File`` from storage or a
    rendition, or any binary file object), never held in memory whole: the file as it is, or,
    with ``part`` (its name), the one file part of a ``multipart/form-data`` form after
    ``fields``
    (``requests_toolbelt``'s ``MultipartEncoder``). The length goes in ``Content-Length``
    (nothing is sent chunked: servers and the proxies in front of them may refuse that).

    ``HttpClient.request(..., upload=...)`` calls ``prepare()`` for each request it sends, so a
    request sent again (after a renewed token) sends the whole file again from its start."""

    file: object
    content_type: str
    part: str | None = None
    filename: str = ""
    fields: dict[str, str] = field(default_factory=dict)

    def prepare(self) -> tuple[object, dict[str, str]]:
        """The body from the file's start, and its Content-Type and Content-Length headers."""
        reader = _FileReader(self.file, _file_length(self.file))
        if self.part is None:
            body, content_type = reader, self.content_type
        else:
            parts = [*self.fields.items(), (self.part, (self.filename, reader, self.content_type))]
            body = MultipartEncoder(fields=parts)
            content_type = body.content_type
        return body, {"Content-Type": content_type, "Content-Length": str(body.len)}


class HttpClient:
    """Requests to one server on behalf of one token. Messages name the server as ``label``
    (a network or the software it runs) at its host, or by its host alone when ``label`` is
    empty (a server whose software is not known)."""

    def __init__(
        self,
        base_url: str,
        access_token: str | None,
        *,
        label: str,
        resolver=None,
        clock=time.monotonic,
    ) -> None:
        """``resolver`` (``resolve``'s signature, default ``resolve``) looks host names up;
        ``clock`` (seconds, default ``time.monotonic``) measures each request's deadline."""
        self.base_url = base_url.rstrip("/")
        self.label = label
        host = urlsplit(self.base_url).netloc
        self.name = (
            _("%(network)s at %(host)s") % {"network": label, "host": host} if label else host
        )
        self.resolver = resolver
        self.clock = clock
        self.session = requests.Session()
        adapter = CheckedAdapter()
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers["User-Agent"] = USER_AGENT
        if access_token:
            self.session.headers["Authorization"] = f"Bearer {access_token}"
        self.timeout = (get_setting("CONNECT_TIMEOUT"), get_setting("READ_TIMEOUT"))

    def request(
        self, method: str, path: str, *, upload: Upload | None = None, **kwargs
    ) -> requests.Response:
        """Send a request; return the response if it is 2xx, else raise a ``NetworkError``.

        Redirects are not followed, a body over ``MAX_RESPONSE_BYTES`` is refused, and the
        whole request (connect, send, receive) ends within ``REQUEST_DEADLINE`` seconds. An
        ``upload`` is the body, streamed from its file's start.
        """
        if upload is not None:
            kwargs["data"], headers = upload.prepare()
            kwargs["headers"] = {**(kwargs.get("headers") or {}), **headers}
        parts = urlsplit(self.base_url)
        host = parts.netloc
        where = f"{method} {path}"
        seconds = get_setting("REQUEST_DEADLINE")
        run = getattr(_current, "run", None)
        if run is not None:
            left = run.left()
            if left <= 0:
                raise TransientNetworkError(
                    _(
                        "This attempt used all the %(seconds)s seconds it may take before it "
                        "could send %(request)s to %(server)s; it will be tried again."
                    )
                    % {"seconds": f"{run.seconds:g}", "request": where, "server": self.name}
                )
            seconds = min(seconds, left)
        deadline = Deadline(seconds, self.clock)
        ensure_public_host(parts.hostname, self.resolver)
        _current.sending = _Sending(deadline, self.resolver, _checks_addresses())
        deadline.start()
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                timeout=self.timeout,
                allow_redirects=False,
                stream=True,
                **kwargs,
            )
            _read_capped(response, f"{self.name} ({where})", deadline)
        except (
            requests.Timeout,
            requests.ConnectionError,
            urllib3.exceptions.HTTPError,
            _TooLate,
        ) as err:
            # A time-out of one read (READ_TIMEOUT) or of the whole request says so; a
            # connection refused, reset or dropped (also while reading the body) says why.
            timed_out = (requests.Timeout, urllib3.exceptions.TimeoutError, _TooLate)
            if not isinstance(err, timed_out) and not deadline.passed():
                raise TransientNetworkError(
                    _("Could not connect to %(server)s (%(request)s): %(reason)s.")
                    % {"server": self.name, "request": where, "reason": _connection_reason(err)}
                ) from err
            raise TransientNetworkError(
                _("%(server)s did not answer in time (%(request)s).")
                % {"server": self.name, "request": where}
            ) from err
        finally:
            deadline.finish()
            _current.sending = None
        logger.debug("%s %s%s → %s", method, host, path, response.status_code)
        if 200 <= response.status_code < 300:  # a redirect is not success: it is not followed
            return response
        raise self._error(response, method, path)

    def json(self, method: str, path: str, **kwargs) -> tuple[int, dict]:
        """``request``, then the status and the JSON object the server answered with."""
        response = self.request(method, path, **kwargs)
        return response.status_code, json_object(response, f"{self.name} ({method} {path})")

    def _error(self, response: requests.Response, method: str, path: str):
        status, message = response.status_code, error_message(response)
        where = f"{self.name} ({method} {path})"
        words = {"where": where, "message": message, "status": status}
        kwargs = {"status": status, "body": response.text[:2000]}
        if status == 401:
            return PermanentNetworkError(
                _(
                    "%(where)s refused the access token (401): %(message)s. "
                    "Connect the account again."
                )
                % words,
                **kwargs,
            )
        if status == 403:
            return PermanentNetworkError(
                _("%(where)s says the access token lacks a permission (403): %(message)s.") % words,
                **kwargs,
            )
        if status == 429:
            retry_at = retry_time(response)
            if too_far(retry_at):
                return PermanentNetworkError(
                    _(
                        "%(where)s is rate-limiting this account (429) and asks to wait until "
                        "%(time)s, more than a day: %(message)s. Retry it later."
                    )
                    % {**words, "time": f"{retry_at:%Y-%m-%d %H:%M %Z}"},
                    **kwargs,
                )
            when = (
                _(" until %(time)s") % {"time": f"{retry_at:%Y-%m-%d %H:%M:%S %Z}"}
                if retry_at
                else ""
            )
            return RateLimited(
                _("%(where)s is rate-limiting this account%(when)s (429): %(message)s.")
                % {**words, "when": when},
                retry_at=retry_at,
                **kwargs,
            )
        if status >= 500 or status in (408, 425):
            return TransientNetworkError(
                _("%(where)s had a server error (%(status)s): %(message)s.") % words, **kwargs
            )
        if status == 422:
            return PermanentNetworkError(
                _("%(where)s rejected the post (422): %(message)s.") % words, **kwargs
            )
        return PermanentNetworkError(
            _("%(where)s answered %(status)s: %(message)s.") % words, **kwargs
        )


def json_object(response: requests.Response, where: str) -> dict:
    """The JSON object a successful answer holds; ``PermanentNetworkError`` if it holds
    something else (an HTML page from a proxy, a list, nothing)."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise PermanentNetworkError(
            _("%(where)s answered %(status)s with something other than JSON: %(message)s")
            % {"where": where, "status": response.status_code, "message": error_message(response)},
            status=response.status_code,
            body=response.text[:2000],
        )
    return payload


class _TooLate(Exception):
    """The request's deadline passed while its answer was read."""


# How much of a body is read at a time, the deadline checked between reads.
READ_CHUNK = 64 * 1024


def _read_capped(response: requests.Response, where: str, deadline: Deadline) -> None:
    """Read the body, at most ``MAX_RESPONSE_BYTES`` of it (a server cannot fill our memory),
    and within the request's deadline (nor hold the worker)."""
    chunks, size = [], 0
    try:
        while size <= MAX_RESPONSE_BYTES:
            if deadline.passed():
                raise _TooLate(where)
            chunk = response.raw.read(READ_CHUNK, decode_content=True)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if deadline.passed():
            raise _TooLate(where)
    except Exception as err:
        deadline.finish()
        response.close()
        if deadline.expired and not isinstance(err, _TooLate):
            raise _TooLate(where) from err
        raise
    deadline.finish()  # before the connection goes back to the pool
    response.close()
    if size > MAX_RESPONSE_BYTES:
        raise PermanentNetworkError(
            _("%(where)s answered with more than %(size)s KiB; refused.")
            % {"where": where, "size": MAX_RESPONSE_BYTES // 1024},
            status=response.status_code,
        )
    response._content = b"".join(chunks)


def _connection_reason(err: Exception) -> str:
    text = str(err).lower()
    for needle, reason in (
        ("refused", "connection refused"),
        ("name or service not known", "unknown host name"),
        ("nodename nor servname", "unknown host name"),
        ("remotedisconnected", "the server closed the connection without answering"),
        ("reset by peer", "the connection was reset"),
        ("aborted", "the connection was dropped"),
        ("connection broken", "the connection was dropped before the whole answer came"),
        ("failed to decode", "its answer could not be decoded"),
        ("certificate", "the server's TLS certificate was not accepted"),
    ):
        if needle in text:
            return reason
    return "the connection failed"
