"""Tests of FakeMastodon's OAuth endpoints, with plain ``requests`` against the running server,
acting as the browser on the consent page.

Runs alone, without Django: ``cd fakes && python -m pytest tests/test_fake_oauth.py``.
"""

from __future__ import annotations

import base64
import html
import os
import re
import secrets
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from syndicate_fakes import FakeMastodon
from syndicate_fakes._oauth import s256

ROOT = Path(__file__).resolve().parent.parent
CALLBACK = "http://127.0.0.1:9/admin/syndication/accounts/oauth/callback/"  # never fetched
SCOPES = "write:media write:statuses profile"


@pytest.fixture
def fake(fake_mastodon):
    """The pytest plugin's FakeMastodon: good-token for alice, other-token for bob."""
    return fake_mastodon


def register(fake, scopes=SCOPES, redirect_uris=CALLBACK, **fields):
    data = {"client_name": "wagtail-syndicate", "redirect_uris": redirect_uris, "scopes": scopes}
    return requests.post(f"{fake.base_url}/api/v1/apps", data={**data, **fields}, timeout=5)


def authorize_params(app, *, scope=SCOPES, state="st4te", verifier=None, **extra):
    params = {
        "client_id": app["client_id"],
        "redirect_uri": CALLBACK,
        "response_type": "code",
        "scope": scope,
        "state": state,
    }
    if verifier:
        params.update(code_challenge=s256(verifier), code_challenge_method="S256")
    return {**params, **extra}


def consent_form(page: str) -> dict:
    """The hidden fields of the consent page's form, as a browser would send them."""
    fields = re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', page)
    return {html.unescape(k): html.unescape(v) for k, v in fields}


def consent(fake, app, decision="authorize", **kwargs):
    """Open the consent page, then click a button; return the redirect's query."""
    page = requests.get(
        f"{fake.base_url}/oauth/authorize", params=authorize_params(app, **kwargs), timeout=5
    )
    assert page.status_code == 200, page.text
    response = requests.post(
        f"{fake.base_url}/oauth/authorize",
        data={**consent_form(page.text), "decision": decision},
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(CALLBACK + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def exchange(fake, app, code, verifier=None, **extra):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
    }
    if verifier:
        data["code_verifier"] = verifier
    return requests.post(f"{fake.base_url}/oauth/token", data={**data, **extra}, timeout=5)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_registering_an_app_returns_its_credentials(fake):
    response = register(fake)
    assert response.status_code == 200
    app = response.json()
    assert app["client_id"] and app["client_secret"]
    assert app["scopes"] == SCOPES.split()
    assert app["redirect_uris"] == [CALLBACK]
    assert [a.client_id for a in fake.apps] == [app["client_id"]]


def test_registration_takes_redirect_uris_as_an_array(fake):
    response = requests.post(
        f"{fake.base_url}/api/v1/apps",
        data={"client_name": "x", "redirect_uris[]": [CALLBACK, "https://example.org/cb"]},
        timeout=5,
    )
    assert response.json()["redirect_uris"] == [CALLBACK, "https://example.org/cb"]
    assert response.json()["scopes"] == ["read"]  # Mastodon's default


@pytest.mark.parametrize(
    "fields, error",
    [
        ({"redirect_uris": "/relative/callback"}, "Redirect URI must be an absolute URI."),
        ({"redirect_uris": ""}, "Redirect URI can't be blank"),
        ({"scopes": "write:statuses launch:rockets"}, "Scopes doesn't match"),
        ({"client_name": ""}, "Application name can't be blank"),
    ],
)
def test_registration_is_validated(fake, fields, error):
    response = register(fake, **fields)
    assert response.status_code == 422
    assert error in response.json()["error"]
    assert fake.apps == []


def test_the_metadata_document_advertises_pkce_and_scopes(fake):
    response = requests.get(f"{fake.base_url}/.well-known/oauth-authorization-server", timeout=5)
    document = response.json()
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert {"profile", "write:media", "write:statuses"} <= set(document["scopes_supported"])
    assert document["authorization_endpoint"] == f"{fake.base_url}/oauth/authorize"


def test_scopes_supported_can_be_configured():
    with FakeMastodon(scopes_supported=["read", "write", "read:accounts"]) as fake:
        document = requests.get(
            f"{fake.base_url}/.well-known/oauth-authorization-server", timeout=5
        ).json()
        assert document["scopes_supported"] == ["read", "write", "read:accounts"]
        assert register(fake, scopes="write profile").status_code == 422


def test_a_server_before_4_3_has_no_metadata_no_profile_scope_and_ignores_pkce():
    with FakeMastodon(tokens={}, oauth_metadata=False, signed_in_user="carol") as fake:
        response = requests.get(f"{fake.base_url}/.well-known/oauth-authorization-server")
        assert response.status_code == 404
        assert response.headers["Content-Type"].startswith("text/html")
        assert register(fake).status_code == 422  # profile is unknown
        app = register(fake, scopes="write:media write:statuses read:accounts").json()
        query = consent(
            fake, app, scope="write:media write:statuses read:accounts", verifier="v" * 50
        )
        token = exchange(fake, app, query["code"]).json()["access_token"]  # no verifier needed
        me = requests.get(
            f"{fake.base_url}/api/v1/accounts/verify_credentials", headers=bearer(token)
        )
        assert me.json()["username"] == "carol"


def test_the_consent_page_names_the_app_the_scopes_and_the_user(fake):
    app = register(fake, website="https://example.org").json()
    page = requests.get(
        f"{fake.base_url}/oauth/authorize", params=authorize_params(app), timeout=5
    ).text
    assert "wagtail-syndicate" in page and 'href="https://example.org"' in page
    for scope in SCOPES.split():
        assert f"<code>{scope}</code>" in page
    assert "Signed in as @alice" in page
    assert ">Authorize</button>" in page and ">Deny</button>" in page
    assert consent_form(page)["state"] == "st4te"


def test_authorizing_with_pkce_issues_a_token_for_the_consenting_user(fake):
    app = register(fake).json()
    verifier = secrets.token_urlsafe(64)
    fake.signed_in_user = "bob"
    query = consent(fake, app, verifier=verifier)
    assert query["state"] == "st4te" and query["code"]

    response = exchange(fake, app, query["code"], verifier)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["scope"] == SCOPES
    token = body["access_token"]
    assert token not in ("good-token", "other-token")
    me = requests.get(f"{fake.base_url}/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert me.json()["username"] == "bob"
    assert fake.token_scopes(token) == SCOPES.split()


def test_tokens_can_do_only_what_their_scopes_allow(fake):
    app = register(fake).json()
    token = exchange(fake, app, consent(fake, app)["code"]).json()["access_token"]
    status = requests.post(
        f"{fake.base_url}/api/v1/statuses", headers=bearer(token), data={"status": "hi"}
    )
    assert status.status_code == 200
    # Reading the account's posts needs read:statuses, which these scopes do not give.
    listing = requests.get(
        f"{fake.base_url}/api/v1/accounts/{status.json()['account']['id']}/statuses",
        headers=bearer(token),
    )
    assert listing.status_code == 403
    assert listing.json() == {"error": "This action is outside the authorized scopes"}


def test_denying_redirects_with_access_denied(fake):
    app = register(fake).json()
    query = consent(fake, app, decision="deny")
    assert query["error"] == "access_denied" and query["state"] == "st4te"
    assert "code" not in query


@pytest.mark.parametrize(
    "change, error",
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "write:statuses read:statuses"}, "invalid_scope"),
        ({"code_challenge": "x" * 43, "code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "too-short", "code_challenge_method": "S256"}, "invalid_request"),
    ],
)
def test_bad_authorization_requests_go_back_with_an_error(fake, change, error):
    app = register(fake).json()
    response = requests.get(
        f"{fake.base_url}/oauth/authorize",
        params=authorize_params(app, **change),
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["error"] == [error] and query["state"] == ["st4te"]


@pytest.mark.parametrize(
    "change", [{"client_id": "unknown"}, {"redirect_uri": "https://evil.example/cb"}]
)
def test_an_unknown_client_or_redirect_uri_gets_an_error_page_not_a_redirect(fake, change):
    app = register(fake).json()
    response = requests.get(
        f"{fake.base_url}/oauth/authorize",
        params=authorize_params(app, **change),
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "An error has occurred" in response.text


def test_the_consent_form_is_validated_again_when_sent(fake):
    app = register(fake).json()
    response = requests.post(
        f"{fake.base_url}/oauth/authorize",
        data={**authorize_params(app, scope="read"), "decision": "authorize"},
        allow_redirects=False,
        timeout=5,
    )
    assert parse_qs(urlsplit(response.headers["Location"]).query)["error"] == ["invalid_scope"]


@pytest.mark.parametrize(
    "verifier_sent", [None, "wrong-" + "v" * 50], ids=["no-verifier", "wrong-verifier"]
)
def test_the_code_verifier_must_match_the_challenge(fake, verifier_sent):
    app = register(fake).json()
    query = consent(fake, app, verifier=secrets.token_urlsafe(64))
    response = exchange(fake, app, query["code"], verifier_sent)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_codes_are_single_use(fake):
    app = register(fake).json()
    code = consent(fake, app)["code"]
    assert exchange(fake, app, code).status_code == 200
    again = exchange(fake, app, code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_codes_expire(fake):
    app = register(fake).json()
    code = consent(fake, app)["code"]
    now = fake.clock()
    fake.clock = lambda: now + 601
    assert exchange(fake, app, code).json()["error"] == "invalid_grant"


def test_the_token_request_must_repeat_the_redirect_uri(fake):
    app = register(fake).json()
    code = consent(fake, app)["code"]
    response = exchange(fake, app, code, redirect_uri="https://example.org/other")
    assert response.json()["error"] == "invalid_grant"


def test_the_token_request_needs_the_client_secret(fake):
    app = register(fake).json()
    code = consent(fake, app)["code"]
    response = exchange(fake, app, code, client_secret="guess")
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_client_credentials_may_come_in_basic_auth(fake):
    app = register(fake).json()
    code = consent(fake, app)["code"]
    basic = base64.b64encode(f"{app['client_id']}:{app['client_secret']}".encode()).decode()
    response = requests.post(
        f"{fake.base_url}/oauth/token",
        headers={"Authorization": f"Basic {basic}"},
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK},
        timeout=5,
    )
    assert response.status_code == 200


def test_an_app_may_have_a_token_of_its_own(fake):
    app = register(fake).json()
    data = {"grant_type": "client_credentials", "client_id": app["client_id"]}
    url = f"{fake.base_url}/oauth/token"
    response = requests.post(
        url, data={**data, "client_secret": app["client_secret"], "scope": "write:media"}
    )
    assert response.status_code == 200
    token = response.json()["access_token"]
    assert fake.token_scopes(token) == ["write:media"] and token not in fake.tokens
    assert revoke(fake, app, token).status_code == 200
    assert fake.token_scopes(token) is None
    # Mastodon's default scope, read, is not among the app's.
    refused = requests.post(url, data={**data, "client_secret": app["client_secret"]})
    assert refused.json()["error"] == "invalid_scope"
    forgotten = requests.post(url, data={**data, "client_secret": "guess", "scope": "profile"})
    assert forgotten.status_code == 401 and forgotten.json()["error"] == "invalid_client"


def test_other_grant_types_are_refused(fake):
    app = register(fake).json()
    response = exchange(fake, app, "x", grant_type="password")
    assert response.json()["error"] == "unsupported_grant_type"


def revoke(fake, app, token, **extra):
    data = {"client_id": app["client_id"], "client_secret": app["client_secret"], "token": token}
    return requests.post(f"{fake.base_url}/oauth/revoke", data={**data, **extra}, timeout=5)


def test_a_revoked_token_is_refused_afterwards(fake):
    app = register(fake).json()
    token = exchange(fake, app, consent(fake, app)["code"]).json()["access_token"]
    url = f"{fake.base_url}/api/v1/accounts/verify_credentials"
    assert requests.get(url, headers=bearer(token)).status_code == 200
    response = revoke(fake, app, token)
    assert response.status_code == 200 and response.json() == {}
    assert requests.get(url, headers=bearer(token)).status_code == 401
    assert revoke(fake, app, token).status_code == 200  # unknown tokens: not an error


def test_an_app_may_revoke_only_its_own_tokens(fake):
    app, other = register(fake).json(), register(fake).json()
    token = exchange(fake, app, consent(fake, app)["code"]).json()["access_token"]
    assert revoke(fake, other, token).status_code == 403
    assert revoke(fake, app, "good-token").status_code == 403  # not issued through OAuth
    assert revoke(fake, app, token, client_secret="guess").status_code == 401
    url = f"{fake.base_url}/api/v1/accounts/verify_credentials"
    assert requests.get(url, headers=bearer(token)).status_code == 200


def test_process_mode_serves_the_consent_page():
    proc = subprocess.Popen(
        [sys.executable, "-m", "syndicate_fakes", "--port", "0", "--username", "demo"]
        + ["--token", "t1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    try:
        match = re.search(r"http://127\.0\.0\.1:\d+", proc.stdout.readline())
        assert match
        server = type("Server", (), {"base_url": match.group(0)})
        app = register(server).json()
        query = consent(server, app, verifier=secrets.token_urlsafe(64))
        assert query["code"]
        page = requests.get(
            f"{server.base_url}/oauth/authorize", params=authorize_params(app), timeout=5
        )
        assert "Signed in as @demo" in page.text
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=5)
