"""``SyndicationRecord``: the outcome of sharing one page to one account."""

from django.contrib import admin
from django.db import models
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _


class SyndicationRecord(models.Model):
    """One row per (page, account), reused on every publish, so a page is never posted twice.

    ``generation`` counts the times the record was queued; a task carries the generation it was
    queued for and does nothing when the record has moved on.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        POSTING = "posting", _("Posting")
        POSTED = "posted", _("Posted")
        FAILED = "failed", _("Failed")

    page = models.ForeignKey(
        "wagtailcore.Page",
        verbose_name=_("page"),
        on_delete=models.CASCADE,
        related_name="syndication_records",
    )
    account = models.ForeignKey(
        "wagtail_syndicate.SyndicationAccount",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="records",
    )
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.QUEUED, db_index=True
    )
    generation = models.PositiveIntegerField(default=0, editable=False)
    remote_id = models.CharField(_("post ID"), max_length=255, blank=True)
    remote_url = models.URLField(_("post URL"), max_length=500, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("reason it failed"), blank=True)
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    posted_at = models.DateTimeField(_("posted at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("social post")
        verbose_name_plural = _("social posts")
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["page", "account"], name="wagtail_syndicate_one_record_per_page_account"
            )
        ]

    def __str__(self) -> str:
        return f"{self.page.title} → {self.account}"

    @admin.display(description=_("post"))
    def post_link(self):
        """A link to the post for the admin, or a dash."""
        if not self.remote_url:
            return "-"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>', self.remote_url, self.remote_url
        )

    @property
    def can_retry(self) -> bool:
        return self.state == self.State.FAILED
