"""Secrets in the open: a refused server is a form error, never an error page carrying the pasted
token; error reports hide tokens; rotating SECRET_KEY as Django documents keeps tokens readable,
and an unreadable token is a clear state, never a 500."""

import socket
import sys
from io import StringIO

import pytest
from django.core import checks
from django.core.management import CommandError, call_command
from django.core.signals import got_request_exception
from django.urls import reverse
from django.views.debug import ExceptionReporter
from wagtail.test.utils import WagtailTestUtils

from tests.utils import connect_account, make_image, make_photo_page, publish_page, run_tasks
from wagtail_syndicate.exceptions import ConfigurationError
from wagtail_syndicate.models import SyndicationAccount, SyndicationRecord
from wagtail_syndicate.networks.mastodon.client import MastodonNetwork

pytestmark = pytest.mark.django_db

TOKEN = "pasted-secret-4f1c"
ADD_URL = "wagtailsnippets_wagtail_syndicate_syndicationaccount:add"
LIST_URL = "wagtailsnippets_wagtail_syndicate_syndicationaccount:list"
OLD_KEY = "the-key-before-rotation"


@pytest.fixture
def intranet_host(monkeypatch):
    """A public-looking name that resolves to this machine, as an intranet name would."""
    name = "mastodon.intranet.example"
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host == name:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 0))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return name


def account_form(instance_url, token=TOKEN):
    return {
        "network": "mastodon",
        "instance_url": instance_url,
        "access_token": token,
        "enabled": "on",
        "visibility": "public",
    }


def test_a_server_at_a_private_address_is_a_form_error(admin_client, settings, intranet_host):
    settings.WAGTAIL_SYNDICATE = {"ALLOW_INSECURE_INSTANCES": False}
    response = admin_client.post(reverse(ADD_URL), account_form(f"https://{intranet_host}"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "This server cannot be used" in html
    assert "which is not a public address" in html
    assert TOKEN not in html
    assert not SyndicationAccount.objects.exists()


def error_report(request, exc_info) -> str:
    """Django's error report, both forms: the text (the ADMINS e-mail) and the HTML (with
    every frame's local variables)."""
    reporter = ExceptionReporter(request, *exc_info)
    return reporter.get_traceback_text() + reporter.get_traceback_html()


@pytest.fixture
def report_of_a_failure(client, monkeypatch):
    """The error report (what ADMINS receive; DEBUG is off) of an unexpected failure while
    the network checks a pasted token, from deep inside the form's clean()."""

    def verify_then_fail(self, credentials):
        raise RuntimeError("unexpected failure while checking")

    monkeypatch.setattr(MastodonNetwork, "verify", verify_then_fail)
    caught = {}

    def keep(sender, request, **kwargs):
        caught["request"], caught["exc_info"] = request, sys.exc_info()

    got_request_exception.connect(keep)
    client.raise_request_exception = False

    def report(fake_mastodon):
        client.force_login(WagtailTestUtils.create_superuser("admin", password="pw"))
        response = client.post(reverse(ADD_URL), account_form(fake_mastodon.base_url))
        assert response.status_code == 500
        return error_report(caught["request"], caught["exc_info"])

    yield report
    got_request_exception.disconnect(keep)


def test_an_error_report_from_the_account_form_shows_no_token(report_of_a_failure, fake_mastodon):
    text = report_of_a_failure(fake_mastodon)
    assert "unexpected failure while checking" in text  # the report is the one of that failure
    assert "access_token" in text  # the POST is listed, its value hidden
    assert TOKEN not in text


def test_an_error_report_from_encrypting_shows_no_token(rf, settings):
    """Encrypting fails (the keys are set wrongly) with the plain token in the frames."""
    settings.WAGTAIL_SYNDICATE = {"TOKEN_KEYS": "one string, not a list"}
    account = SyndicationAccount(instance_url="https://mastodon.example")
    try:
        account.access_token = TOKEN
    except ConfigurationError:
        exc_info = sys.exc_info()
    text = error_report(rf.get("/"), exc_info)
    assert "must be a list of non-empty strings" in text
    assert TOKEN not in text


def rotate_secret_key(settings, *, keep_old: bool):
    """SECRET_KEY changed as Django documents: the old one moved to SECRET_KEY_FALLBACKS."""
    settings.SECRET_KEY = "the-key-after-rotation"
    settings.SECRET_KEY_FALLBACKS = [OLD_KEY] if keep_old else []


@pytest.fixture
def account_before_rotation(settings, fake_mastodon):
    settings.SECRET_KEY = OLD_KEY
    settings.SECRET_KEY_FALLBACKS = []
    return connect_account(fake_mastodon)


def test_a_rotated_secret_key_still_posts(settings, account_before_rotation, fake_mastodon):
    rotate_secret_key(settings, keep_old=True)
    make_photo_page(image=make_image())
    assert run_tasks() == ["posted"]
    assert len(fake_mastodon.statuses) == 1


def test_the_command_reencrypts_so_the_old_key_can_go(
    settings, account_before_rotation, fake_mastodon
):
    rotate_secret_key(settings, keep_old=True)
    before = SyndicationAccount.objects.get().encrypted_token
    out = StringIO()
    call_command("syndication_reencrypt_tokens", stdout=out)
    assert "Encrypted again: 1 social accounts." in out.getvalue()
    account = SyndicationAccount.objects.get()
    assert account.encrypted_token != before
    settings.SECRET_KEY_FALLBACKS = []
    assert account.token_readable
    make_photo_page(image=make_image())
    assert run_tasks() == ["posted"]


@pytest.fixture
def unreadable(settings, account_before_rotation, client):
    """The key changed and the old one was not kept: the account's token is unreadable."""
    rotate_secret_key(settings, keep_old=False)
    client.force_login(WagtailTestUtils.create_superuser("admin", password="pw"))
    return account_before_rotation


def test_an_unreadable_token_is_a_check_warning(unreadable):
    found = [message for message in checks.run_checks() if message.id == "wagtail_syndicate.W005"]
    assert len(found) == 1
    assert str(unreadable) in found[0].msg


def test_an_unreadable_token_is_shown_on_the_accounts_list(unreadable, client):
    response = client.get(reverse(LIST_URL))
    assert response.status_code == 200
    assert "Token cannot be decrypted: connect again." in response.content.decode()


def test_an_unreadable_token_leaves_the_page_editor_working(unreadable, client):
    shared = make_photo_page(image=make_image())
    run_tasks()
    draft = make_photo_page(image=make_image(), title="Evening boats", publish=False)
    for page in (shared, draft):
        response = client.get(reverse("wagtailadmin_pages:edit", args=[page.pk]))
        assert response.status_code == 200
        assert "Token cannot be decrypted" in response.content.decode()


def test_checking_an_unreadable_account_says_why(unreadable, client):
    url = reverse("wagtail_syndicate_check_post", args=[unreadable.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, follow=True)
    assert response.status_code == 200
    assert "Token cannot be decrypted" in response.content.decode()


def test_a_record_of_an_unreadable_token_fails_with_the_reason(unreadable, fake_mastodon):
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["failed"]
    record = SyndicationRecord.objects.get(page=page)
    assert "Token cannot be decrypted" in record.last_error
    assert fake_mastodon.statuses == []
    # and the editor of that page, now shared, still opens
    publish_page(page)


def test_the_command_names_what_it_cannot_decrypt(unreadable):
    before = SyndicationAccount.objects.get().encrypted_token
    with pytest.raises(CommandError, match=f"social account {unreadable} \\(id {unreadable.pk}\\)"):
        call_command("syndication_reencrypt_tokens", stdout=StringIO())
    assert SyndicationAccount.objects.get().encrypted_token == before
