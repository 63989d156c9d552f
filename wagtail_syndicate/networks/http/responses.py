"""Reading an answer (within its size and deadline), the server's own words from an error
body, and when a rate-limited server allows more."""

import html
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import requests
from django.utils.translation import gettext as _

from wagtail_syndicate.exceptions import PermanentNetworkError
from wagtail_syndicate.networks.http.deadlines import Deadline, _TooLate

# No answer this plugin reads is anywhere near this large.
MAX_RESPONSE_BYTES = 2 * 1024 * 1024

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
