"""FakeBluesky: a real HTTP server on 127.0.0.1 that behaves like a Bluesky PDS.

It serves the XRPC methods wagtail-syndicate uses, under ``/xrpc/``:

* ``GET /xrpc/_health``: ``{"version": ...}``, the PDS version (``version``);
* ``com.atproto.server.createSession`` (handle or DID and app password), ``refreshSession``
  (a refresh hands out a new refresh JWT; the one used stays valid ``refresh_grace`` seconds,
  two hours as on a PDS), ``deleteSession`` (the refresh JWT is revoked: 400 ``ExpiredToken``
  "Token has been revoked") and ``getSession``; access JWTs expire after ``access_lifetime``
  seconds of the fake's ``clock``, refresh JWTs after ``refresh_lifetime``; ``createSession``
  is rate-limited (``session_rate_limit`` per ``session_rate_period``) with 429
  ``RateLimitExceeded`` and ``ratelimit-*`` headers (``ratelimit-reset`` in epoch seconds), as
  bsky.social does;
* ``com.atproto.repo.uploadBlob``: the raw bytes, at most ``upload_limit`` bytes (5 MiB; more
  is 413 ``PayloadTooLarge``), stored with the type sniffed from the bytes whatever the
  declared Content-Type (the declared one when the bytes say nothing); the blob's CID is
  content-addressed (the same bytes give the same reference). As on a PDS, a blob no record
  refers to is deleted ``blob_lifetime`` seconds after its upload (a post that uses it later
  answers 400 ``BlobNotFound``), and uploading the same bytes again brings it back;
* ``com.atproto.repo.createRecord`` of ``app.bsky.feed.post``, validated as the lexicon does:
  text at most 300 graphemes and 3000 bytes, ``createdAt`` a datetime, at most 3 ``langs``,
  an ``app.bsky.embed.images`` embed of at most 4 images each with a string ``alt``, an
  uploaded ``image/*`` blob of at most 2,000,000 bytes (1,000,000 when ``version`` is older
  than 0.4.218) and an ``aspectRatio`` of positive integers, well-formed facets (byteStart <
  byteEnd within the UTF-8 text; as on a PDS, nothing checks which text a link covers),
  self-labels; the record key must be a TID. A record key
  already taken answers ``duplicate_status``: 500 ``InternalServerError`` as bsky.social does
  today, or 409 ``RecordAlreadyExists`` as newer servers do;
* ``com.atproto.repo.getRecord``, ``listRecords`` (newest record key first) and
  ``deleteRecord`` (a record already gone is fine).

Errors are XRPC errors: ``{"error": "InvalidRequest", "message": "..."}`` with 400; 401
``AuthMissing`` without a token, 401 ``AuthenticationRequired`` for a wrong password, 400
``ExpiredToken`` / ``InvalidToken``. Faults (:class:`Fault`,
chaos mode) come from :class:`FakeServer`, as for FakeMastodon.

The standard library is used, and ``regex`` (the test extra) to count graphemes
(``_counting.py``, the fakes' own).
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote, unquote

from . import _pages
from ._counting import bluesky_text_problem
from ._fake_server import FakeServer
from ._http import ApiError, Headers, ParsedBody, Response, json_response
from ._images import ImageError, image_info

__all__ = ["FakeBlob", "FakeBluesky", "FakeBlueskyAccount", "FakePost"]

POST = "app.bsky.feed.post"
TID_RE = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
DATETIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
LANGUAGE_RE = re.compile(r"[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})*")
B32 = "abcdefghijklmnopqrstuvwxyz234567"  # CIDs
B32_SORT = "234567abcdefghijklmnopqrstuvwxyz"  # TIDs
MAX_IMAGES = 4
UPLOAD_LIMIT = 5 * 1024 * 1024  # uploadBlob's limit (the PDS's default blobUploadLimit)
# app.bsky.embed.images' maxSize: 2,000,000 bytes since PDS 0.4.218, 1,000,000 before.
MAX_IMAGE, MAX_IMAGE_BEFORE, MAX_IMAGE_SINCE = 2_000_000, 1_000_000, (0, 4, 218)
REFRESH_GRACE = 2 * 3600  # a refresh JWT still works this long after it was used
CURRENT_VERSION = "0.4.218"


@dataclass
class FakeBlueskyAccount:
    handle: str
    password: str = field(repr=False)
    did: str


@dataclass
class FakeBlob:
    cid: str
    mime_type: str
    size: int
    data: bytes = field(repr=False)
    did: str
    width: int | None
    height: int | None
    uploaded_at: float = 0.0
    referenced: bool = False  # a record uses it (then it is kept)

    def ref(self) -> dict:
        return {"$type": "blob", "ref": {"$link": self.cid}, "mimeType": self.mime_type,
                "size": self.size}  # fmt: skip


@dataclass
class FakePost:
    """A stored ``app.bsky.feed.post`` record: ``value`` as the client sent it."""

    uri: str
    cid: str
    did: str
    rkey: str
    value: dict
    indexed_at: float

    @property
    def text(self) -> str:
        return self.value["text"]

    @property
    def images(self) -> list[dict]:
        return (self.value.get("embed") or {}).get("images", [])

    @property
    def facets(self) -> list[dict]:
        return self.value.get("facets") or []

    @property
    def langs(self) -> list[str]:
        return self.value.get("langs") or []

    @property
    def labels(self) -> list[str]:
        return [v["val"] for v in (self.value.get("labels") or {}).get("values", [])]

    @property
    def url(self) -> str:
        return f"https://bsky.app/profile/{self.did}/post/{self.rkey}"


def _cid(data: bytes, codec: int) -> str:
    """A CIDv1 (sha2-256) in base32, as the PDS names blobs (raw) and records (dag-cbor)."""
    raw = bytes([1, codec, 0x12, 0x20]) + hashlib.sha256(data).digest()
    bits = "".join(f"{byte:08b}" for byte in raw)
    bits += "0" * (-len(bits) % 5)
    return "b" + "".join(B32[int(bits[i : i + 5], 2)] for i in range(0, len(bits), 5))


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def _facet_links(post: FakePost) -> list[tuple[int, int, str]]:
    """The post's link facets as ``(start, end, uri)`` in characters of its text."""
    data = post.text.encode()
    links = []
    for facet in post.facets:
        start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
        for feature in facet["features"]:
            if feature.get("$type") == "app.bsky.richtext.facet#link":
                chars = len(data[:start].decode(errors="ignore"))
                links.append((chars, chars + len(data[start:end].decode(errors="ignore")),
                              feature["uri"]))  # fmt: skip
    return links


def _invalid(message: str) -> ApiError:
    return ApiError(400, f"Invalid app.bsky.feed.post record: {message}")


class XrpcError(ApiError):
    def __init__(self, status: int, error: str, message: str, headers: dict | None = None):
        super().__init__(status, message, headers)
        self.error = error


class FakeBluesky(FakeServer):
    """A Bluesky PDS look-alike on ``http://127.0.0.1:PORT``.

    ``accounts`` maps handles to app passwords (default ``{"alice.test": "app-pass-1234"}``);
    each gets a ``did:plc:...``. Inspect :attr:`posts`, :attr:`blobs`,
    :attr:`sessions_created` and :attr:`sessions_refreshed`; :meth:`expire_sessions` makes
    every access JWT expired (as time passing would), ``expire_refresh=True`` the refresh
    JWTs too.
    """

    chaos_paths = ("/xrpc/",)

    def __init__(
        self,
        accounts: dict[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        access_lifetime: float = 2 * 3600,
        refresh_lifetime: float = 90 * 86400,
        refresh_grace: float = REFRESH_GRACE,
        upload_limit: int = UPLOAD_LIMIT,
        version: str = CURRENT_VERSION,
        duplicate_status: int = 500,
        session_rate_limit: int = 30,
        session_rate_period: float = 300,
        blob_lifetime: float = 3600,
        verbose: bool = False,
        log=None,
    ):
        super().__init__(host, port, verbose=verbose, log=log)
        accounts = accounts if accounts is not None else {"alice.test": "app-pass-1234"}
        self.accounts = {
            handle: FakeBlueskyAccount(
                handle, password, "did:plc:" + hashlib.sha256(handle.encode()).hexdigest()[:24]
            )
            for handle, password in accounts.items()
        }
        self.access_lifetime = access_lifetime
        self.refresh_lifetime = refresh_lifetime
        self.refresh_grace = refresh_grace
        self.upload_limit = upload_limit
        self.version = version
        self.duplicate_status = duplicate_status
        self.session_rate_limit = session_rate_limit
        self.session_rate_period = session_rate_period
        self.blob_lifetime = blob_lifetime
        self._clear()

    def _clear(self) -> None:
        with self._lock:
            super()._clear()
            self._posts: dict[tuple[str, str], FakePost] = {}
            self._blobs: dict[str, FakeBlob] = {}
            self._access: dict[str, tuple[str, float]] = {}  # token -> (did, expires at)
            self._refresh: dict[str, tuple[str, float]] = {}
            self._revoked: set[str] = set()  # refresh JWTs of deleted sessions
            self._session_windows: dict[str, list[float]] = {}
            self._rkeys = itertools.count(1)
            self.sessions_created = 0
            self.sessions_refreshed = 0
            self.sessions_deleted = 0

    # ---------------------------------------------------------------- inspection

    @property
    def posts(self) -> list[FakePost]:
        """The posts not deleted, in the order they were created."""
        with self._lock:
            return sorted(self._posts.values(), key=lambda p: p.indexed_at)

    @property
    def blobs(self) -> dict[str, FakeBlob]:
        with self._lock:
            return dict(self._blobs)

    def account(self, handle: str) -> FakeBlueskyAccount:
        return self.accounts[handle]

    def expire_sessions(self, *, expire_refresh: bool = False) -> None:
        """Let every access JWT (and with ``expire_refresh`` every refresh JWT) expire."""
        now = self.clock()
        with self._lock:
            self._access = {t: (did, now - 1) for t, (did, _at) in self._access.items()}
            if expire_refresh:
                self._refresh = {t: (did, now - 1) for t, (did, _at) in self._refresh.items()}

    @property
    def image_limit(self) -> int:
        """The most bytes an image of a post may have, by the PDS's ``version``."""
        return MAX_IMAGE if _version(self.version) >= MAX_IMAGE_SINCE else MAX_IMAGE_BEFORE

    # ---------------------------------------------------------------- routing

    def _account_for(self, headers: Headers) -> str | None:
        token = self._bearer(headers)
        with self._lock:
            entry = self._access.get(token or "")
        return entry[0] if entry else None

    ROUTES = {
        ("POST", "com.atproto.server.createSession"): "_create_session",
        ("POST", "com.atproto.server.refreshSession"): "_refresh_session",
        ("POST", "com.atproto.server.deleteSession"): "_delete_session",
        ("GET", "com.atproto.server.getSession"): "_get_session",
        ("POST", "com.atproto.repo.uploadBlob"): "_upload_blob",
        ("POST", "com.atproto.repo.createRecord"): "_create_record",
        ("GET", "com.atproto.repo.getRecord"): "_get_record",
        ("GET", "com.atproto.repo.listRecords"): "_list_records",
        ("POST", "com.atproto.repo.deleteRecord"): "_delete_record",
        ("GET", "com.atproto.sync.getBlob"): "_get_blob",
    }

    def _handle(self, method: str, path: str, query: list, headers: Headers, body: ParsedBody):
        if method == "GET" and path == "/xrpc/_health":
            return json_response(200, {"version": self.version})
        if method == "GET" and not path.startswith("/xrpc/"):
            return self._browse(path)
        nsid = path.removeprefix("/xrpc/")
        try:
            handler = self.ROUTES.get((method, nsid))
            if handler is None:
                if any(n == nsid for _m, n in self.ROUTES):
                    raise XrpcError(405, "InvalidRequest", "Incorrect HTTP method")
                raise XrpcError(501, "MethodNotImplemented", "Method Not Implemented")
            if body.error is not None and "json" in (headers.get("content-type") or ""):
                raise XrpcError(400, "InvalidRequest", f"Invalid JSON body: {body.error}")
            params = dict(query)  # the URL's (key, value) pairs; the last of a key wins
            return getattr(self, handler)(params=params, headers=headers, body=body)
        except XrpcError as exc:
            return json_response(exc.status, {"error": exc.error, "message": exc.message},
                                 exc.headers)  # fmt: skip
        except ApiError as exc:
            return json_response(exc.status, {"error": "InvalidRequest", "message": exc.message},
                                 exc.headers)  # fmt: skip

    # ---------------------------------------------------------------- sessions

    @staticmethod
    def _bearer(headers: Headers) -> str | None:
        scheme, _sep, token = (headers.get("authorization") or "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else None

    def _jwt(self, did: str, scope: str, lifetime: float) -> tuple[str, float]:
        now = self.clock()
        expires = now + lifetime
        claims = {"scope": scope, "sub": did, "iat": int(now), "exp": int(expires),
                  "jti": secrets.token_hex(8)}  # fmt: skip
        header = _b64({"typ": "at+jwt", "alg": "HS256"})
        return f"{header}.{_b64(claims)}.{secrets.token_hex(16)}", expires

    def _new_session(self, account: FakeBlueskyAccount) -> Response:
        access, access_exp = self._jwt(account.did, "com.atproto.appPass", self.access_lifetime)
        refresh, refresh_exp = self._jwt(account.did, "com.atproto.refresh", self.refresh_lifetime)
        with self._lock:
            self._access[access] = (account.did, access_exp)
            self._refresh[refresh] = (account.did, refresh_exp)
        return json_response(
            200,
            {"did": account.did, "handle": account.handle, "accessJwt": access,
             "refreshJwt": refresh, "active": True},
        )  # fmt: skip

    def _throttle_sessions(self, key: str) -> dict:
        now = self.clock()
        with self._lock:
            window = self._session_windows.get(key)
            if window is None or now >= window[0] + self.session_rate_period:
                window = self._session_windows[key] = [now, 0]
            window[1] += 1
            start, count = window
        headers = {
            "ratelimit-limit": str(self.session_rate_limit),
            "ratelimit-remaining": str(max(0, self.session_rate_limit - int(count))),
            "ratelimit-reset": str(int(start + self.session_rate_period)),
            "ratelimit-policy": f"{self.session_rate_limit};w={int(self.session_rate_period)}",
        }
        if count > self.session_rate_limit:
            raise XrpcError(429, "RateLimitExceeded", "Rate Limit Exceeded", headers)
        return headers

    def _create_session(self, body: ParsedBody, **_):
        data = body.json if isinstance(body.json, dict) else {}
        identifier, password = data.get("identifier"), data.get("password")
        if not isinstance(identifier, str) or not isinstance(password, str):
            raise XrpcError(400, "InvalidRequest", 'Input must have the property "identifier"')
        identifier = identifier.lower().removeprefix("@")
        rate_headers = self._throttle_sessions(identifier)
        account = next(
            (a for a in self.accounts.values() if identifier in (a.handle.lower(), a.did)), None
        )
        if account is None or not secrets.compare_digest(account.password, password):
            raise XrpcError(401, "AuthenticationRequired", "Invalid identifier or password")
        with self._lock:
            self.sessions_created += 1
        response = self._new_session(account)
        response.headers.update(rate_headers)
        return response

    def _check(self, table: dict, token: str | None) -> str:
        with self._lock:
            entry = table.get(token or "")
            if entry is None:
                if not token:
                    raise XrpcError(401, "AuthMissing", "Authentication Required")
                if token in self._revoked:
                    raise XrpcError(400, "ExpiredToken", "Token has been revoked")
                raise XrpcError(400, "InvalidToken", "Token could not be verified")
            did, expires = entry
        if self.clock() >= expires:
            raise XrpcError(400, "ExpiredToken", "Token has expired")
        return did

    def _user(self, headers: Headers) -> FakeBlueskyAccount:
        did = self._check(self._access, self._bearer(headers))
        return next(a for a in self.accounts.values() if a.did == did)

    def _refresh_session(self, headers: Headers, **_):
        token = self._bearer(headers)
        did = self._check(self._refresh, token)
        with self._lock:
            _did, expires = self._refresh[token]  # still usable for a while (a lost answer)
            self._refresh[token] = (did, min(expires, self.clock() + self.refresh_grace))
            self.sessions_refreshed += 1
        return self._new_session(next(a for a in self.accounts.values() if a.did == did))

    def _delete_session(self, headers: Headers, **_):
        token = self._bearer(headers)
        self._check(self._refresh, token)
        with self._lock:
            self._refresh.pop(token, None)  # the session cannot be refreshed any more
            self._revoked.add(token)
            self.sessions_deleted += 1
        return json_response(200, {})

    def _get_session(self, headers: Headers, **_):
        account = self._user(headers)
        return json_response(200, {"did": account.did, "handle": account.handle, "active": True})

    # ---------------------------------------------------------------- blobs

    def _upload_blob(self, headers: Headers, **_):
        account = self._user(headers)
        request = self._current_request()
        data = request.body if request is not None else b""
        if not data:
            raise XrpcError(400, "InvalidRequest", "Request encoding (Content-Type) required")
        if len(data) > self.upload_limit:
            raise XrpcError(413, "PayloadTooLarge", "request entity too large")
        declared = (headers.get("content-type") or "").split(";")[0].strip().lower()
        try:
            info = image_info(data)
        except ImageError:
            info = None  # the bytes are kept all the same; only a record looks at them
        sniffed = info[0] if info else (declared or "application/octet-stream")
        blob = FakeBlob(
            _cid(data, 0x55), sniffed, len(data), data, account.did,
            info[1] if info else None, info[2] if info else None, self.clock(),
        )  # fmt: skip
        with self._lock:
            kept = self._blobs.get(blob.cid)
            if kept is not None and kept.referenced:
                blob = kept
            else:
                self._blobs[blob.cid] = blob  # uploaded again: its time starts again
        return json_response(200, {"blob": blob.ref()})

    # ---------------------------------------------------------------- records

    def _repo_of(self, repo, account: FakeBlueskyAccount) -> None:
        if repo not in (account.did, account.handle):
            raise XrpcError(400, "InvalidRequest", "Can only write to your own repo")

    def _create_record(self, headers: Headers, body: ParsedBody, **_):
        account = self._user(headers)
        data = body.json if isinstance(body.json, dict) else {}
        self._repo_of(data.get("repo"), account)
        if data.get("collection") != POST:
            raise XrpcError(400, "InvalidRequest", "This fake PDS stores app.bsky.feed.post only")
        rkey = data.get("rkey")
        if rkey is None:
            rkey = self._next_tid()
        elif not isinstance(rkey, str) or not TID_RE.fullmatch(rkey):
            raise XrpcError(400, "InvalidRequest", f"Invalid record key for {POST}: {rkey!r}")
        record = data.get("record")
        if not isinstance(record, dict):
            raise XrpcError(400, "InvalidRequest", "Input/record must be an object")
        self._validate(record, account)
        uri = f"at://{account.did}/{POST}/{rkey}"
        with self._lock:
            if (account.did, rkey) in self._posts:
                if self.duplicate_status == 409:
                    raise XrpcError(409, "RecordAlreadyExists", f"Record already exists: {uri}")
                raise XrpcError(500, "InternalServerError", "Internal Server Error")
            post = FakePost(
                uri, _cid(json.dumps(record, sort_keys=True).encode(), 0x71), account.did, rkey,
                record, self.clock(),
            )  # fmt: skip
            self._posts[(account.did, rkey)] = post
            for image in post.images:
                self._blobs[image["image"]["ref"]["$link"]].referenced = True
        return json_response(
            200, {"uri": uri, "cid": post.cid, "validationStatus": "valid",
                  "commit": {"cid": post.cid, "rev": self._next_tid()}},
        )  # fmt: skip

    def _next_tid(self) -> str:
        number = (int(self.clock() * 1_000_000) << 10) | (next(self._rkeys) & 1023)
        return "".join(B32_SORT[(number >> (5 * i)) & 31] for i in reversed(range(13)))

    def _validate(self, record: dict, account: FakeBlueskyAccount) -> None:
        if record.get("$type", POST) != POST:
            raise _invalid(f"Record/$type must be {POST}")
        text = record.get("text")
        if not isinstance(text, str):
            raise _invalid('Record must have the property "text"')
        problem = bluesky_text_problem(text)
        if problem:
            raise _invalid(problem)
        created = record.get("createdAt")
        if not isinstance(created, str) or not DATETIME_RE.fullmatch(created):
            raise _invalid("Record/createdAt must be an valid atproto datetime")
        try:
            datetime.fromisoformat(created.replace("Z", "+00:00"))
        except ValueError:
            raise _invalid("Record/createdAt must be an valid atproto datetime") from None
        langs = record.get("langs", [])
        if not isinstance(langs, list) or len(langs) > 3:
            raise _invalid("Record/langs must be an array of at most 3 languages")
        if not all(isinstance(lang, str) and LANGUAGE_RE.fullmatch(lang) for lang in langs):
            raise _invalid("Record/langs must contain valid language codes")
        self._validate_facets(record.get("facets", []), text.encode())
        if "embed" in record:
            self._validate_embed(record["embed"], account)
        if "labels" in record:
            labels = record["labels"]
            values = labels.get("values") if isinstance(labels, dict) else None
            if labels.get("$type") != "com.atproto.label.defs#selfLabels" or not (
                isinstance(values, list)
                and len(values) <= 10
                and all(isinstance(v, dict) and isinstance(v.get("val"), str) for v in values)
            ):
                raise _invalid("Record/labels must be self-labels")

    def _validate_facets(self, facets, text: bytes) -> None:
        if not isinstance(facets, list):
            raise _invalid("Record/facets must be an array")
        for i, facet in enumerate(facets):
            where = f"Record/facets/{i}"
            index = facet.get("index") if isinstance(facet, dict) else None
            if not isinstance(index, dict):
                raise _invalid(f'{where} must have the property "index"')
            start, end = index.get("byteStart"), index.get("byteEnd")
            if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end):
                raise _invalid(f"{where}/index must have 0 <= byteStart < byteEnd")
            if end > len(text):
                raise _invalid(f"{where}/index/byteEnd is past the end of the text")
            features = facet.get("features")
            if not isinstance(features, list) or not features:
                raise _invalid(f'{where} must have the property "features"')
            for feature in features:
                kind = feature.get("$type") if isinstance(feature, dict) else None
                if kind == "app.bsky.richtext.facet#link":
                    uri = feature.get("uri")
                    if not isinstance(uri, str) or not re.match(r"[a-z][a-z0-9+.-]*:", uri):
                        raise _invalid(f"{where}/features/0/uri must be a valid uri")
                elif kind not in ("app.bsky.richtext.facet#mention", "app.bsky.richtext.facet#tag"):
                    raise _invalid(f"{where}/features has an unknown feature {kind!r}")

    def _validate_embed(self, embed, account: FakeBlueskyAccount) -> None:
        if not isinstance(embed, dict) or embed.get("$type") != "app.bsky.embed.images":
            raise _invalid("Record/embed must be app.bsky.embed.images (in this fake)")
        images = embed.get("images")
        if not isinstance(images, list):
            raise _invalid('Record/embed must have the property "images"')
        if len(images) > MAX_IMAGES:
            raise _invalid(f"Record/embed/images must not have more than {MAX_IMAGES} elements")
        for i, image in enumerate(images):
            where = f"Record/embed/images/{i}"
            if not isinstance(image, dict) or not isinstance(image.get("alt"), str):
                raise _invalid(f'{where} must have the property "alt"')
            ref = image.get("image")
            link = ref.get("ref", {}).get("$link") if isinstance(ref, dict) else None
            if not isinstance(ref, dict) or ref.get("$type") != "blob" or not link:
                raise _invalid(f"{where}/image should be a blob ref")
            with self._lock:
                blob = self._blobs.get(link)
                if blob is not None and not blob.referenced:
                    if self.clock() >= blob.uploaded_at + self.blob_lifetime:
                        del self._blobs[link]  # never used in time: deleted
                        blob = None
            if blob is None or blob.did != account.did:
                raise XrpcError(400, "BlobNotFound", f"Could not find blob: {link}")
            if not blob.mime_type.startswith("image/"):
                raise _invalid(f"{where}/image mimeType is not accepted: {blob.mime_type}")
            if blob.size > self.image_limit:
                raise _invalid(f"{where}/image file too large. {self.image_limit} bytes maximum")
            ratio = image.get("aspectRatio")
            if ratio is not None and not (
                isinstance(ratio, dict)
                and all(
                    isinstance(ratio.get(k), int)
                    and not isinstance(ratio.get(k), bool)
                    and ratio[k] >= 1
                    for k in ("width", "height")
                )
            ):
                raise _invalid(f"{where}/aspectRatio must have integer width and height >= 1")

    def _get_record(self, params: dict, **_):
        did = self._did_of(params.get("repo"))
        rkey = params.get("rkey", "")
        with self._lock:
            post = self._posts.get((did, rkey)) if params.get("collection") == POST else None
        if post is None:
            uri = f"at://{params.get('repo')}/{params.get('collection')}/{rkey}"
            raise XrpcError(400, "RecordNotFound", f"Could not locate record: {uri}")
        return json_response(200, {"uri": post.uri, "cid": post.cid, "value": post.value})

    def _list_records(self, params: dict, **_):
        did = self._did_of(params.get("repo"))
        try:
            limit = int(params.get("limit") or 50)
        except ValueError:
            limit = 0
        if not 1 <= limit <= 100:
            raise XrpcError(400, "InvalidRequest", "limit must be between 1 and 100")
        with self._lock:
            posts = [p for (d, _k), p in self._posts.items() if d == did]
        posts = sorted(posts, key=lambda p: p.rkey, reverse=True)
        if params.get("collection") != POST:
            posts = []
        return json_response(
            200, {"records": [{"uri": p.uri, "cid": p.cid, "value": p.value}
                              for p in posts[:limit]]},
        )  # fmt: skip

    def _get_blob(self, params: dict, **_):
        with self._lock:
            blob = self._blobs.get(params.get("cid", ""))
        if blob is None or blob.did != params.get("did"):
            raise XrpcError(400, "BlobNotFound", "Blob not found")
        return Response(200, blob.data, blob.mime_type)

    # ---------------------------------------------------------------- HTML pages

    def _browse(self, path: str) -> Response:
        """The pages a person looks at, where bsky.app has them: ``/`` lists the posts (newest
        first) with their images (served by ``com.atproto.sync.getBlob``) and alt text,
        ``/profile/:actor`` an account's (its handle or DID), ``/profile/:actor/post/:rkey``
        one post (where the plugin's post links point when ``BLUESKY_WEB_URL`` names this
        fake)."""
        html_type = "text/html; charset=utf-8"
        parts = [unquote(part) for part in path.split("/")[1:]]
        handles = {account.did: account.handle for account in self.accounts.values()}
        posts = list(reversed(self.posts))
        title = "All posts"
        if path != "/":
            did = next((d for d, h in handles.items() if parts[1:2] in ([d], [h])), None)
            if parts[0] != "profile" or did is None or len(parts) not in (2, 4):
                return self._not_found()
            posts = [post for post in posts if post.did == did]
            title = f"@{handles[did]}"
            if len(parts) == 4:
                posts = [post for post in posts if parts[2:] == ["post", post.rkey]]
                if not posts:
                    return self._not_found()
                title = f"@{handles[did]}: post {posts[0].rkey}"
        articles = []
        for post in posts:
            figures = [
                _pages.figure(
                    f"/xrpc/com.atproto.sync.getBlob?did={post.did}"
                    f"&cid={image['image']['ref']['$link']}",
                    image["alt"],
                )
                for image in post.images
            ]
            handle = handles.get(post.did, post.did)
            link = f"/profile/{post.did}/post/{quote(post.rkey)}"  # as the plugin links it
            meta = f"@{html.escape(handle)} &middot; "
            meta += f'<a href="{html.escape(link, quote=True)}">'
            meta += f"{html.escape(post.value.get('createdAt', ''))}</a>"
            if post.langs:
                meta += f" &middot; language: {html.escape(', '.join(post.langs))}"
            content = _pages.format_content(post.text, _facet_links(post))
            articles.append(_pages.article(meta, content, figures))
        page = _pages.feed_page(articles, title, "FakeBluesky", "Bluesky")
        return Response(200, page, html_type)

    def _not_found(self) -> Response:
        page = _pages.not_found_page("FakeBluesky", "Bluesky")
        return Response(404, page, "text/html; charset=utf-8")

    def _did_of(self, repo) -> str:
        for account in self.accounts.values():
            if repo in (account.did, account.handle):
                return account.did
        raise XrpcError(400, "RepoNotFound", f"Could not find repo: {repo}")

    def _delete_record(self, headers: Headers, body: ParsedBody, **_):
        account = self._user(headers)
        data = body.json if isinstance(body.json, dict) else {}
        self._repo_of(data.get("repo"), account)
        with self._lock:
            self._posts.pop((account.did, str(data.get("rkey"))), None)
        return json_response(200, {"commit": {"cid": _cid(b"", 0x71), "rev": self._next_tid()}})
