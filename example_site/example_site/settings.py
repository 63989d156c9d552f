"""Settings of the example site: a small photo blog that shares new photos to Mastodon,
Bluesky and X.

Made for local use only (DEBUG on, a fixed secret key, SQLite). The lines that matter for
wagtail-syndicate are marked "Syndication".
"""

import importlib.util
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# The ports `demo.py` runs the site and the fake Mastodon and X servers on.
DEMO_PORT = int(os.environ.get("DEMO_PORT", "8000"))
DEMO_MASTODON_PORT = int(os.environ.get("DEMO_MASTODON_PORT", "8001"))
DEMO_BLUESKY_PORT = int(os.environ.get("DEMO_BLUESKY_PORT", "8002"))
DEMO_X_PORT = int(os.environ.get("DEMO_X_PORT", "8003"))

SECRET_KEY = "django-insecure-example-site-for-local-use-only"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

# django-tasks 0.7 (what Wagtail 7.0 installs) bundles its database backend; later versions
# moved it to the django-tasks-db package.
if importlib.util.find_spec("django_tasks.backends.database"):
    TASKS_DATABASE_APP = "django_tasks.backends.database"
    TASKS_DATABASE_BACKEND = "django_tasks.backends.database.DatabaseBackend"
else:
    TASKS_DATABASE_APP = "django_tasks_db"
    TASKS_DATABASE_BACKEND = "django_tasks_db.DatabaseBackend"

INSTALLED_APPS = [
    "photos",
    # Syndication: the plugin. Its admin screens are Reports → Social posts and
    # Settings → Social accounts.
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
    # Syndication: the Django Tasks API and the database queue the posting task waits in.
    "django_tasks",
    TASKS_DATABASE_APP,
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_site.urls"
WSGI_APPLICATION = "example_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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
        "NAME": BASE_DIR / "db.sqlite3",
        # The web server and the worker write to the same file. Without these options, a
        # publish that meets the worker's write fails with "database is locked": WAL lets
        # reads and a write go on together, and IMMEDIATE transactions wait (up to `timeout`
        # seconds) for the write lock instead of failing when they need it mid-way.
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL;",
        },
    }
}

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / "media"

WAGTAIL_SITE_NAME = "Example photo blog"
# Links in posts are the pages' full URLs, built from the Site record (seed_demo sets it to
# this address); the admin uses this one in emails and previews.
WAGTAILADMIN_BASE_URL = f"http://127.0.0.1:{DEMO_PORT}"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}

# Syndication: publishing a page only queues the post; a worker process sends it, so a slow
# or unreachable Mastodon server never holds up the editor. The database backend keeps the
# queue in this site's database, and `python manage.py db_worker` runs it (demo.py starts
# one). Without TASKS, Django would use the ImmediateBackend and post inside the publish.
TASKS = {"default": {"BACKEND": TASKS_DATABASE_BACKEND}}

# Syndication: the plugin's settings (every key is optional). The demo's networks are fakes
# at http://127.0.0.1; the plugin only accepts https addresses of public hosts unless
# insecure instances are allowed. Leave this out on a real site.
WAGTAIL_SYNDICATE = {
    "ALLOW_INSECURE_INSTANCES": True,
    # "Connect an X account" signs in with OAuth 2.0 as the X app with this client ID; the
    # demo's X is FakeX, so its sign-in page and API are there. On a real site: your X app's
    # client ID (and X_CLIENT_SECRET), and no X_AUTHORIZE_URL or X_API_URL.
    "X_CLIENT_ID": "fake-x-client",
    "X_AUTHORIZE_URL": f"http://127.0.0.1:{DEMO_X_PORT}/i/oauth2/authorize",
    "X_API_URL": f"http://127.0.0.1:{DEMO_X_PORT}",
    # The demo's posts are on FakeBluesky and FakeX, which show each post where bsky.app and
    # x.com would: "View post" opens them there. On a real site: leave these out.
    "BLUESKY_WEB_URL": f"http://127.0.0.1:{DEMO_BLUESKY_PORT}",
    "X_WEB_URL": f"http://127.0.0.1:{DEMO_X_PORT}",
}
