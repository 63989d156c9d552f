"""Settings for the RQ smoke test (tests/pipeline/test_rq.py): tasks go to Redis through
django-tasks-rq and are run by an RQ worker process.

Everything else as in ``tests.chaos_settings`` (a SQLite file and media on disk, shared by the
processes). ``TEST_REDIS_URL`` names the Redis server.
"""

import os

from tests.chaos_settings import *  # noqa: F403
from tests.chaos_settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "django_rq", "django_tasks_rq"]

RQ_QUEUES = {"default": {"URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")}}

TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
