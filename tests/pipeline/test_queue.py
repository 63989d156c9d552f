"""Posts don't wait behind index updates: the plugin's tasks go to ``QUEUE_NAME`` at
``TASK_PRIORITY``, so a worker for that queue runs only them and a worker for every queue runs
them before Wagtail's own, and the system check names the setting when the backend would
refuse the queue."""

import importlib.util

import pytest
from django.core.management import call_command
from django_tasks.backends.dummy import DummyBackend

from tests.utils import connect_account, make_image, make_photo_page, publish_page
from wagtail_syndicate.checks import check_task_queue
from wagtail_syndicate.compat import task_backends
from wagtail_syndicate.models import SyndicationRecord

pytestmark = pytest.mark.django_db(transaction=True)

QUEUE_MODULE = (
    "django_tasks.backends.database"
    if importlib.util.find_spec("django_tasks.backends.database")
    else "django_tasks_db"
)
PLUGIN_TASK = "wagtail_syndicate.pipeline.tasks.syndicate_record"
# What the publish queues: it queues the post.
FAN_OUT = "wagtail_syndicate.pipeline.outbox.fan_out_task"
# A task not run yet: django-tasks 0.7 (Wagtail 7.0) calls it NEW, django-tasks-db READY.
WAITING = "NEW" if QUEUE_MODULE.startswith("django_tasks.") else "READY"


def task_rows():
    return importlib.import_module(f"{QUEUE_MODULE}.models").DBTaskResult.objects.order_by(
        "enqueued_at"
    )


@pytest.fixture
def site_queue(settings):
    """The database queue as the site's only backend (Wagtail's index tasks go to it too), with
    a queue of its own for the plugin."""
    options = {"ENQUEUE_ON_COMMIT": False} if QUEUE_MODULE.startswith("django_tasks.") else {}
    settings.TASKS = {
        "default": {
            "BACKEND": f"{QUEUE_MODULE}.DatabaseBackend",
            "QUEUES": ["default", "syndication"],
            **options,
        }
    }
    settings.WAGTAIL_SYNDICATE = {**settings.WAGTAIL_SYNDICATE, "QUEUE_NAME": "syndication"}


def db_worker(*queues):
    """``manage.py db_worker --queue-name QUEUES --batch``, in this process: it runs what is
    ready in those queues, in the queue's order, and exits."""
    options = {}
    if QUEUE_MODULE == "django_tasks_db":
        options.update(reload=False, worker_id="test-worker")
    call_command(
        "db_worker",
        queue_name=",".join(queues),
        batch=True,
        startup_delay=False,
        interval=0,
        verbosity=0,
        **options,
    )


def test_the_plugins_tasks_are_queued_in_their_queue_above_wagtails(fake_mastodon, site_queue):
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image())

    rows = list(task_rows().values_list("task_path", "queue_name", "priority"))
    assert (FAN_OUT, "syndication", 10) in rows
    wagtails = [row for row in rows if not row[0].startswith("wagtail_syndicate.")]
    # The publish queued Wagtail's search and reference index updates, in the default queue at
    # the default priority, before the plugin's task.
    assert wagtails and {(queue, priority) for _, queue, priority in wagtails} == {("default", 0)}
    assert rows[0][0] != FAN_OUT

    # A worker for the plugin's queue runs the post and leaves Wagtail's tasks to theirs.
    db_worker("syndication")
    assert SyndicationRecord.objects.get(page=page).state == "posted"
    assert len(fake_mastodon.statuses) == 1
    plugins = task_rows().filter(task_path__startswith="wagtail_syndicate.")
    assert sorted(plugins.values_list("task_path", "queue_name", "priority")) == [
        (FAN_OUT, "syndication", 10),
        (PLUGIN_TASK, "syndication", 10),
    ]
    # SUCCEEDED: django-tasks 0.7's name for it.
    assert set(plugins.values_list("status", flat=True)) <= {"SUCCESSFUL", "SUCCEEDED"}
    others = task_rows().exclude(task_path__startswith="wagtail_syndicate.")
    assert set(others.values_list("status", flat=True)) == {WAITING}


def test_a_worker_for_every_queue_posts_before_the_index_backlog(fake_mastodon, settings):
    settings.WAGTAIL_SYNDICATE = {**settings.WAGTAIL_SYNDICATE, "TASK_PRIORITY": 20}
    settings.TASKS = {"default": {"BACKEND": f"{QUEUE_MODULE}.DatabaseBackend"}}
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image(), syndicate=False)
    backlog = task_rows().count()
    assert backlog  # Wagtail's own, from creating and publishing the page
    publish_page(page, syndicate=True)
    assert list(task_rows().values_list("task_path", flat=True))[-1] == FAN_OUT

    db_worker("*")
    assert SyndicationRecord.objects.get(page=page).state == "posted"
    # The newest tasks ran first, for their priority: the fan-out, then the post it queued.
    in_order = task_rows().order_by("started_at").values_list("task_path", "priority")
    assert list(in_order)[:2] == [(FAN_OUT, 20), (PLUGIN_TASK, 20)]
    assert len(in_order) > backlog and not task_rows().filter(status=WAITING).exists()


class NoPriorityBackend(DummyBackend):
    """A backend that, as RQ's, does not order by priority (and refuses any but 0)."""

    supports_priority = False


def test_a_backend_without_priorities_gets_the_queue_alone(fake_mastodon, settings):
    settings.TASKS = {
        "default": {
            "BACKEND": f"{__name__}.NoPriorityBackend",
            "QUEUES": ["default", "syndication"],
        }
    }
    settings.WAGTAIL_SYNDICATE = {**settings.WAGTAIL_SYNDICATE, "QUEUE_NAME": "syndication"}
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image())

    def queued(name):
        return [r for r in task_backends["default"].results if r.task.name == name]

    (fan_out,) = queued("fan_out_task")
    assert (fan_out.task.queue_name, fan_out.task.priority) == ("syndication", 0)
    fan_out.task.call(*fan_out.args)  # the worker's part: it queues the post
    (post,) = queued("syndicate_record")
    assert (post.task.queue_name, post.task.priority) == ("syndication", 0)
    assert SyndicationRecord.objects.get(page=page).state == "queued"


@pytest.mark.parametrize(
    "queues, expected",
    [
        (None, ["wagtail_syndicate.E004"]),
        (["default"], ["wagtail_syndicate.E004"]),
        (["default", "syndication"], []),
        ([], []),
    ],  # fmt: skip
)
def test_a_queue_the_backend_does_not_take_is_an_error(settings, queues, expected):
    backend = {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}
    settings.TASKS = {"default": backend if queues is None else {**backend, "QUEUES": queues}}
    settings.WAGTAIL_SYNDICATE = {**settings.WAGTAIL_SYNDICATE, "QUEUE_NAME": "syndication"}
    errors = check_task_queue(None)
    assert [e.id for e in errors] == expected
    if errors:
        assert 'WAGTAIL_SYNDICATE["QUEUE_NAME"] is "syndication"' in errors[0].msg
        assert 'TASKS["default"]["QUEUES"]' in errors[0].hint


@pytest.mark.parametrize("priority", [101, -101, 2.5, "high", True])
def test_a_priority_the_backends_refuse_is_an_error(settings, priority):
    settings.WAGTAIL_SYNDICATE = {**settings.WAGTAIL_SYNDICATE, "TASK_PRIORITY": priority}
    (error,) = check_task_queue(None)
    assert error.id == "wagtail_syndicate.E005"
    assert 'WAGTAIL_SYNDICATE["TASK_PRIORITY"]' in error.msg


def test_a_queue_name_longer_than_the_database_queue_keeps_is_an_error(settings):
    settings.TASKS = {"default": {"BACKEND": f"{QUEUE_MODULE}.DatabaseBackend", "QUEUES": []}}
    longest = task_rows().model._meta.get_field("queue_name").max_length
    settings.WAGTAIL_SYNDICATE = {**settings.WAGTAIL_SYNDICATE, "QUEUE_NAME": "s" * 33}
    if longest is None:  # django-tasks 0.7's queue keeps names of any length (a TextField)
        assert check_task_queue(None) == []
        return
    assert longest == 32
    (error,) = check_task_queue(None)
    assert error.id == "wagtail_syndicate.E006"
    assert "33 characters" in error.msg and "at most 32" in error.msg
    settings.WAGTAIL_SYNDICATE = {**settings.WAGTAIL_SYNDICATE, "QUEUE_NAME": "s" * 32}
    assert check_task_queue(None) == []
