"""Mastodon: a thin client for the few endpoints used, and the network built on it."""

import html
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wagtail_syndicate.conf import get_setting
from wagtail_syndicate.exceptions import NetworkError, PermanentNetworkError, TransientNetworkError
from wagtail_syndicate.networks.base import (
    AccountInfo,
    Credentials,
    Network,
    Published,
    UploadedMedia,
)
from wagtail_syndicate.networks.http import HttpClient, Upload
from wagtail_syndicate.networks.limits import Limits
from wagtail_syndicate.networks.mastodon.instance import (
    limits_from_instance,
    remember_software,
    server_label,
)
from wagtail_syndicate.networks.post import Media, Post

# A post's visibility on Mastodon (the account's default, which a page may change).
VISIBILITIES = (
    ("public", gettext_lazy("Public")),
    ("unlisted", gettext_lazy("Quiet public")),
    ("private", gettext_lazy("Followers only")),
    ("direct", gettext_lazy("Mentioned people only")),
)

# Words of Mastodon's 422 messages about a limit.
LIMIT_WORDS = re.compile(
    r"limit|too long|too large|exceed|maximum|more than|less than|not supported", re.IGNORECASE
)
# A text refused as too long (Mastodon: 422; servers that count links at full length: 400
# "Status is too long").
TOO_LONG = re.compile(r"too long", re.IGNORECASE)

# Polling an image that is still processing (the upload answered 202): wait 1 s before the
# first poll, then twice as long before each next one, at most 8 s, and poll once more at the
# deadline (MEDIA_PROCESSING_TIMEOUT). Mastodon processes still images while answering the
# upload (200); it answers 202 only for what it converts in the background (a GIF becomes a
# video, a large file), which takes a second or more, so a poll sooner would only be answered
# 206. Mastodon's own web client polls every second; waiting a second first and then backing
# off makes a 1 s job cost one poll (upload, poll, status: 3 requests, where Mastodon.py's
# media_post(synchronous=True), which polls at once and then every 5 s, makes 4 and posts at
# 10 s), a 3 s one two, and a minute of video 10 instead of 60.
FIRST_POLL_INTERVAL = 1.0
MAX_POLL_INTERVAL = 8.0

# Looking for a post whose answer was lost: the account's posts are read back, 40 a page, to
# an hour before the attempt (the server's clock may differ from ours), at most this many
# pages, so posts made since (a backfill, another app) cannot hide it.
LOOKUP_PAGES = 25
LOOKUP_CLOCK_MARGIN = timedelta(hours=1)
# Keys tried for one create when a repeated Idempotency-Key answers 404 (see ``post_status``).
MAX_KEYS = 4


def format_focus(focus: tuple[float, float] | None) -> str:
    """A focus point as Mastodon takes it; no focus is the centre, ``0.00,0.00`` (Mastodon
    ignores a blank focus, so sending one would leave the old point)."""
    x, y = focus or (0.0, 0.0)
    return f"{x:.2f},{y:.2f}"


def status_fields(post: Post, media_ids: list[str]) -> dict:
    """The form fields of a status, shared by creating and editing it."""
    fields = {
        "status": post.text,
        "media_ids[]": media_ids,
        "spoiler_text": post.spoiler_text,
        "sensitive": "true" if post.sensitive else "false",
    }
    if post.language:
        fields["language"] = post.language
    return fields


def shows_media(status: dict, media_ids: list[str], changed: list[UploadedMedia]) -> bool:
    """Whether an edit's answer shows the media sent (and the changed descriptions); an
    answer without a media list is taken at its word."""
    attachments = status.get("media_attachments")
    if not isinstance(attachments, list):
        return True
    shown = {
        str(a.get("id")): a.get("description") or "" for a in attachments if isinstance(a, dict)
    }
    if sorted(shown) != sorted(media_ids):
        return False
    return all(shown[m.remote_id] == m.alt_text for m in changed)


class MastodonClient:
    def __init__(self, credentials: Credentials) -> None:
        # Named by its software when its instance said (many servers are not Mastodon).
        label = server_label(credentials)
        self.http = HttpClient(credentials.instance_url, credentials.access_token, label=label)

    def instance(self) -> dict:
        """``GET /api/v2/instance``, else ``/api/v1/instance``: v2 may be missing (older
        servers, forks) or fail (a 500, a time-out, an HTML page) where v1 works."""
        try:
            return self.http.json("GET", "/api/v2/instance")[1]
        except NetworkError:
            return self.http.json("GET", "/api/v1/instance")[1]

    def verify_credentials(self) -> dict:
        return self.http.json("GET", "/api/v1/accounts/verify_credentials")[1]

    def upload_media(self, media: Media) -> dict:
        """``POST /api/v2/media``: the form fields, then the file as a multipart file part,
        streamed from storage."""
        fields = {"description": media.alt_text}
        if media.focus is not None:
            fields["focus"] = format_focus(media.focus)
        with media.file.open("rb") as file:
            upload = Upload(file, media.content_type, "file", media.filename, fields)
            status, attachment = self.http.json("POST", "/api/v2/media", upload=upload)
        if status == 202:
            attachment = self.wait_for_media(attachment["id"])
        return attachment

    def wait_for_media(self, media_id: str) -> dict:
        """Poll ``GET /api/v1/media/:id`` until processed (200), backing off, for a bounded time."""
        deadline = time.monotonic() + get_setting("MEDIA_PROCESSING_TIMEOUT")
        interval = FIRST_POLL_INTERVAL
        while True:
            # Wait first: an image that just answered 202 is never ready at once.
            left = deadline - time.monotonic()
            if left <= 0:
                raise TransientNetworkError(
                    _("%(server)s was still processing image %(id)s after %(seconds)s seconds.")
                    % {
                        "server": self.http.name,
                        "id": media_id,
                        "seconds": f"{get_setting('MEDIA_PROCESSING_TIMEOUT'):g}",
                    }
                )
            time.sleep(min(interval, left))
            interval = min(interval * 2, MAX_POLL_INTERVAL)
            status, attachment = self.http.json("GET", f"/api/v1/media/{media_id}")
            if status == 200:
                return attachment

    def post_status(self, post: Post, media_ids: list[str], idempotency_key: str) -> dict:
        """``POST /api/v1/statuses``; ``media_ids[]`` with its brackets, once per id.

        Mastodon answers 404 to a repeated ``Idempotency-Key`` whose status was deleted: the
        post is gone, so it is created anew with the next key (``key-1``, ``key-2``, …; the
        same on every attempt, so a repeat still returns what the new key created)."""
        data = {**status_fields(post, media_ids), "visibility": post.visibility}
        for attempt in range(MAX_KEYS):
            key = f"{idempotency_key}-{attempt}" if attempt else idempotency_key
            try:
                return self.http.json(
                    "POST", "/api/v1/statuses", data=data, headers={"Idempotency-Key": key}
                )[1]
            except PermanentNetworkError as err:
                if err.status != 404 or attempt == MAX_KEYS - 1:
                    raise

    def edit_status(
        self, status_id: str, post: Post, media_ids: list[str], changed: list[UploadedMedia]
    ) -> dict:
        """``PUT /api/v1/statuses/:id`` with a JSON body: the full text and every media id
        (Mastodon removes media left out), plus ``media_attributes`` for changed alt text or
        focus. JSON, as Mastodon.py sends it: some servers answer 500 to form-encoded
        ``media_attributes[][…]``, and JSON keeps ``sensitive`` a boolean."""
        body = {k.removesuffix("[]"): v for k, v in status_fields(post, media_ids).items()}
        body["sensitive"] = post.sensitive
        if changed:
            body["media_attributes"] = [
                {"id": m.remote_id, "description": m.alt_text, "focus": format_focus(m.focus)}
                for m in changed
            ]
        return self.http.json("PUT", f"/api/v1/statuses/{status_id}", json=body)[1]

    def delete_status(self, status_id: str) -> None:
        try:
            self.http.request("DELETE", f"/api/v1/statuses/{status_id}")
        except PermanentNetworkError as err:
            if err.status != 404:  # already gone is what we wanted
                raise

    def statuses_back_to(self, since: datetime | None) -> Iterator[dict]:
        """The account's posts, newest first: the latest 40, and with ``since`` page after
        page until one older than ``since`` (at most ``LOOKUP_PAGES``). They are read with
        the token, every visibility with ``read:statuses`` (which connecting asks for); a
        token without it (pasted, or connected by an older release) may be refused (403):
        then the public listing is read, which has the public and quiet public posts, not
        those for followers or mentioned people only."""
        account_id = self.verify_credentials()["id"]
        path, params = f"/api/v1/accounts/{account_id}/statuses", {"limit": 40}
        client = self.http
        for _page in range(LOOKUP_PAGES):
            try:
                statuses = client.request("GET", path, params=params).json()
            except PermanentNetworkError as err:
                if err.status != 403 or client is not self.http:
                    raise
                client = HttpClient(self.http.base_url, None, label=self.http.label)
                statuses = client.request("GET", path, params=params).json()
            statuses = (
                [s for s in statuses if isinstance(s, dict)] if isinstance(statuses, list) else []
            )
            yield from statuses
            if not statuses or since is None or _created_before(statuses[-1], since):
                return
            params = {"limit": 40, "max_id": statuses[-1].get("id")}


class MastodonNetwork(Network):
    name = "mastodon"
    label = "Mastodon"
    # Mastodon remembers an Idempotency-Key for an hour; past 55 minutes, look before posting.
    idempotency_window = timedelta(minutes=55)
    visibilities = VISIBILITIES
    private_visibility = "direct"
    content_warning = "text"
    # 30 media uploads per 30 minutes per account (Mastodon's rate limits).
    upload_rate = (30, 1800.0)
    # Mastodon deletes media no status uses a day after their upload (MediaAttachmentsVacuum).
    media_lifetime = 86400.0
    # Post links are the server's own (the base class's default): no other host.

    def connect(self, credentials: Credentials) -> MastodonClient:
        return MastodonClient(credentials)

    def refused_over_limit(self, err: PermanentNetworkError) -> bool:
        # Mastodon answers 422 with its own wording of the limit.
        over = err.status == 422 and bool(LIMIT_WORDS.search(str(err)))
        return over or self.refused_too_long(err)

    def refused_too_long(self, err: PermanentNetworkError) -> bool:
        return err.status in (400, 422) and bool(TOO_LONG.search(str(err)))

    def limits(self, credentials: Credentials) -> Limits:
        instance = self.connect(credentials).instance()
        remember_software(credentials, instance)
        return limits_from_instance(instance)

    def verify(self, credentials: Credentials) -> AccountInfo:
        account = self.connect(credentials).verify_credentials()
        host = urlsplit(credentials.instance_url).netloc
        username = account.get("username") or account.get("acct", "")
        return AccountInfo(
            handle=f"@{username}@{host}",
            remote_id=str(account.get("id", "")),
            profile_url=account.get("url", ""),
        )

    def upload_media(self, client: MastodonClient, media: Media) -> str:
        return str(client.upload_media(media)["id"])

    def create_post(
        self, client: MastodonClient, post: Post, media_ids: list[str], idempotency_key: str
    ) -> Published:
        status = client.post_status(post, media_ids, idempotency_key)
        if not status.get("id"):
            raise PermanentNetworkError(
                _("%(server)s answered the post without a status id.")
                % {"server": client.http.name}
            )
        return Published(
            remote_id=str(status["id"]), url=status.get("url") or status.get("uri", "")
        )

    def update_post(
        self,
        client: MastodonClient,
        remote_id: str,
        post: Post,
        media_ids: list[str],
        changed: list[UploadedMedia],
    ) -> Published:
        status = client.edit_status(remote_id, post, media_ids, changed)
        # Some servers give the status a new id on every edit: the id answered is the post's.
        return Published(
            remote_id=str(status.get("id") or remote_id),
            url=status.get("url", ""),
            media_kept=not shows_media(status, media_ids, changed),
        )

    def delete_post(self, client: MastodonClient, remote_id: str) -> None:
        client.delete_status(remote_id)

    def find_post(self, client: MastodonClient, url: str) -> Published | None:
        return _linking_to(client.statuses_back_to(None), url)

    def find_created(self, client: MastodonClient, post: Post) -> Published | None:
        since = post.created_at - LOOKUP_CLOCK_MARGIN if post.created_at else None
        return _linking_to(client.statuses_back_to(since), post.url)


def _linking_to(statuses: Iterator[dict], url: str) -> Published | None:
    for status in statuses:
        content = status.get("content") or ""
        if status.get("id") and (url in content or html.escape(url) in content):
            return Published(remote_id=str(status["id"]), url=status.get("url", ""))
    return None


def _created_before(status: dict, since: datetime) -> bool:
    """Whether ``status`` was created before ``since`` (False when it does not say when)."""
    try:
        return datetime.fromisoformat(str(status.get("created_at"))) < since
    except (TypeError, ValueError):
        return False
