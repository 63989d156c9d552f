"""Sharing pages that were published before (backfill), paced to each account's rate limits.

Used by ``manage.py syndicate``. Runs the posting task in-process, one post at a time, so it
can wait for an account's upload budget instead of failing, and is safe to interrupt and run
again: a page already posted as it is now is skipped, and records are claimed as by a worker.
"""

import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from wagtail.models import get_page_models

from wagtail_syndicate.conf import get_setting
from wagtail_syndicate.models import SyndicatedPageMixin, SyndicationAccount, SyndicationRecord
from wagtail_syndicate.networks import get_network
from wagtail_syndicate.pipeline.queueing import prepare
from wagtail_syndicate.pipeline.tasks import share

State = SyndicationRecord.State


def pages_to_share(page_ids: list[int] | None = None, *, since: datetime | None = None) -> Iterator:
    """Live pages with "Share when published" on (or the pages named), oldest first."""
    for model in get_page_models():
        if not issubclass(model, SyndicatedPageMixin) or model._meta.abstract:
            continue
        pages = model.objects.live().filter(syndicate=True).exact_type(model)
        if page_ids:
            pages = model.objects.filter(pk__in=page_ids).exact_type(model)
        if since:
            pages = pages.filter(first_published_at__gte=since)
        yield from pages.order_by("first_published_at", "pk")


def accounts_for(page, account_id: int | None = None):
    accounts = SyndicationAccount.for_page(page)
    return accounts.filter(pk=account_id) if account_id else accounts


class UploadPacer:
    """Waits, per account, until one more post's images fit within the account's upload rate
    limit: its network's ``upload_rate`` (Mastodon: 30 per 30 minutes), unless the settings
    ``MEDIA_UPLOAD_LIMIT`` and ``MEDIA_UPLOAD_WINDOW`` set one for every account. A network
    that declares none is not paced (its 429s are waited out)."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep, clock=time.monotonic):
        self.sleep, self.clock = sleep, clock
        self.uploads: dict[int, deque] = defaultdict(deque)

    @staticmethod
    def rate_of(account) -> tuple[int, float] | None:
        """(uploads, seconds) the account may make, or None when it is not paced."""
        limit, window = get_setting("MEDIA_UPLOAD_LIMIT"), get_setting("MEDIA_UPLOAD_WINDOW")
        if limit and window:
            return int(limit), float(window)
        return get_network(account.network).upload_rate

    def wait_for(self, account, count: int) -> float:
        """Block until ``count`` uploads are allowed; record them; return the seconds waited."""
        rate = self.rate_of(account)
        if rate is None or count <= 0:
            return 0.0
        limit, window = rate
        count = min(count, limit)
        uploads = self.uploads[account.pk]
        waited = 0.0
        while True:
            now = self.clock()
            while uploads and now - uploads[0] >= window:
                uploads.popleft()
            if len(uploads) + count <= limit:
                uploads.extend([now] * count)
                return waited
            pause = window - (now - uploads[0])
            self.sleep(pause)
            waited += pause


@dataclass
class Summary:
    posted: int = 0
    skipped: int = 0
    failed: int = 0
    lines: list[str] = field(default_factory=list)


def share_now(record: SyndicationRecord, sleep: Callable[[float], None] = time.sleep) -> str:
    """Run the task for ``record`` here and now, waiting out retries (rate limits, time-outs)
    instead of leaving them to a worker; return the final state."""
    outcome = share(record.pk, record.generation)
    while outcome == State.RETRYING:
        record.refresh_from_db()
        if record.next_attempt_at:
            sleep(max(0.0, (record.next_attempt_at - timezone.now()).total_seconds()))
        outcome = share(record.pk, record.generation)
    return outcome


def backfill(pages, account_id=None, *, pacer: UploadPacer, report: Callable[[str], None]):
    """Share each page to its accounts; ``report`` gets a line per (page, account)."""
    summary = Summary()
    for page in pages:
        for account in accounts_for(page, account_id):
            record = prepare(page, account, enqueue=False)
            if record is None:
                summary.skipped += 1
                report(f"{page.title} → {account}: skipped (already posted as it is)")
                continue
            if record.state == State.QUEUED:
                pacer.wait_for(account, len(page.get_syndication_images()))
                outcome = share_now(record)
            else:
                outcome = str(record.state)
            record.refresh_from_db()
            if outcome == State.POSTED:
                summary.posted += 1
                report(f"{page.title} → {account}: posted {record.remote_url}")
            elif outcome == "skipped":  # a worker holds it: not ours to count as done
                summary.skipped += 1
                report(f"{page.title} → {account}: skipped (being posted by a worker)")
            else:
                summary.failed += 1
                report(f"{page.title} → {account}: {outcome}: {record.last_error}")
    return summary
