"""Bluesky: an XRPC client for the few AT Protocol methods used, and the network built on it.

An account is a handle on a PDS (``instance_url``, https://bsky.social by default) and an app
password (``access_token``). Signing in (``com.atproto.server.createSession``) gives an access
JWT (minutes to hours) and a refresh JWT (weeks); both are kept in the account's encrypted
``session`` and reused. An expired access JWT is renewed with ``refreshSession``, and only when
that fails is the app password used again: ``createSession`` is rate-limited hard (a few dozen
per five minutes, a few hundred a day), so it is never called per post.

Posts are ``app.bsky.feed.post`` records. Each is created with a record key derived from the
publish's idempotency key, so a repeated create (after an answer lost on the way) finds the
post the first one made instead of making a second: record keys never expire.

Bluesky posts cannot be edited (``edits = False``: a changed page leaves its post as it is).
"""

import base64
import hashlib
import json
import re
import time
from dataclasses import replace
from datetime import UTC, datetime

from django.utils.translation import gettext as _

from wagtail_syndicate.conf import get_setting
from wagtail_syndicate.exceptions import NetworkError, PermanentNetworkError
from wagtail_syndicate.networks.base import (
    Credentials,
)
from wagtail_syndicate.networks.http import HttpClient, Upload
from wagtail_syndicate.networks.limits import Limits
from wagtail_syndicate.networks.post import Media, Post
from wagtail_syndicate.networks.text import shorten_links

POST_COLLECTION = "app.bsky.feed.post"
WEB_URL = "https://bsky.app"
# Renew an access JWT this many seconds before it expires (saves a refused request, and
# re-sending an image).
REFRESH_MARGIN = 60
# How many of the account's latest posts ``find_post`` reads.
RECENT_POSTS = 50
# The alphabet of TIDs (base32, sortable).
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
# Errors that mean the access JWT is no longer good (renew it and try again once).
SESSION_ERRORS = {"ExpiredToken", "InvalidToken", "AuthenticationRequired"}

BLUESKY_LIMITS = Limits(
    # app.bsky.feed.post: text maxGraphemes 300 and maxLength 3000 bytes (which 300
    # graphemes reach only with long emoji sequences).
    max_characters=300,
    max_bytes=3000,
    # app.bsky.embed.images: images maxLength 4.
    max_media=4,
    # Links are counted as they are shown (``counting="bluesky"``); this is unused.
    characters_per_url=23,
    # app.bsky.embed.images#image: blob maxSize 2,000,000 bytes since PDS 0.4.218 (April
    # 2026), 1,000,000 before; the PDS validates records against its lexicon. These defaults
    # hold the older limit: a server whose version cannot be read gets it (see
    # ``limits_for_version``).
    image_size_limit=1_000_000,
    # Not in the lexicon; keep Mastodon's matrix limit.
    image_matrix_limit=33_177_600,
    # The Bluesky app scales images to 2000 px on the longer side: an image too large to send
    # as it is, is scaled to that first.
    display_side=2000,
    # The lexicon sets no length for ``alt``; the Bluesky app lets people write 2000
    # (``MAX_ALT_TEXT`` in bluesky-social/social-app). ``trim_alt_text`` counts code points,
    # never fewer than graphemes, so a trimmed text is within the app's limit too.
    description_limit=2000,
    # The lexicon accepts image/*; the app and its image service handle these. A GIF is sent
    # as a rendition (it would show still on Bluesky anyway).
    supported_formats=frozenset({"jpeg", "png", "webp"}),
    counting="bluesky",
)


# The first PDS version whose lexicon allows 2,000,000 bytes an image, and that limit.
LARGER_IMAGES_SINCE = (0, 4, 218)
LARGER_IMAGE_LIMIT = 2_000_000
VERSION_RE = re.compile(r"(\d+)\.(\d+)\.(\d+)")


def limits_for_version(version) -> Limits:
    """Bluesky's limits on a PDS of ``version`` (``"0.4.218"``, as ``_health`` says it).

    Below 0.4.218, or when the version cannot be read, an image gets 1,000,000 bytes: the
    safer mistake, since a limit too high on an older server is a refused post and a limit too
    low on a newer one only a smaller image."""
    match = VERSION_RE.search(version) if isinstance(version, str) else None
    if match and tuple(int(part) for part in match.groups()) >= LARGER_IMAGES_SINCE:
        return replace(BLUESKY_LIMITS, image_size_limit=LARGER_IMAGE_LIMIT)
    return BLUESKY_LIMITS


def tid_from_key(key: str, at: datetime | None = None) -> str:
    """A valid TID (13 characters of base32-sortable, top bit 0) derived from ``key`` and the
    time ``at``: the same key and time always give the same record key. A TID is microseconds
    since the epoch (53 bits) and a 10-bit clock id: the time is ``at`` (when the post was
    first tried, so the key sorts as a post of then) and the clock id comes from ``key``;
    without ``at`` the whole TID comes from ``key``."""
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    if at is None:
        number = digest >> 1
    else:
        micros = int(at.timestamp() * 1_000_000) & ((1 << 53) - 1)
        number = (micros << 10) | (digest & 0x3FF)
    chars = []
    for _shift in range(13):
        chars.append(TID_ALPHABET[number & 31])
        number >>= 5
    return "".join(reversed(chars))


def now_iso() -> str:
    """The current time as the lexicon's ``datetime``: ISO 8601, UTC, milliseconds, ``Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def link_facets(links: list[tuple[int, int, str]]) -> list[dict]:
    """A ``app.bsky.richtext.facet#link`` for each link (UTF-8 byte offsets of its shown text,
    and its full URL): Bluesky links nothing that has no facet."""
    return [
        {
            "index": {"byteStart": start, "byteEnd": end},
            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": uri}],
        }
        for start, end, uri in links
    ]


def post_record(post: Post, blobs: list[dict]) -> dict:
    """The ``app.bsky.feed.post`` record of ``post`` with its uploaded images (``blobs``, in
    the order of ``post.media``)."""
    # Links are shown short, as the Bluesky app writes them (and as the fitter counted them);
    # each one's facet holds the full URL.
    text, links = shorten_links(post.text)
    record = {"$type": POST_COLLECTION, "text": text, "createdAt": now_iso()}
    if links:
        record["facets"] = link_facets(links)
    if post.language:
        record["langs"] = [post.language]
    if blobs:
        record["embed"] = {
            "$type": "app.bsky.embed.images",
            "images": [
                {
                    "alt": media.alt_text,
                    "image": blob,
                    "aspectRatio": {"width": media.width, "height": media.height},
                }
                for media, blob in zip(post.media, blobs, strict=True)
            ],
        }
    if post.sensitive:
        # Bluesky has no content-warning text: a self-label hides the images behind a warning
        # instead. Of its labels (sexual, nudity, porn, graphic-media) the nearest to a general
        # content warning is graphic-media; the warning's own words are not shown.
        record["labels"] = {
            "$type": "com.atproto.label.defs#selfLabels",
            "values": [{"val": "graphic-media"}],
        }
    return record


def xrpc_error(err: NetworkError) -> str:
    """The XRPC error name of a refused request (``{"error": "ExpiredToken", ...}``), or ""."""
    try:
        payload = json.loads(err.body or "")
    except ValueError:
        return ""
    return str(payload.get("error") or "") if isinstance(payload, dict) else ""


def jwt_expiry(token: str) -> float | None:
    """The ``exp`` of a JWT (epoch seconds), read without checking it (only the PDS can), or
    None if it does not say."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, ValueError, KeyError, TypeError):
        return None


def split_uri(uri: str) -> tuple[str, str, str]:
    """``at://did/collection/rkey`` as (did, collection, rkey)."""
    parts = uri.removeprefix("at://").split("/")
    if not uri.startswith("at://") or len(parts) != 3 or not all(parts):
        raise PermanentNetworkError(
            _("“%(uri)s” is not the at:// address of a Bluesky post.") % {"uri": uri}
        )
    return parts[0], parts[1], parts[2]


def web_base() -> str:
    """Where posts are read: the ``BLUESKY_WEB_URL`` setting (a stand-in), else bsky.app."""
    return (get_setting("BLUESKY_WEB_URL") or WEB_URL).rstrip("/")


def web_url(uri: str) -> str:
    did, _collection, rkey = split_uri(uri)
    return f"{web_base()}/profile/{did}/post/{rkey}"


class BlueskyClient:
    """XRPC calls on behalf of one account, signing in only when its session cannot go on."""

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials
        self.http = HttpClient(credentials.instance_url, None, label="Bluesky")
        self.session: dict = self._mine(credentials.session)

    def _mine(self, stored: dict | None) -> dict:
        """``stored`` if it is a session of this server and identifier, else nothing: a
        session is only ever sent back to the server it came from."""
        stored = stored or {}
        mine = (
            stored.get("service") == self.http.base_url
            and stored.get("identifier") == self.identifier
        )
        return dict(stored) if mine else {}

    @property
    def identifier(self) -> str:
        return self.credentials.handle.strip().lstrip("@")

    @property
    def did(self) -> str:
        self._ensure_session()
        return self.session["did"]

    def server_version(self):
        """The PDS version from ``GET /xrpc/_health`` (``{"version": "0.4.218"}``), no
        sign-in needed; None if the server does not say (it has no such method, 501, or
        answers something else). A server that cannot be reached raises, as for any call."""
        try:
            answer = self.http.json("GET", "/xrpc/_health")[1]
        except NetworkError as err:
            if isinstance(err, PermanentNetworkError) or err.status == 501:
                return None
            raise
        return answer.get("version")

    # ---------------------------------------------------------------- sessions

    def create_session(self) -> dict:
        """Sign in with the app password (``com.atproto.server.createSession``)."""
        if not self.identifier:
            raise PermanentNetworkError(
                _("Enter the Bluesky handle to sign in with (for example alice.bsky.social).")
            )
        try:
            answer = self.http.json(
                "POST",
                "/xrpc/com.atproto.server.createSession",
                json={"identifier": self.identifier, "password": self.credentials.access_token},
            )[1]
        except PermanentNetworkError as err:
            if err.status not in (400, 401) or xrpc_error(err) == "RateLimitExceeded":
                raise
            raise PermanentNetworkError(
                _(
                    "Bluesky refused to sign in as “%(handle)s” (%(error)s). Check the handle, "
                    "create a new app password in Bluesky's settings and enter it on the account."
                )
                % {"handle": self.identifier, "error": xrpc_error(err) or err.status},
                status=err.status,
                body=err.body,
            ) from None
        return self._keep(answer)

    def refresh_session(self) -> dict:
        """Renew the session with the refresh JWT (``com.atproto.server.refreshSession``)."""
        answer = self.http.json(
            "POST",
            "/xrpc/com.atproto.server.refreshSession",
            headers={"Authorization": f"Bearer {self.session['refreshJwt']}"},
        )[1]
        return self._keep(answer)

    def delete_session(self) -> bool:
        """End the stored session on the server (``com.atproto.server.deleteSession``, with
        the refresh JWT); False when there is none to end."""
        if not self.session.get("refreshJwt"):
            return False
        self.http.request(
            "POST",
            "/xrpc/com.atproto.server.deleteSession",
            headers={"Authorization": f"Bearer {self.session['refreshJwt']}"},
        )
        return True

    def _keep(self, answer: dict) -> dict:
        if not all(isinstance(answer.get(k), str) for k in ("accessJwt", "refreshJwt", "did")):
            raise PermanentNetworkError(_("Bluesky answered the sign-in without a session."))
        self.session = {
            "service": self.http.base_url,
            "identifier": self.identifier,
            "did": answer["did"],
            "handle": answer.get("handle") or self.identifier,
            "accessJwt": answer["accessJwt"],
            "refreshJwt": answer["refreshJwt"],
        }
        # Kept at once: a refresh JWT is single-use, the one just replaced no longer works.
        self.credentials.save_session(dict(self.session))
        return self.session

    def _renew(self) -> None:
        """A new access JWT: refreshed if the refresh JWT still works, else signed in again."""
        if self.session.get("refreshJwt"):
            try:
                self.refresh_session()
                return
            except PermanentNetworkError:
                # Refused: used up by another run that renewed the session first (then the
                # stored session is newer), or expired or revoked (then sign in).
                renewed = self.credentials.renewed_session("refreshJwt", self.session["refreshJwt"])
                if renewed and (stored := self._mine(renewed)):
                    self.session = stored
                    return
        self.create_session()

    def _ensure_session(self) -> None:
        if not self.session.get("accessJwt"):
            self._renew()
            return
        expiry = jwt_expiry(self.session["accessJwt"])
        if expiry is not None and expiry - REFRESH_MARGIN < time.time():
            self._renew()

    # ---------------------------------------------------------------- calls

    def call(self, method: str, nsid: str, **kwargs) -> dict:
        """An XRPC call with the session's access JWT, renewed once if the PDS says it expired.
        An ``upload`` is sent again from its file's start."""
        self._ensure_session()
        try:
            return self._send(method, nsid, **kwargs)
        except PermanentNetworkError as err:
            if err.status not in (400, 401) or xrpc_error(err) not in SESSION_ERRORS:
                raise
        self._renew()
        return self._send(method, nsid, **kwargs)

    def _send(self, method: str, nsid: str, *, headers: dict | None = None, **kwargs) -> dict:
        headers = {**(headers or {}), "Authorization": f"Bearer {self.session['accessJwt']}"}
        return self.http.json(method, f"/xrpc/{nsid}", headers=headers, **kwargs)[1]

    def upload_blob(self, media: Media) -> dict:
        """``com.atproto.repo.uploadBlob``: the image's bytes as the body, streamed from
        storage."""
        with media.file.open("rb") as file:
            upload = Upload(file, media.content_type)
            answer = self.call("POST", "com.atproto.repo.uploadBlob", upload=upload)
        blob = answer.get("blob")
        if not isinstance(blob, dict):
            raise PermanentNetworkError(_("Bluesky answered the image upload without a blob."))
        return blob

    def create_record(self, record: dict, rkey: str) -> dict:
        return self.call(
            "POST",
            "com.atproto.repo.createRecord",
            json={"repo": self.did, "collection": POST_COLLECTION, "rkey": rkey, "record": record},
        )

    def get_record(self, rkey: str, repo: str | None = None) -> dict | None:
        """The account's post with record key ``rkey``, or None if there is none."""
        try:
            return self.call(
                "GET",
                "com.atproto.repo.getRecord",
                params={"repo": repo or self.did, "collection": POST_COLLECTION, "rkey": rkey},
            )
        except PermanentNetworkError as err:
            if err.status in (400, 404) and xrpc_error(err) in ("RecordNotFound", "NotFound"):
                return None
            raise

    def delete_record(self, uri: str) -> None:
        did, collection, rkey = split_uri(uri)
        self.call(
            "POST",
            "com.atproto.repo.deleteRecord",
            json={"repo": did, "collection": collection, "rkey": rkey},
        )

    def list_posts(self, limit: int = RECENT_POSTS) -> list[dict]:
        answer = self.call(
            "GET",
            "com.atproto.repo.listRecords",
            params={"repo": self.did, "collection": POST_COLLECTION, "limit": limit},
        )
        records = answer.get("records")
        return records if isinstance(records, list) else []
