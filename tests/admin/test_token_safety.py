"""An access token never appears on any admin page, in any log line, record, error or history."""

import logging

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from wagtail.models import PageLogEntry
from wagtail.test.utils import WagtailTestUtils

from syndicate_fakes import Fault
from tests.utils import connect_account, make_image, make_photo_page, run_tasks
from wagtail_syndicate.models import SyndicationRecord

pytestmark = pytest.mark.django_db

TOKEN = "good-token"


def plugin_url_names(resolver=None, namespace=""):
    """Every named admin URL of the plugin (its snippets, its own views), with its namespace."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from plugin_url_names(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            name = namespace + entry.name
            if "wagtail_syndicate" in name:
                yield name, entry.pattern


def assert_no_secret(text, account):
    assert TOKEN not in text
    assert account.encrypted_token not in text


@pytest.fixture
def world(client, fake_mastodon):
    """An account, a posted page, a failed page: every screen has something to show."""
    client.force_login(WagtailTestUtils.create_superuser("admin", password="pw"))
    account = connect_account(fake_mastodon, token=TOKEN)
    posted = make_photo_page(image=make_image(), title="Posted page")
    run_tasks()
    fake_mastodon.inject(Fault(method="POST", path="/api/v1/statuses", status=422))
    failed = make_photo_page(image=make_image(), title="Failed page")
    run_tasks()
    return client, account, posted, failed


def admin_pages(world) -> list[str]:
    """Every admin page of the plugin (and the editor pages it adds to) for the world."""
    client, account, posted, failed = world
    record = SyndicationRecord.objects.get(page=failed)
    urls = [
        reverse("wagtailadmin_home"),
        reverse("wagtailadmin_pages:edit", args=[posted.pk]),
        reverse("wagtailadmin_pages:edit", args=[failed.pk]),
        reverse("wagtailadmin_pages:history", args=[posted.pk]),
    ]
    for name, pattern in plugin_url_names():
        converters = getattr(pattern, "converters", {})
        if not converters:
            urls.append(reverse(name))
        elif set(converters) == {"pk"}:
            target = record if "syndicationrecord" in name else account
            urls.append(reverse(name, kwargs={"pk": target.pk}))
    assert len(urls) > 10
    return urls


def test_no_admin_page_of_the_plugin_shows_the_token(world):
    client, account, posted, failed = world
    for url in admin_pages(world):
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        assert_no_secret(response.content.decode(), account)


def test_no_admin_page_of_the_plugin_fails_on_an_unreadable_token(world, settings):
    """SECRET_KEY changed without the old one in SECRET_KEY_FALLBACKS: every page still opens."""
    client = world[0]
    settings.SECRET_KEY = "a-new-key-the-old-one-not-kept"
    client.force_login(get_user_model().objects.get())  # sessions were signed with the old key
    for url in admin_pages(world):
        assert client.get(url, follow=True).status_code == 200, url


def test_failures_leave_no_token_in_logs_records_or_history(world, fake_mastodon, caplog):
    client, account, posted, failed = world
    caplog.set_level(logging.DEBUG)
    faults = [
        Fault(method="POST", path="/api/v2/media", status=500),
        Fault(method="POST", path="/api/v2/media", drop=True),
        Fault(method="POST", path="/api/v2/media", delay=5),
        Fault(method="POST", path="/api/v1/statuses", status=401),
        Fault(method="POST", path="/api/v1/statuses", status=200, body="<html>not json</html>"),
    ]
    for number, fault in enumerate(faults):
        fake_mastodon.inject(fault)
        make_photo_page(image=make_image(), title=f"Page {number}")
    run_tasks()
    texts = [caplog.text]
    texts += list(SyndicationRecord.objects.values_list("last_error", flat=True))
    texts += [str(entry.message) for entry in PageLogEntry.objects.all()]
    texts += [str(entry.data) for entry in PageLogEntry.objects.all()]
    for text in texts:
        assert_no_secret(text, account)
    assert "401" in " ".join(texts), "the failures did happen"
