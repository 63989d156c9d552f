"""Mastodon's API as FakeMastodon serves it: routing, auth, rate limits,
instance and account endpoints, statuses, and the HTML pages (OAuth is in ``_oauth.py``)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

from . import _pages
from ._counting import count_graphemes, mastodon_length
from ._http import ApiError, Headers, Params, ParsedBody, Response, json_response
from ._media import MediaAPI, parse_focus
from ._models import FakeMedia, FakeStatus, FakeStatusEdit
from ._oauth import OAuthAPI

VISIBILITIES = ("public", "unlisted", "private", "direct")
IDEMPOTENCY_TTL = 3600
# Handlers limited per user as well (rack-attack's throttle_api_media and throttle_api_delete).
PER_USER_THROTTLES = {
    "_upload_media_v1": "media",
    "_upload_media_v2": "media",
    "_delete_status": "delete",
}
NOT_READY = "Cannot attach files that have not finished processing. Try again in a moment!"
# What a server that is not Mastodon answers when it fails inside (``form_edits_fail``,
# ``instance_v2="html"``): an HTML page, as web frameworks render an unhandled error.
INTERNAL_ERROR = "Internal Error"


def _html_error(status: int, message: str) -> Response:
    """An error as an HTML page whose title is ``message``."""
    body = _pages.page(message, f"<h1>{html.escape(message)}</h1><p>Status {status}.</p>")
    return Response(status, body, "text/html; charset=utf-8")


def _timestamp(moment: datetime, digits: int = 3) -> str:
    moment = moment.astimezone(UTC)
    fraction = f"{moment.microsecond:06d}"[:digits]
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + fraction + "Z"


def _truthy(value: str | None) -> bool:
    """ActiveModel::Type::Boolean casting."""
    if value is None:
        return False
    return value.lower() not in ("", "0", "f", "false", "off")


class MastodonAPI(MediaAPI, OAuthAPI):
    """Mixin of :class:`FakeMastodon` with the endpoint handlers. Each handler
    gets keyword arguments (params, user, headers, and the URL's named groups)
    and returns a Response or raises ApiError."""

    def _user_for(self, headers: Headers) -> tuple[str | None, str | None]:
        """(token, username) from ``Authorization: Bearer``; (None, None) if
        absent; raises 401 if present but unknown."""
        value = headers.get("authorization")
        if value is None:
            return None, None
        scheme, _, token = value.strip().partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and token in self.tokens:
            return token, self.tokens[token]
        raise ApiError(401, "The access token is invalid")

    def _account_for(self, headers: Headers) -> str | None:
        """The username of a valid token, else None (for recording)."""
        try:
            return self._user_for(headers)[1]
        except ApiError:
            return None

    def _throttle(self, name: str, key: str, *, refund: bool = False) -> dict:
        """Count one request of ``key`` (a token or a user) in a fixed window and return its
        X-RateLimit headers; raise 429 when over the limit (with ``refund``, the refused
        request is not counted: Mastodon's RateLimiter rolls back with the status)."""
        limit = int(self.limits[f"{name}_rate_limit"])
        period = float(self.limits[f"{name}_rate_period"])
        now = self.clock()
        with self._lock:
            window = self._throttles.get((name, key))
            if window is None or now >= window[0] + period:
                start = now - now % period if self.aligned_rate_windows else now
                window = self._throttles[(name, key)] = [start, 0]
            window[1] += 1
            start, count = window
            if refund and count > limit:
                window[1] -= 1
        reset = datetime.fromtimestamp(start + period, UTC)
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - int(count))),
            "X-RateLimit-Reset": _timestamp(reset, digits=6),
        }
        if count > limit:
            raise ApiError(429, "Too many requests", headers)
        return headers

    def _account_json(self, username: str) -> dict:
        base = self.base_url
        with self._lock:
            count = sum(1 for s in self._statuses if s.account == username)
        return {
            "id": self._account_ids[username],
            "username": username,
            "acct": username,
            "display_name": username,
            "locked": False,
            "bot": False,
            "group": False,
            "discoverable": True,
            "created_at": "2024-01-01T00:00:00.000Z",
            "note": "",
            "url": f"{base}/@{username}",
            "uri": f"{base}/users/{username}",
            "avatar": f"{base}/avatars/original/missing.png",
            "avatar_static": f"{base}/avatars/original/missing.png",
            "header": f"{base}/headers/original/missing.png",
            "header_static": f"{base}/headers/original/missing.png",
            "followers_count": 0,
            "following_count": 0,
            "statuses_count": count,
            "last_status_at": None,
            "emojis": [],
            "fields": [],
        }

    def _status_json(self, status: FakeStatus, *, source: bool = False) -> dict:
        data = {
            "id": status.id,
            "created_at": _timestamp(status.created_at),
            "in_reply_to_id": None,
            "in_reply_to_account_id": None,
            "sensitive": status.sensitive,
            "spoiler_text": status.spoiler_text,
            "visibility": status.visibility,
            "language": status.language,
            "uri": f"{self.base_url}/users/{status.account}/statuses/{status.id}",
            "url": status.url,
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
            "edited_at": _timestamp(status.edited_at) if status.edited_at else None,
            "content": _pages.format_content(status.text),
            "reblog": None,
            "application": {"name": "FakeMastodon", "website": None},
            "account": self._account_json(status.account),
            "media_attachments": [self._media_json(m) for m in status.media],
            "mentions": [],
            "tags": [],
            "emojis": [],
            "card": None,
            "poll": None,
        }
        if source:  # DELETE returns the source text for "delete & redraft"
            data["text"] = status.text
        # A hostile or broken server: what it says of a status in place of the truth.
        data.update(self.status_fields)
        return data

    def _configuration(self) -> dict:
        lim = self.limits
        return {
            "urls": {"streaming": f"ws://{self.host}"},
            "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
            "statuses": {
                "max_characters": lim["max_characters"],
                "max_media_attachments": lim["max_media_attachments"],
                "characters_reserved_per_url": lim["characters_reserved_per_url"],
            },
            "media_attachments": {
                "supported_mime_types": list(lim["supported_mime_types"]),
                "description_limit": lim["description_limit"],
                "image_size_limit": lim["image_size_limit"],
                "image_matrix_limit": lim["image_matrix_limit"],
                "video_size_limit": lim["video_size_limit"],
                "video_frame_rate_limit": lim["video_frame_rate_limit"],
                "video_matrix_limit": lim["video_matrix_limit"],
            },
            "polls": {
                "max_options": 4,
                "max_characters_per_option": 50,
                "min_expiration": 300,
                "max_expiration": 2629746,
            },
            "translation": {"enabled": False},
        }

    # ---------------------------------------------------------------- routing

    # (method, path pattern, handler name, auth: "required" / "optional" / "none")
    ROUTES = [
        ("GET", r"/api/v1/instance", "_instance_v1", "none"),
        ("GET", r"/api/v2/instance", "_instance_v2", "none"),
        ("GET", r"/api/v1/accounts/verify_credentials", "_verify_credentials", "required"),
        ("GET", r"/api/v1/accounts/lookup", "_account_lookup", "optional"),
        ("GET", r"/api/v1/accounts/(?P<id>[^/]+)/statuses", "_account_statuses", "optional"),
        ("POST", r"/api/v2/media", "_upload_media_v2", "required"),
        ("POST", r"/api/v1/media", "_upload_media_v1", "required"),
        ("GET", r"/api/v1/media/(?P<id>[^/]+)", "_get_media", "required"),
        ("PUT", r"/api/v1/media/(?P<id>[^/]+)", "_update_media", "required"),
        ("POST", r"/api/v1/statuses", "_create_status", "required"),
        ("GET", r"/api/v1/statuses/(?P<id>[^/]+)", "_get_status", "optional"),
        ("PUT", r"/api/v1/statuses/(?P<id>[^/]+)", "_edit_status", "required"),
        ("DELETE", r"/api/v1/statuses/(?P<id>[^/]+)", "_delete_status", "required"),
        ("GET", r"/\.well-known/oauth-authorization-server", "_oauth_metadata", "none"),
        ("POST", r"/api/v1/apps", "_register_app", "none"),
        ("GET", r"/oauth/authorize", "_authorize_page", "none"),
        ("POST", r"/oauth/authorize", "_authorize_decision", "none"),
        ("POST", r"/oauth/token", "_token", "none"),
        ("POST", r"/oauth/revoke", "_revoke", "none"),
        ("GET", r"/", "_page_index", "none"),
        ("GET", r"/@(?P<name>[^/]+)", "_page_account", "none"),
        ("GET", r"/@(?P<name>[^/]+)/(?P<id>[^/]+)", "_page_status", "none"),
        ("GET", r"/media/(?P<id>[^/]+)/(?P<filename>[^/]+)", "_media_file", "none"),
    ]
    _COMPILED = [(m, re.compile(p), h, a) for m, p, h, a in ROUTES]

    def _handle(self, method: str, path: str, query: list, headers: Headers, body: ParsedBody):
        """Route one request and return a Response (never raises ApiError)."""
        if len(path) > 1:
            path = path.rstrip("/")  # Rails ignores a trailing slash
        is_api = path.startswith("/api/")
        rate_headers: dict = {}
        self._forget_unattached_media()
        try:
            for route_method, pattern, handler, auth in self._COMPILED:
                match = pattern.fullmatch(path)
                if match is None or route_method != method:
                    continue
                token = username = None
                if auth != "none":
                    token, username = self._user_for(headers)
                    if auth == "required" and username is None:
                        raise ApiError(401, "The access token is invalid")
                if token is not None:
                    self._check_scope(token, handler)
                    rate_headers = self._throttle("api", token)
                    family = PER_USER_THROTTLES.get(handler)
                    if family and username is not None:
                        rate_headers = self._throttle(family, username)
                if body.error is not None:
                    raise ApiError(400, f"Error processing request: {body.error}")
                params = Params(query, body)
                response = getattr(self, handler)(
                    params=params, user=username, headers=headers, **match.groupdict()
                )
                response.headers = {**rate_headers, **response.headers}
                return response
            if not is_api and method == "GET":
                return Response(404, _pages.not_found_page(), "text/html; charset=utf-8")
            raise ApiError(404, "Record not found")
        except ApiError as exc:
            if self.html_errors:
                response = _html_error(exc.status, exc.message)
                response.headers = {**rate_headers, **exc.headers}
                return response
            return json_response(
                exc.status, {"error": exc.message}, {**rate_headers, **exc.headers}
            )

    # ---------------------------------------------------------------- instance & accounts

    def _instance_v2(self, **_):
        if self.instance_v2 == "html":
            return _html_error(500, INTERNAL_ERROR)
        if self.instance_v2 in ("500", "404"):
            status = int(self.instance_v2)
            raise ApiError(status, "Record not found" if status == 404 else "Internal error")
        return json_response(
            200,
            {
                "domain": self.host,
                "title": "FakeMastodon",
                "version": self.version,
                "source_url": self.source_url,
                "description": "A local stand-in for a Mastodon server (wagtail-syndicate).",
                "usage": {"users": {"active_month": len(self._account_ids)}},
                "languages": ["en"],
                "configuration": self._configuration(),
                "registrations": {"enabled": False, "approval_required": False, "message": None},
                "contact": {"email": "", "account": None},
                "rules": [],
            },
        )

    def _instance_v1(self, **_):
        return json_response(
            200,
            {
                "uri": self.host,
                "title": "FakeMastodon",
                "short_description": "A local stand-in for a Mastodon server.",
                "description": "",
                "email": "",
                "version": self.version,
                "urls": {"streaming_api": f"ws://{self.host}"},
                "stats": {"user_count": len(self._account_ids), "status_count": 0},
                "languages": ["en"],
                "registrations": False,
                "configuration": self._configuration(),
            },
        )

    def _verify_credentials(self, user, **_):
        data = self._account_json(user)
        data["source"] = {
            "privacy": "public",
            "sensitive": False,
            "language": None,
            "note": "",
            "fields": [],
        }
        return json_response(200, data)

    def _account_lookup(self, params, **_):
        acct = (params.scalar("acct") or "").lstrip("@").split("@")[0]
        if acct not in self._account_ids:
            raise ApiError(404, "Record not found")
        return json_response(200, self._account_json(acct))

    def _account_statuses(self, params, user, id, **_):
        owner = next((u for u, i in self._account_ids.items() if i == id), None)
        if owner is None:
            raise ApiError(404, "Record not found")
        try:
            limit = min(40, max(1, int(params.scalar("limit") or 20)))
        except ValueError:
            limit = 20
        visible = VISIBILITIES if user == owner else ("public", "unlisted")
        with self._lock:
            found = [s for s in self._statuses if s.account == owner and s.visibility in visible]
            if (max_id := params.scalar("max_id") or "").isdigit():  # older than max_id
                found = [s for s in found if int(s.id) < int(max_id)]
            found = sorted(found, key=lambda s: int(s.id), reverse=True)[:limit]
            return json_response(200, [self._status_json(s) for s in found])

    # ---------------------------------------------------------------- statuses

    def _resolve_media(self, user, ids, status: FakeStatus | None = None) -> list[FakeMedia]:
        """Mastodon's validate_media!: own, unattached (or already on the
        status being edited), processed, at most max_media_attachments."""
        if not ids:
            return []
        maximum = int(self.limits["max_media_attachments"])
        if len(ids) > maximum:
            raise ApiError(422, f"Cannot attach more than {maximum} files")
        found, missing = [], []
        for media_id in dict.fromkeys(ids):
            media = self._media.get(media_id)
            attachable = media is not None and media.account == user
            if attachable and media.status_id is not None:
                attachable = status is not None and media.status_id == status.id
            (found if attachable else missing).append(media if attachable else media_id)
        if missing:
            raise ApiError(
                422, f"Media {', '.join(missing)} not found or already attached to another post"
            )
        if not all([self._processing_done(m) for m in found]):
            raise ApiError(422, NOT_READY)
        return found

    def _check_text(self, text: str, spoiler_text: str, media: list) -> None:
        if not text.strip() and not media:
            raise ApiError(422, "Validation failed: Text can't be blank")
        maximum = int(self.limits["max_characters"])
        if self.full_length_links:
            if count_graphemes(spoiler_text) + count_graphemes(text) > maximum:
                raise ApiError(self.too_long_status, "Status is too long")
            return
        url_length = int(self.limits["characters_reserved_per_url"])
        if mastodon_length(text, spoiler_text, url_length) > maximum:
            raise ApiError(422, f"Validation failed: Text character limit of {maximum} exceeded")

    def _create_status(self, params, user, headers, **_):
        key = headers.get("idempotency-key") if self.idempotency else None
        now = self.clock()
        with self._lock:
            if key:
                remembered = self._idempotency.get((user, key))
                if remembered and remembered[1] > now:
                    original = next((s for s in self._statuses if s.id == remembered[0]), None)
                    if original is None:  # deleted since: Status.find fails
                        raise ApiError(404, "Record not found")
                    return json_response(200, self._status_json(original))
            text = params.scalar("status") or ""
            visibility = params.scalar("visibility") or "public"
            if visibility not in VISIBILITIES:
                raise ApiError(422, "Validation failed: Visibility is not included in the list")
            spoiler_text = params.scalar("spoiler_text") or ""
            media = self._resolve_media(user, params.array("media_ids"))
            self._check_text(text, spoiler_text, media)
            limit_headers = self._throttle("status", user, refund=True)
            status_id = str(next(self._status_ids))
            status = FakeStatus(
                id=status_id,
                text=text,
                media=media,
                visibility=visibility,
                spoiler_text=spoiler_text,
                sensitive=_truthy(params.scalar("sensitive")) or bool(spoiler_text.strip()),
                language=params.scalar("language") or None,
                account=user,
                url=f"{self.base_url}/@{user}/{status_id}",
                idempotency_key=key,
                created_at=datetime.fromtimestamp(now, UTC),
            )
            for m in media:
                m.status_id = status_id
            self._statuses.append(status)
            if key:
                self._idempotency[(user, key)] = (status_id, now + IDEMPOTENCY_TTL)
            return json_response(200, self._status_json(status), limit_headers)

    def _find_status(self, id: str) -> FakeStatus | None:
        while id in self._former_ids:  # an id a status had before an edit (new_id_per_edit)
            id = self._former_ids[id]
        return next((s for s in self._statuses if s.id == id), None)

    def _get_status(self, user, id, **_):
        with self._lock:
            status = self._find_status(id)
            if status is None or (
                status.account != user and status.visibility not in ("public", "unlisted")
            ):
                raise ApiError(404, "Record not found")
            return json_response(200, self._status_json(status))

    def _edit_status(self, params, user, id, **_):
        with self._lock:
            status = self._find_status(id)
            if status is None or status.account != user:
                raise ApiError(404, "Record not found")
            if self.form_edits_fail and any(
                key.startswith("media_attributes[]") for key, _ in params.pairs
            ):
                return _html_error(500, INTERNAL_ERROR)
            text = params.scalar("status") or ""
            spoiler_text = params.scalar("spoiler_text") or ""
            media = self._resolve_media(user, params.array("media_ids"), status)
            updates = []
            for attrs in params.hash_array("media_attributes"):
                target = next((m for m in media if m.id == attrs.get("id")), None)
                if target is None:
                    continue
                description = attrs.get("description")
                if description is not None:
                    self._check_description(description)
                focus = parse_focus(attrs.get("focus") or "")  # blank: left as it was
                updates.append((target, description, focus is not None, focus))
            if self.partial_edits:  # the text changes; the media stay as they were
                media, updates = status.media, []
            self._check_text(text, spoiler_text, media)
            status.edits.append(
                FakeStatusEdit(
                    text=status.text,
                    spoiler_text=status.spoiler_text,
                    sensitive=status.sensitive,
                    language=status.language,
                    media=[(m.id, m.description, m.focus) for m in status.media],
                    created_at=status.edited_at or status.created_at,
                )
            )
            for target, description, has_focus, focus in updates:
                if description is not None:
                    target.description = description
                if has_focus:
                    target.focus = focus
            for m in media:
                m.status_id = status.id  # media dropped from the list stay attached
            status.text = text
            status.spoiler_text = spoiler_text
            status.sensitive = _truthy(params.scalar("sensitive")) or bool(spoiler_text.strip())
            if params.scalar("language"):
                status.language = params.scalar("language")
            status.media = media
            status.edited_at = datetime.fromtimestamp(self.clock(), UTC)
            if self.new_id_per_edit:
                new_id = str(next(self._status_ids))
                self._former_ids[status.id] = new_id
                status.id, status.url = new_id, f"{self.base_url}/@{user}/{new_id}"
                for m in media:
                    m.status_id = new_id
            return json_response(200, self._status_json(status))

    def _delete_status(self, user, id, **_):
        with self._lock:
            status = self._find_status(id)
            if status is None or status.account != user:
                raise ApiError(404, "Record not found")
            self._statuses.remove(status)
            for m in status.media:
                m.status_id = None
            return json_response(200, self._status_json(status, source=True))

    # ---------------------------------------------------------------- HTML pages

    def _html(self, body: bytes, status: int = 200) -> Response:
        return Response(status, body, "text/html; charset=utf-8")

    def _page_index(self, **_):
        with self._lock:
            statuses = [self._status_json(s) for s in reversed(self._statuses)]
        return self._html(_pages.index_page(statuses))

    def _page_account(self, name, **_):
        if name not in self._account_ids:
            return self._html(_pages.not_found_page(), 404)
        with self._lock:
            mine = [self._status_json(s) for s in reversed(self._statuses) if s.account == name]
        return self._html(_pages.index_page(mine, title=f"Posts by @{name}"))

    def _page_status(self, name, id, **_):
        with self._lock:
            status = self._find_status(id)
            if status is None or status.account != name:
                return self._html(_pages.not_found_page(), 404)
            data = self._status_json(status)
        return self._html(_pages.status_page(data))
