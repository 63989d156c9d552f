"""``manage.py syndicate``: share pages published before (backfill), show what would be posted,
and run what is due (for cron)."""

import logging
import sys
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from wagtail_syndicate.content.posts import plan_post
from wagtail_syndicate.exceptions import ContentError, NetworkError
from wagtail_syndicate.models import SyndicationRecord
from wagtail_syndicate.pipeline.backfill import UploadPacer, accounts_for, backfill, pages_to_share
from wagtail_syndicate.pipeline.limits_cache import limits_for
from wagtail_syndicate.pipeline.outbox import fan_out_due
from wagtail_syndicate.pipeline.runner import redact_secrets
from wagtail_syndicate.pipeline.tasks import share

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Share pages: --page ID or --all-live (pages with 'Share when published' on), "
        "optionally --since DATE and --account ID; --dry-run shows exactly what would be "
        "posted. Paces itself to each account's upload rate limit and is safe to interrupt "
        "and run again. --retry-due runs due retries and reclaims stuck records (for cron)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--page", type=int, action="append", help="A page ID (repeatable).")
        parser.add_argument("--all-live", action="store_true", help="Every page set to share.")
        parser.add_argument("--since", help="Only pages first published on or after this date.")
        parser.add_argument("--account", type=int, help="Only this account ID.")
        parser.add_argument("--dry-run", action="store_true", help="Print, post nothing.")
        parser.add_argument(
            "--retry-due", action="store_true", help="Run due retries and reclaim stuck records."
        )

    def handle(self, *args, **options):
        if options["retry_due"]:
            return self.retry_due()
        if not options["page"] and not options["all_live"]:
            raise CommandError("Say what to share: --page ID, --all-live, or --retry-due.")
        pages = list(pages_to_share(options["page"], since=self.since(options["since"])))
        if options["dry_run"]:
            return self.dry_run(pages, options["account"])
        progress = Progress(
            self.stderr, total=sum(accounts_for(page, options["account"]).count() for page in pages)
        )
        try:
            summary = backfill(
                pages, options["account"], pacer=UploadPacer(), report=progress.step(self.stdout)
            )
        except KeyboardInterrupt:
            progress.done()
            raise CommandError("Interrupted: run the same command again to go on.") from None
        progress.done()
        self.stdout.write(
            self.style.SUCCESS(
                f"{summary.posted} posted, {summary.skipped} skipped, {summary.failed} failed."
            )
        )
        if summary.failed:
            sys.exit(1)

    def since(self, value):
        if not value:
            return None
        moment = parse_datetime(value)
        if moment is None and (day := parse_date(value)):
            moment = datetime.combine(day, datetime.min.time())
        if moment is None:
            raise CommandError(f"--since {value!r} is not a date (YYYY-MM-DD).")
        return timezone.make_aware(moment) if timezone.is_naive(moment) else moment

    def dry_run(self, pages, account_id):
        for page in pages:
            for account in accounts_for(page, account_id):
                self.stdout.write(f"── {page.title} (page {page.pk}) → {account}")
                try:
                    limits = limits_for(account)
                    plan = plan_post(page, account, limits)
                except (ContentError, NetworkError) as err:
                    self.stdout.write(f"   cannot be posted: {redact_secrets(account, str(err))}")
                    continue
                record = SyndicationRecord.objects.filter(page=page, account=account).first()
                if record and record.state == "posted" and record.content_hash == plan.fingerprint:
                    self.stdout.write("   already posted as it is: nothing to do")
                    continue
                action = "edit the post" if record and record.remote_id else "post"
                self.stdout.write(f"   would {action}, visibility {plan.visibility}:")
                if plan.spoiler_text:
                    self.stdout.write(f"   content warning: {plan.spoiler_text}")
                for line in plan.text.splitlines() or [""]:
                    self.stdout.write(f"   | {line}")
                for image, alt, _focus in plan.images:
                    self.stdout.write(f"   image “{image.title}”, alt text: {alt}")
        self.stdout.write("Dry run: nothing was posted.")

    def retry_due(self):
        """Run every due record; one that cannot be run (even its failure not saved, the
        database refusing it) is reported and the next is run, so no record holds up the
        ones behind it. Publishes whose fan-out was lost or died are fanned out first."""

        if fanned := fan_out_due():
            self.stdout.write(f"{fanned} publish(es) fanned out.")
        due = SyndicationRecord.objects.due().select_related("page", "account")
        count = errors = 0
        for record in due:
            count += 1
            try:
                outcome = share(record.pk, record.generation)
            except Exception as err:
                errors += 1
                logger.exception("Could not run syndication record %s", record.pk)
                reason = redact_secrets(record.account, f"{type(err).__name__}: {err}")
                self.stderr.write(
                    f"{record.page.title} → {record.account_name()}: could not be run "
                    f"({reason}); the next run of --retry-due tries it again."
                )
                continue
            self.stdout.write(f"{record.page.title} → {record.account_name()}: {outcome}")
        if errors:
            self.stdout.write(f"{count} due record(s) run, {errors} of them could not be.")
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS(f"{count} due record(s) run."))


class Progress:
    """A one-line progress bar on a terminal; nothing when the output is not one."""

    def __init__(self, stream, total: int):
        self.stream, self.total, self.count = stream, total, 0
        self.live = hasattr(stream, "isatty") and stream.isatty()

    def step(self, out):
        def report(line: str) -> None:
            self.count += 1
            out.write(line)
            if self.live and self.total:
                filled = 30 * self.count // self.total
                bar = "#" * filled + "." * (30 - filled)
                self.stream.write(f"\r[{bar}] {self.count}/{self.total}", ending="")
                self.stream.flush()

        return report

    def done(self):
        if self.live:
            self.stream.write("")
