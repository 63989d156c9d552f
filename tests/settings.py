"""Settings for the test suite: SQLite, in-memory storage without paths, the Dummy task queue."""

import importlib.util
import os
import tempfile

BASE_DIR = os.path.dirname(os.path.abspath(__file__))

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"

INSTALLED_APPS = [
    "tests.testapp",
    "wagtail_syndicate",
    "wagtail.contrib.settings",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_tasks",
    # django-tasks 0.7 (what Wagtail 7.0 takes) bundles its database backend; later versions
    # moved it to the django-tasks-db package.
    "django_tasks.backends.database"
    if importlib.util.find_spec("django_tasks.backends.database")
    else "django_tasks_db",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "tests.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("TEST_DB_NAME", ":memory:"),
        # A file, not SQLite's shared in-memory database: there two connections writing at
        # once fail at once with "table is locked" instead of waiting, and the tests that run
        # two workers in threads would see that instead of the claim they test.
        "TEST": {
            "NAME": os.path.join(
                tempfile.gettempdir(), f"wagtail_syndicate_tests_{os.getpid()}.sqlite3"
            )
        },
    }
}

# Media go to memory, in a storage whose path() raises: code that reads an image by its
# filesystem path (which fails on S3 and the like) fails the tests.
STORAGES = {
    "default": {"BACKEND": "tests.storage.NoPathStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_URL = "/static/"
MEDIA_URL = "/media/"

# Tasks are collected, not run, so tests decide when the worker runs (tests.utils.run_tasks).
# The Dummy backend; a publish's fan-out runs at once (tests/backends.py).
TASKS = {"default": {"BACKEND": "tests.backends.FanOutAtOnceBackend"}}

WAGTAIL_SITE_NAME = "Test site"
WAGTAILADMIN_BASE_URL = "http://testserver"
WAGTAILADMIN_COMMENTS_ENABLED = False
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}

WAGTAIL_SYNDICATE = {
    "ALLOW_INSECURE_INSTANCES": True,
    "CONNECT_TIMEOUT": 2.0,
    "READ_TIMEOUT": 2.0,
    "MEDIA_PROCESSING_TIMEOUT": 5.0,
    # Quick retries, so tests that retry run in fractions of a second.
    "RETRY_BACKOFF": 0.05,
    "MAX_ATTEMPTS": 3,
}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
