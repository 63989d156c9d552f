"""Servers that speak the Mastodon API without being Mastodon: no duplicate and no lost edit.

Some ignore ``Idempotency-Key``, some apply only an edit's text, some give a status a new id
on every edit (FakeMastodon's ``idempotency=False``, ``partial_edits=True`` and
``new_id_per_edit=True``). The plugin looks for a post whose answer was lost before creating
it again, records an edit's alt text only once the server has confirmed it, and reads what an
edit's answer shows.
"""

import pytest
import requests

from syndicate_fakes import FakeMastodon, Fault
from tests.utils import (
    connect_account,
    make_image,
    make_photo_page,
    post_other_statuses,
    publish_page,
    run_next,
    run_tasks,
)
from wagtail_syndicate.models import SyndicationAccount, SyndicationRecord
from wagtail_syndicate.networks.mastodon.auth import ServerOAuth

pytestmark = pytest.mark.django_db

TOKENS = {"good-token": "alice"}
NEW_ALT = "Two fishing boats leaving the harbour at dawn, gulls above"


def record_of(page) -> SyndicationRecord:
    return SyndicationRecord.objects.get(page=page)


def requests_to(fake, method, path_prefix):
    return [r for r in fake.requests if r.method == method and r.path.startswith(path_prefix)]


def posted_page(fake):
    connect_account(fake)
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["posted"]
    return page


# What the fake does -----------------------------------------------------------------------


def test_a_fake_without_idempotency_makes_a_status_per_request():
    with FakeMastodon(tokens=TOKENS, idempotency=False) as fake:
        headers = {"Authorization": "Bearer good-token", "Idempotency-Key": "one"}
        for _ in range(2):
            response = requests.post(
                f"{fake.base_url}/api/v1/statuses", data={"status": "Hi"}, headers=headers
            )
            assert response.status_code == 200
        assert len(fake.statuses) == 2


# 1. The answer to a create is lost on a server that ignores Idempotency-Key ---------------


def lose_the_answer(fake, how):
    """The next create is stored, and its answer lost: the connection dropped, or no answer
    before the plugin's read time-out (2 s in the tests' settings)."""
    fault = {"drop": True} if how == "dropped" else {"delay": 4}
    fake.inject(Fault(method="POST", path="/api/v1/statuses", after=True, **fault))


@pytest.mark.parametrize("how", ["dropped", "timed out"])
def test_a_lost_answer_on_a_server_without_idempotency_ends_with_one_status(how):
    with FakeMastodon(tokens=TOKENS, idempotency=False) as fake:
        connect_account(fake)
        lose_the_answer(fake, how)
        page = make_photo_page(image=make_image())
        assert run_tasks() == ["retrying", "posted"]

        assert len(fake.statuses) == 1, "the post was found, not made again"
        record = record_of(page)
        assert record.remote_id == fake.statuses[0].id
        assert record.remote_url == fake.statuses[0].url
        assert requests_to(fake, "GET", "/api/v1/accounts/"), "it looked before creating"
        assert len(requests_to(fake, "POST", "/api/v1/statuses")) == 1


def test_a_lost_followers_only_post_is_found_with_the_scopes_the_plugin_asks_for():
    """The public listing has no followers-only posts: the token itself must read them."""
    with FakeMastodon(tokens={}, idempotency=False) as fake:
        fake.tokens["scoped-token"] = "alice"
        fake._account_ids["alice"] = "1"
        scopes = ServerOAuth(pkce=True, scopes_supported=("profile",)).scopes.split()
        fake._token_scopes["scoped-token"] = scopes
        connect_account(fake, token="scoped-token")
        SyndicationAccount.objects.update(visibility="private")
        lose_the_answer(fake, "dropped")
        page = make_photo_page(image=make_image())
        assert run_tasks() == ["retrying", "posted"]

        assert [s.visibility for s in fake.statuses] == ["private"]
        assert record_of(page).remote_id == fake.statuses[0].id


def test_a_lost_post_is_found_behind_many_newer_ones():
    """The account posts more than a page of statuses (40) before the retry looks."""
    with FakeMastodon(tokens=TOKENS, idempotency=False) as fake:
        connect_account(fake)
        lose_the_answer(fake, "dropped")
        page = make_photo_page(image=make_image())
        assert run_next() == "retrying"
        post_other_statuses(fake, 45)
        assert run_tasks() == ["posted"]

        mine = [s for s in fake.statuses if page.get_full_url() in s.text]
        assert len(mine) == 1
        assert record_of(page).remote_id == mine[0].id
        listings = requests_to(fake, "GET", "/api/v1/accounts/1/statuses")
        assert [r.query.get("max_id") is not None for r in listings] == [False, True]


def test_a_lost_answer_with_nothing_stored_posts_once():
    """Looking first finds nothing when the server never stored the status: it is created."""
    with FakeMastodon(tokens=TOKENS, idempotency=False) as fake:
        connect_account(fake)
        fake.inject(Fault(method="POST", path="/api/v1/statuses", drop=True))
        page = make_photo_page(image=make_image())
        assert run_tasks() == ["retrying", "posted"]
        assert len(fake.statuses) == 1
        assert record_of(page).remote_id == fake.statuses[0].id
        creates = requests_to(fake, "POST", "/api/v1/statuses")
        keys = {r.headers["Idempotency-Key"] for r in creates}
        assert len(creates) == 2 and len(keys) == 1, "both attempts send the same key"


# 3. An edit that fails once is not lost ----------------------------------------------------


@pytest.mark.parametrize("fault", [{"status": 503}, {"delay": 4}], ids=["503", "time-out"])
def test_an_edit_that_fails_once_sends_the_new_alt_text_again(fake_mastodon, fault):
    page = posted_page(fake_mastodon)
    fake_mastodon.inject(Fault(method="PUT", path="/api/v1/statuses/", **fault))
    publish_page(page, alt_text=NEW_ALT)
    assert run_tasks() == ["retrying", "posted"]

    edits = requests_to(fake_mastodon, "PUT", "/api/v1/statuses/")
    assert len(edits) == 2
    assert all(b"media_attributes" in edit.body for edit in edits), "the retry sends it again"
    [status] = fake_mastodon.statuses
    assert [m.description for m in status.media] == [NEW_ALT]
    assert [m["alt"] for m in record_of(page).media] == [NEW_ALT]


def test_a_failed_edit_leaves_the_record_with_what_the_server_shows(fake_mastodon, settings):
    settings.WAGTAIL_SYNDICATE = {**settings.WAGTAIL_SYNDICATE, "MAX_ATTEMPTS": 1}
    page = posted_page(fake_mastodon)
    old_alt = record_of(page).media[0]["alt"]
    fake_mastodon.inject(Fault(method="PUT", path="/api/v1/statuses/", status=503))
    publish_page(page, alt_text=NEW_ALT)
    assert run_tasks() == ["failed"]
    assert [m["alt"] for m in record_of(page).media] == [old_alt]
    assert [m.description for m in fake_mastodon.statuses[0].media] == [old_alt]


# 6. Servers that apply part of an edit, or renumber the status -----------------------------


def test_an_edit_whose_media_the_server_ignored_says_so():
    with FakeMastodon(tokens=TOKENS, partial_edits=True) as fake:
        page = posted_page(fake)
        old_alt = record_of(page).media[0]["alt"]
        publish_page(page, alt_text=NEW_ALT, title="Morning boats, retitled")
        assert run_tasks() == ["posted"]

        [status] = fake.statuses
        assert status.text.startswith("Morning boats, retitled")
        assert [m.description for m in status.media] == [old_alt]
        record = record_of(page)
        assert record.state == SyndicationRecord.State.POSTED
        assert f"{fake.host} kept the post's earlier image" in record.notice
        assert "delete the post and share the page again" in record.notice
        assert [m["alt"] for m in record.media] == [old_alt], "only what the server shows"


def test_an_edit_the_server_applied_in_full_leaves_no_notice(fake_mastodon):
    page = posted_page(fake_mastodon)
    publish_page(page, alt_text=NEW_ALT)
    assert run_tasks() == ["posted"]
    assert record_of(page).notice == ""


def test_the_id_an_edit_answers_is_kept_and_used_next():
    with FakeMastodon(tokens=TOKENS, new_id_per_edit=True) as fake:
        page = posted_page(fake)
        first_id = record_of(page).remote_id
        publish_page(page, title="Morning boats, retitled")
        assert run_tasks() == ["posted"]
        [status] = fake.statuses
        assert status.id != first_id
        record = record_of(page)
        assert (record.remote_id, record.remote_url) == (status.id, status.url)

        publish_page(page, title="Morning boats, retitled again")
        assert run_tasks() == ["posted"]
        assert requests_to(fake, "PUT", "/api/v1/statuses/")[-1].path.endswith(record.remote_id)
        [status] = fake.statuses
        assert status.text.startswith("Morning boats, retitled again")
        assert record_of(page).remote_id == status.id
