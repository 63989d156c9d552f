import time

import pytest
import time_machine
from wagtail.test.utils import WagtailTestUtils

from tests import clock as test_clock
from tests.commits import CommittingClient

# Modules whose tests run outside processes or a browser: `make test` and CI run them; leave
# them out with `-m "not slow"` (``make test-fast``).
SLOW_MODULES = {
    "test_accessibility",  # a browser, and axe-core
    "test_browser",  # a browser
    "test_chaos",  # workers killed in the middle of their runs
    "test_demo",  # the demo's own processes
    "test_newcomer_site",  # a new site in its own venv
    "test_real_pds",  # the official Bluesky PDS
    "test_rq",  # RQ workers and Redis
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = getattr(item, "module", None)
        if module is not None and module.__name__.rsplit(".", 1)[-1] in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def client():
    """The test client; what a request leaves to ``on_commit`` runs when it returns (see
    tests/commits.py)."""
    return CommittingClient()


@pytest.fixture
def editor(client):
    """The test client, signed in as a superuser named "editor" (the page editor's tests)."""
    client.force_login(WagtailTestUtils.create_superuser("editor", password="pw"))
    return client


@pytest.fixture
def admin_client(client):
    """The test client, signed in as a superuser (as pytest-django's, through Wagtail's own
    helper)."""
    client.force_login(WagtailTestUtils.create_superuser("admin", password="pw"))
    return client


@pytest.fixture(autouse=True)
def clock():
    """The test's clock: now, and ticking, until ``tests.utils.pass_time`` moves it on (which
    ``run_tasks`` does rather than wait for a task's ``run_after``). time-machine moves what
    ``time.time()`` and ``datetime.now()`` say in every thread of the process, so the fakes'
    clocks and the plugin's move together; ``time.monotonic()`` and real sleeps do not move."""
    with time_machine.travel(time.time(), tick=True) as traveller:
        test_clock.traveller = traveller
        yield traveller
        test_clock.traveller = None


@pytest.fixture(autouse=True)
def clear_cache():
    """Instance limits are cached; each test starts without them."""
    from django.conf import settings

    if settings.configured:  # not in tests of the fake alone (-p no:django)
        from django.core.cache import cache

        cache.clear()


@pytest.fixture(autouse=True)
def clear_dummy_tasks():
    from wagtail_syndicate.compat import task_backends

    backend = task_backends["default"]
    backend.clear()
    yield
    backend.clear()


@pytest.fixture(autouse=True)
def wagtail_tree(request):
    """The root collection, page tree and default site that Wagtail's data migrations create.

    Transactional tests (needed so ``on_commit`` runs as in production) flush the database
    after each test, taking that data with it; this puts it back.
    """
    if "django_db_setup" not in request.fixturenames and not request.node.get_closest_marker(
        "django_db"
    ):
        yield
        return
    request.getfixturevalue("_django_db_helper")
    from wagtail.models import Collection, Locale, Page, Site

    Locale.objects.get_or_create(language_code="en")
    if not Collection.get_first_root_node():
        Collection.add_root(name="Root")
    if not Page.objects.filter(depth=1).exists():
        root = Page.add_root(title="Root", slug="root")
        home = root.add_child(instance=Page(title="Home", slug="home"))
        Site.objects.create(hostname="localhost", port=80, root_page=home, is_default_site=True)
    yield


@pytest.fixture
def x_settings(settings, fake_x):
    """The site's X app: OAuth 2.0 client and OAuth 1.0a consumer, pointed at ``fake_x`` (the
    fixtures ``fake_mastodon``, ``fake_bluesky`` and ``fake_x``: syndicate_fakes' pytest
    plugin)."""
    settings.WAGTAIL_SYNDICATE = {
        **settings.WAGTAIL_SYNDICATE,
        "X_CLIENT_ID": fake_x.client_id,
        "X_CONSUMER_KEY": "x-consumer-key",
        "X_CONSUMER_SECRET": "x-consumer-secret",
        "X_AUTHORIZE_URL": f"{fake_x.base_url}/i/oauth2/authorize",
        "X_API_URL": fake_x.base_url,
    }
    return settings


@pytest.fixture
def real_pds():
    """The official Bluesky PDS at ``TEST_BLUESKY_PDS_URL`` (``.ci/pds/start.sh``): an account of
    the test's own on it, and a recording proxy for the plugin to reach it through. Skipped
    without it; failed instead when ``WAGTAIL_SYNDICATE_PDS_TESTS=required`` (CI)."""
    from tests.pds_support import REQUIRED_VARIABLE, OnPds, PdsAccount, Proxy, missing_pds, pds_url
    from tests.required import unavailable

    if reason := missing_pds():
        unavailable("Tests against the real Bluesky PDS", reason, REQUIRED_VARIABLE)
    with Proxy(pds_url()) as proxy:
        yield OnPds(PdsAccount.create(), proxy)


@pytest.fixture
def pending_fan_out(settings):
    """The plain Dummy backend: a publish's fan-out waits in it, as for a busy worker, until
    ``tests.utils.run_tasks`` (or ``run_fan_outs``) runs it."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
