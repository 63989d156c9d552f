"""``manage.py syndicate --retry-due``: run what is due now (for cron)."""

from django.core.management.base import BaseCommand, CommandError

from ...models import SyndicationRecord
from ...tasks import share


class Command(BaseCommand):
    help = (
        "Run syndication work that is due: retries whose time has come (needed on task "
        "backends that cannot schedule a run for later), runs whose worker died, and queued "
        "records whose task was lost. Safe to run from cron every few minutes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--retry-due", action="store_true", help="Run due retries and reclaim stuck records."
        )

    def handle(self, *args, retry_due=False, **options):
        if not retry_due:
            raise CommandError("Say what to do: --retry-due.")
        due = SyndicationRecord.objects.due().select_related("page", "account")
        count = 0
        for record in due:
            outcome = share(record.pk, record.generation)
            count += 1
            self.stdout.write(f"{record.page.title} → {record.account}: {outcome}")
        self.stdout.write(self.style.SUCCESS(f"{count} due record(s) run."))
