"""Receivers that turn Wagtail's publish signal into queued records."""

import logging

from django.db import transaction
from wagtail.signals import page_published, page_unpublished

from .models import SyndicatedPageMixin
from .queueing import queue_page, queue_removal, record_queueing_failure

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
    """Queue the page's records. Nothing it raises reaches the publish (the page is live
    whatever happens here): a failure is logged and, where possible, written to the page's
    records as failed with the reason."""
    if not should_share(instance, revision, alias):
        return
    try:
        # A savepoint: what failed half-way is undone, and the publish's transaction is usable.
        with transaction.atomic():
            queue_page(instance, revision)
    except Exception as err:
        logger.exception("Could not queue page %s for sharing", instance.pk)
        record_queueing_failure(instance, err)


def on_page_unpublished(sender, instance, **kwargs) -> None:
    if isinstance(instance, SyndicatedPageMixin):
        queue_removal(instance)


def connect() -> None:
    page_published.connect(on_page_published, dispatch_uid="wagtail_syndicate.on_page_published")
    page_unpublished.connect(
        on_page_unpublished, dispatch_uid="wagtail_syndicate.on_page_unpublished"
    )
