"""Commits as production has them, inside a test's transaction.

A test marked plain ``django_db`` runs inside a transaction that is rolled back at its end, so
``transaction.on_commit`` callbacks never run by themselves. In production they run when the
request, the publish or the worker's task commits; these helpers run them at those same points
(and take them off the list, so that none runs twice), reading the list Django's own
``captureOnCommitCallbacks`` reads, ``connection.run_on_commit``. In a transactional test
(threads, other processes), where the commits are real, they change nothing.
"""

import logging
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections
from django.test import Client

logger = logging.getLogger(__name__)


def _run_callbacks(connection, start=0):
    """Run the callbacks from ``start`` on, and what they register in turn, removing them."""
    while connection.in_atomic_block and len(connection.run_on_commit) > start:
        pending = connection.run_on_commit[start:]
        del connection.run_on_commit[start:]
        for _savepoints, callback, robust in pending:
            if not robust:
                callback()
                continue
            try:
                callback()
            except Exception:
                logger.exception("A robust on_commit callback raised")


@contextmanager
def committing(using=DEFAULT_DB_ALIAS):
    """What the block registers with ``on_commit`` runs when it ends, as if the block were a
    transaction of its own that committed (not when it raises: that one rolled back)."""
    connection = connections[using]
    start = len(connection.run_on_commit)
    yield
    _run_callbacks(connection, start)


def commit_pending(using=DEFAULT_DB_ALIAS):
    """Run the ``on_commit`` callbacks the test's code has left so far (a publish, an
    unpublish, a management command, a workflow's approval), as their commit would have before
    a worker sees their work."""
    _run_callbacks(connections[using])


class CommittingClient(Client):
    """The test client, each request's ``on_commit`` callbacks run when it returns, as after
    the request's transaction in production."""

    def request(self, **request):
        with committing():
            return super().request(**request)
