"""``HttpClient``: requests to one server on behalf of one token, within their deadline, the
status codes mapped to the plugin's exceptions, the server's messages kept."""

import logging
import time
from urllib.parse import urlsplit

import requests
import urllib3
from django.utils.translation import gettext as _

from wagtail_syndicate import __version__
from wagtail_syndicate.conf import get_setting
from wagtail_syndicate.exceptions import (
    PermanentNetworkError,
    RateLimited,
    TransientNetworkError,
)
from wagtail_syndicate.networks.http.addresses import CheckedAdapter, ensure_public_host
from wagtail_syndicate.networks.http.deadlines import (
    Deadline,
    _checks_addresses,
    _current,
    _Sending,
    _TooLate,
)
from wagtail_syndicate.networks.http.responses import (
    _read_capped,
    error_message,
    json_object,
    retry_time,
    too_far,
)
from wagtail_syndicate.networks.http.uploads import Upload

logger = logging.getLogger(__name__)

USER_AGENT = f"wagtail-syndicate/{__version__} (+https://pypi.org/project/wagtail-syndicate/)"


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
