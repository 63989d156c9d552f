"""``BlueskyNetwork``: Bluesky behind the ``Network`` interface, through ``BlueskyClient``."""

import json
from datetime import timedelta
from urllib.parse import quote

from django.utils.translation import gettext as _

from wagtail_syndicate.exceptions import NetworkError, PermanentNetworkError
from wagtail_syndicate.networks.base import (
    AccountInfo,
    Credentials,
    Network,
    Published,
)
from wagtail_syndicate.networks.bluesky.client import (
    BLUESKY_LIMITS,
    BlueskyClient,
    limits_for_version,
    post_record,
    tid_from_key,
    web_base,
    web_url,
    xrpc_error,
)
from wagtail_syndicate.networks.limits import Limits
from wagtail_syndicate.networks.links import _origin
from wagtail_syndicate.networks.post import Media, Post


def links_to(record: dict, url: str) -> bool:
    value = record.get("value") if isinstance(record.get("value"), dict) else {}
    for facet in value.get("facets") or []:
        for feature in facet.get("features") or [] if isinstance(facet, dict) else []:
            if isinstance(feature, dict) and feature.get("uri") == url:
                return True
    return url in str(value.get("text") or "")


class BlueskyNetwork(Network):
    name = "bluesky"
    label = "Bluesky"
    edits = False
    deletes = True
    # A record key is taken for good: a repeated create is recognised however late it comes.
    # (timedelta.max compares fine with ``now - since``; it is never added to a date.)
    idempotency_window = timedelta.max
    default_limits = BLUESKY_LIMITS
    default_instance_url = "https://bsky.social"
    # bsky.social limits writes by points per hour and day (about 1,600 posts an hour), not
    # uploads: nothing for a backfill to pace itself to.
    upload_rate = None
    # A content warning becomes the graphic-media self-label (see ``post_record``).
    content_warning = "label"
    # A removed account's session is ended on its PDS (``disconnect``).
    disconnects = True

    @property
    def post_url_hosts(self) -> tuple[str, ...]:
        """Post links are made here (``web_url``) on the Bluesky web app: bsky.app, or the
        stand-in ``BLUESKY_WEB_URL`` names."""
        return ("bsky.app", _origin(web_base()))

    secret_session_keys = ("accessJwt", "refreshJwt")

    def connect(self, credentials: Credentials) -> BlueskyClient:
        return BlueskyClient(credentials)

    def disconnect(self, credentials: Credentials, label: str) -> tuple[str, str]:
        """End the account's session on its PDS; the app password itself can only be revoked
        in Bluesky's settings, which the sentence says."""
        revoke_there = _(
            "Its app password can only be revoked in Bluesky's settings (Privacy and security "
            "→ App passwords): revoke it there if it is no longer needed."
        )
        try:
            ended = self.connect(credentials).delete_session()
        except NetworkError as err:
            return "warning", _(
                "%(account)s was removed, but its Bluesky session could not be ended: %(reason)s"
            ) % {"account": label, "reason": err} + " " + revoke_there
        if not ended:
            return "info", _("%s was removed.") % label + " " + revoke_there
        ended_message = _("The Bluesky session of %s was ended.") % credentials.handle
        return "success", ended_message + " " + revoke_there

    def limits(self, credentials: Credentials) -> Limits:
        # The lexicon's limits, which depend on the PDS version for images (cached with the
        # account's limits, as a Mastodon instance's are).
        return limits_for_version(self.connect(credentials).server_version())

    def verify(self, credentials: Credentials) -> AccountInfo:
        session = self.connect(credentials).create_session()
        return AccountInfo(
            handle=session["handle"],
            remote_id=session["did"],
            profile_url=f"{web_base()}/profile/{quote(session['handle'])}",
        )

    def upload_media(self, client: BlueskyClient, media: Media) -> str:
        # The blob reference is the media id the record keeps and create_post gets back.
        return json.dumps(client.upload_blob(media), sort_keys=True)

    def create_post(
        self, client: BlueskyClient, post: Post, media_ids: list[str], idempotency_key: str
    ) -> Published:
        rkey = tid_from_key(idempotency_key, post.created_at)
        blobs = [json.loads(media_id) for media_id in media_ids]
        try:
            try:
                answer = client.create_record(post_record(post, blobs), rkey)
            except PermanentNetworkError as err:
                # A PDS deletes a blob no record used within minutes of its upload: a retry
                # hours later uploads the images again (the same bytes, the same references).
                missing = (
                    xrpc_error(err) == "BlobNotFound" or "could not find blob" in str(err).lower()
                )
                if not missing or not post.media:
                    raise
                blobs = [client.upload_blob(media) for media in post.media]
                answer = client.create_record(post_record(post, blobs), rkey)
        except NetworkError as err:
            # Taken already (an earlier attempt's answer was lost): the PDS says so with an
            # error (409 on some servers) or, as bsky.social does today, a 500.
            if err.status is None or err.status < 400 or err.status == 429:
                raise
            try:
                existing = client.get_record(rkey)
            except NetworkError:
                existing = None
            if existing is None or not isinstance(existing.get("uri"), str):
                raise err from None
            return Published(existing["uri"], web_url(existing["uri"]), adopted=True)
        if not isinstance(answer.get("uri"), str):
            raise PermanentNetworkError(_("Bluesky answered the post without its address."))
        return Published(answer["uri"], web_url(answer["uri"]))

    def delete_post(self, client: BlueskyClient, remote_id: str) -> None:
        # deleteRecord succeeds for a record that is already gone.
        client.delete_record(remote_id)

    def find_post(self, client: BlueskyClient, url: str) -> Published | None:
        for record in client.list_posts():
            uri = record.get("uri")
            if isinstance(uri, str) and isinstance(record, dict) and links_to(record, url):
                return Published(uri, web_url(uri))
        return None
