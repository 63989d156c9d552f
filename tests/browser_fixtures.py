"""The browser tests' fixtures (tests/admin/test_browser.py, tests/admin/test_accessibility.py):
Chromium through Playwright, pytest-django's live server on 127.0.0.1 and a browser page that
may ask nothing but the site and the fakes. Without Playwright or a ``chromium`` on the PATH the
tests are skipped; with ``WAGTAIL_SYNDICATE_BROWSER_TESTS=required`` (CI) they fail."""

import os
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.browser_support import SharedDummyBackend
from tests.required import unavailable

BROWSER_MARKS = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.browser_support")]

BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}


def abort(route) -> None:
    route.abort()


def missing_browser() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed: pip install -e '.[test,browser]'"
    if not shutil.which("chromium"):
        return "no chromium on the PATH: apt-get install chromium"
    return None


@pytest.fixture(scope="module")
def browser():
    if reason := missing_browser():
        unavailable("Browser tests", reason, "WAGTAIL_SYNDICATE_BROWSER_TESTS")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; Django refuses database
    # queries under a running loop unless told it is safe (it is: nothing else runs there).
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium"), args=BROWSER_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def live_server(browser, django_db_setup):
    """pytest-django's live server, on 127.0.0.1 (its default, localhost, may be ::1). After
    the test database is set up: started before, it would see SQLite's ``:memory:`` and share
    the test's one connection with its request threads, which crashes the process."""
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer("127.0.0.1")
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def browser_settings(settings):
    settings.TASKS = {"default": {"BACKEND": "tests.browser_support.SharedDummyBackend"}}
    settings.WAGTAIL_GRAVATAR_PROVIDER_URL = None  # avatars from gravatar.com: not here
    SharedDummyBackend.shared_results.clear()
    yield
    SharedDummyBackend.shared_results.clear()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport=VIEWPORT, base_url=live_server.url)
    # The site and FakeMastodon are on 127.0.0.1; nothing else is to be asked for anything.
    context.route(re.compile(r"^(?!(https?://127\.0\.0\.1[:/]|data:|blob:|about:))"), abort)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def screenshot(request, tmp_path):
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = folder / f"{name}.png"
        page.wait_for_load_state("networkidle")  # icons and avatars drawn
        page.screenshot(path=path, animations="disabled")
        return path

    return take


@pytest.fixture
def log_in(page, live_server):
    """Sign the browser in as a user (the login form is Wagtail's, not what is tested here)."""

    def log_in(user) -> None:
        client = Client()
        client.force_login(user)
        cookie = {
            "name": settings.SESSION_COOKIE_NAME,
            "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
            "url": live_server.url,
        }
        page.context.add_cookies([cookie])

    return log_in
