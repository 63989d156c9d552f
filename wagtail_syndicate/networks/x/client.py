"""X (Twitter): a client for the few API v2 endpoints used, and the network built on it.

Two ways to act as an account:

* OAuth 2.0 user context (connected in the admin): ``access_token`` is the bearer token the
  account was connected with; ``session`` holds ``refresh_token``, ``expires_at`` (epoch
  seconds) and, once renewed, the current ``access_token``. Tokens live two hours: the client
  renews them shortly before they expire, or after a 401, and hands the new session to
  ``save_session`` at once, since X rotates refresh tokens (the old one stops working).
* OAuth 1.0a user tokens: ``session`` is ``{"oauth1": true, "token_secret": ...}``,
  ``access_token`` the user token (or, as pasted in the admin or given to the command, the
  token and its secret separated by a space); the consumer key and secret come from the
  settings, and every request is signed (HMAC-SHA1).

X has no idempotency key and posts cannot be edited: ``find_post`` looks for a post that
links to the page before an attempt whose outcome is unknown is repeated.
"""

import time
from datetime import datetime
from urllib.parse import quote

import requests
from django.utils.translation import gettext as _

from wagtail_syndicate.conf import get_setting
from wagtail_syndicate.exceptions import (
    ConfigurationError,
    PermanentNetworkError,
    RateLimited,
    TransientNetworkError,
)
from wagtail_syndicate.networks.base import (
    Credentials,
)
from wagtail_syndicate.networks.http import HttpClient, Upload, epoch_time, json_object
from wagtail_syndicate.networks.limits import Limits
from wagtail_syndicate.networks.post import Media
from wagtail_syndicate.networks.x.auth import XOAuth, error_detail, oauth1_header

# Renew an access token this many seconds before it expires.
REFRESH_MARGIN = 300
# How many of the account's latest posts ``find_post`` reads.
RECENT_POSTS = 20
# How long X keeps an uploaded medium no post uses when its answer does not say (X's example).
MEDIA_LIFETIME = 86400

X_LIMITS = Limits(
    max_characters=280,
    max_media=4,
    characters_per_url=23,
    image_size_limit=5 * 1024 * 1024,
    # X takes images up to 8192 px a side (X's media guidelines as commonly published; its API
    # reference gives only the 5 MB).
    max_side=8192,
    description_limit=1000,
    # No GIF: X's one-shot image upload is for still images (an animated GIF needs
    # ``tweet_gif`` and processing, and a post may carry only one), so a GIF is sent as a still
    # rendition (its first frame), like any other image.
    supported_formats=frozenset({"jpeg", "png", "webp"}),
    counting="weighted",
)


WEB_URL = "https://x.com"


def web_base() -> str:
    """Where posts are read: the ``X_WEB_URL`` setting (a stand-in), else x.com."""
    return (get_setting("X_WEB_URL") or WEB_URL).rstrip("/")


def post_url(username: str, post_id: str) -> str:
    return f"{web_base()}/{quote(username)}/status/{post_id}"


class XHttpClient(HttpClient):
    """X's answers to a spent limit: a 429 while the account's 24-hour cap is spent
    (``x-user-limit-24hour-remaining: 0``) waits for the later of the 15-minute window's
    reset and the daily cap's, not only for the window (which would retry all day)."""

    def _error(self, response, method: str, path: str):
        err = super()._error(response, method, path)
        if isinstance(err, RateLimited):
            err.retry_at = daily_cap_reset(response.headers, err.retry_at)
        return err


def daily_cap_reset(headers, retry_at: datetime | None) -> datetime | None:
    """``retry_at``, or when the 24-hour per-user cap resets if that is later and the cap is
    spent."""
    if str(headers.get("x-user-limit-24hour-remaining", "")).strip() != "0":
        return retry_at
    daily = epoch_time(headers.get("x-user-limit-24hour-reset", ""))
    if daily is None:
        return retry_at
    return daily if retry_at is None or daily > retry_at else retry_at


class XClient:
    """Requests to the X API as one account, signed or with a bearer token that it renews."""

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials
        self.session = dict(credentials.session or {})
        # OAuth 1.0a tokens as pasted: "TOKEN TOKEN_SECRET" (tokens never hold a space).
        token, _space, secret = credentials.access_token.strip().partition(" ")
        self.oauth1 = bool(self.session.get("oauth1") or secret)
        self.user_token = token
        self.token_secret = str(self.session.get("token_secret") or secret.strip())
        # No token on the HttpClient: each request carries its own Authorization header,
        # since a bearer token is renewed and a signature is per request.
        self.http = XHttpClient(credentials.instance_url, None, label="X")
        self._me: dict | None = None
        # When X forgets each medium this client uploaded (epoch seconds), from its answer.
        self.media_expiry: dict[str, float] = {}
        if self.oauth1 and not (get_setting("X_CONSUMER_KEY") and get_setting("X_CONSUMER_SECRET")):
            raise ConfigurationError(
                _(
                    "This X account uses OAuth 1.0a tokens: set "
                    'WAGTAIL_SYNDICATE["X_CONSUMER_KEY"] and ["X_CONSUMER_SECRET"] to those '
                    "of the X app that issued them."
                )
            )

    # ---------------------------------------------------------------- authorization

    @property
    def bearer_token(self) -> str:
        return self.session.get("access_token") or self.credentials.access_token

    def _expiring(self) -> bool:
        expires_at = self.session.get("expires_at")
        return bool(self.session.get("refresh_token")) and (
            expires_at is not None and float(expires_at) - time.time() < REFRESH_MARGIN
        )

    def renew(self) -> None:
        """Exchange the refresh token for new tokens and keep them at once. X's refresh
        tokens are single-use: this is done under the account's lock, from the session as
        stored then, so when another run renewed it first its tokens are taken and the spent
        refresh token is never sent. If X still refuses the refresh token (a renewal made
        without the lock), the tokens another run kept are taken too."""
        spent = self.session.get("refresh_token")
        keep = {k: v for k, v in self.session.items() if k in ("username", "user_id")}

        def exchange(stored: dict) -> dict:
            if stored.get("refresh_token") not in (None, spent):
                return stored  # another run renewed it while this one waited
            tokens = XOAuth(self.credentials.instance_url).refresh(spent)
            return tokens.session(refresh_token=tokens.refresh_token or spent, **keep)

        try:
            self.session = self.credentials.renew_session(exchange)
        except PermanentNetworkError:
            renewed = self.credentials.renewed_session("refresh_token", spent)
            if renewed:
                self.session = renewed
                return
            raise

    def _authorization(self, method: str, path: str, params, data) -> str:
        if not self.oauth1:
            return f"Bearer {self.bearer_token}"
        signed = list((params or {}).items())
        if isinstance(data, dict):  # a form body is signed; a multipart upload is not
            signed += list(data.items())
        return oauth1_header(
            method,
            self.http.base_url + path,
            [(str(k), str(v)) for k, v in signed],
            consumer_key=get_setting("X_CONSUMER_KEY"),
            consumer_secret=get_setting("X_CONSUMER_SECRET"),
            token=self.user_token,
            token_secret=self.token_secret,
        )

    def request(
        self, method: str, path: str, *, params=None, data=None, json=None, upload=None
    ) -> requests.Response:
        """One API request; a bearer token about to expire, or refused (401), is renewed
        once (an ``upload`` is then sent again from its file's start). Errors become messages
        in X's own words, without any token."""
        renewed = False
        if not self.oauth1 and self._expiring():
            self.renew()
            renewed = True
        while True:
            headers = {"Authorization": self._authorization(method, path, params, data)}
            try:
                return self.http.request(
                    method,
                    path,
                    params=params,
                    data=data,
                    json=json,
                    upload=upload,
                    headers=headers,
                )
            except PermanentNetworkError as err:
                can_renew = not self.oauth1 and self.session.get("refresh_token")
                if err.status == 401 and can_renew and not renewed:
                    self.renew()
                    renewed = True
                    continue
                raise self._explain(err, method, path) from err
            except RateLimited as err:
                raise RateLimited(
                    _("X is rate-limiting this account (%(request)s)%(until)s: %(detail)s")
                    % {
                        "request": f"{method} {path}",
                        "until": _(" until %(time)s") % {"time": f"{err.retry_at:%H:%M:%S %Z}"}
                        if err.retry_at
                        else "",
                        "detail": error_detail(err),
                    },
                    retry_at=err.retry_at,
                    status=err.status,
                    body=err.body,
                ) from err

    def _explain(self, err: PermanentNetworkError, method: str, path: str):
        words = {"request": f"{method} {path}", "detail": error_detail(err)}
        if err.status == 401:
            if self.oauth1:
                message = _(
                    "X refused the signed request (%(request)s, 401: %(detail)s). Check the "
                    "consumer key and secret and the account's tokens, or reconnect the account."
                )
            else:
                message = _(
                    "X refused the access token (%(request)s, 401: %(detail)s): reconnect the "
                    "account."
                )
        elif err.status == 403:
            message = _("X refused this (%(request)s, 403): %(detail)s")
        elif err.status is not None and 400 <= err.status < 500:
            message = _("X rejected the request (%(request)s, %(status)s): %(detail)s")
            words["status"] = err.status
        else:
            return err
        return PermanentNetworkError(message % words, status=err.status, body=err.body)

    def json(self, method: str, path: str, **kwargs) -> dict:
        return json_object(self.request(method, path, **kwargs), f"X ({method} {path})")

    # ---------------------------------------------------------------- endpoints

    def me(self) -> dict:
        """``GET /2/users/me``: the account's id and username (asked once per client)."""
        if self._me is None:
            data = self.json("GET", "/2/users/me").get("data") or {}
            if not data.get("id") or not data.get("username"):
                raise PermanentNetworkError(_("X did not say whose account this is."))
            self._me = data
        return self._me

    def identity(self) -> tuple[str, str]:
        """The account's (id, username): from the session when the connect flow kept them,
        else asked once."""
        if self.session.get("user_id") and self.session.get("username"):
            return str(self.session["user_id"]), str(self.session["username"])
        me = self.me()
        return str(me["id"]), str(me["username"])

    def upload_media(self, media: Media) -> str:
        """``POST /2/media/upload`` (multipart, the file streamed from storage), then the alt
        text with ``/2/media/metadata``."""
        with media.file.open("rb") as file:
            fields = {"media_category": "tweet_image"}
            upload = Upload(file, media.content_type, "media", media.filename, fields)
            answer = self.json("POST", "/2/media/upload", upload=upload)
        data = answer.get("data") or {}
        media_id = str(data.get("id") or data.get("media_id_string") or "")
        if not media_id:
            raise PermanentNetworkError(_("X answered the upload without a media id."))
        data = self.wait_for_media(media_id, data)
        self.media_expiry[media_id] = time.time() + _seconds(
            data.get("expires_after_secs"), MEDIA_LIFETIME
        )
        if media.alt_text:
            self.json(
                "POST",
                "/2/media/metadata",
                json={"id": media_id, "metadata": {"alt_text": {"text": media.alt_text}}},
            )
        return media_id

    def wait_for_media(self, media_id: str, data: dict) -> dict:
        """The upload's answer once X has processed the medium: while its ``processing_info``
        says ``pending`` or ``in_progress``, ask again (``GET /2/media/upload?command=STATUS``)
        after the ``check_after_secs`` it gives, within ``MEDIA_PROCESSING_TIMEOUT``."""
        deadline = time.monotonic() + get_setting("MEDIA_PROCESSING_TIMEOUT")
        while True:
            info = data.get("processing_info")
            state = info.get("state") if isinstance(info, dict) else None
            if state in (None, "succeeded"):
                return data
            if state == "failed":
                error = info.get("error") if isinstance(info.get("error"), dict) else {}
                raise PermanentNetworkError(
                    _("X could not process the image: %(reason)s")
                    % {"reason": error.get("message") or error.get("name") or state}
                )
            wait = _seconds(info.get("check_after_secs"), 1)
            if time.monotonic() + wait > deadline:
                raise TransientNetworkError(
                    _("X was still processing the image after %(seconds)s seconds.")
                    % {"seconds": f"{get_setting('MEDIA_PROCESSING_TIMEOUT'):g}"}
                )
            time.sleep(wait)
            answer = self.json(
                "GET", "/2/media/upload", params={"command": "STATUS", "media_id": media_id}
            )
            data = answer.get("data") or {}

    def create_tweet(self, text: str, media_ids: list[str]) -> dict:
        body: dict = {"text": text}
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        data = self.json("POST", "/2/tweets", json=body).get("data") or {}
        if not data.get("id"):
            raise PermanentNetworkError(_("X answered the post without its id."))
        return data

    def delete_tweet(self, tweet_id: str) -> None:
        try:
            self.request("DELETE", f"/2/tweets/{tweet_id}")
        except PermanentNetworkError as err:
            if err.status != 404:  # already gone is what we wanted
                raise

    def recent_tweets(self) -> list[dict]:
        user_id, _username = self.identity()
        answer = self.json(
            "GET",
            f"/2/users/{user_id}/tweets",
            params={"max_results": RECENT_POSTS, "tweet.fields": "entities"},
        )
        tweets = answer.get("data")
        return tweets if isinstance(tweets, list) else []


def _seconds(value, default: float) -> float:
    """A number of seconds X gave, or ``default`` when it gave none that can be read."""
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return default
