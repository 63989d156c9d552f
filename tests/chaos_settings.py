"""Settings for the fault-injection run (bench/chaos.py): real workers on a real database.

Read from the environment, so every process of one run (migrate, the driver, the workers,
``syndicate --retry-due``) shares them:

* ``CHAOS_DATABASE_URL``: ``postgresql://USER[:PASSWORD]@HOST:PORT/NAME`` for PostgreSQL;
  otherwise SQLite in the file ``CHAOS_SQLITE_PATH``. ``CHAOS_SQLITE_IMMEDIATE=1`` opens
  SQLite transactions with ``BEGIN IMMEDIATE`` (Django 5.1+); ``CHAOS_SQLITE_WAL=1`` puts
  the database in write-ahead-log mode.
* ``CHAOS_MEDIA_ROOT``: where images are stored (on disk, shared by the processes).
* ``CHAOS_LEASE_TIMEOUT``, ``CHAOS_READ_TIMEOUT``, ``CHAOS_RETRY_BACKOFF``,
  ``CHAOS_MAX_ATTEMPTS``: the plugin's settings of the same names.
"""

import importlib.util
import os

from bench._common import postgres_settings
from tests.settings import *  # noqa: F403

DEBUG = False

# django-tasks 0.7 (Wagtail 7.0) bundles its database backend; later versions moved it to
# the django-tasks-db package.
LEGACY_TASKS = importlib.util.find_spec("django_tasks.backends.database") is not None
TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.database.DatabaseBackend"
        if LEGACY_TASKS
        else "django_tasks_db.DatabaseBackend"
    }
}


def _database() -> dict:
    url = os.environ.get("CHAOS_DATABASE_URL")
    if url:
        return postgres_settings(url)
    options = {"timeout": 20}
    if os.environ.get("CHAOS_SQLITE_IMMEDIATE") == "1":
        options["transaction_mode"] = "IMMEDIATE"
    if os.environ.get("CHAOS_SQLITE_WAL") == "1":
        options["init_command"] = "PRAGMA journal_mode=WAL"
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["CHAOS_SQLITE_PATH"],
        "OPTIONS": options,
    }


DATABASES = {"default": _database()}

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Wagtail's search index uses PostgreSQL's full-text fields, which Django 6.1 checks for.
    INSTALLED_APPS = [*INSTALLED_APPS, "django.contrib.postgres"]  # noqa: F405

MEDIA_ROOT = os.environ.get("CHAOS_MEDIA_ROOT", "/tmp/wagtail-syndicate-chaos-media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

WAGTAILADMIN_BASE_URL = "http://localhost"

WAGTAIL_SYNDICATE = {
    "ALLOW_INSECURE_INSTANCES": True,
    "CONNECT_TIMEOUT": 2.0,
    "READ_TIMEOUT": float(os.environ.get("CHAOS_READ_TIMEOUT", "1.0")),
    "MEDIA_PROCESSING_TIMEOUT": 5.0,
    "RETRY_BACKOFF": float(os.environ.get("CHAOS_RETRY_BACKOFF", "0.2")),
    "RETRY_BACKOFF_MAX": 2.0,
    # 20 % of requests fail: 25 attempts at one publish never run out (0.2^25 is nothing).
    "MAX_ATTEMPTS": int(os.environ.get("CHAOS_MAX_ATTEMPTS", "25")),
    # Longer than one run can take (a couple of requests, one of them a 1 s time-out, and
    # waits for the database), short enough that a killed worker's record comes back soon.
    "LEASE_TIMEOUT": float(os.environ.get("CHAOS_LEASE_TIMEOUT", "8")),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(process)d %(name)s %(levelname)s %(message)s"}
    },
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "wagtail_syndicate": {"handlers": ["stderr"], "level": "WARNING"},
        "django_tasks": {"handlers": ["stderr"], "level": "WARNING"},
        "django_tasks_db": {"handlers": ["stderr"], "level": "WARNING"},
    },
}
