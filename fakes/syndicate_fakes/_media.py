"""Media endpoints of FakeMastodon: upload (v1 and v2), poll, update, serve."""

from __future__ import annotations

import re

from . import _pages
from ._http import ApiError, Response, json_response
from ._images import ImageError, image_info
from ._models import FakeMedia

UNVERIFIED_FILE = "File type of uploaded media could not be verified"


def _human_size(size: int) -> str:
    """ActiveSupport's number_to_human_size (3 significant digits)."""
    if size < 1024:
        return f"{size} Bytes"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):  # noqa: B007 - the unit reached is used below
        value /= 1024
        if value < 1024:
            break
    decimals = max(0, 3 - len(str(int(value))))
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} {unit}"


_LEADING_NUMBER = re.compile(r"\s*[+-]?(?:\d+(?:_\d+)*)?(?:\.\d+(?:_\d+)*)?(?:[eE][+-]?\d+)?")


def _to_f(text: str) -> float:
    """Ruby's String#to_f: the number the text starts with, 0.0 when there is none."""
    number = _LEADING_NUMBER.match(text).group(0).strip().replace("_", "")
    try:
        return float(number)
    except ValueError:
        return 0.0


def parse_focus(value: str) -> tuple[float, float | None] | None:
    """A focus as MediaAttachment#focus= reads it: None (leave the focus as it is) when blank,
    else ``"x,y".split(",").map(&:to_f)``; nothing is checked (no range, no count)."""
    if value.strip() == "":
        return None
    parts = value.split(",")
    while parts and parts[-1] == "":  # Ruby's split drops trailing empty fields
        parts.pop()
    x = _to_f(parts[0]) if parts else 0.0
    return (x, _to_f(parts[1]) if len(parts) > 1 else None)


class MediaAPI:
    """Mixin of :class:`FakeMastodon` (uses its lock, limits and state)."""

    def _media_url(self, media: FakeMedia) -> str:
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", media.filename.rsplit("/", 1)[-1]) or "file"
        return f"{self.base_url}/media/{media.id}/{safe}"

    def _media_json(self, media: FakeMedia) -> dict:
        url = self._media_url(media)
        meta: dict = {}
        if media.width and media.height:
            meta["original"] = {
                "width": media.width,
                "height": media.height,
                "size": f"{media.width}x{media.height}",
                "aspect": media.width / media.height,
            }
        if media.focus is not None:
            meta["focus"] = {"x": media.focus[0], "y": media.focus[1]}
        return {
            "id": media.id,
            "type": "image",
            "url": url if media.processed else None,
            "preview_url": url,
            "remote_url": None,
            "preview_remote_url": None,
            "text_url": None,
            "meta": meta,
            "description": media.description or None,
            "blurhash": None,
        }

    def _upload_media_v2(self, **kwargs):
        return self._upload_media(
            polls=int(self.processing_polls), seconds=float(self.processing_seconds), **kwargs
        )

    def _upload_media_v1(self, **kwargs):
        return self._upload_media(polls=0, seconds=0.0, **kwargs)

    def _processing_done(self, media: FakeMedia) -> bool:
        """Whether ``media`` is processed, marking it so once its polls are used up and its
        seconds have passed (by the fake's clock). Call with the lock held."""
        if not media.processed and media.polls_left <= 0:
            if self.clock() >= self._ready_at.get(media.id, 0.0):
                media.processed = True
                self._ready_at.pop(media.id, None)
        return media.processed

    def _check_description(self, description: str) -> str:
        limit = int(self.limits["description_limit"])
        if len(description) > limit:  # Rails counts code points here
            raise ApiError(
                422, f"Validation failed: Description is too long (maximum is {limit} characters)"
            )
        return description

    def _upload_media(self, params, user, polls, seconds, **_):
        uploads = params.files.get("file")
        if not uploads:
            raise ApiError(422, "Validation failed: File can't be blank")
        filename, declared_type, data = uploads[-1]
        limits = self.limits
        supported = limits["supported_mime_types"]
        if len(data) > int(limits["image_size_limit"]):
            size = _human_size(int(limits["image_size_limit"]))
            raise ApiError(422, f"Validation failed: File file size must be less than {size}")
        try:
            info = image_info(data)
        except ImageError:
            raise ApiError(422, UNVERIFIED_FILE) from None
        if info is None:
            if declared_type in supported:
                raise ApiError(422, UNVERIFIED_FILE)
            raise ApiError(422, "Validation failed: File content type is invalid")
        mime, width, height = info
        if mime not in supported:
            raise ApiError(422, "Validation failed: File content type is invalid")
        if width * height > int(limits["image_matrix_limit"]):
            raise ApiError(422, f"{width}x{height} images are not supported")
        description = self._check_description(params.scalar("description") or "")
        focus = parse_focus(params.scalar("focus") or "")
        with self._lock:
            media = FakeMedia(
                id=str(next(self._media_ids)),
                filename=filename,
                content_type=mime,
                data=data,
                description=description,
                focus=focus,
                width=width,
                height=height,
                processed=polls <= 0 and seconds <= 0,
                account=user,
                declared_content_type=declared_type,
                polls_left=max(0, polls),
                uploaded_at=self.clock(),
            )
            self._media[media.id] = media
            if seconds > 0:
                self._ready_at[media.id] = self.clock() + seconds
            return json_response(200 if media.processed else 202, self._media_json(media))

    def _forget_unattached_media(self) -> None:
        """Delete the media no status uses once ``unattached_media_lifetime`` has passed since
        their upload, as Mastodon's MediaCleanupScheduler does."""
        cutoff = self.clock() - float(self.limits["unattached_media_lifetime"])
        with self._lock:
            for media in list(self._media.values()):
                uploaded = media.uploaded_at
                if media.status_id is None and uploaded is not None and uploaded <= cutoff:
                    del self._media[media.id]
                    self._ready_at.pop(media.id, None)

    def _own_unattached_media(self, id: str, user: str) -> FakeMedia:
        media = self._media.get(id)
        if media is None or media.account != user or media.status_id is not None:
            raise ApiError(404, "Record not found")
        return media

    def _get_media(self, user, id, **_):
        with self._lock:
            media = self._own_unattached_media(id, user)
            if self._processing_done(media):
                return json_response(200, self._media_json(media))
            if media.polls_left > 0:
                media.polls_left -= 1
                self._processing_done(media)  # may finish "in the background" after this poll
            return json_response(206, {**self._media_json(media), "url": None})

    def _update_media(self, params, user, id, **_):
        description = focus = None
        if params.has("description"):
            description = self._check_description(params.scalar("description") or "")
        if params.has("focus"):
            focus = parse_focus(params.scalar("focus") or "")
        with self._lock:
            media = self._own_unattached_media(id, user)
            if description is not None:
                media.description = description
            if focus is not None:
                media.focus = focus
            processed = self._processing_done(media)
            return json_response(200 if processed else 206, self._media_json(media))

    def _media_file(self, id, filename, **_):
        with self._lock:
            media = self._media.get(id)
            if media is None or not self._media_url(media).endswith("/" + filename):
                return Response(404, _pages.not_found_page(), "text/html; charset=utf-8")
            return Response(200, media.data, media.content_type)
