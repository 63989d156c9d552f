"""Receivers that turn Wagtail's publish signal into an intent to share (fanned out into
records by the worker)."""

import logging

from wagtail.signals import page_published, page_unpublished

from wagtail_syndicate.models import SyndicatedPageMixin
from wagtail_syndicate.pipeline.outbox import record_intent, savepoint
from wagtail_syndicate.pipeline.queueing import queue_removal

logger = logging.getLogger(__name__)


def should_share(instance, revision, alias: bool = False) -> bool:
    """True for a real publish of a page with its toggle on.

    ``page_published`` also fires for aliases and when a never-published page is scheduled
    (then the page is not live); neither is a publish to share.
    """
    return (
        isinstance(instance, SyndicatedPageMixin)
        and not alias
        and instance.alias_of_id is None
        and instance.live
        and revision is not None
        and revision.pk == instance.live_revision_id
        and instance.syndicate
    )


def on_page_published(sender, instance, revision=None, alias=False, **kwargs) -> None:
    """Record the intent to share the page (one insert, one task): the worker's ``fan_out``
    makes its records. No page-model code runs here. Nothing it raises reaches the publish
    (the page is live whatever happens here): a failure is logged."""
    if not should_share(instance, revision, alias):
        return
    try:
        # Inside a transaction, a savepoint: what failed is undone, and the publish's
        # transaction stays usable.
        with savepoint():
            record_intent(instance, revision)
    except Exception:
        logger.exception("Could not queue page %s for sharing", instance.pk)


def on_page_unpublished(sender, instance, **kwargs) -> None:
    if isinstance(instance, SyndicatedPageMixin):
        queue_removal(instance)


def connect() -> None:
    page_published.connect(on_page_published, dispatch_uid="wagtail_syndicate.on_page_published")
    page_unpublished.connect(
        on_page_unpublished, dispatch_uid="wagtail_syndicate.on_page_unpublished"
    )
