"""System checks: mistakes in set-up that would make sharing fail quietly."""

from django.conf import settings
from django.core import checks

from wagtail_syndicate.admin.page_form import SyndicatedPageForm
from wagtail_syndicate.compat import task_backends
from wagtail_syndicate.conf import database_result_model, get_setting, unknown_settings
from wagtail_syndicate.exceptions import ConfigurationError
from wagtail_syndicate.models import MastodonApp, SyndicatedPageMixin, SyndicationAccount
from wagtail_syndicate.networks.http import RUN_MARGIN, network_time_per_run, run_margin
from wagtail_syndicate.networks.registry import configured_networks, get_network
from wagtail_syndicate.tokens import is_readable


@checks.register()
def check_settings(app_configs, **kwargs):
    return [
        checks.Warning(
            f'WAGTAIL_SYNDICATE["{key}"] is not a wagtail-syndicate setting and is ignored.',
            hint="Check the spelling against the list of settings in docs/settings.md.",
            id="wagtail_syndicate.W001",
        )
        for key in unknown_settings()
    ]


@checks.register(checks.Tags.security)
def check_insecure_instances(app_configs, **kwargs):

    if get_setting("ALLOW_INSECURE_INSTANCES") and not settings.DEBUG:
        return [
            checks.Warning(
                'WAGTAIL_SYNDICATE["ALLOW_INSECURE_INSTANCES"] is on outside DEBUG: tokens may '
                "travel unencrypted and the site may be made to send requests into its own "
                "network.",
                hint="Turn it off in production; it is for development and tests.",
                id="wagtail_syndicate.W003",
            )
        ]
    return []


@checks.register(checks.Tags.compatibility)
def check_task_backend(app_configs, **kwargs):

    tasks = getattr(settings, "TASKS", None) or {}
    alias = get_setting("TASK_BACKEND")
    backend = (tasks.get(alias) or {}).get("BACKEND", "")
    if not tasks and alias == "default":
        backend = "ImmediateBackend (the default when TASKS is not set)"
    elif alias not in tasks:
        return [
            checks.Error(
                f'WAGTAIL_SYNDICATE["TASK_BACKEND"] is "{alias}", which is not a key of TASKS.',
                id="wagtail_syndicate.E001",
            )
        ]
    if "ImmediateBackend" in backend and not settings.DEBUG:
        return [
            checks.Warning(
                "Posts are sent by the ImmediateBackend: every publish waits for the network.",
                hint='Use "django_tasks_db.DatabaseBackend" in TASKS and run '
                "`manage.py db_worker` (see docs/operations.md).",
                id="wagtail_syndicate.W002",
            )
        ]
    return []


@checks.register(checks.Tags.compatibility)
def check_task_queue(app_configs, **kwargs):
    """The queue and priority the plugin's tasks are sent with (``conf.plugin_task``) must be
    ones the backend takes: django-tasks refuses, at every enqueue, a queue its backend does
    not list in ``QUEUES`` (``["default"]`` when not set) and a priority that is not a whole
    number from -100 to 100."""

    found = []
    priority = get_setting("TASK_PRIORITY")
    if isinstance(priority, bool) or not isinstance(priority, int) or not -100 <= priority <= 100:
        found.append(
            checks.Error(
                f'WAGTAIL_SYNDICATE["TASK_PRIORITY"] is {priority!r}: a task\'s priority is a '
                "whole number from -100 to 100, so every post would fail to be queued.",
                hint="Set it from -100 to 100 (default 10; Wagtail's own tasks have 0).",
                id="wagtail_syndicate.E005",
            )
        )
    alias = get_setting("TASK_BACKEND")
    tasks = getattr(settings, "TASKS", None) or {}
    try:
        if tasks and alias not in tasks:
            raise LookupError(alias)  # E001 says so
        queues = task_backends[alias].queues
    except Exception:  # no such backend, or one that cannot load: its own check says why
        return found
    queue = get_setting("QUEUE_NAME")
    if queues and queue not in queues:
        listed = ", ".join(f'"{name}"' for name in sorted(queues))
        found.append(
            checks.Error(
                f'WAGTAIL_SYNDICATE["QUEUE_NAME"] is "{queue}", a queue the "{alias}" task '
                f"backend does not take (its QUEUES: {listed}): every post would fail to be "
                "queued.",
                hint=f'Add "{queue}" to TASKS["{alias}"]["QUEUES"] (["default"] when not '
                'set), or set WAGTAIL_SYNDICATE["QUEUE_NAME"] to one of its queues.',
                id="wagtail_syndicate.E004",
            )
        )
    result_model = database_result_model(task_backends[alias])
    longest = result_model and result_model._meta.get_field("queue_name").max_length
    if longest and len(queue) > longest:
        found.append(
            checks.Error(
                f'WAGTAIL_SYNDICATE["QUEUE_NAME"] is "{queue}", {len(queue)} characters: the '
                f"database queue's column holds at most {longest}, so on PostgreSQL or MySQL "
                "every post would fail to be queued.",
                hint=f"Use a queue name of at most {longest} characters.",
                id="wagtail_syndicate.E006",
            )
        )
    return found


@checks.register(checks.Tags.compatibility)
def check_task_packages(app_configs, **kwargs):
    """django-tasks-db 0.13+ runs on Django's own ``django.tasks`` when Django has it (6.0+);
    Wagtail and this plugin define their tasks with the django-tasks package, whose tasks that
    queue then refuses ("does not point to a Task") at every enqueue."""
    from importlib.metadata import PackageNotFoundError, version
    from importlib.util import find_spec

    backends = [b.get("BACKEND", "") for b in (getattr(settings, "TASKS", None) or {}).values()]
    if not find_spec("django.tasks") or not any(b.startswith("django_tasks_db") for b in backends):
        return []
    try:
        installed = version("django-tasks-db")
    except PackageNotFoundError:
        return []
    if tuple(int(part) for part in installed.split(".")[:2] if part.isdigit()) < (0, 13):
        return []
    return [
        checks.Error(
            f"django-tasks-db {installed} runs on Django's own django.tasks, but Wagtail and "
            "wagtail-syndicate queue their tasks with the django-tasks package: every task "
            "sent to its database queue would fail.",
            hint='pip install "django-tasks-db<0.13"',
            id="wagtail_syndicate.E002",
        )
    ]


# The least one run must be able to do within its lease: read the server's limits, upload
# an image, ask once more when its processing ends (within MEDIA_PROCESSING_TIMEOUT), and
# create the post: 4 requests of at most REQUEST_DEADLINE each, and the processing wait.
SMALLEST_RUN_REQUESTS = 4


def smallest_run_seconds() -> float:
    """How long sharing a post with one image may take at worst, from the settings."""

    return SMALLEST_RUN_REQUESTS * get_setting("REQUEST_DEADLINE") + get_setting(
        "MEDIA_PROCESSING_TIMEOUT"
    )


@checks.register()
def check_lease(app_configs, **kwargs):
    """A run's requests are bounded by its lease (``networks.http.run_deadline``): the lease
    less its margin (``run_margin()``) must leave room for at least the smallest run, or
    every run that shares an image is stopped, retried and in the end failed."""

    available, needed, margin = network_time_per_run(), smallest_run_seconds(), run_margin()
    if available > needed:
        return []
    least = min(needed + RUN_MARGIN, needed * 4 / 3)  # the lease whose network time is needed
    return [
        checks.Warning(
            f'WAGTAIL_SYNDICATE["LEASE_TIMEOUT"] is {get_setting("LEASE_TIMEOUT"):g} seconds: '
            f"less {margin:g} seconds for a run's own work, that leaves "
            f"{available:g} seconds for its requests, and sharing one image may need "
            f"{needed:g} ({SMALLEST_RUN_REQUESTS} requests of up to REQUEST_DEADLINE and "
            "MEDIA_PROCESSING_TIMEOUT). Such runs are stopped, retried and in the end failed.",
            hint=f"Set LEASE_TIMEOUT above {least:g} seconds, or lower REQUEST_DEADLINE or "
            "MEDIA_PROCESSING_TIMEOUT.",
            id="wagtail_syndicate.W004",
        )
    ]


@checks.register(checks.Tags.security)
def check_tokens_readable(app_configs, **kwargs):
    """Stored tokens that no current key decrypts (SECRET_KEY changed without the old one in
    SECRET_KEY_FALLBACKS): those accounts fail every post until connected again."""
    from django.db import DatabaseError

    try:
        accounts = [a for a in SyndicationAccount.objects.all() if not a.token_readable]
        apps = [
            app
            for app in MastodonApp.objects.only("instance_url", "encrypted_client_secret")
            if not is_readable(app.encrypted_client_secret)
        ]
    except DatabaseError:  # not migrated yet (the check runs before `migrate` too)
        return []
    found = []
    if accounts:
        names = ", ".join(f"{account} (id {account.pk})" for account in accounts)
        found.append(
            checks.Warning(
                f"The access tokens of these social accounts cannot be decrypted: {names}. "
                "Every post to them fails.",
                hint="Put the old SECRET_KEY back in SECRET_KEY_FALLBACKS (or "
                'WAGTAIL_SYNDICATE["TOKEN_KEYS"]) and run `manage.py '
                "syndication_reencrypt_tokens`, or connect the accounts again.",
                id="wagtail_syndicate.W005",
            )
        )
    if apps:
        found.append(
            checks.Warning(
                "The client secrets of the Mastodon applications of "
                f"{', '.join(app.instance_url for app in apps)} cannot be decrypted.",
                hint="They are registered again at the next connection; nothing to do unless "
                "the old key can be put back.",
                id="wagtail_syndicate.W006",
            )
        )
    return found


def bad_intervals(value) -> bool:
    """Whether ``value`` is not a non-empty sequence of positive, finite numbers of seconds."""
    import math
    from numbers import Real

    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)) or not value:
        return True
    return not all(
        isinstance(wait, Real) and not isinstance(wait, bool) and 0 < wait < math.inf
        for wait in value
    )


@checks.register()
def check_live_status_intervals(app_configs, **kwargs):
    """The admin's live status waits these between its checks of a post in flight: anything
    but positive numbers breaks every admin screen that shows a record, and an empty list
    leaves them all still until reloaded."""

    value = get_setting("LIVE_STATUS_INTERVALS")
    if not bad_intervals(value):
        return []
    return [
        checks.Error(
            f'WAGTAIL_SYNDICATE["LIVE_STATUS_INTERVALS"] is {value!r}: it must be a non-empty '
            "list of positive numbers of seconds (the waits between the admin's checks of a "
            "post in flight; the last one repeats).",
            hint="Leave it out for the default (2, 4, 8, 16, 32, 60), or give e.g. [5, 30].",
            id="wagtail_syndicate.E003",
        )
    ]


@checks.register(checks.Tags.models)
def check_page_forms(app_configs, **kwargs):
    """A shared page model whose edit form does not subclass ``SyndicatedPageForm`` loses the
    publish-time refusal (a publish that cannot be shared goes through, and only its record
    says why) and the choice of accounts limited to the page's site, without a word."""
    from django.apps import apps
    from wagtail.admin.forms import WagtailAdminPageForm

    found = []
    models = (
        apps.get_models()
        if app_configs is None
        else [model for config in app_configs for model in config.get_models()]
    )
    for model in models:
        if not issubclass(model, SyndicatedPageMixin) or model._meta.abstract:
            continue
        try:
            edit_handler = model.get_edit_handler()
            form_class = edit_handler.get_form_class()
        except Exception:  # a broken edit handler (Wagtail's own checks say so): the model's
            edit_handler, form_class = None, getattr(model, "base_form_class", None)
        if not isinstance(form_class, type) or issubclass(form_class, SyndicatedPageForm):
            continue
        # The class the site wrote (Wagtail builds the form as a subclass of it).
        named = (
            getattr(edit_handler, "base_form_class", None)
            or getattr(model, "base_form_class", None)
            or WagtailAdminPageForm  # Wagtail's default: the page names no form
        )
        found.append(
            checks.Warning(
                f"{model._meta.label}'s edit form ({named.__module__}."
                f"{named.__qualname__}) does not subclass SyndicatedPageForm: a publish "
                "that cannot be shared (an image without alt text, a text too long for an "
                "account) is not refused, and the accounts offered are not limited to the "
                "page's site.",
                hint="Set the page model's base_form_class to "
                "wagtail_syndicate.admin.SyndicatedPageForm, or a subclass of it.",
                obj=model,
                id="wagtail_syndicate.W007",
            )
        )
    return found


@checks.register()
def check_networks(app_configs, **kwargs):
    """Every network of ``NETWORKS`` (and the built-in ones) must name a ``Network`` class
    that imports: accounts on one that does not could never post."""

    try:
        keys = list(configured_networks())
    except ConfigurationError as err:
        keys, found = [], [checks.Error(str(err), id="wagtail_syndicate.E007")]
    else:
        found = []
    for key in keys:
        try:
            get_network(key)
        except (ConfigurationError, ImportError) as err:
            found.append(
                checks.Error(
                    f'The network "{key}" cannot be used: {err}',
                    hint='WAGTAIL_SYNDICATE["NETWORKS"] names each network as {"key": '
                    '{"BACKEND": "dotted.path.to.NetworkClass"}}, a subclass of '
                    "wagtail_syndicate.networks.Network.",
                    id="wagtail_syndicate.E007",
                )
            )
    return found
