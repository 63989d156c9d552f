"""``SyndicationRecord``: the outcome of sharing one page to one account."""

from datetime import timedelta

from django.contrib import admin
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail_syndicate.conf import get_setting
from wagtail_syndicate.exceptions import ConfigurationError
from wagtail_syndicate.models.accounts import account_label, network_name
from wagtail_syndicate.networks.registry import get_network

# What a run learns about the remote post; kept even when a newer publish overtakes the run.
REMOTE_FIELDS = (
    "remote_id",
    "remote_url",
    "posted_at",
    "content_hash",
    "media",
    "unknown_outcome_key",
    "unknown_outcome_since",
)


class SyndicationRecordQuerySet(models.QuerySet):
    """The state changes of records, each a single compare-and-set UPDATE, so that two
    workers, a double enqueue or a Retry click during a run cannot both act on a record."""

    def queue(self, pk: int | list[int]) -> None:
        """Start a new publish of the record (or of each record of a list of ids): a new
        generation, queued. A record a live worker holds stays ``posting``; that worker hands
        it over when it finishes."""
        now = timezone.now()
        State = SyndicationRecord.State
        self.filter(pk__in=pk if isinstance(pk, list) else [pk]).update(
            generation=F("generation") + 1,
            state=Case(
                When(Q(state=State.POSTING, lease_expires_at__gt=now), then=Value(State.POSTING)),
                default=Value(State.QUEUED),
            ),
            queued_at=now,
            attempts=0,
            last_error="",
            next_attempt_at=None,
            updated_at=now,
        )

    def claim(self, pk: int, generation: int) -> bool:
        """Take the record for one attempt at ``generation``; False if that is not for us now
        (stale generation, already done, held by a live worker, or a retry not yet due)."""
        now = timezone.now()
        State = SyndicationRecord.State
        claimable = (
            Q(state=State.QUEUED)
            | Q(state=State.RETRYING, next_attempt_at__lte=now + timedelta(seconds=1))
            | Q(state=State.POSTING, lease_expires_at__lte=now)
        )
        lease = timedelta(seconds=get_setting("LEASE_TIMEOUT"))
        return bool(
            self.filter(claimable, pk=pk, generation=generation).update(
                state=State.POSTING,
                attempts=F("attempts") + 1,
                lease_expires_at=now + lease,
                updated_at=now,
            )
        )

    def settle(self, pk: int, generation: int, **changes) -> bool:
        """Write the outcome of a run, if the record is still the one that run claimed."""
        return bool(
            self.filter(pk=pk, generation=generation, state=SyndicationRecord.State.POSTING).update(
                lease_expires_at=None, updated_at=timezone.now(), **changes
            )
        )

    def hand_over(self, pk: int, **remote) -> bool:
        """A newer publish overtook a run: keep what the run learned about the remote post and
        queue the record for the newer generation."""
        return bool(
            self.filter(pk=pk, state=SyndicationRecord.State.POSTING).update(
                state=SyndicationRecord.State.QUEUED,
                attempts=0,
                lease_expires_at=None,
                updated_at=timezone.now(),
                **{name: value for name, value in remote.items() if name in REMOTE_FIELDS},
            )
        )

    def due(self):
        """Records a worker should be running now but may not be: retries that are due, runs
        whose worker died (lease expired), and queued records whose task was lost."""
        now = timezone.now()
        State = SyndicationRecord.State
        lease = timedelta(seconds=get_setting("LEASE_TIMEOUT"))
        return self.filter(
            Q(state=State.RETRYING, next_attempt_at__lte=now)
            | Q(state=State.POSTING, lease_expires_at__lte=now)
            | Q(state=State.QUEUED, queued_at__lte=now - lease)
        )


class SyndicationRecord(models.Model):
    """One row per (page, account), reused on every publish, so a page is never posted twice.

    ``generation`` counts the times the record was queued; a task carries the generation it was
    queued for and does nothing when the record has moved on. A task that is running holds the
    record in ``posting`` until ``lease_expires_at``; after that another run may take it over
    (the worker that held it is presumed dead).
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        POSTING = "posting", _("Posting")
        RETRYING = "retrying", _("Retrying")
        POSTED = "posted", _("Posted")
        FAILED = "failed", _("Failed")
        DELETED = "deleted", _("Deleted")

    page = models.ForeignKey(
        "wagtailcore.Page",
        verbose_name=_("page"),
        on_delete=models.CASCADE,
        related_name="syndication_records",
    )
    # A removed account's records stay (its posts are still out there), without the account but
    # with who it was (``former_*``), so that connecting the same account again adopts them.
    account = models.ForeignKey(
        "wagtail_syndicate.SyndicationAccount",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="records",
    )
    former_network = models.CharField(max_length=32, blank=True, editable=False)
    former_instance_url = models.URLField(max_length=500, blank=True, editable=False)
    former_handle = models.CharField(max_length=255, blank=True, editable=False)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.QUEUED, db_index=True
    )
    generation = models.PositiveIntegerField(default=0, editable=False)
    remote_id = models.CharField(_("post ID"), max_length=255, blank=True)
    remote_url = models.URLField(_("post URL"), max_length=500, blank=True)
    attempts = models.PositiveIntegerField(
        _("attempts"), default=0, help_text=_("Attempts at the latest publish.")
    )
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # What was last posted: a fingerprint of the composed post, and the uploaded media (one
    # dict per image: source, remote id, alt text, focus), reused by retries and edits.
    content_hash = models.CharField(max_length=64, blank=True, editable=False)
    media = models.JSONField(default=list, blank=True, editable=False)
    # Set when a create request got no answer (the server may have stored the post).
    unknown_outcome_key = models.CharField(max_length=100, blank=True, editable=False)
    unknown_outcome_since = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(_("reason it failed"), blank=True)
    # Something the editor should know about a post that is fine, such as a change the network
    # cannot show because its posts cannot be edited.
    notice = models.TextField(_("notice"), blank=True)
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    posted_at = models.DateTimeField(_("posted at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = SyndicationRecordQuerySet.as_manager()

    # A record's link to its page is not a use of the page for Wagtail's "Usage" listing, and
    # indexing it would enqueue a reference-index task for every record a publish creates.
    wagtail_reference_index_ignore = True

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
        return f"{self.page.title} → {self.account_name()}"

    @admin.display(description=_("account"))
    def account_name(self) -> str:
        """The account the post was shared to, or who it was if it has since been removed."""
        if self.account_id is not None:
            return str(self.account)
        if not (self.former_handle or self.former_instance_url):
            return _("A removed account")
        former = account_label(self.former_network, self.former_instance_url, self.former_handle)
        return _("%(account)s (removed)") % {"account": former}

    def public_account_name(self) -> str:
        """The account as readers of the page are shown it: its handle and network ("@demo on
        X"), whether or not it has since been removed."""
        handle = self.account.handle if self.account_id is not None else self.former_handle
        if not handle:
            return network_name(self.network)
        return _("%(handle)s on %(network)s") % {
            "handle": handle,
            "network": network_name(self.network),
        }

    @property
    def network(self) -> str:
        """The key of the network the post is on (``mastodon``), kept once the account goes."""
        return self.account.network if self.account_id is not None else self.former_network

    @property
    def safe_remote_url(self) -> str:
        """The post's link, if it may be shown: an https link (http where insecure instances
        are allowed) on the account's server or on a host its network's posts are on; else
        "". Every place that shows the link uses this, so a link a server gave before links
        were checked when they were stored is not shown either."""

        if not self.remote_url:
            return ""
        if self.account_id is not None:
            network_name, instance_url = self.account.network, self.account.instance_url
        else:
            network_name, instance_url = self.former_network, self.former_instance_url
        try:
            network = get_network(network_name)
        except ConfigurationError:
            return ""
        return "" if network.post_link_problem(instance_url, self.remote_url) else self.remote_url

    @property
    def can_retry(self) -> bool:
        return self.state == self.State.FAILED
