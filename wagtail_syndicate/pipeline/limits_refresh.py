"""Limits for admin pages, which never wait on a remote server: the ones last read (else the
network's defaults, saying so), and a refresh queued for the worker when they are missing or
more than an hour old, at most once per account every ``REFRESH_INTERVAL`` seconds."""

import logging

from django.core.cache import cache
from django_tasks import task
from django_tasks.backends.immediate import ImmediateBackend

from wagtail_syndicate.conf import plugin_task
from wagtail_syndicate.models import SyndicationAccount
from wagtail_syndicate.networks import get_network
from wagtail_syndicate.networks.limits import Limits
from wagtail_syndicate.pipeline.limits_cache import (
    LAST_READ,
    is_fresh,
    keep_limits,
    known_limits,
    limits_for,
)

logger = logging.getLogger(__name__)

# Seconds between two refreshes an admin page may queue for one account (while the worker has
# not read the limits yet, or cannot reach the server).
REFRESH_INTERVAL = 300


def _refresh_key(account) -> str:
    return f"wagtail_syndicate:limits-refresh:{account.pk}"


@task()
def refresh_limits(account_id: int) -> str:
    """Read the limits of account ``account_id`` from its server, unless they were read within
    the hour; return what was done. Nothing is raised to the task backend: a server that
    cannot be reached leaves the limits as they were, and the next admin page asks again."""

    account = SyndicationAccount.objects.filter(pk=account_id).first()
    if account is None:
        return "gone"
    try:
        limits, read_at = known_limits(account)
        if is_fresh(read_at):
            # Read within the hour (by this worker: its cache has them): keep them where
            # every process sees them, should the session have lost them (a Bluesky sign-in
            # replaces the whole session).
            kept = account.credentials().session.get(LAST_READ)
            if not isinstance(kept, dict) or kept.get("read_at") != read_at:
                keep_limits(account, limits, read_at)
            return "fresh"
        limits_for(account, refresh=True)
    except Exception as err:  # a background refresh: nothing to tell, asked again later
        # (the error's kind only: its words may quote the server)
        logger.warning("The limits of %s could not be read (%s)", account, type(err).__name__)
        return "unreachable"
    return "refreshed"


def queue_refresh(account) -> bool:
    """Queue ``refresh_limits`` for ``account``, unless one was queued within
    ``REFRESH_INTERVAL`` seconds; True when queued. Never raises: an admin page goes on."""
    try:
        queued_task = plugin_task(refresh_limits)
        if isinstance(queued_task.get_backend(), ImmediateBackend):
            # It would run here, in the admin's request: the limits are read when a post is
            # sent (with this backend, in the publish itself; ``manage.py check`` warns).
            return False
        if not cache.add(_refresh_key(account), True, REFRESH_INTERVAL):
            return False
        queued_task.enqueue(account.pk)
    except Exception:
        logger.exception("The refresh of the limits of %s could not be queued", account)
        return False
    return True


def admin_limits(account) -> tuple[Limits, bool]:
    """The limits an admin page shows for ``account``, with no request to its server: (the
    limits last read, True), or (the network's defaults, False) when none were ever read.
    When they are missing or more than an hour old, the worker is asked to read them."""
    if not getattr(get_network(account.network), "limits_from_server", True):
        return limits_for(account, fetch=False), True
    limits, read_at = known_limits(account)
    if not is_fresh(read_at):
        queue_refresh(account)
    if limits is None:
        return limits_for(account, fetch=False), False
    return limits, True
