"""One run of a record's task: claim → act → settle, and its retries.

Claim the record (compare-and-set), compose the post from the live page, then create, edit or
delete the remote post, and settle the outcome: posted / retrying / failed / deleted. HTTP
happens outside any database transaction. The run is handed the function that enqueues the
next one (a retry, or the run of a newer publish it hands over to): ``tasks.share`` hands it
``tasks.enqueue``.
"""

import logging
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext as _

from wagtail_syndicate.conf import get_setting
from wagtail_syndicate.content.posts import compose_post, unexpected_error_message
from wagtail_syndicate.exceptions import (
    ContentError,
    PermanentNetworkError,
    RateLimited,
    SyndicationError,
    TransientNetworkError,
)
from wagtail_syndicate.models import SyndicationRecord
from wagtail_syndicate.networks import get_network
from wagtail_syndicate.networks.base import UploadedMedia
from wagtail_syndicate.networks.http import run_deadline, too_far
from wagtail_syndicate.networks.redaction import redact
from wagtail_syndicate.pipeline.answers import (
    checked_post_link,
    checked_remote_id,
    kept_media_notice,
)
from wagtail_syndicate.pipeline.history import log_outcome
from wagtail_syndicate.pipeline.limits_cache import count_links_in_full, limits_for

logger = logging.getLogger(__name__)

State = SyndicationRecord.State

# Key of the changes a run returns that names its page-history entry (None: no entry).
HISTORY = "history"

# Queues a run of a record at a generation (``run_after``: not before then); False when the
# backend cannot run it later. ``tasks.enqueue``.
Enqueue = Callable[..., bool]


def idempotency_key(record: SyndicationRecord) -> str:
    """The same for every attempt at one publish of one record, so repeats cannot double-post."""
    return f"wagtail-syndicate-{record.pk}-{record.generation}"


def next_attempt_time(attempt: int, retry_at: datetime | None = None) -> datetime:
    """Exponential back-off with jitter after ``attempt`` failed, never before ``retry_at``."""
    base = get_setting("RETRY_BACKOFF") * 2 ** max(0, attempt - 1)
    delay = min(get_setting("RETRY_BACKOFF_MAX"), base) * random.uniform(0.8, 1.2)
    when = timezone.now() + timedelta(seconds=delay)
    return max(when, retry_at) if retry_at else when


def run(record_id: int, generation: int, enqueue: Enqueue) -> str:
    """One run of the task (``tasks.share``); ``enqueue`` queues the run that follows it.

    A run that claimed the record always ends it: whatever fails, even saving the outcome,
    the record ends ``failed`` with its reason rather than ``posting`` until its lease ends
    (and then run again, to fail the same way)."""
    if not SyndicationRecord.objects.claim(record_id, generation):
        return "skipped"
    try:
        # Every request of the run ends within its lease (less a margin for its own work), so
        # no second run of this generation can start while this one still waits on a server.
        with run_deadline():
            return _run(record_id, enqueue)
    except Exception as err:
        logger.exception("Could not settle syndication record %s", record_id)
        return _settle_anyway(record_id, generation, err)


def _run(record_id: int, enqueue: Enqueue) -> str:
    record = SyndicationRecord.objects.select_related("account", "page").get(pk=record_id)
    page = record.page.specific
    log_outcome(record, page)
    try:
        changes = _act(record, page)
    except TransientNetworkError as err:
        changes = _retry_or_give_up(record, err)
    except (SyndicationError, ImproperlyConfigured) as err:
        changes = {"state": State.FAILED, "last_error": str(err)}
    except Exception as err:
        # Never lose a post silently: an unexpected error is still written to the record.
        logger.exception("Unexpected error while sharing syndication record %s", record_id)
        changes = {"state": State.FAILED, "last_error": unexpected_error_message(err)}
    for name in ("last_error", "notice"):
        if changes.get(name):
            changes[name] = redact_secrets(record.account, changes[name])
    return _settle(record, page, changes, enqueue)


def redact_secrets(account, text: str) -> str:
    """``text`` without any secret the plugin holds for ``account`` (a server may echo its
    token in an error page: it must not reach the admin, the history or command output)."""
    if account is None or not text:
        return text
    try:
        secrets = get_network(account.network).secrets(account.credentials())
    except Exception:
        # A secret that cannot be read (a bad key, an unknown network) was not sent either.
        logger.debug("Secrets of account %s not read for redaction", account.pk, exc_info=True)
        return text
    return redact(text, secrets)


def _settle_anyway(record_id: int, generation: int, err: Exception) -> str:
    """The last resort when a run could not settle its record: write only the state and the
    reason (nothing a server sent, which may be what could not be saved). What the run
    learned is lost, but the key of a create whose outcome is unknown stays on the record,
    so a retry is answered with the post that create made, not a second one."""
    reason = _(
        "The outcome could not be saved (%(kind)s); the server log has details. Look at the "
        "account for the post before retrying."
    ) % {"kind": type(err).__name__}
    if SyndicationRecord.objects.settle(
        record_id, generation, state=State.FAILED, last_error=reason
    ):
        try:
            record = SyndicationRecord.objects.select_related("account", "page").get(pk=record_id)
            log_outcome(record, record.page.specific)
        except Exception:
            logger.exception("Could not note the failure of record %s in history", record_id)
        return str(State.FAILED)
    # Settled before the failure (which came after), taken over by a newer publish, or gone
    # with its page.
    state = SyndicationRecord.objects.filter(pk=record_id).values_list("state", flat=True)
    return str(state.first() or "overtaken")


def _act(record: SyndicationRecord, page) -> dict:
    """Do what the page needs on the network; return the changes that record success."""
    account = record.account
    if account is None:
        raise ContentError(
            _("The account was removed. Connect it again to update or delete this post.")
        )
    network = get_network(account.network)
    if not page.live:
        if record.remote_id and get_setting("DELETE_ON_UNPUBLISH") and network.deletes:
            network.delete(account.credentials(), record.remote_id)
            return {"state": State.DELETED, **_forget_remote_post()}
        if record.remote_id:
            return {"state": State.POSTED, "last_error": "", HISTORY: None}
        raise ContentError(_("The page was unpublished before it could be shared."))

    limits = limits_for(account)
    try:
        return _post(record, page, network, compose_post(page, account, limits))
    except PermanentNetworkError as err:
        # The server refused something over a limit: its limits may have changed since cached.
        if not network.refused_over_limit(err):
            raise
        fresh = limits_for(account, refresh=True)
        if network.refused_too_long(err) and not fresh.full_length_links:
            # Some servers count links at full length whatever they say: fit the text so,
            # now and for every later post to this account.
            count_links_in_full(account)
            fresh = replace(fresh, full_length_links=True)
        elif fresh == limits:
            raise
        return _post(record, page, network, compose_post(page, account, fresh))


def _post(record: SyndicationRecord, page, network, post) -> dict:
    """Create or edit the remote post to show ``post``; return the changes for the record."""
    account = record.account
    if record.remote_id and post.fingerprint == record.content_hash:
        # Nothing to change: no request, and nothing new for the page's history.
        return {"state": State.POSTED, "last_error": "", "notice": "", HISTORY: None}
    if record.remote_id and not network.edits:
        # The post stays as it was first shared; the record says so (no request is made).
        notice = _(
            "%(network)s posts cannot be edited: this post still shows the page as it was "
            "when it was first shared."
        ) % {"network": network.label}
        return {"state": State.POSTED, "last_error": "", "notice": notice, HISTORY: None}
    used: list[UploadedMedia] = []
    uploads = {"uploaded": record_media(record), "remember": partial(_remember, record, used)}
    if record.remote_id:
        published = network.update(account.credentials(), record.remote_id, post, **uploads)
        action = "edited"
    else:
        key = _create_key(record, network)
        adopt = _outcome_unknown(record, key, network)
        # An earlier attempt sent this key: the create may return what that attempt stored.
        tried = record.unknown_outcome_key == key
        # When this key was first tried: the same for every attempt with it.
        since = record.unknown_outcome_since if tried else timezone.now()
        post = replace(post, created_at=since)
        # Noted just before the create request (not before the uploads, which cannot post):
        # a worker killed while it waits for the answer leaves the key behind, so the next run
        # (of any generation) asks with it again.
        published = network.publish(
            account.credentials(),
            post,
            key,
            adopt_existing=adopt,
            before_create=partial(_note_unknown_outcome, record, key, since),
            **uploads,
        )
        if (published.adopted or tried) and network.edits:
            # An earlier attempt may have posted, maybe an older text (it composed the page
            # as it was then): edit the post to show the page as it is now.
            used.clear()  # the update names every image it keeps
            uploads["uploaded"] = record_media(record)  # with what this run just uploaded
            published = network.update(account.credentials(), published.remote_id, post, **uploads)
        action = "posted"
    remote_id = checked_remote_id(account, network, published.remote_id)
    url, link_notice = checked_post_link(account, network, published.url or record.remote_url)
    notices = [link_notice, kept_media_notice(account) if published.media_kept else ""]
    return {
        HISTORY: action,
        "state": State.POSTED,
        "remote_id": remote_id,
        "remote_url": url,
        "posted_at": record.posted_at if action == "edited" else timezone.now(),
        "content_hash": post.fingerprint,
        "media": [_media_entry(m) for m in used],
        "last_error": "",
        "notice": " ".join(notice for notice in notices if notice),
        "next_attempt_at": None,
        "unknown_outcome_key": "",
        "unknown_outcome_since": None,
    }


def _retry_or_give_up(record: SyndicationRecord, err: TransientNetworkError) -> dict:
    if isinstance(err, RateLimited) and too_far(err.retry_at):
        # No server may park a record for more than a day (one cap for every network).
        return {
            "state": State.FAILED,
            "last_error": _("%(reason)s It asks to wait more than a day: retry it later.")
            % {"reason": err},
        }
    if isinstance(err, RateLimited) and err.retry_at:
        # The server said when it takes more: waiting for that is not a failed attempt, so a
        # burst of posts (a backfill, a busy account) cannot use up MAX_ATTEMPTS on 429s.
        return {
            "state": State.RETRYING,
            "last_error": str(err),
            "attempts": max(0, record.attempts - 1),
            # At the reset, spread over a second so an account's queued posts do not all
            # arrive in the same instant.
            "next_attempt_at": max(err.retry_at, timezone.now())
            + timedelta(seconds=random.uniform(0, 1)),
        }
    if record.attempts >= get_setting("MAX_ATTEMPTS"):
        return {
            "state": State.FAILED,
            "last_error": _("%(reason)s Gave up after %(count)s attempts.")
            % {"reason": err, "count": record.attempts},
        }
    return {
        "state": State.RETRYING,
        "last_error": str(err),
        "next_attempt_at": next_attempt_time(record.attempts, getattr(err, "retry_at", None)),
    }


def _settle(record: SyndicationRecord, page, changes: dict, enqueue: Enqueue) -> str:
    history = changes.pop(HISTORY, changes["state"])
    generation = record.generation
    if not SyndicationRecord.objects.settle(record.pk, generation, **changes):
        # A newer publish came while this run worked: it must go on from what we know.
        if SyndicationRecord.objects.hand_over(record.pk, **changes):
            record.refresh_from_db()
            enqueue(record.pk, record.generation)
            return "handed over"
        return "overtaken"
    for name, value in changes.items():
        setattr(record, name, value)
    if history:
        log_outcome(record, page, action=history)
    if record.state == State.RETRYING:
        try:
            enqueue(record.pk, generation, run_after=record.next_attempt_at)
        except Exception:
            # The record says when it is due; `syndicate --retry-due` finds it.
            logger.exception("Could not enqueue the retry of syndication record %s", record.pk)
    return str(record.state)


def record_media(record: SyndicationRecord) -> list[UploadedMedia]:
    """The media kept on the record (entries kept before upload times were kept have none)."""
    return [
        UploadedMedia(
            m["source"],
            m["id"],
            m["alt"],
            tuple(m["focus"]) if m["focus"] else None,
            uploaded_at=m.get("uploaded_at"),
            expires_at=m.get("expires_at"),
        )
        for m in record.media
    ]


def _media_entry(media: UploadedMedia) -> dict:
    return {
        "source": media.source,
        "id": media.remote_id,
        "alt": media.alt_text,
        "focus": list(media.focus) if media.focus else None,
        "uploaded_at": media.uploaded_at,
        "expires_at": media.expires_at,
    }


def _remember(record: SyndicationRecord, used: list, media: UploadedMedia) -> None:
    """Keep each upload on the record at once, so a retry after a crash can reuse it (an
    image uploaded again replaces its earlier upload)."""
    used[:] = [m for m in used if m.source != media.source] + [media]
    entry = _media_entry(media)
    if entry in record.media:
        return
    record.media = [m for m in record.media if m["source"] != media.source] + [entry]
    SyndicationRecord.objects.filter(pk=record.pk).update(media=record.media)


def _create_key(record: SyndicationRecord, network) -> str:
    """The Idempotency-Key to create the post with: the key of an earlier attempt whose outcome
    is unknown while the server still remembers it (so a post that attempt made is returned,
    not made again, even by a newer publish), else this publish's own."""
    if record.unknown_outcome_key and not _expired(record, network):
        return record.unknown_outcome_key
    return idempotency_key(record)


def _expired(record: SyndicationRecord, network) -> bool:
    """Whether the server has forgotten the key of the attempt whose outcome is unknown (a
    network without idempotency keys never knew it)."""
    window = network.idempotency_window
    return window is None or timezone.now() - record.unknown_outcome_since > window


def _outcome_unknown(record: SyndicationRecord, key: str, network) -> bool:
    """Whether an earlier create may have succeeded unseen and the key may not cover it: then
    the post is looked for before creating again. A key some servers ignore (Mastodon's, on
    servers that are not Mastodon) covers nothing for sure, so it is only a second guard."""
    if not record.unknown_outcome_since:
        return False
    if not network.key_always_honoured:
        return True
    return _expired(record, network) or record.unknown_outcome_key != key


def _note_unknown_outcome(record: SyndicationRecord, key: str, since) -> None:
    if record.unknown_outcome_key != key:
        record.unknown_outcome_key, record.unknown_outcome_since = key, since
        SyndicationRecord.objects.filter(pk=record.pk).update(
            unknown_outcome_key=key, unknown_outcome_since=record.unknown_outcome_since
        )


def _forget_remote_post() -> dict:
    return {
        "remote_id": "",
        "remote_url": "",
        "content_hash": "",
        "media": [],
        "last_error": "",
    }
