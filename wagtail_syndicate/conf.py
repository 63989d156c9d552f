"""The one place settings are read: ``WAGTAIL_SYNDICATE = {...}`` in Django settings.

Every key is optional; the defaults below are documented in docs/settings.md.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from wagtail_syndicate.compat import task_backends

DEFAULTS: dict[str, Any] = {
    # Accept http:// and loopback instance URLs (development, tests, the demo).
    "ALLOW_INSECURE_INSTANCES": False,
    # Keys that encrypt access tokens at rest. The first one encrypts; all of them decrypt,
    # so a key can be rotated by putting the new one first. Default: derived from SECRET_KEY
    # (encrypts) and SECRET_KEY_FALLBACKS (decrypt too). After a rotation, run
    # `manage.py syndication_reencrypt_tokens`, then the old key may be removed.
    "TOKEN_KEYS": None,
    # Seconds to wait for a network to accept a connection and to answer a request.
    "CONNECT_TIMEOUT": 5.0,
    "READ_TIMEOUT": 30.0,
    # Longest total time, in seconds, one request may take (connect, send and receive): a
    # server that trickles its answer cannot hold the worker or a page longer.
    "REQUEST_DEADLINE": 60.0,
    # Longest total wait, in seconds, for a network to finish processing an uploaded image.
    "MEDIA_PROCESSING_TIMEOUT": 60.0,
    # The text of posts: {title}, {intro} (search description), {url}, {tags} (hashtags).
    # Page models override it with `syndication_template`, editors with a custom text.
    "STATUS_TEMPLATE": "{title}\n\n{intro}\n\n{url}\n\n{tags}",
    # Refuse to publish a page set to be shared that cannot be (no alt text, no image, ...).
    "REQUIRE_ALT_TEXT": True,
    # Largest image, in pixels (width × height), that is read to be shared; a larger one is
    # refused before it is decoded (decoding costs memory in proportion to the pixels, whatever
    # the file's size). None: Wagtail's WAGTAILIMAGES_MAX_IMAGE_PIXELS when set, else 100 million.
    "MAX_SOURCE_PIXELS": None,
    # Name of the Django Tasks backend (a key of settings.TASKS) that runs the posting task.
    "TASK_BACKEND": "default",
    # The queue of that backend (one of its QUEUES) that every task of the plugin goes to, so a
    # worker can be run for the plugin's tasks alone (`manage.py db_worker --queue-name ...`).
    "QUEUE_NAME": "default",
    # The priority of the plugin's tasks (-100 to 100, higher runs first) where the backend
    # orders by priority (the database queue does): above Wagtail's own tasks (search and
    # reference index updates, queued at the default, 0), so posts do not wait behind them.
    "TASK_PRIORITY": 10,
    # Attempts at one publish before a passing failure (time-out, 5xx, 429) becomes final.
    "MAX_ATTEMPTS": 5,
    # Seconds before the first retry; doubled for each further one (with jitter), up to the max.
    "RETRY_BACKOFF": 30.0,
    "RETRY_BACKOFF_MAX": 3600.0,
    # Seconds a worker may hold a record while posting it; after that the worker is presumed
    # dead and another run may take the record over. Keep it above the longest possible run.
    "LEASE_TIMEOUT": 900.0,
    # What republishing a posted page whose post would change does: "edit" or "ignore".
    "ON_UPDATE": "edit",
    # Delete the remote post when its page is unpublished.
    "DELETE_ON_UNPUBLISH": False,
    # The media upload rate limit the `syndicate` command paces every account to, as uploads
    # per window of seconds; None: each network's own (Mastodon: 30 uploads per 30 minutes).
    "MEDIA_UPLOAD_LIMIT": None,
    "MEDIA_UPLOAD_WINDOW": None,
    # X: the OAuth 2.0 client ID and secret of your X app (the admin's "Connect an X account";
    # leave the secret empty for a public client), and the consumer key and secret of the app
    # that issued OAuth 1.0a user tokens, for accounts added with such tokens.
    "X_CLIENT_ID": None,
    "X_CLIENT_SECRET": None,
    "X_CONSUMER_KEY": None,
    "X_CONSUMER_SECRET": None,
    # X: where administrators sign in and consent (default https://x.com/i/oauth2/authorize)
    # and the API that accounts connected in the admin use (default https://api.x.com).
    # Change them only for a stand-in such as FakeX.
    "X_AUTHORIZE_URL": None,
    "X_API_URL": None,
    # The web app where Bluesky and X posts are read, which their post links point to
    # (default https://bsky.app and https://x.com). Change them only for a stand-in such as
    # FakeBluesky or FakeX: links are shown only on this host (or the real one).
    "BLUESKY_WEB_URL": None,
    "X_WEB_URL": None,
    # Networks accounts may be on, by the key stored on each account, in the shape of
    # WAGTAILFRONTENDCACHE: {"key": {"BACKEND": "dotted.path.to.NetworkClass"}}. Added to the
    # built-in ones (mastodon, bluesky, x), or replacing one of the same key; None for a key
    # leaves a built-in one out. A network needs no migration.
    "NETWORKS": None,
    # Seconds between the admin's checks of a post in flight (queued, posting, retrying), each
    # wait after the one before; the last one repeats. The checks stop when nothing is in flight.
    "LIVE_STATUS_INTERVALS": (2, 4, 8, 16, 32, 60),
}


def get_setting(name: str) -> Any:
    """Return ``WAGTAIL_SYNDICATE[name]``, or its documented default.

    An unknown name is a programming error and raises ``ImproperlyConfigured`` naming the key.
    """
    if name not in DEFAULTS:
        raise ImproperlyConfigured(
            f'WAGTAIL_SYNDICATE["{name}"] is not a wagtail-syndicate setting. '
            f"Known settings: {', '.join(sorted(DEFAULTS))}."
        )
    configured = getattr(settings, "WAGTAIL_SYNDICATE", None) or {}
    if not isinstance(configured, dict):
        raise ImproperlyConfigured("WAGTAIL_SYNDICATE must be a dict.")
    return configured.get(name, DEFAULTS[name])


def plugin_task(task, **changes):
    """``task`` as the plugin queues it: on ``TASK_BACKEND``, in ``QUEUE_NAME``, at
    ``TASK_PRIORITY`` where the backend orders by priority (one that does not, such as RQ's,
    refuses any priority but the default), with ``changes`` (``Task.using``'s, e.g.
    ``run_after``). One ``using``: each copy of a task is validated against its backend, so a
    copy on the backend but still in the "default" queue fails where QUEUES lacks it."""

    alias = get_setting("TASK_BACKEND")
    # django-tasks before 0.8 has no supports_priority: every backend there takes a priority.
    if getattr(task_backends[alias], "supports_priority", True):
        changes.setdefault("priority", get_setting("TASK_PRIORITY"))
    return task.using(backend=alias, queue_name=get_setting("QUEUE_NAME"), **changes)


# The modules of the database queue's backends: django-tasks-db, and django-tasks 0.7's own.
DATABASE_QUEUE_MODULES = ("django_tasks_db", "django_tasks.backends.database")


def database_result_model(backend):
    """The model of the database queue's rows when ``backend`` is that queue, else None.
    Recognised by the backend's own module: the other package may be installed but unusable
    (django-tasks-db does not import with django-tasks 0.7)."""
    from importlib import import_module

    backend_module = type(backend).__module__
    for module in DATABASE_QUEUE_MODULES:
        if backend_module == module or backend_module.startswith(module + "."):
            return import_module(f"{module}.models").DBTaskResult
    return None


def unknown_settings() -> list[str]:
    """Keys in ``WAGTAIL_SYNDICATE`` that this version does not know (likely typos)."""
    configured = getattr(settings, "WAGTAIL_SYNDICATE", None) or {}
    return sorted(set(configured) - set(DEFAULTS))
