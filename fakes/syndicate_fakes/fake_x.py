"""FakeX: a real HTTP server on 127.0.0.1 that behaves like the X API v2, for the endpoints
wagtail-syndicate uses:

* ``GET /2/users/me``; ``GET /2/users/:id/tweets`` (newest first, ``entities.urls`` with each
  link's ``expanded_url``, the text with t.co links as X shows it);
* ``POST /2/media/upload`` (multipart ``media``, at most 5 MB, JPEG/PNG/GIF/WebP as sniffed
  from the bytes, ``media_category`` one of ``MEDIA_CATEGORIES``; the media id expires after
  ``expires_after_secs``, ``media_lifetime``), ``POST /2/media/metadata`` (alt text at most
  1,000 characters, on media of the same user);
* ``POST /2/tweets`` (JSON; text of at most 280 weighted characters as twitter-text counts
  them, at most 4 media of the same user, no duplicate of a recent post's text),
  ``DELETE /2/tweets/:id``;
* OAuth 2.0: a consent page at ``/i/oauth2/authorize`` (PKCE S256 required), ``POST
  /2/oauth2/token`` (authorization code with its verifier; refresh token, rotated: a refresh
  token works once, and there is one only with the ``offline.access`` scope), ``POST
  /2/oauth2/revoke``. Access tokens issued here expire after ``token_lifetime`` seconds (two
  hours, as X's) and do only what their scopes allow (``ROUTE_SCOPES``, from X's OpenAPI
  document: ``media.write`` for the media endpoints), else 403;
* OAuth 1.0a: requests signed with HMAC-SHA1 for the configured consumer and user tokens;
* ``GET /2/media/upload?command=STATUS&media_id=``: the ``processing_info`` of media being
  processed (``pending`` -> ``in_progress`` -> ``succeeded`` or ``failed``); GIFs and videos
  are processed (``processing_polls`` answers before they succeed, ``check_after_secs`` apart;
  ``process_images`` processes images too, ``processing_error`` makes processing fail), and
  media still processing cannot be posted;
* rate limits per user and endpoint: 429 with ``x-rate-limit-reset`` in epoch seconds; with
  ``daily_limits`` ({route: count}), a 24-hour per-user cap as well, reported in
  ``x-user-limit-24hour-limit``/``-remaining``/``-reset`` (429 once spent, while
  ``x-rate-limit-reset`` names only the 15-minute window).

Errors are X's problem documents: ``{"title", "detail", "type", "status"}``. Faults and chaos
mode come from :class:`FakeServer` (chaos applies to ``/2/``).

The standard library is used, and ``regex`` (the test extra) for graphemes: text is counted by
``_counting.py``, the fakes' own, never by the plugin's code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import itertools
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote, unquote, urlencode, urlsplit

from . import _pages
from ._counting import links, x_weighted_length
from ._fake_server import FakeServer
from ._http import Headers, ParsedBody, Response, json_response
from ._images import sniff_mime_type

__all__ = ["FakeTweet", "FakeX", "FakeXMedia"]

MAX_TEXT = 280
MAX_MEDIA = 4
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_ALT_TEXT = 1000
KNOWN_SCOPES = {
    "tweet.read",
    "tweet.write",
    "users.read",
    "media.write",
    "offline.access",
    "like.read",
    "like.write",
}
# The scopes an OAuth 2.0 user token needs, by route (the security of each operation in X's
# OpenAPI document, https://api.x.com/2/openapi.json).
ROUTE_SCOPES = {
    "GET /2/users/me": {"tweet.read", "users.read"},
    "GET /2/users/tweets": {"tweet.read", "users.read"},
    "POST /2/media/upload": {"media.write"},
    "GET /2/media/upload": {"media.write"},
    "POST /2/media/metadata": {"media.write"},
    "POST /2/tweets": {"tweet.read", "tweet.write", "users.read"},
    "DELETE /2/tweets": {"tweet.read", "tweet.write", "users.read"},
}
MEDIA_CATEGORIES = ("tweet_image", "tweet_gif", "tweet_video")
MEDIA_LIFETIME = 86400
# What ``issue`` grants unless told otherwise: what the plugin asks for.
ISSUED_SCOPES = ("tweet.read", "tweet.write", "users.read", "media.write", "offline.access")
# Requests a user may make per window of seconds, by "METHOD /path" (X's numbers for a user).
DEFAULT_RATE_LIMITS = {
    "POST /2/tweets": (100, 15 * 60),
    "DELETE /2/tweets": (50, 15 * 60),
    "POST /2/media/upload": (500, 15 * 60),
    "GET /2/media/upload": (900, 15 * 60),
    "POST /2/media/metadata": (500, 15 * 60),
    "GET /2/users/me": (75, 15 * 60),
    "GET /2/users/tweets": (900, 15 * 60),
}
CODE_LIFETIME = 30
OAUTH1_CLOCK_SKEW = 300
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."
TOO_LONG = (
    "Your Tweet text is too long. For more information on how Twitter determines text "
    "length see https://github.com/twitter/twitter-text."
)


@dataclass
class FakeXMedia:
    id: str
    username: str
    content_type: str  # sniffed from the bytes
    size: int
    data: bytes = field(repr=False)
    category: str = ""
    alt_text: str = ""
    expires_at: float = float("inf")
    # STATUS answers left before processing ends (0: processed); "failed" once it failed.
    polls_left: int = 0
    state: str = "succeeded"


@dataclass
class FakeTweet:
    id: str
    username: str
    text: str  # as sent
    media_ids: list[str]
    created_at: datetime
    urls: list[dict] = field(default_factory=list)  # entities.urls


@dataclass
class _Grant:
    username: str
    redirect_uri: str
    challenge: str = field(repr=False)
    scopes: list[str]
    expires_at: float


class XProblem(Exception):
    """Answer with an X problem document."""

    def __init__(self, status: int, detail: str, title: str = "", headers: dict | None = None):
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers or {}
        self.title = title or {
            400: "Invalid Request",
            401: "Unauthorized",
            403: "Forbidden",
            404: "Not Found Error",
            429: "Too Many Requests",
        }.get(status, "Error")

    def response(self) -> Response:
        body = {"title": self.title, "detail": self.detail, "type": "about:blank"}
        return json_response(self.status, {**body, "status": self.status}, self.headers)


def _oauth_error(status: int, error: str, description: str) -> Response:
    return json_response(status, {"error": error, "error_description": description})


def _page(title: str, body: str) -> bytes:
    return _pages.page(title, body, "FakeX", "X")


class FakeX(FakeServer):
    """An X API look-alike on ``http://127.0.0.1:PORT``.

    ``tokens`` maps bearer tokens that never expire to usernames (default
    ``{"demo-token": "demo"}``). OAuth 2.0 is for the app ``client_id`` (a confidential
    client when ``client_secret`` is set: it must authenticate with HTTP Basic);
    ``redirect_uris`` restricts where the consent page sends the browser back (default: any).
    The consent page acts for ``signed_in_user`` (default: the first username of
    ``tokens``). ``oauth1`` maps OAuth 1.0a user tokens to ``(token_secret, username)`` for
    the consumer ``consumer_key``/``consumer_secret``. ``rate_limits`` replaces entries of
    ``DEFAULT_RATE_LIMITS``.
    """

    chaos_paths = ("/2/",)

    def __init__(
        self,
        tokens: dict[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        client_id: str = "fake-x-client",
        client_secret: str | None = None,
        redirect_uris: list[str] | None = None,
        signed_in_user: str | None = None,
        token_lifetime: float = 7200,
        consumer_key: str | None = None,
        consumer_secret: str | None = None,
        oauth1: dict[str, tuple[str, str]] | None = None,
        rate_limits: dict | None = None,
        media_lifetime: float = MEDIA_LIFETIME,
        daily_limits: dict[str, int] | None = None,
        processing_polls: int = 1,
        check_after_secs: int = 1,
        process_images: bool = False,
        processing_error: str | None = None,
        verbose: bool = False,
        log=None,
    ):
        super().__init__(host, port, verbose=verbose, log=log)
        tokens = dict(tokens if tokens is not None else {"demo-token": "demo"})
        self.client_id, self.client_secret = client_id, client_secret
        self.redirect_uris = redirect_uris
        self.signed_in_user = signed_in_user or next(iter(tokens.values()), "demo")
        self.token_lifetime = token_lifetime
        self.consumer_key, self.consumer_secret = consumer_key, consumer_secret
        self.oauth1 = dict(oauth1 or {})
        self.rate_limits = {**DEFAULT_RATE_LIMITS, **(rate_limits or {})}
        self.media_lifetime = media_lifetime
        self.daily_limits = dict(daily_limits or {})
        self.processing_polls, self.check_after_secs = processing_polls, check_after_secs
        self.process_images, self.processing_error = process_images, processing_error
        self._ids = itertools.count(int(time.time() * 1000) << 22)
        self._user_ids: dict[str, str] = {}
        # access token -> (username, expires at or None)
        self._access: dict[str, tuple[str, float | None]] = {
            token: (username, None) for token, username in tokens.items()
        }
        self._scopes: dict[str, set[str]] = {}  # issued access token -> its scopes
        self._refresh: dict[str, tuple[str, list[str]]] = {}  # refresh token -> (user, scopes)
        self._grants: dict[str, _Grant] = {}
        self._nonces: set[str] = set()
        for username in [*tokens.values(), *(u for _s, u in self.oauth1.values())]:
            self.user_id(username)
        self._clear()

    def _clear(self) -> None:
        with self._lock:
            super()._clear()
            self._tweets: list[FakeTweet] = []
            self._media: dict[str, FakeXMedia] = {}
            self._windows: dict[tuple[str, str], list[float]] = {}
            self._days: dict[tuple[str, str], list[float]] = {}

    # ---------------------------------------------------------------- state

    @property
    def tweets(self) -> list[FakeTweet]:
        """The (not deleted) posts, oldest first."""
        with self._lock:
            return list(self._tweets)

    @property
    def media(self) -> dict[str, FakeXMedia]:
        with self._lock:
            return dict(self._media)

    def user_id(self, username: str) -> str:
        with self._lock:
            return self._user_ids.setdefault(username, str(1000 + len(self._user_ids)))

    def access_token_valid(self, token: str) -> bool:
        with self._lock:
            known = self._access.get(token)
        return known is not None and (known[1] is None or known[1] > self.clock())

    def refresh_token_valid(self, token: str) -> bool:
        with self._lock:
            return token in self._refresh

    def issue(self, username: str, lifetime: float | None = None, scopes=ISSUED_SCOPES) -> dict:
        """Tokens for ``username`` as the token endpoint gives them (without the browser) for
        ``scopes``: ``{"access_token", "refresh_token", "expires_in", ...}`` (a refresh token
        only with ``offline.access``)."""
        with self._lock:
            return self._issue(username, list(scopes), lifetime)

    def expire(self, token: str) -> None:
        """Make an access token expire now."""
        with self._lock:
            username, _expires = self._access[token]
            self._access[token] = (username, self.clock() - 1)

    def _issue(self, username: str, scopes: list[str], lifetime: float | None = None) -> dict:
        lifetime = self.token_lifetime if lifetime is None else lifetime
        access = secrets.token_urlsafe(32)
        self._access[access] = (username, self.clock() + lifetime)
        self._scopes[access] = set(scopes)
        self.user_id(username)
        issued = {
            "token_type": "bearer",
            "expires_in": int(lifetime),
            "access_token": access,
            "scope": " ".join(scopes),
        }
        if "offline.access" in scopes:
            issued["refresh_token"] = refresh = secrets.token_urlsafe(32)
            self._refresh[refresh] = (username, list(scopes))
        return issued

    def _check_scopes(self, headers: Headers, route: str) -> None:
        """403 when an OAuth 2.0 token issued here lacks a scope the route needs."""
        _scheme, _sp, value = (headers.get("authorization") or "").strip().partition(" ")
        with self._lock:
            granted = self._scopes.get(value.strip())
        missing = ROUTE_SCOPES.get(route, set()) - granted if granted is not None else set()
        if missing:
            raise XProblem(
                403,
                "You are not permitted to perform this action: the token lacks the scope "
                + ", ".join(sorted(missing))
                + ".",
            )

    # ---------------------------------------------------------------- authentication

    def _account_for(self, headers: Headers) -> str | None:
        scheme, _sp, value = (headers.get("authorization") or "").strip().partition(" ")
        if scheme.lower() == "bearer":
            with self._lock:
                known = self._access.get(value.strip())
            return known[0] if known else None
        if scheme.lower() == "oauth":
            token = _oauth_params(value).get("oauth_token", "")
            return self.oauth1.get(token, ("", None))[1]
        return None

    def _user(self, method: str, path: str, query: list, headers: Headers, body: ParsedBody):
        """The username the request acts for; ``XProblem(401)`` if it cannot be trusted."""
        scheme, _sp, value = (headers.get("authorization") or "").strip().partition(" ")
        if scheme.lower() == "bearer" and self.access_token_valid(value.strip()):
            return self._access[value.strip()][0]
        if scheme.lower() == "oauth" and self.consumer_key:
            return self._verify_oauth1(method, path, query, headers, body, _oauth_params(value))
        raise XProblem(401, "Unauthorized")

    def _verify_oauth1(self, method, path, query, headers, body, oauth: dict) -> str:
        token = oauth.get("oauth_token", "")
        if oauth.get("oauth_consumer_key") != self.consumer_key or token not in self.oauth1:
            raise XProblem(401, "Unauthorized")
        if oauth.get("oauth_signature_method") != "HMAC-SHA1":
            raise XProblem(401, "Unsupported signature method")
        try:
            skew = abs(self.clock() - int(oauth.get("oauth_timestamp", "")))
        except ValueError:
            skew = OAUTH1_CLOCK_SKEW + 1
        nonce = oauth.get("oauth_nonce", "")
        if skew > OAUTH1_CLOCK_SKEW or not nonce or nonce in self._nonces:
            raise XProblem(401, "Timestamp out of bounds or nonce used before")
        # The signature base string of RFC 5849 section 3.4.1, built from what arrived.
        params = list(query)
        content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
        if content_type == "application/x-www-form-urlencoded":
            params += body.pairs
        params += [(k, v) for k, v in oauth.items() if k != "oauth_signature"]
        encoded = sorted((quote(k, safe=""), quote(v, safe="")) for k, v in params)
        text = "&".join("=".join(pair) for pair in encoded)
        base = f"{method}&{quote(self.base_url + path, safe='')}&{quote(text, safe='')}"
        secret, username = self.oauth1[token]
        key = quote(self.consumer_secret or "", safe="") + "&" + quote(secret, safe="")
        expected = base64.b64encode(hmac.new(key.encode(), base.encode(), "sha1").digest())
        if not hmac.compare_digest(expected.decode(), oauth.get("oauth_signature", "")):
            raise XProblem(401, "Could not authenticate you: the signature does not match.")
        with self._lock:
            self._nonces.add(nonce)
        return username

    def _throttle(self, route: str, username: str) -> dict:
        limit, window = self.rate_limits.get(route, (900, 15 * 60))
        now = self.clock()
        with self._lock:
            current = self._windows.get((route, username))
            if current is None or now >= current[0] + window:
                current = self._windows[(route, username)] = [now, 0]
            current[1] += 1
            start, used = current
        headers = {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(max(0, limit - int(used))),
            "x-rate-limit-reset": str(int(start + window)),
        }
        daily, spent = self._daily_cap(route, username, now)
        headers.update(daily)
        if used > limit or spent:
            raise XProblem(429, "Too Many Requests", headers=headers)
        return headers

    def _daily_cap(self, route: str, username: str, now: float) -> tuple[dict, bool]:
        """The 24-hour per-user cap's headers, and whether this request is over it."""
        if route not in self.daily_limits:
            return {}, False
        limit = self.daily_limits[route]
        with self._lock:
            day = self._days.get((route, username))
            if day is None or now >= day[0] + 86400:
                day = self._days[(route, username)] = [now, 0]
            day[1] += 1
            start, used = day
        headers = {
            "x-user-limit-24hour-limit": str(limit),
            "x-user-limit-24hour-remaining": str(max(0, limit - int(used))),
            "x-user-limit-24hour-reset": str(int(start + 86400)),
        }
        return headers, used > limit

    # ---------------------------------------------------------------- routing

    ROUTES = [
        ("GET", r"/2/users/me", "_me", "GET /2/users/me"),
        ("GET", r"/2/users/(?P<user_id>\d+)/tweets", "_user_tweets", "GET /2/users/tweets"),
        ("POST", r"/2/media/upload", "_upload", "POST /2/media/upload"),
        ("GET", r"/2/media/upload", "_upload_status", "GET /2/media/upload"),
        ("POST", r"/2/media/metadata", "_metadata", "POST /2/media/metadata"),
        ("POST", r"/2/tweets", "_create", "POST /2/tweets"),
        ("DELETE", r"/2/tweets/(?P<tweet_id>\d+)", "_delete", "DELETE /2/tweets"),
    ]
    _COMPILED = [(m, re.compile(p), h, r) for m, p, h, r in ROUTES]

    def _handle(self, method, path, query, headers, body) -> Response:
        if path == "/2/oauth2/token" and method == "POST":
            return self._token(dict(body.pairs), headers)
        if path == "/2/oauth2/revoke" and method == "POST":
            return self._revoke(dict(body.pairs), headers)
        if path == "/i/oauth2/authorize":
            params = dict(query) if method == "GET" else dict(body.pairs)
            return self._authorize(method, params)
        if method == "GET" and not path.startswith("/2/"):
            return self._browse(path)
        limits: dict = {}
        try:
            for route_method, pattern, handler, route in self._COMPILED:
                match = pattern.fullmatch(path)
                if match is None or route_method != method:
                    continue
                username = self._user(method, path, query, headers, body)
                self._check_scopes(headers, route)
                limits = self._throttle(route, username)
                if body.error is not None:
                    raise XProblem(400, f"The request body could not be read: {body.error}")
                response = getattr(self, handler)(username, dict(query), body, **match.groupdict())
                response.headers = {**limits, **response.headers}
                return response
            raise XProblem(404, "Sorry, that page does not exist.")
        except XProblem as problem:
            problem.headers = {**limits, **problem.headers}
            return problem.response()

    # ---------------------------------------------------------------- API endpoints

    def _me(self, username, query, body):
        user = {"id": self.user_id(username), "name": username.title(), "username": username}
        return json_response(200, {"data": user})

    def _upload(self, username, query, body):
        parts = body.files.get("media") or []
        if len(parts) != 1:
            raise XProblem(400, "The media field is required (multipart/form-data).")
        _filename, _declared, data = parts[0]
        if len(data) > MAX_IMAGE_BYTES:
            raise XProblem(400, f"Image is larger than {MAX_IMAGE_BYTES} bytes.")
        mime = sniff_mime_type(data)
        if mime is None:
            raise XProblem(400, "Unsupported media type: JPEG, PNG, GIF or WebP images only.")
        category = dict(body.pairs).get("media_category", "")
        if category and category not in MEDIA_CATEGORIES:
            raise XProblem(400, f"Unsupported media category: {category}.")
        media = FakeXMedia(
            str(next(self._ids)), username, mime, len(data), data, category,
            expires_at=self.clock() + self.media_lifetime,
        )  # fmt: skip
        if category in ("tweet_gif", "tweet_video") or self.process_images:
            media.polls_left, media.state = self.processing_polls, "pending"
        with self._lock:
            self._media[media.id] = media
        return json_response(200, {"data": self._media_info(media)})

    def _media_info(self, media: FakeXMedia) -> dict:
        info = {"id": media.id, "media_key": f"3_{media.id}", "size": media.size}
        info["expires_after_secs"] = max(0, round(media.expires_at - self.clock()))
        if media.state == "failed":
            error = {"code": 1, "name": "InvalidMedia", "message": self.processing_error}
            info["processing_info"] = {"state": "failed", "error": error}
        elif media.state != "succeeded" or media.category in ("tweet_gif", "tweet_video"):
            info["processing_info"] = {"state": media.state}
            if media.state != "succeeded":
                info["processing_info"]["check_after_secs"] = self.check_after_secs
        return info

    def _upload_status(self, username, query, body):
        if query.get("command") != "STATUS":
            raise XProblem(400, "command must be STATUS for a GET of /2/media/upload.")
        media = self._own_media(str(query.get("media_id") or ""), username)
        if media is None:
            raise XProblem(400, f"Media {query.get('media_id') or '(none)'} was not found.")
        with self._lock:
            if media.state in ("pending", "in_progress"):
                if media.polls_left > 0:
                    media.polls_left -= 1
                    media.state = "in_progress"
                else:
                    media.state = "failed" if self.processing_error else "succeeded"
        return json_response(200, {"data": self._media_info(media)})

    def _own_media(self, media_id: str, username: str) -> FakeXMedia | None:
        """The user's media of that id, None if unknown, someone else's or expired."""
        with self._lock:
            media = self._media.get(media_id)
        if media is None or media.username != username or self.clock() >= media.expires_at:
            return None
        return media

    def _metadata(self, username, query, body):
        payload = body.json if isinstance(body.json, dict) else {}
        media_id = str(payload.get("id") or "")
        alt = ((payload.get("metadata") or {}).get("alt_text") or {}).get("text")
        media = self._own_media(media_id, username)
        if media is None:
            raise XProblem(400, f"Media {media_id or '(none)'} was not found.")
        if not isinstance(alt, str):
            raise XProblem(400, "metadata.alt_text.text is required.")
        if len(alt) > MAX_ALT_TEXT:
            raise XProblem(400, f"Alt text is longer than {MAX_ALT_TEXT} characters.")
        media.alt_text = alt
        return json_response(200, {"data": {"id": media_id, "associated_metadata": payload}})

    def _create(self, username, query, body):
        payload = body.json if isinstance(body.json, dict) else None
        if payload is None:
            raise XProblem(400, "The request body must be JSON.")
        text = payload.get("text")
        media_ids = [str(i) for i in ((payload.get("media") or {}).get("media_ids") or [])]
        if not isinstance(text, str) or not (text.strip() or media_ids):
            raise XProblem(400, "Either text or media is required.")
        if x_weighted_length(text) > MAX_TEXT:
            raise XProblem(403, TOO_LONG)
        if len(media_ids) > MAX_MEDIA:
            raise XProblem(400, f"At most {MAX_MEDIA} media may be attached.")
        with self._lock:
            if any(self._own_media(media_id, username) is None for media_id in media_ids):
                raise XProblem(400, "Your media IDs are invalid.")
            if any(self._media[media_id].state != "succeeded" for media_id in media_ids):
                raise XProblem(400, "Your media IDs are invalid: media are still processing.")
            if any(t.username == username and t.text == text for t in self._tweets[-50:]):
                raise XProblem(403, DUPLICATE)
            tweet = FakeTweet(
                str(next(self._ids)),
                username,
                text,
                media_ids,
                datetime.fromtimestamp(self.clock(), UTC),
                _url_entities(text),
            )
            self._tweets.append(tweet)
        return json_response(201, {"data": {"id": tweet.id, "text": _shown_text(tweet)}})

    def _delete(self, username, query, body, tweet_id):
        with self._lock:
            tweet = next((t for t in self._tweets if t.id == tweet_id), None)
            if tweet is None:
                raise XProblem(404, f"Could not find tweet with id: [{tweet_id}].")
            if tweet.username != username:
                raise XProblem(403, "You are not allowed to delete a Tweet you did not post.")
            self._tweets.remove(tweet)
        return json_response(200, {"data": {"deleted": True}})

    def _user_tweets(self, username, query, body, user_id):
        try:
            count = max(5, min(100, int(query.get("max_results", "10"))))
        except ValueError as err:
            raise XProblem(400, "max_results must be a number between 5 and 100.") from err
        with self._lock:
            mine = [t for t in self._tweets if self._user_ids.get(t.username) == user_id]
        fields = set((query.get("tweet.fields") or "").split(","))
        data = []
        for tweet in reversed(mine[-count:]):
            item = {"id": tweet.id, "text": _shown_text(tweet)}
            if "entities" in fields and tweet.urls:
                item["entities"] = {"urls": tweet.urls}
            data.append(item)
        meta = {"result_count": len(data)}
        return json_response(200, {"data": data, "meta": meta} if data else {"meta": meta})

    # ---------------------------------------------------------------- HTML pages

    def _browse(self, path: str) -> Response:
        """The pages a person looks at, where x.com has them: ``/`` lists the posts (newest
        first) with their images and alt text, ``/:username`` a user's, ``/:username/status/:id``
        one post (where the plugin's post links point when ``X_WEB_URL`` names this fake);
        ``/media/:id`` is an uploaded image."""
        html_type = "text/html; charset=utf-8"
        parts = [unquote(part) for part in path.split("/")[1:]]
        tweets = list(reversed(self.tweets))
        if path == "/":
            articles = [self._article(tweet) for tweet in tweets]
            return Response(200, _pages.feed_page(articles, "All posts", "FakeX", "X"), html_type)
        if len(parts) == 2 and parts[0] == "media":
            media = self.media.get(parts[1])
            if media is not None:
                return Response(200, media.data, media.content_type)
        elif len(parts) in (1, 3) and parts[0] in {t.username for t in tweets} | {*self._user_ids}:
            title = f"@{parts[0]}"
            tweets = [tweet for tweet in tweets if tweet.username == parts[0]]
            if len(parts) == 3:
                tweets = [tweet for tweet in tweets if parts[1:] == ["status", tweet.id]]
                title = f"@{parts[0]}: post {parts[2]}"
            if tweets or len(parts) == 1:
                articles = [self._article(tweet) for tweet in tweets]
                return Response(200, _pages.feed_page(articles, title, "FakeX", "X"), html_type)
        return Response(404, _pages.not_found_page("FakeX", "X"), html_type)

    def _article(self, tweet: FakeTweet) -> str:
        media = self.media
        figures = [
            _pages.figure(f"/media/{media_id}", media[media_id].alt_text)
            for media_id in tweet.media_ids
            if media_id in media
        ]
        link = f"/{quote(tweet.username)}/status/{quote(tweet.id)}"
        when = f'<a href="{html.escape(link, quote=True)}">{tweet.created_at.isoformat()}</a>'
        meta = f"@{html.escape(tweet.username)} &middot; {when}"
        return _pages.article(meta, _pages.format_content(tweet.text), figures)

    # ---------------------------------------------------------------- OAuth 2.0

    def _authorize(self, method: str, params: dict) -> Response:
        problem = self._authorization_problem(params)
        if problem:
            return Response(400, _page("Error", f"<h1>{html.escape(problem)}</h1>"), "text/html")
        redirect_uri, state = params["redirect_uri"], params.get("state", "")
        if method == "GET":
            return Response(200, self._consent_page(params), "text/html; charset=utf-8")
        if params.get("decision") != "authorize":
            query = {"error": "access_denied", "state": state}
            return Response(302, b"", "text/html", {"Location": _join(redirect_uri, query)})
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._grants[code] = _Grant(
                params.get("username") or self.signed_in_user,
                redirect_uri,
                params["code_challenge"],
                params["scope"].split(),
                self.clock() + CODE_LIFETIME,
            )
        location = _join(redirect_uri, {"state": state, "code": code})
        return Response(302, b"", "text/html", {"Location": location})

    def _authorization_problem(self, params: dict) -> str:
        redirect_uri = params.get("redirect_uri", "")
        if params.get("client_id") != self.client_id:
            return "Something went wrong: this app is not known."
        if not urlsplit(redirect_uri).scheme.startswith("http") or (
            self.redirect_uris is not None and redirect_uri not in self.redirect_uris
        ):
            return "Something went wrong: the callback URL is not registered for this app."
        if params.get("response_type") != "code":
            return "Something went wrong: response_type must be code."
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return "Something went wrong: a PKCE code challenge (S256) is required."
        scopes = params.get("scope", "").split()
        if not scopes or not set(scopes) <= KNOWN_SCOPES:
            return "Something went wrong: the scope is not valid."
        return ""

    def _consent_page(self, params: dict) -> bytes:
        keep = ("response_type", "client_id", "redirect_uri", "scope", "state")
        keep += ("code_challenge", "code_challenge_method")
        fields = {k: params.get(k, "") for k in keep}
        fields["username"] = self.signed_in_user
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k, quote=True)}" '
            f'value="{html.escape(v, quote=True)}">'
            for k, v in fields.items()
        )
        scopes = "".join(f"<li>{html.escape(s)}</li>" for s in fields["scope"].split())
        body = (
            f"<h1>Authorize app</h1><p>Signed in as @{html.escape(self.signed_in_user)}</p>"
            f"<p>The app asks to:</p><ul>{scopes}</ul>"
            f'<form method="post" action="/i/oauth2/authorize">{hidden}'
            '<button type="submit" name="decision" value="authorize">Authorize app</button>'
            '<button type="submit" name="decision" value="cancel">Cancel</button></form>'
        )
        return _page("FakeX: authorize app", body)

    def _client_ok(self, params: dict, headers: Headers) -> bool:
        scheme, _sp, value = (headers.get("authorization") or "").strip().partition(" ")
        if self.client_secret is None:  # a public client names itself
            return params.get("client_id") == self.client_id
        if scheme.lower() != "basic":
            return False
        try:
            ident, _colon, secret = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return False
        return unquote(ident) == self.client_id and hmac.compare_digest(
            unquote(secret), self.client_secret
        )

    def _token(self, params: dict, headers: Headers) -> Response:
        if not self._client_ok(params, headers):
            return _oauth_error(401, "unauthorized_client", "Missing valid authorization header")
        grant_type = params.get("grant_type")
        with self._lock:
            if grant_type == "authorization_code":
                grant = self._grants.pop(params.get("code", ""), None)  # once only
                verifier = params.get("code_verifier", "")
                challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                if (
                    grant is None
                    or grant.expires_at < self.clock()
                    or grant.redirect_uri != params.get("redirect_uri")
                    or not hmac.compare_digest(challenge.rstrip(b"=").decode(), grant.challenge)
                ):
                    return _oauth_error(
                        400,
                        "invalid_request",
                        "Value passed for the authorization code was invalid.",
                    )
                return json_response(200, self._issue(grant.username, grant.scopes))
            if grant_type == "refresh_token":
                known = self._refresh.pop(params.get("refresh_token", ""), None)  # rotated
                if known is None:
                    return _oauth_error(
                        400, "invalid_request", "Value passed for the token was invalid."
                    )
                return json_response(200, self._issue(*known))
        return _oauth_error(400, "unsupported_grant_type", "Unsupported grant type.")

    def _revoke(self, params: dict, headers: Headers) -> Response:
        if not self._client_ok(params, headers):
            return _oauth_error(401, "unauthorized_client", "Missing valid authorization header")
        token = params.get("token", "")
        with self._lock:
            self._access.pop(token, None)
            self._scopes.pop(token, None)
            self._refresh.pop(token, None)
        return json_response(200, {"revoked": True})


def _oauth_params(value: str) -> dict:
    """The parameters of an ``Authorization: OAuth k="v", ...`` header, decoded."""
    return {
        unquote(k): unquote(v) for k, v in re.findall(r'([A-Za-z0-9_%.~-]+)="([^"]*)"', value or "")
    }


def _join(uri: str, params: dict) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


def _url_entities(text: str) -> list[dict]:
    entities = []
    for start, end in links(text, bare=True):
        url = text[start:end]
        expanded = url if "://" in url else "http://" + url
        short = "https://t.co/" + hashlib.sha256(url.encode()).hexdigest()[:10]
        shown = url.split("://", 1)[-1]
        entities.append(
            {
                "start": start,
                "end": end,
                "url": short,
                "expanded_url": expanded,
                "display_url": shown if len(shown) <= 26 else shown[:25] + "\u2026",
            }
        )
    return entities


def _shown_text(tweet: FakeTweet) -> str:
    """The text as X shows it: links replaced by their t.co addresses."""
    text = tweet.text
    for entity in reversed(tweet.urls):
        text = text[: entity["start"]] + entity["url"] + text[entity["end"] :]
    return text
