import pytest

from wagtail_syndicate.testing import FakeMastodon


@pytest.fixture
def fake_mastodon():
    with FakeMastodon(tokens={"good-token": "alice", "other-token": "bob"}) as fake:
        yield fake


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
