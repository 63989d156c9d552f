"""The one HTTP wrapper: time-outs, status codes mapped to exceptions, messages kept.

Every request of every network goes through ``HttpClient.request``. Tokens travel only in the
Authorization header and never appear in an exception message or a log line.
"""

import html
import ipaddress
import logging
import re
import socket
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests
from django.utils.translation import gettext as _

from .. import __version__
from ..conf import get_setting
from ..exceptions import (
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
        return not _is_public(ipaddress.ip_address(hostname))
    except ValueError:
        return False


def _is_public(address) -> bool:
    return not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


def ensure_public_host(hostname: str) -> None:
    """Refuse a host that resolves to a loopback, private or link-local address (so the site
    cannot be made to send requests into its own network), unless
    ``ALLOW_INSECURE_INSTANCES``. Checked before every request, not just when connecting an
    account, since DNS answers can change."""
    if get_setting("ALLOW_INSECURE_INSTANCES"):
        return
    try:
        infos = socket.getaddrinfo(hostname, None, proto=socket.IPPROTO_TCP)
    except OSError as err:
        raise TransientNetworkError(
            _("Could not look up %(host)s: %(error)s.") % {"host": hostname, "error": err}
        ) from err
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not _is_public(address):
            raise ConfigurationError(
                f"{hostname} resolves to {address}, which is not a public address: "
                "requests there are refused."
            )


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


class HttpClient:
    """Requests to one server on behalf of one token. Messages name the server as ``label``
    (a network or the software it runs) at its host, or by its host alone when ``label`` is
    empty (a server whose software is not known)."""

    def __init__(self, base_url: str, access_token: str | None, *, label: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.label = label
        host = urlsplit(self.base_url).netloc
        self.name = (
            _("%(network)s at %(host)s") % {"network": label, "host": host} if label else host
        )
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        if access_token:
            self.session.headers["Authorization"] = f"Bearer {access_token}"
        self.timeout = (get_setting("CONNECT_TIMEOUT"), get_setting("READ_TIMEOUT"))

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        """Send a request; return the response if it is 2xx, else raise a ``NetworkError``.

        Redirects are not followed, and a body over ``MAX_RESPONSE_BYTES`` is refused.
        """
        parts = urlsplit(self.base_url)
        host = parts.netloc
        ensure_public_host(parts.hostname)
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                timeout=self.timeout,
                allow_redirects=False,
                stream=True,
                **kwargs,
            )
            _read_capped(response, f"{self.name} ({method} {path})")
        except requests.Timeout as err:
            raise TransientNetworkError(
                _("%(server)s did not answer in time (%(request)s).")
                % {"server": self.name, "request": f"{method} {path}"}
            ) from err
        except requests.ConnectionError as err:
            raise TransientNetworkError(
                _("Could not connect to %(server)s (%(request)s): %(reason)s.")
                % {
                    "server": self.name,
                    "request": f"{method} {path}",
                    "reason": _connection_reason(err),
                }
            ) from err
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


def _read_capped(response: requests.Response, where: str) -> None:
    """Read the body, at most ``MAX_RESPONSE_BYTES`` of it (a server cannot fill our memory)."""
    body = response.raw.read(MAX_RESPONSE_BYTES + 1, decode_content=True)
    response.close()
    if len(body) > MAX_RESPONSE_BYTES:
        raise PermanentNetworkError(
            _("%(where)s answered with more than %(size)s KiB; refused.")
            % {"where": where, "size": MAX_RESPONSE_BYTES // 1024},
            status=response.status_code,
        )
    response._content = body


def _connection_reason(err: requests.ConnectionError) -> str:
    text = str(err).lower()
    for needle, reason in (
        ("refused", "connection refused"),
        ("name or service not known", "unknown host name"),
        ("nodename nor servname", "unknown host name"),
        ("remotedisconnected", "the server closed the connection without answering"),
        ("reset by peer", "the connection was reset"),
        ("aborted", "the connection was dropped"),
        ("certificate", "the server's TLS certificate was not accepted"),
    ):
        if needle in text:
            return reason
    return "the connection failed"
