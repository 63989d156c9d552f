"""Sharing pages to X, against FakeX: posts with alt text, weighted counting, token refresh,
OAuth 1.0a signatures, the admin's connect flow, rate limits, lost answers, no edits,
deletion, and tokens kept out of messages and logs."""

import html
import json
import logging
import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.urls import reverse

from syndicate_fakes import FakeX, Fault
from tests.utils import (
    connect_x_account,
    give_the_site_a_public_name,
    make_image,
    make_photo_page,
    publish_page,
    run_next,
    run_tasks,
)
from wagtail_syndicate.models import SyndicationAccount, SyndicationRecord
from wagtail_syndicate.networks.text import weighted_length
from wagtail_syndicate.networks.x.auth import SCOPES, oauth1_header
from wagtail_syndicate.networks.x.network import XNetwork

pytestmark = pytest.mark.django_db

NS = "wagtailsnippets_wagtail_syndicate_syndicationaccount"


def only_tweet(fake):
    assert len(fake.tweets) == 1, [t.text for t in fake.tweets]
    return fake.tweets[0]


def calls(fake, method, path):
    return [r for r in fake.requests if r.method == method and r.path.startswith(path)]


def record_of(page):
    return SyndicationRecord.objects.get(page=page)


# ---------------------------------------------------------------- posting


def test_publishing_a_photo_page_posts_one_tweet_with_the_image_and_its_alt_text(
    fake_x, x_settings
):
    connect_x_account(fake_x)
    page = make_photo_page(image=make_image(), alt_text="A fishing boat leaving the harbour")

    assert run_tasks() == ["posted"]

    tweet = only_tweet(fake_x)
    [media_id] = tweet.media_ids
    media = fake_x.media[media_id]
    assert media.alt_text == "A fishing boat leaving the harbour"
    assert media.content_type == "image/png" and media.category == "tweet_image"
    assert page.full_url in tweet.text
    record = record_of(page)
    assert record.state == SyndicationRecord.State.POSTED
    assert record.remote_id == tweet.id
    assert record.remote_url == f"https://x.com/alice/status/{tweet.id}"
    # The upload is multipart with the file as a file part; the alt text is JSON.
    [upload] = calls(fake_x, "POST", "/2/media/upload")
    assert list(upload.files) == ["media"] and upload.form["media_category"] == ["tweet_image"]
    [metadata] = calls(fake_x, "POST", "/2/media/metadata")
    assert metadata.json == {
        "id": media_id,
        "metadata": {"alt_text": {"text": "A fishing boat leaving the harbour"}},
    }
    # The username came from /2/users/me once; no request but those needed.
    assert [(r.method, r.path) for r in fake_x.requests] == [
        ("POST", "/2/media/upload"),
        ("POST", "/2/media/metadata"),
        ("POST", "/2/tweets"),
        ("GET", "/2/users/me"),
    ]


def test_a_long_cjk_and_emoji_title_is_fitted_to_280_weighted_characters_with_the_url_whole(
    fake_x, x_settings
):
    give_the_site_a_public_name()
    connect_x_account(fake_x)
    title = "港の朝🌅" * 40  # 4 CJK characters and an emoji: 10 weighted characters each
    page = make_photo_page(image=make_image(), title=title[:255])

    assert run_tasks() == ["posted"]

    tweet = only_tweet(fake_x)
    assert weighted_length(tweet.text) <= 280
    assert weighted_length(tweet.text) > 250  # fitted, not emptied
    assert page.full_url in tweet.text
    assert [u["expanded_url"] for u in tweet.urls] == [page.full_url]


# twitter-text's conformance cases for the weighted count of configuration v3
# (validate.yml, WeightedTweetsWithDiscountedEmojiCounterTest).
TWITTER_TEXT_CASES = [
    ("Hi http://test.co", 26),
    ("http://test.co", 23),
    ("H\U0001f431\u263a\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466", 7),
    ("\U0001f637\U0001f47e\U0001f621\U0001f525\U0001f4a9", 10),
    ("\U0001f64b\U0001f3fd\U0001f468\u200d\U0001f3a4", 4),
    ("A\u0301B", 2),  # "ÁB": normalized to one character
    ("A\ufb2c", 4),  # "שּׁ" is three characters once normalized
    ("randomurlrandomurlrandomurlrandomurlrandomurlrandomurlrandomurls.com", 68),
    (
        "This is a tweet with general punctuation characters: "
        "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b "
        "‐ ‑ ‒ – — ― ‖  ‗ ‘ ’ ‚ ‛ “ ” „ ‟ ′ ″ ‴ ‵ ‶ ‷",
        110,
    ),
    ("故人西辞黄鹤楼，烟花三月下扬州。" * 10, 320),
    ("the" + "故人西辞黄鹤楼，烟花三月下扬州。" * 10, 323),
    ("\U0001f637" * 160, 320),
    # A URL whose host is longer than 63 characters once punycode-encoded is no URL.
    ("あ" * 10 + " http://" + "あいうえおかきくけこ" * 5 + "あいう.com", 20 + 1 + 7 + 106 + 4),
    ("あ" * 10 + " http://" + "あいうえおかきくけこ" * 5 + "あい.com", 20 + 1 + 23),
]


@pytest.mark.parametrize(("text", "expected"), TWITTER_TEXT_CASES)
def test_weighted_length_agrees_with_twitter_text(text, expected):
    assert weighted_length(text) == expected


def test_weighted_length_agrees_with_every_stored_twitter_text_conformance_case():
    # tests/data/twitter_text_weighted_v3.json: twitter-text's validate.yml, v3 sections.
    data = json.loads(
        (Path(__file__).parents[1] / "data" / "twitter_text_weighted_v3.json").read_text()
    )
    wrong = [
        (case["description"], weighted_length(case["text"]), case["weightedLength"])
        for case in data["cases"]
        if weighted_length(case["text"]) != case["weightedLength"]
    ]
    assert wrong == []


def test_weighted_length_counts_each_url_as_23_and_flags_keycaps_and_zwj_sequences_as_one():
    assert weighted_length("See https://example.com/a/very/long/path/indeed?x=1.") == 4 + 23 + 1
    assert weighted_length("\U0001f1ef\U0001f1f5") == 2  # a flag
    assert weighted_length("1\ufe0f\u20e3") == 2  # a keycap
    assert weighted_length("\u00a9") == 1 and weighted_length("\u00a9\ufe0f") == 2
    # A joiner inside a word of an Indic script is no emoji: each code point counts.
    assert weighted_length("\u0915\u094d\u200d\u0937") == 4


def test_a_domain_without_its_scheme_counts_at_least_as_x_counts_a_link():
    # X links "example.com" as it does "https://example.com": 23, not 11 (undercounting it
    # would have X refuse a post the fitter thought fitted).
    assert weighted_length("see example.com today") == 4 + 23 + 6
    assert weighted_length("photos.example.co.uk.") == 23 + 1
    # Longer than a link: its own characters (X may count it 23; never more than this).
    long_path = "example.com/" + "a" * 30
    assert weighted_length(long_path) == len(long_path)
    # Not domains: abbreviations, numbers, addresses, hashtags.
    for text in ("e.g. this, i.e. that", "U.S. news", "3.14 pi", "me@example.com", "#tag.com"):
        assert weighted_length(text) == len(text), text


# ---------------------------------------------------------------- tokens


def test_a_token_about_to_expire_is_renewed_first_and_the_rotated_refresh_token_kept(
    fake_x, x_settings
):
    account = connect_x_account(fake_x, lifetime=60)
    old_refresh, old_access = account.session["refresh_token"], account.access_token
    make_photo_page(image=make_image())

    assert run_tasks() == ["posted"]

    assert fake_x.requests[0].path == "/2/oauth2/token"
    account.refresh_from_db()
    session = account.session
    assert session["refresh_token"] != old_refresh
    assert fake_x.refresh_token_valid(session["refresh_token"])
    assert session["expires_at"] > time.time() + 3600
    assert session["refresh_token"] not in account.encrypted_session  # stored encrypted
    assert session["access_token"] not in account.encrypted_session
    # X rotates refresh tokens: the old one is refused now.
    assert not fake_x.refresh_token_valid(old_refresh)
    refused = requests.post(
        f"{fake_x.base_url}/2/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": old_refresh,
            "client_id": fake_x.client_id,
        },
        timeout=5,
    )
    assert refused.status_code == 400
    # The post was made with the new access token, not the old one.
    [post] = calls(fake_x, "POST", "/2/tweets")
    assert post.headers["authorization"] == f"Bearer {session['access_token']}"
    assert session["access_token"] != old_access


def test_a_refused_token_is_renewed_and_the_request_made_again(fake_x, x_settings):
    account = connect_x_account(fake_x)
    fake_x.expire(account.access_token)  # X says 401 before the session says it expired
    make_photo_page(image=make_image())

    assert run_tasks() == ["posted"]

    only_tweet(fake_x)
    paths = [r.path for r in fake_x.requests]
    assert paths[:3] == ["/2/media/upload", "/2/oauth2/token", "/2/media/upload"]
    account.refresh_from_db()
    assert fake_x.access_token_valid(account.session["access_token"])


def test_a_refresh_token_x_no_longer_accepts_asks_to_reconnect_without_showing_a_token(
    fake_x, x_settings, caplog
):
    caplog.set_level(logging.DEBUG)
    account = connect_x_account(fake_x, lifetime=10)
    secrets_ = [account.access_token, account.session["refresh_token"]]
    requests.post(
        f"{fake_x.base_url}/2/oauth2/revoke",
        data={"token": secrets_[1], "client_id": fake_x.client_id},
        timeout=5,
    )
    page = make_photo_page(image=make_image())

    assert run_tasks() == ["failed"]

    record = record_of(page)
    assert "reconnect the account" in record.last_error
    assert not fake_x.tweets
    for secret in secrets_:
        assert secret not in record.last_error
        assert secret not in caplog.text


def test_a_token_refused_even_renewed_fails_with_reconnect(fake_x, x_settings, caplog):
    caplog.set_level(logging.DEBUG)
    account = connect_x_account(fake_x)
    fake_x.inject(Fault(method="POST", path="/2/media/upload", status=401, times=2))
    page = make_photo_page(image=make_image())

    assert run_tasks() == ["failed"]

    record = record_of(page)
    assert "401" in record.last_error and "reconnect the account" in record.last_error
    account.refresh_from_db()
    for secret in (account.access_token, account.session["refresh_token"]):
        assert secret not in record.last_error and secret not in caplog.text
    assert account.session["access_token"] not in caplog.text


# ---------------------------------------------------------------- OAuth 1.0a


def connect_oauth1_account(fake, token="carol-token", secret="carol-token-secret"):
    account = SyndicationAccount(network="x", instance_url=fake.base_url, handle="@carol")
    account.access_token = token
    account.session = {"oauth1": True, "token_secret": secret}
    account.save()
    return account


def test_oauth1_signed_requests_are_accepted(fake_x, x_settings):
    connect_oauth1_account(fake_x)
    page = make_photo_page(image=make_image())

    assert run_tasks() == ["posted"]

    tweet = only_tweet(fake_x)
    assert tweet.username == "carol"
    assert record_of(page).remote_url == f"https://x.com/carol/status/{tweet.id}"
    assert all(r.headers["authorization"].startswith("OAuth ") for r in fake_x.requests)


def test_a_bad_oauth1_signature_is_refused_with_a_clear_message(fake_x, x_settings):
    connect_oauth1_account(fake_x, secret="not-the-token-secret")
    page = make_photo_page(image=make_image())

    assert run_tasks() == ["failed"]

    assert not fake_x.tweets
    error = record_of(page).last_error
    assert "X refused the signed request" in error and "signature does not match" in error
    assert "not-the-token-secret" not in error


def test_the_signature_is_the_one_x_documents():
    """The example of X's "Creating a signature" page (RFC 5849 HMAC-SHA1)."""
    header = oauth1_header(
        "POST",
        "https://api.twitter.com/1.1/statuses/update.json",
        [
            ("include_entities", "true"),
            ("status", "Hello Ladies + Gentlemen, a signed OAuth request!"),
        ],
        consumer_key="xvz1evFS4wEEPTGEFPHBog",
        consumer_secret="kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
        token="370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
        token_secret="LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
        nonce="kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg",
        timestamp=1318622958,
    )
    assert 'oauth_signature="hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D"' in header


# ---------------------------------------------------------------- failures and retries


def test_a_rate_limit_is_retried_no_earlier_than_x_says(fake_x, x_settings):
    connect_x_account(fake_x)
    reset = int(time.time()) + 600
    fake_x.inject(
        Fault(
            method="POST",
            path="/2/tweets",
            status=429,
            body={"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
            headers={"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"},
        )
    )
    page = make_photo_page(image=make_image())

    assert run_next() == "retrying"

    record = record_of(page)
    assert record.next_attempt_at.timestamp() >= reset
    assert "rate-limiting" in record.last_error
    assert not fake_x.tweets


def test_the_fakes_own_rate_limit_says_when_it_resets(fake_x, x_settings):
    fake_x.rate_limits["POST /2/tweets"] = (1, 900)
    connect_x_account(fake_x)
    first = make_photo_page(image=make_image(), title="First")
    second = make_photo_page(image=make_image(), title="Second")

    outcomes = [run_next(), run_next()]

    assert sorted(outcomes) == ["posted", "retrying"]
    waiting = SyndicationRecord.objects.get(state=SyndicationRecord.State.RETRYING)
    assert waiting.page_id in (first.pk, second.pk)
    assert waiting.next_attempt_at.timestamp() >= time.time() + 800


def test_a_post_whose_answer_was_lost_is_found_and_adopted_not_made_twice(fake_x, x_settings):
    connect_x_account(fake_x)
    fake_x.inject(Fault(method="POST", path="/2/tweets", drop=True, after=True))
    page = make_photo_page(image=make_image())

    assert run_tasks() == ["retrying", "posted"]

    tweet = only_tweet(fake_x)
    record = record_of(page)
    assert record.remote_id == tweet.id
    assert record.remote_url == f"https://x.com/alice/status/{tweet.id}"
    assert len(calls(fake_x, "POST", "/2/tweets")) == 1
    assert len(calls(fake_x, "GET", "/2/users/")) >= 1


def test_a_changed_page_leaves_its_tweet_and_the_record_says_so(fake_x, x_settings):
    connect_x_account(fake_x)
    page = make_photo_page(image=make_image())
    run_tasks()
    before = len(fake_x.requests)

    publish_page(page, title="Morning boats, later")
    run_tasks()

    assert len(fake_x.requests) == before  # no request at all
    record = record_of(page)
    assert record.state == SyndicationRecord.State.POSTED
    assert "cannot be edited" in record.notice
    assert only_tweet(fake_x).text.startswith("Morning boats")


def test_unpublishing_deletes_the_tweet_when_configured(fake_x, x_settings):
    x_settings.WAGTAIL_SYNDICATE = {**x_settings.WAGTAIL_SYNDICATE, "DELETE_ON_UNPUBLISH": True}
    connect_x_account(fake_x)
    page = make_photo_page(image=make_image())
    run_tasks()
    tweet_id = only_tweet(fake_x).id

    page.unpublish()
    run_tasks()

    assert [r.path for r in calls(fake_x, "DELETE", "/2/tweets")] == [f"/2/tweets/{tweet_id}"]
    assert not fake_x.tweets
    assert record_of(page).state == SyndicationRecord.State.DELETED


def test_a_duplicate_refused_by_x_is_a_permanent_failure_in_xs_words(fake_x, x_settings):
    connect_x_account(fake_x)
    fake_x.inject(
        Fault(
            method="POST",
            path="/2/tweets",
            status=403,
            body={"title": "Forbidden", "detail": "You are not permitted to perform this action."},
        )
    )
    page = make_photo_page(image=make_image())

    assert run_tasks() == ["failed"]

    assert "You are not permitted to perform this action." in record_of(page).last_error


# ---------------------------------------------------------------- connecting in the admin


def consent(authorize_url, decision="authorize"):
    """On X: open the consent page and click a button; return where X sends the browser."""
    page = requests.get(authorize_url, timeout=5)
    assert page.status_code == 200, page.text
    fields = re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', page.text)
    action = re.search(r'<form method="post" action="([^"]*)"', page.text).group(1)
    base = "{0.scheme}://{0.netloc}".format(urlsplit(authorize_url))
    response = requests.post(
        base + action,
        data={**{html.unescape(k): html.unescape(v) for k, v in fields}, "decision": decision},
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def shown_messages(response):
    return [str(message).strip() for message in response.context["messages"]]


def test_without_an_x_app_the_list_offers_mastodon_only(admin_client):
    """X's button needs the site's X app (X_CLIENT_ID); Mastodon's needs nothing."""
    listing = admin_client.get(reverse(f"{NS}:list")).content.decode()
    assert "Connect a Mastodon account" in listing
    assert "Connect an X account" not in listing


def test_connecting_an_x_account_in_the_admin(admin_client, fake_x, x_settings):
    listing = admin_client.get(reverse(f"{NS}:list"))
    assert "Connect an X account" in listing.content.decode()

    start = admin_client.get(reverse(f"{NS}:x_oauth_connect"))
    assert start.status_code == 302
    authorize_url = start["Location"]
    assert authorize_url.startswith(f"{fake_x.base_url}/i/oauth2/authorize?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    assert query["scope"] == SCOPES
    assert query["code_challenge_method"] == "S256" and query["client_id"] == fake_x.client_id
    response = admin_client.get(consent(authorize_url), follow=True)

    assert response.redirect_chain[-1][0] == reverse(f"{NS}:list")
    assert shown_messages(response) == [f"Connected @alice on X ({fake_x.host})."]
    account = SyndicationAccount.objects.get()
    assert (account.network, account.handle, account.instance_url) == (
        "x",
        "@alice",
        fake_x.base_url,
    )
    assert fake_x.access_token_valid(account.access_token)
    assert fake_x.refresh_token_valid(account.session["refresh_token"])
    assert account.session["expires_at"] > time.time() + 3600
    [exchange] = calls(fake_x, "POST", "/2/oauth2/token")
    assert exchange.form["grant_type"] == ["authorization_code"]
    assert exchange.form["code_verifier"][0]  # PKCE, checked by the fake

    # The account posts right away.
    make_photo_page(image=make_image())
    assert run_tasks() == ["posted"]
    assert only_tweet(fake_x).username == "alice"


def test_a_callback_with_a_state_not_started_here_is_refused(admin_client, fake_x, x_settings):
    authorize_url = admin_client.get(reverse(f"{NS}:x_oauth_connect"))["Location"]
    callback = consent(authorize_url)
    forged = re.sub(r"state=[^&]*", "state=forged", callback)

    response = admin_client.get(forged, follow=True)

    assert "could not be matched" in shown_messages(response)[0]
    assert not SyndicationAccount.objects.exists()
    assert not calls(fake_x, "POST", "/2/oauth2/token")


def test_denying_access_on_x_connects_nothing(admin_client, fake_x, x_settings):
    authorize_url = admin_client.get(reverse(f"{NS}:x_oauth_connect"))["Location"]

    response = admin_client.get(consent(authorize_url, decision="cancel"), follow=True)

    assert "denied" in shown_messages(response)[0]
    assert not SyndicationAccount.objects.exists()


def connect_in_the_admin(client):
    authorize_url = client.get(reverse(f"{NS}:x_oauth_connect"))["Location"]
    return client.get(consent(authorize_url), follow=True)


def test_connecting_an_x_account_again_revokes_the_tokens_it_replaces(
    admin_client, fake_x, x_settings
):
    connect_in_the_admin(admin_client)
    first = SyndicationAccount.objects.get()
    old_refresh, old_access = first.session["refresh_token"], first.access_token

    response = connect_in_the_admin(admin_client)

    account = SyndicationAccount.objects.get()
    assert shown_messages(response) == [f"Connected {account} again, with new tokens."]
    assert not fake_x.refresh_token_valid(old_refresh)
    assert not fake_x.access_token_valid(old_access)
    assert fake_x.refresh_token_valid(account.session["refresh_token"])
    assert fake_x.access_token_valid(account.access_token)


def test_an_x_token_that_cannot_be_checked_is_revoked_and_nothing_stored(
    admin_client, fake_x, x_settings
):
    callback = consent(admin_client.get(reverse(f"{NS}:x_oauth_connect"))["Location"])
    fake_x.inject(Fault(method="GET", path="/2/users/me", status=503, times=1))

    response = admin_client.get(callback, follow=True)

    assert not SyndicationAccount.objects.exists()
    assert "503" in shown_messages(response)[0]
    [me] = calls(fake_x, "GET", "/2/users/me")
    assert not fake_x.access_token_valid(me.headers["authorization"].removeprefix("Bearer "))
    revoked = [r.form["token_type_hint"] for r in calls(fake_x, "POST", "/2/oauth2/revoke")]
    assert revoked == [["refresh_token"], ["access_token"]]


def test_without_a_client_id_the_admin_says_which_setting_is_missing(admin_client, settings):
    response = admin_client.get(reverse(f"{NS}:x_oauth_connect"), follow=True)

    assert "X_CLIENT_ID" in shown_messages(response)[0]
    assert "Connect an X account" not in response.content.decode()


def test_deleting_an_x_account_revokes_its_tokens(admin_client, fake_x, x_settings):
    account = connect_x_account(fake_x)
    refresh_token = account.session["refresh_token"]

    response = admin_client.post(reverse(f"{NS}:delete", args=[account.pk]), follow=True)

    assert not SyndicationAccount.objects.exists()
    assert not fake_x.refresh_token_valid(refresh_token)
    assert not fake_x.access_token_valid(account.access_token)
    assert any("revoked" in m for m in shown_messages(response))


def test_fakex_refuses_a_code_without_its_pkce_verifier(fake_x):
    query = {
        "response_type": "code",
        "client_id": fake_x.client_id,
        "redirect_uri": "http://testserver/callback",
        "scope": SCOPES,
        "state": "s",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    location = consent(
        f"{fake_x.base_url}/i/oauth2/authorize?"
        + "&".join(f"{k}={requests.utils.quote(v, safe='')}" for k, v in query.items())
    )
    code = parse_qs(urlsplit(location).query)["code"][0]
    token = requests.post(
        f"{fake_x.base_url}/2/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://testserver/callback",
            "client_id": fake_x.client_id,
            "code_verifier": "not-the-verifier",
        },
        timeout=5,
    )
    assert token.status_code == 400


def test_fakex_is_exported_with_its_own_defaults():
    with FakeX() as fake:
        me = requests.get(
            f"{fake.base_url}/2/users/me", headers={"Authorization": "Bearer demo-token"}, timeout=5
        )
    assert me.json()["data"]["username"] == "demo"


def test_oauth1_tokens_given_to_the_command_post_signed(fake_x, x_settings, monkeypatch):
    import io

    from django.core.management import call_command

    monkeypatch.setattr("sys.stdin", io.StringIO("carol-token carol-token-secret\n"))
    call_command(
        "syndication_accounts",
        "add",
        "--network",
        "x",
        "--instance",
        fake_x.base_url,
        "--token-stdin",
        stdout=io.StringIO(),
    )
    account = SyndicationAccount.objects.get()
    assert account.handle == "@carol"
    assert account.session["oauth1"] is True and account.session["username"] == "carol"
    make_photo_page(image=make_image())

    assert run_tasks() == ["posted"]

    assert only_tweet(fake_x).username == "carol"
    assert not calls(fake_x, "GET", "/2/users/me")[1:]  # only the check when it was added


def test_a_401_from_x_leaves_the_x_record_failed_while_the_mastodon_post_goes_out(
    fake_x, fake_mastodon, x_settings
):
    from tests.utils import connect_account

    connect_account(fake_mastodon)
    x_account = connect_x_account(fake_x)
    fake_x.inject(Fault(path="/2/", status=401, times=10))
    page = make_photo_page(image=make_image())

    assert sorted(run_tasks()) == ["failed", "posted"]

    assert len(fake_mastodon.statuses) == 1 and not fake_x.tweets
    x_record = SyndicationRecord.objects.get(page=page, account=x_account)
    assert "reconnect the account" in x_record.last_error
    mastodon_record = SyndicationRecord.objects.exclude(account=x_account).get(page=page)
    assert mastodon_record.state == SyndicationRecord.State.POSTED


def test_a_renewal_another_worker_made_first_is_taken_not_refused(fake_x, x_settings):
    account = connect_x_account(fake_x, lifetime=60)  # both workers will want to renew
    stale = account.credentials()  # this worker started before the other one renewed
    XNetwork().connect(account.credentials()).renew()  # the other: the refresh token rotates
    renewed = SyndicationAccount.objects.get(pk=account.pk).session

    info = XNetwork().verify(stale)

    assert info.handle == "@alice"
    tokens = [r for r in fake_x.requests if r.path == "/2/oauth2/token"]
    assert len(tokens) == 1, "the stored session was read first: the spent token was not sent"
    me = [r for r in fake_x.requests if r.path == "/2/users/me"][-1]
    assert me.headers["Authorization"] == f"Bearer {renewed['access_token']}"
    assert SyndicationAccount.objects.get(pk=account.pk).session == renewed
    assert fake_x.refresh_token_valid(renewed["refresh_token"])
