"""``SyndicationIntent``: the outbox row a publish writes, fanned out by a worker."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SyndicationIntentQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(processed_at__isnull=True)

    def due(self, lease):
        """Unprocessed intents older than ``lease``: their fan-out task was lost, or the
        worker running it died (its transaction then rolled back)."""
        return self.pending().filter(created_at__lte=timezone.now() - lease)


class SyndicationIntent(models.Model):
    """ "Share this revision of this page": the one row a publish writes (with one task), so a
    publish costs the same whatever the number of accounts. The worker's ``fan_out`` task turns
    it into one record per (page, account) and marks it processed in the same transaction."""

    page = models.ForeignKey(
        "wagtailcore.Page", on_delete=models.CASCADE, related_name="syndication_intents"
    )
    revision = models.ForeignKey(
        "wagtailcore.Revision", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who published, and the publish's log context: the page history entries the worker writes
    # for the records are theirs, grouped with the publish's own entry.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    log_uuid = models.UUIDField(null=True, blank=True)
    # The accounts chosen in the revision, as it holds them; None: every account of the site.
    account_ids = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    objects = SyndicationIntentQuerySet.as_manager()

    class Meta:
        verbose_name = _("sharing intent")
        verbose_name_plural = _("sharing intents")
        indexes = [models.Index(fields=["page", "processed_at"])]

    def __str__(self) -> str:
        return f"page {self.page_id}, revision {self.revision_id}"
