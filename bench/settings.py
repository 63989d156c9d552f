"""Settings for the benchmarks: the test suite's, with a SQLite file, images on disk and the
database task queue (as in production: a publish only writes a task row, a worker runs it).

Read from the environment, so every process of one benchmark shares them:

* ``BENCH_DIR``: a temporary folder holding the database (``db.sqlite3``) and the images
  (``media/``); set by ``bench._common.bootstrap``.
* ``BENCH_SYNDICATE``: JSON merged into ``WAGTAIL_SYNDICATE`` (e.g. time-scaled rate limits
  for ``bench/backfill.py``).
* ``BENCH_DATABASE_URL``: ``postgresql://...`` for PostgreSQL instead of the SQLite file.
* ``BENCH_PLUGIN=0``: the same site without wagtail-syndicate: the plugin is not in
  ``INSTALLED_APPS`` and the photo page is ``bench.plainapp.PlainPhotoPage`` (the same fields,
  without the mixin). The default, ``1``, is the test suite's ``tests.testapp.PhotoPage``.
"""

import importlib.util
import json
import os

from bench._common import postgres_settings
from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

PLUGIN = os.environ.get("BENCH_PLUGIN", "1") == "1"
BENCH_DIR = os.environ.get("BENCH_DIR", "/tmp/wagtail-syndicate-bench")

if not PLUGIN:
    INSTALLED_APPS = ["bench.plainapp"] + [
        app for app in INSTALLED_APPS if app not in ("tests.testapp", "wagtail_syndicate")
    ]

DATABASES = {
    "default": postgres_settings(os.environ["BENCH_DATABASE_URL"])
    if os.environ.get("BENCH_DATABASE_URL")
    else {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(BENCH_DIR, "db.sqlite3"),
        # What the README recommends for SQLite.
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL;"
            # Only while the benchmark migrates its fresh database (bench._common.bootstrap):
            # durability does not matter there, and it saves a quarter of a minute.
            + (" PRAGMA synchronous=OFF;" if os.environ.get("BENCH_MIGRATING") == "1" else ""),
        },
    }
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Wagtail's search index uses PostgreSQL's full-text fields, which Django 6.1 checks for.
    INSTALLED_APPS = [*INSTALLED_APPS, "django.contrib.postgres"]

MEDIA_ROOT = os.path.join(BENCH_DIR, "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# django-tasks 0.7 (Wagtail 7.0) bundles its database backend; later versions moved it to
# the django-tasks-db package.
TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.database.DatabaseBackend"
        if importlib.util.find_spec("django_tasks.backends.database")
        else "django_tasks_db.DatabaseBackend",
        # The plugin's own queue, for the benchmarks that give it one (QUEUE_NAME).
        "QUEUES": ["default", "syndication"],
    }
}

WAGTAILADMIN_BASE_URL = "http://localhost"

# W003 (insecure instances outside DEBUG): on purpose, FakeMastodon is plain http on loopback.
SILENCED_SYSTEM_CHECKS = ["wagtail_syndicate.W003"]

WAGTAIL_SYNDICATE = {
    "ALLOW_INSECURE_INSTANCES": True,  # FakeMastodon on 127.0.0.1
    "CONNECT_TIMEOUT": 5.0,
    "READ_TIMEOUT": 60.0,
    "MEDIA_PROCESSING_TIMEOUT": 60.0,
    **json.loads(os.environ.get("BENCH_SYNDICATE") or "{}"),
}
