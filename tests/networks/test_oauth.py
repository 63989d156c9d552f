"""Connecting a Mastodon account with OAuth in the admin, and disconnecting it, against
FakeMastodon: the test client plays the administrator's browser on the site, ``requests`` plays
it on the server's consent page."""

import html
import io
import re
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest.mock import patch
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from wagtail.test.utils import WagtailTestUtils

from syndicate_fakes import FakeMastodon, Fault
from syndicate_fakes._oauth import s256
from tests.utils import connect_account, make_image, make_photo_page, run_next, run_tasks
from wagtail_syndicate.exceptions import ConfigurationError
from wagtail_syndicate.models import MastodonApp, SyndicationAccount, SyndicationRecord
from wagtail_syndicate.networks.mastodon.auth import instance_from_input

pytestmark = pytest.mark.django_db

NS = "wagtailsnippets_wagtail_syndicate_syndicationaccount"
ISSUED = "write:media write:statuses read:statuses profile"


def start(client, instance):
    """Submit the "Connect a Mastodon account" form; return where the browser is sent."""
    response = client.post(reverse(f"{NS}:oauth_connect"), {"instance": instance})
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"]


def consent(authorize_url, decision="authorize"):
    """On the server: open the consent page and click a button; return the redirect."""
    page = requests.get(authorize_url, timeout=5)
    assert page.status_code == 200, page.text
    fields = re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', page.text)
    form = {html.unescape(k): html.unescape(v) for k, v in fields}
    base = "{0.scheme}://{0.netloc}".format(urlsplit(authorize_url))
    response = requests.post(
        f"{base}/oauth/authorize",
        data={**form, "decision": decision},
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def back(client, callback_url):
    """The browser follows the server's redirect back to the site, then to the list."""
    return client.get(callback_url, follow=True)


def connect(client, instance):
    return back(client, consent(start(client, instance)))


def shown_messages(response):
    return [str(message).strip() for message in response.context["messages"]]


def query_of(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def issued_tokens(fake):
    return [t for t in fake.tokens if t not in ("good-token", "other-token")]


def test_connecting_stores_the_account_with_the_token_the_server_issued(
    admin_client, fake_mastodon
):
    response = connect(admin_client, fake_mastodon.base_url)

    assert response.redirect_chain[-1][0] == reverse(f"{NS}:list")
    account = SyndicationAccount.objects.get()
    assert account.handle == f"@alice@{fake_mastodon.host}"
    assert account.instance_url == fake_mastodon.base_url
    [token] = issued_tokens(fake_mastodon)
    assert account.access_token == token
    assert token not in account.encrypted_token
    assert fake_mastodon.token_scopes(token) == ISSUED.split()
    app = MastodonApp.objects.get()
    assert account.oauth_app == app
    assert [a.client_id for a in fake_mastodon.apps] == [app.client_id]
    assert app.client_secret == fake_mastodon.apps[0].client_secret
    assert fake_mastodon.apps[0].client_secret not in app.encrypted_client_secret
    assert fake_mastodon.apps[0].redirect_uris == [
        "http://testserver" + reverse(f"{NS}:oauth_callback")
    ]
    assert shown_messages(response) == [f"Connected @alice@{fake_mastodon.host} on Mastodon."]
    assert f"@alice@{fake_mastodon.host}" in response.content.decode()


def test_the_app_is_registered_once_per_server(admin_client, fake_mastodon):
    connect(admin_client, fake_mastodon.base_url)
    fake_mastodon.signed_in_user = "bob"
    connect(admin_client, fake_mastodon.base_url)

    assert len(fake_mastodon.apps) == 1
    assert MastodonApp.objects.count() == 1
    handles = sorted(SyndicationAccount.objects.values_list("handle", flat=True))
    assert handles == [f"@alice@{fake_mastodon.host}", f"@bob@{fake_mastodon.host}"]
    registrations = [r for r in fake_mastodon.requests if r.path == "/api/v1/apps"]
    assert len(registrations) == 1


def test_an_app_the_server_forgot_is_registered_again(admin_client):
    with FakeMastodon(tokens={}, signed_in_user="alice") as first:
        connect(admin_client, first.base_url)
        port, forgotten = first.port, MastodonApp.objects.get().client_id
    # The server starts afresh (or the app was deleted there): it knows the app no longer.
    with FakeMastodon(tokens={}, signed_in_user="alice", port=port) as again:
        response = connect(admin_client, again.base_url)
        [app] = again.apps

    assert MastodonApp.objects.get().client_id == app.client_id != forgotten
    assert SyndicationAccount.objects.get().oauth_app.client_id == app.client_id
    assert "again" in shown_messages(response)[0]


def test_connecting_an_account_with_a_pasted_token_replaces_the_token(admin_client, fake_mastodon):
    pasted = connect_account(fake_mastodon)
    response = connect(admin_client, fake_mastodon.base_url)

    account = SyndicationAccount.objects.get()
    assert account.pk == pasted.pk and account.oauth_app is not None
    assert account.access_token == issued_tokens(fake_mastodon)[0]
    assert shown_messages(response) == [f"Connected {account} again, with a new access token."]
    assert not any(r.path == "/oauth/revoke" for r in fake_mastodon.requests)


def test_connecting_an_account_again_replaces_and_revokes_its_token(admin_client, fake_mastodon):
    connect(admin_client, fake_mastodon.base_url)
    [first] = issued_tokens(fake_mastodon)
    response = connect(admin_client, fake_mastodon.base_url)

    account = SyndicationAccount.objects.get()
    [second] = issued_tokens(fake_mastodon)  # the first one was revoked
    assert second != first and account.access_token == second
    assert "again" in shown_messages(response)[0]


def test_pkce_is_used_when_the_server_advertises_it(admin_client, fake_mastodon):
    authorize_url = start(admin_client, fake_mastodon.base_url)
    authorize = query_of(authorize_url)
    assert authorize["code_challenge_method"] == "S256"
    assert authorize["scope"] == ISSUED
    assert authorize["response_type"] == "code"
    back(admin_client, consent(authorize_url))

    [exchange] = [r for r in fake_mastodon.requests if r.path == "/oauth/token"]
    verifier = exchange.form["code_verifier"][0]
    assert 43 <= len(verifier) <= 128
    assert s256(verifier) == authorize["code_challenge"]
    assert SyndicationAccount.objects.count() == 1


def test_without_the_metadata_document_no_pkce_and_read_accounts(admin_client):
    with FakeMastodon(tokens={}, oauth_metadata=False, signed_in_user="carol") as fake:
        authorize_url = start(admin_client, fake.base_url)
        authorize = query_of(authorize_url)
        assert "code_challenge" not in authorize and "code_challenge_method" not in authorize
        assert authorize["scope"] == "write:media write:statuses read:statuses read:accounts"
        back(admin_client, consent(authorize_url))

        [exchange] = [r for r in fake.requests if r.path == "/oauth/token"]
        assert "code_verifier" not in exchange.form
        assert SyndicationAccount.objects.get().handle == f"@carol@{fake.host}"


def test_read_accounts_where_the_server_does_not_know_profile(admin_client):
    scopes = ["read", "write", "read:accounts", "read:statuses", "write:media", "write:statuses"]
    with FakeMastodon(tokens={}, scopes_supported=scopes, signed_in_user="dan") as fake:
        authorize_url = start(admin_client, fake.base_url)
        assert (
            query_of(authorize_url)["scope"]
            == "write:media write:statuses read:statuses read:accounts"
        )
        assert query_of(authorize_url)["code_challenge_method"] == "S256"
        back(admin_client, consent(authorize_url))
        assert SyndicationAccount.objects.get().handle == f"@dan@{fake.host}"


def test_a_handle_is_turned_into_the_server_address(admin_client, fake_mastodon):
    authorize_url = start(admin_client, f"@alice@{fake_mastodon.host}")
    assert authorize_url.startswith(f"{fake_mastodon.base_url}/oauth/authorize?")
    back(admin_client, consent(authorize_url))
    assert SyndicationAccount.objects.get().instance_url == fake_mastodon.base_url


@pytest.mark.parametrize(
    "typed, url",
    [
        ("mastodon.social", "https://mastodon.social"),
        ("@you@mastodon.social", "https://mastodon.social"),
        (" you@Mastodon.Social/ ", "https://Mastodon.Social"),
        ("https://mastodon.social/@you", "https://mastodon.social"),
        ("@you@127.0.0.1:8001", "http://127.0.0.1:8001"),  # local: development servers
        ("localhost:8001", "http://localhost:8001"),
    ],
)
def test_what_administrators_type_is_normalised(typed, url):
    assert instance_from_input(typed) == url


@pytest.mark.parametrize("typed", ["", "@you", "not a server", "you@host/path"])
def test_what_is_not_a_server_is_refused(typed):
    with pytest.raises(ConfigurationError):
        instance_from_input(typed)


def test_local_addresses_need_https_and_the_setting_otherwise(settings):
    settings.WAGTAIL_SYNDICATE = {"ALLOW_INSECURE_INSTANCES": False}
    with pytest.raises(ConfigurationError, match="local address"):
        instance_from_input("@you@127.0.0.1:8001")


def test_an_invalid_address_is_a_form_error(admin_client):
    response = admin_client.post(reverse(f"{NS}:oauth_connect"), {"instance": "not a server"})
    assert response.status_code == 200
    assert "is neither a web address" in response.content.decode()


def test_a_wrong_state_connects_nothing(admin_client, fake_mastodon):
    callback = consent(start(admin_client, fake_mastodon.base_url))
    forged = callback.replace(f"state={query_of(callback)['state']}", "state=forged")
    response = back(admin_client, forged)

    assert not SyndicationAccount.objects.exists()
    assert "could not be matched" in shown_messages(response)[0]
    assert response.redirect_chain[-1][0] == reverse(f"{NS}:list")
    assert not any(r.path == "/oauth/token" for r in fake_mastodon.requests)


def test_a_callback_works_once_and_only_in_the_session_that_started_it(admin_client, fake_mastodon):
    callback = consent(start(admin_client, fake_mastodon.base_url))
    other = Client()
    other.force_login(WagtailTestUtils.create_superuser("other", password="pw"))
    assert "could not be matched" in shown_messages(back(other, callback))[0]
    assert not SyndicationAccount.objects.exists()

    back(admin_client, callback)
    assert SyndicationAccount.objects.count() == 1
    assert "could not be matched" in shown_messages(back(admin_client, callback))[0]


def test_denying_access_connects_nothing(admin_client, fake_mastodon):
    response = back(admin_client, consent(start(admin_client, fake_mastodon.base_url), "deny"))

    assert not SyndicationAccount.objects.exists()
    assert shown_messages(response) == [
        f"Access was denied on {fake_mastodon.base_url}: no account was connected."
    ]
    assert issued_tokens(fake_mastodon) == []


def test_another_refusal_by_the_server_is_explained(admin_client, fake_mastodon):
    authorize_url = start(admin_client, fake_mastodon.base_url)
    tampered = authorize_url.replace("scope=", "scope=read%3Afollows+")
    response = requests.get(tampered, allow_redirects=False, timeout=5)
    response = back(admin_client, response.headers["Location"])

    assert not SyndicationAccount.objects.exists()
    assert "The requested scope is invalid" in shown_messages(response)[0]


def test_an_unreachable_server_is_explained(admin_client):
    with FakeMastodon() as gone:
        url = gone.base_url  # a port nothing listens on once it stops
    response = admin_client.post(reverse(f"{NS}:oauth_connect"), {"instance": url}, follow=True)

    assert response.redirect_chain[-1][0] == reverse(f"{NS}:list")
    [message] = shown_messages(response)
    assert message.startswith("No account was connected: Could not connect")
    assert "connection refused" in message
    assert not MastodonApp.objects.exists()


@pytest.fixture
def web_site():
    """A web server that is not Mastodon: every address answers with an HTML page."""

    class Handler(BaseHTTPRequestHandler):
        def answer(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = b"<!doctype html><html><body><h1>Welcome to my blog</h1></body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_server_that_is_not_mastodon_is_explained(admin_client, web_site):
    response = admin_client.post(
        reverse(f"{NS}:oauth_connect"), {"instance": web_site}, follow=True
    )
    [message] = shown_messages(response)
    assert f"{web_site} does not look like a Mastodon server" in message
    assert not MastodonApp.objects.exists()


def test_a_server_without_app_registration_is_explained(admin_client, fake_mastodon):
    fake_mastodon.inject(
        Fault(method="POST", path="/api/v1/apps", status=404, body="<h1>Not found</h1>")
    )
    response = admin_client.post(
        reverse(f"{NS}:oauth_connect"), {"instance": fake_mastodon.base_url}, follow=True
    )
    [message] = shown_messages(response)
    assert "does not look like a Mastodon server" in message and "404" in message


def test_a_refused_code_connects_nothing(admin_client, fake_mastodon):
    callback = consent(start(admin_client, fake_mastodon.base_url))
    code = query_of(callback)["code"]
    response = back(admin_client, callback.replace(code, "guessed"))

    assert not SyndicationAccount.objects.exists()
    assert "did not give an access token: invalid_grant" in shown_messages(response)[0]


def test_a_token_that_cannot_be_checked_is_revoked_and_nothing_stored(admin_client, fake_mastodon):
    callback = consent(start(admin_client, fake_mastodon.base_url))
    fake_mastodon.inject(
        Fault(method="GET", path="/api/v1/accounts/verify_credentials", status=503, times=1)
    )
    response = back(admin_client, callback)

    assert not SyndicationAccount.objects.exists()
    assert "503" in shown_messages(response)[0]
    assert issued_tokens(fake_mastodon) == []  # revoked


def delete(client, account):
    url = reverse(f"{NS}:delete", args=[account.pk])
    return client.post(url, follow=True)


def test_disconnecting_revokes_the_token(admin_client, fake_mastodon):
    connect(admin_client, fake_mastodon.base_url)
    account = SyndicationAccount.objects.get()
    token = account.access_token

    response = delete(admin_client, account)

    assert not SyndicationAccount.objects.exists()
    me = requests.get(
        f"{fake_mastodon.base_url}/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert me.status_code == 401
    assert f"The access token of {account} was revoked." in shown_messages(response)


def test_removing_with_the_command_revokes_the_token(admin_client, fake_mastodon):
    connect(admin_client, fake_mastodon.base_url)
    account = SyndicationAccount.objects.get()
    token, out = account.access_token, io.StringIO()

    call_command("syndication_accounts", "remove", str(account.pk), stdout=out)

    assert not SyndicationAccount.objects.exists()
    assert f"The access token of {account} was revoked." in out.getvalue()
    me = requests.get(
        f"{fake_mastodon.base_url}/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert me.status_code == 401


def test_a_failed_revocation_still_removes_the_account_with_a_warning(admin_client, fake_mastodon):
    connect(admin_client, fake_mastodon.base_url)
    account = SyndicationAccount.objects.get()
    fake_mastodon.inject(Fault(method="POST", path="/oauth/revoke", status=503))

    response = delete(admin_client, account)

    assert not SyndicationAccount.objects.exists()
    warning = next(m for m in shown_messages(response) if "could not be revoked" in m)
    assert warning.startswith(f"{account} was removed")
    assert "503" in warning


def test_disconnecting_a_pasted_token_says_it_was_not_revoked(admin_client, fake_mastodon):
    account = connect_account(fake_mastodon)
    response = delete(admin_client, account)

    assert not SyndicationAccount.objects.exists()
    assert any("was pasted" in m for m in shown_messages(response))
    assert not any(r.path == "/oauth/revoke" for r in fake_mastodon.requests)
    assert "good-token" in fake_mastodon.tokens


def test_removing_an_account_of_a_network_without_a_connect_flow_says_it_was_removed(
    admin_client, fake_mastodon, settings
):
    settings.WAGTAIL_SYNDICATE = {
        **settings.WAGTAIL_SYNDICATE,
        "NETWORKS": {"uneditable": {"BACKEND": "tests.testapp.networks.UneditableMastodon"}},
    }
    account = connect_account(fake_mastodon, network="uneditable")
    response = delete(admin_client, account)

    assert not SyndicationAccount.objects.exists()
    assert f"{account} was removed." in shown_messages(response)
    assert not any(r.path == "/oauth/revoke" for r in fake_mastodon.requests)


def test_pasting_a_token_forgets_the_app_that_issued_the_old_one(admin_client, fake_mastodon):
    connect(admin_client, fake_mastodon.base_url)
    account = SyndicationAccount.objects.get()
    admin_client.post(
        reverse(f"{NS}:edit", args=[account.pk]),
        {
            "network": "mastodon",
            "instance_url": fake_mastodon.base_url,
            "access_token": "good-token",
            "enabled": "on",
            "visibility": "public",
        },
    )
    account.refresh_from_db()
    assert account.access_token == "good-token" and account.oauth_app is None


def test_adding_a_token_with_the_command_forgets_the_app_too(admin_client, fake_mastodon):
    connect(admin_client, fake_mastodon.base_url)
    command = ["add", "--network", "mastodon", "--instance", fake_mastodon.base_url]
    with patch("sys.stdin", io.StringIO("good-token\n")):
        call_command("syndication_accounts", *command, "--token-stdin", stdout=io.StringIO())
    account = SyndicationAccount.objects.get()
    assert account.access_token == "good-token" and account.oauth_app is None


def test_the_accounts_list_offers_both_ways_to_connect(admin_client):
    page = admin_client.get(reverse(f"{NS}:list")).content.decode()
    assert "Connect a Mastodon account" in page
    assert f'href="{reverse(f"{NS}:oauth_connect")}"' in page
    assert "Add with a token" in page


def account_manager(client, *codenames):
    user = WagtailTestUtils.create_user("manager", password="pw")
    group = Group.objects.create(name="Managers")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    for codename in codenames:
        group.permissions.add(Permission.objects.get(codename=codename))
    user.groups.add(group)
    client.force_login(user)
    return user


def test_connecting_needs_permission_to_add_accounts(client, fake_mastodon):
    account_manager(client, "view_syndicationaccount", "change_syndicationaccount")

    page = client.get(reverse(f"{NS}:list"))
    assert page.status_code == 200
    assert "Connect a Mastodon account" not in page.content.decode()
    connect_url = reverse(f"{NS}:oauth_connect")
    assert client.get(connect_url).status_code in (302, 403)
    response = client.post(connect_url, {"instance": fake_mastodon.base_url})
    assert response.status_code in (302, 403)
    assert not response.get("Location", "").startswith(fake_mastodon.base_url)
    assert fake_mastodon.requests == []
    callback = reverse(f"{NS}:oauth_callback") + "?state=x&code=y"
    assert client.get(callback).status_code in (302, 403)


def test_a_user_who_may_add_accounts_may_connect(client, fake_mastodon):
    account_manager(client, "add_syndicationaccount")
    assert "Connect a Mastodon account" in client.get(reverse(f"{NS}:list")).content.decode()
    connect(client, fake_mastodon.base_url)
    assert SyndicationAccount.objects.count() == 1


def test_disconnecting_needs_permission_to_delete(client, fake_mastodon):
    account_manager(client, "add_syndicationaccount", "change_syndicationaccount")
    connect(client, fake_mastodon.base_url)
    account = SyndicationAccount.objects.get()
    assert client.post(reverse(f"{NS}:delete", args=[account.pk])).status_code in (302, 403)
    assert SyndicationAccount.objects.exists()
    assert not any(r.path == "/oauth/revoke" for r in fake_mastodon.requests)


@pytest.mark.django_db(transaction=True)
def test_with_the_fewest_scopes_a_post_whose_outcome_is_unknown_is_still_found(
    admin_client, fake_mastodon
):
    """Looking for the page's post among the account's recent posts needs ``read:statuses``
    with a token, which the plugin asks for when connecting."""
    connect(admin_client, fake_mastodon.base_url)
    fake_mastodon.inject(Fault(method="POST", path="/api/v1/statuses", drop=True, after=True))
    page = make_photo_page(image=make_image())
    assert run_next() == "retrying"  # the server stored the status; we never heard
    # Two hours pass: Mastodon has forgotten the idempotency key.
    two_hours = timedelta(hours=2)
    fake_mastodon.clock = lambda: time.time() + two_hours.total_seconds()
    record = SyndicationRecord.objects.get(page=page)
    SyndicationRecord.objects.filter(pk=record.pk).update(
        unknown_outcome_since=record.unknown_outcome_since - two_hours
    )

    assert run_tasks() == ["posted"]
    assert len(fake_mastodon.statuses) == 1, "the existing post was found, not duplicated"
    listings = [
        r for r in fake_mastodon.requests if r.path.endswith("/statuses") and r.method == "GET"
    ]
    assert listings


def test_an_app_whose_secret_cannot_be_decrypted_is_registered_again(
    admin_client, fake_mastodon, settings
):
    connect(admin_client, fake_mastodon.base_url)
    settings.SECRET_KEY = "a-new-key-the-old-one-not-kept"
    admin_client.force_login(User.objects.get())  # sessions were signed with the old key
    fake_mastodon.signed_in_user = "bob"
    response = connect(admin_client, fake_mastodon.base_url)

    assert shown_messages(response) == [f"Connected @bob@{fake_mastodon.host} on Mastodon."]
    assert len(fake_mastodon.apps) == 2
    assert MastodonApp.objects.get().client_secret == fake_mastodon.apps[-1].client_secret
