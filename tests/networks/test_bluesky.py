"""Publishing to Bluesky: one post per publish, fitted to Bluesky's limits, against FakeBluesky
(a real local XRPC server that validates records as the lexicon does)."""

import io
import random
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.core.files.images import ImageFile
from PIL import Image as PILImage
from wagtail.images import get_image_model

from syndicate_fakes import FakeBluesky, Fault
from tests.testapp.models import PhotoPage
from tests.utils import (
    connect_account,
    connect_bluesky_account,
    connect_x_account,
    make_image,
    make_photo_page,
    publish_page,
    run_next,
    run_tasks,
)
from wagtail_syndicate.exceptions import PermanentNetworkError
from wagtail_syndicate.models import SyndicationAccount, SyndicationRecord
from wagtail_syndicate.networks import get_network
from wagtail_syndicate.networks.base import Credentials
from wagtail_syndicate.networks.bluesky.client import TID_ALPHABET, tid_from_key
from wagtail_syndicate.networks.text import count_graphemes

pytestmark = pytest.mark.django_db

CREATE = "/xrpc/com.atproto.repo.createRecord"


def only_post(fake):
    assert len(fake.posts) == 1, [p.text for p in fake.posts]
    return fake.posts[0]


def record_of(page, account=None) -> SyndicationRecord:
    records = SyndicationRecord.objects.filter(page=page)
    return (records.filter(account=account) if account else records).get()


def link_facet(post) -> tuple[int, int, str]:
    (facet,) = post.facets
    (feature,) = facet["features"]
    assert feature["$type"] == "app.bsky.richtext.facet#link"
    return facet["index"]["byteStart"], facet["index"]["byteEnd"], feature["uri"]


def calls(fake, nsid) -> int:
    return sum(1 for r in fake.requests if r.path == f"/xrpc/{nsid}")


def noisy_png(width, height, seed=1) -> bytes:
    """A PNG that does not compress well (noise over a gradient): several MB as PNG, far less
    as JPEG."""
    rng = random.Random(seed)
    noise = PILImage.frombytes("L", (width, height), rng.randbytes(width * height))
    base = PILImage.linear_gradient("L").resize((width, height))
    picture = PILImage.blend(base, noise, 0.15).convert("RGB")
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


# Publishing -----------------------------------------------------------------------------------


def test_publish_posts_one_post_with_image_alt_text_aspect_ratio_link_and_language(
    fake_bluesky,
):
    account = connect_bluesky_account(fake_bluesky)
    page = make_photo_page(image=make_image(640, 480))

    assert run_tasks() == ["posted"]

    post = only_post(fake_bluesky)
    url = page.get_full_url()
    assert url == "http://localhost/morning-boats/"
    # The link is shown as the Bluesky app shows links; its facet holds the full URL.
    assert post.text == "Morning boats\n\nlocalhost/morning-boats/"
    assert post.langs == ["en"]
    assert post.labels == []
    assert post.value["createdAt"].endswith("Z")
    (image,) = post.images
    assert image["alt"] == "A fishing boat leaving the harbour at dawn"
    assert image["aspectRatio"] == {"width": 640, "height": 480}
    blob = fake_bluesky.blobs[image["image"]["ref"]["$link"]]
    assert (blob.mime_type, blob.width, blob.height) == ("image/png", 640, 480)
    start, end, uri = link_facet(post)
    assert uri == url
    assert post.text.encode()[start:end] == b"localhost/morning-boats/"

    record = record_of(page)
    assert record.state == "posted"
    assert record.remote_id == post.uri
    assert record.remote_id.startswith(f"at://{fake_bluesky.accounts['alice.test'].did}/")
    assert record.remote_url == post.url
    assert record.remote_url.startswith("https://bsky.app/profile/did:plc:")
    assert record.media[0]["alt"] == image["alt"]
    assert account.handle == "alice.test"


def test_link_facet_counts_bytes_after_emoji_accents_and_cjk(fake_bluesky):
    connect_bluesky_account(fake_bluesky)
    page = make_photo_page(image=make_image(), title="Café 🌅 au port — 港の朝 👨‍👩‍👧 ça va")

    assert run_tasks() == ["posted"]

    post = only_post(fake_bluesky)
    url = page.get_full_url()
    path = url.removeprefix("http://localhost")
    assert len(path) > 15
    shown = f"localhost{path[:13]}..."  # as the Bluesky app shows a long link
    start, end, uri = link_facet(post)
    assert uri == url
    # Counted in UTF-8 bytes, not characters: the two differ by a lot before this URL.
    assert start == len(post.text[: post.text.index(shown)].encode())
    assert start > post.text.index(shown)
    assert end - start == len(shown.encode())


def test_long_text_is_fitted_to_300_graphemes_and_keeps_the_url_whole(fake_bluesky):
    connect_bluesky_account(fake_bluesky)
    page = make_photo_page(
        image=make_image(),
        title="Ünïcødé harbour 🌊 " * 12,
        search_description="Boats leave at dawn, one by one, café au lait in hand 🚣. " * 10,
    )

    assert run_tasks() == ["posted"]

    post = only_post(fake_bluesky)
    url = page.get_full_url()
    assert len(url) > 150  # the slug of the long title
    assert count_graphemes(post.text) <= 300
    assert "…" in post.text
    # A long link is shown short, as the Bluesky app shows it; its facet is the whole URL.
    assert post.text.endswith(f"\n\nlocalhost{url.removeprefix('http://localhost')[:13]}...")
    assert link_facet(post)[2] == url


def test_two_images_each_with_its_alt_text_and_aspect_ratio(fake_bluesky, monkeypatch):
    connect_bluesky_account(fake_bluesky)
    wide, tall = make_image(800, 400, title="Wide"), make_image(300, 600, title="Tall")
    monkeypatch.setattr(
        PhotoPage,
        "get_syndication_images",
        lambda self: [(wide, "The whole harbour"), (tall, "The lighthouse")],
    )
    make_photo_page(image=wide)

    assert run_tasks() == ["posted"]

    images = only_post(fake_bluesky).images
    assert [i["alt"] for i in images] == ["The whole harbour", "The lighthouse"]
    assert [i["aspectRatio"] for i in images] == [
        {"width": 800, "height": 400},
        {"width": 300, "height": 600},
    ]


def test_an_image_over_a_million_bytes_is_sent_smaller_to_a_pds_before_0_4_218(fake_bluesky):
    fake_bluesky.version = "0.4.217"  # 1,000,000 bytes an image before 0.4.218
    connect_bluesky_account(fake_bluesky)
    data = noisy_png(1600, 1200)
    assert len(data) > 1_000_000
    image = get_image_model().objects.create(
        title="Big", file=ImageFile(io.BytesIO(data), name="big.png")
    )
    make_photo_page(image=image)

    assert run_tasks() == ["posted"]

    (image_entry,) = only_post(fake_bluesky).images
    blob = fake_bluesky.blobs[image_entry["image"]["ref"]["$link"]]
    assert blob.size <= 1_000_000
    assert blob.mime_type == "image/jpeg"
    assert image_entry["aspectRatio"] == {"width": blob.width, "height": blob.height}


def test_a_content_warning_becomes_a_self_label(fake_bluesky):
    connect_bluesky_account(fake_bluesky)
    make_photo_page(image=make_image(), syndication_content_warning="Blood")

    assert run_tasks() == ["posted"]

    post = only_post(fake_bluesky)
    assert post.labels == ["graphic-media"]
    assert "Blood" not in post.text


# Sessions -------------------------------------------------------------------------------------


def test_the_session_is_kept_encrypted_and_reused_across_posts(fake_bluesky):
    account = connect_bluesky_account(fake_bluesky)
    make_photo_page(image=make_image(), title="First")
    make_photo_page(image=make_image(), title="Second", slug="second")

    assert run_tasks() == ["posted", "posted"]

    assert len(fake_bluesky.posts) == 2
    assert fake_bluesky.sessions_created == 1
    assert fake_bluesky.sessions_refreshed == 0
    account = SyndicationAccount.objects.get(pk=account.pk)
    session = account.session
    assert session["did"] == fake_bluesky.accounts["alice.test"].did
    assert session["accessJwt"] not in account.encrypted_session
    assert session["refreshJwt"] not in account.encrypted_session


def test_an_expired_session_is_refreshed_and_the_new_one_saved(fake_bluesky):
    account = connect_bluesky_account(fake_bluesky)
    make_photo_page(image=make_image(), title="First")
    assert run_tasks() == ["posted"]
    first = SyndicationAccount.objects.get(pk=account.pk).session

    fake_bluesky.expire_sessions()
    make_photo_page(image=make_image(), title="Second", slug="second")
    assert run_tasks() == ["posted"]

    assert len(fake_bluesky.posts) == 2
    assert (fake_bluesky.sessions_created, fake_bluesky.sessions_refreshed) == (1, 1)
    renewed = SyndicationAccount.objects.get(pk=account.pk).session
    # The refresh JWT is single-use: the saved session must hold the new one.
    assert renewed["refreshJwt"] != first["refreshJwt"]
    assert renewed["accessJwt"] != first["accessJwt"]

    make_photo_page(image=make_image(), title="Third", slug="third")
    assert run_tasks() == ["posted"]
    assert (fake_bluesky.sessions_created, fake_bluesky.sessions_refreshed) == (1, 1)


def test_a_session_another_run_renewed_first_is_taken_from_the_account(fake_bluesky):
    account = connect_bluesky_account(fake_bluesky)
    make_photo_page(image=make_image(), title="First")
    assert run_tasks() == ["posted"]
    fake_bluesky.expire_sessions()
    # A used refresh JWT stays valid for 2 hours on the PDS; past that, it is refused.
    fake_bluesky.refresh_grace = 0
    # Two runs load the account with the same session; the first renews it, so the second's
    # refresh is refused.
    first = SyndicationAccount.objects.get(pk=account.pk).credentials()
    second = SyndicationAccount.objects.get(pk=account.pk).credentials()
    network = get_network("bluesky")
    who = "com.atproto.server.getSession"
    assert network.connect(first).call("GET", who)["handle"] == "alice.test"
    assert fake_bluesky.sessions_refreshed == 1

    assert network.connect(second).call("GET", who)["handle"] == "alice.test"

    assert (fake_bluesky.sessions_created, fake_bluesky.sessions_refreshed) == (1, 1)


def test_when_the_refresh_fails_the_app_password_signs_in_again(fake_bluesky):
    connect_bluesky_account(fake_bluesky)
    make_photo_page(image=make_image(), title="First")
    assert run_tasks() == ["posted"]

    fake_bluesky.expire_sessions(expire_refresh=True)
    make_photo_page(image=make_image(), title="Second", slug="second")
    assert run_tasks() == ["posted"]

    assert len(fake_bluesky.posts) == 2
    assert fake_bluesky.sessions_created == 2
    assert calls(fake_bluesky, "com.atproto.server.refreshSession") == 1


def test_a_wrong_app_password_fails_with_a_clear_reason_that_hides_it(fake_bluesky):
    connect_bluesky_account(fake_bluesky, app_password="wrong-pass-9876")
    page = make_photo_page(image=make_image())

    assert run_tasks() == ["failed"]

    record = record_of(page)
    assert "alice.test" in record.last_error
    assert "app password" in record.last_error
    assert "wrong-pass-9876" not in record.last_error
    assert fake_bluesky.posts == []


def test_verify_signs_in_and_hands_over_the_session():
    with FakeBluesky(accounts={"carol.test": "carol-pass"}) as fake:
        saved = []
        info = get_network("bluesky").verify(
            Credentials(
                fake.base_url, "carol-pass", handle="@carol.test", save_session=saved.append
            )
        )
        did = fake.accounts["carol.test"].did
        assert (info.handle, info.remote_id) == ("carol.test", did)
        assert info.profile_url == "https://bsky.app/profile/carol.test"
        assert saved[-1]["did"] == did

        with pytest.raises(PermanentNetworkError) as refused:
            get_network("bluesky").verify(Credentials(fake.base_url, "nope", handle="carol.test"))
        assert "nope" not in str(refused.value)


# Failures and retries -------------------------------------------------------------------------


def rate_limit_create(fake, seconds: int, **headers) -> int:
    """The next createRecord is answered 429 with a reset ``seconds`` ahead (epoch seconds,
    as Bluesky sends it); returns that reset."""
    reset = int(datetime.now(UTC).timestamp()) + seconds
    fake.inject(
        Fault(
            method="POST",
            path=CREATE,
            status=429,
            body={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
            headers={**headers, "ratelimit-reset": str(reset)},
        )
    )
    return reset


def test_rate_limited_post_waits_for_the_reset_time(fake_bluesky):
    connect_bluesky_account(fake_bluesky)
    rate_limit_create(fake_bluesky, 2, **{"ratelimit-remaining": "0"})
    page = make_photo_page(image=make_image())

    assert run_tasks() == ["retrying", "posted"]  # the retry runs once the reset time is due
    assert record_of(page).state == "posted"
    assert calls(fake_bluesky, "com.atproto.repo.createRecord") == 2
    assert len(fake_bluesky.posts) == 1


def test_rate_limited_record_is_scheduled_no_earlier_than_the_reset(fake_bluesky):
    connect_bluesky_account(fake_bluesky)
    reset = rate_limit_create(fake_bluesky, 600)
    page = make_photo_page(image=make_image())

    with pytest.raises(AssertionError, match="not due"):
        run_tasks()  # the retry is not due for ten minutes

    record = record_of(page)
    assert record.state == "retrying"
    assert record.next_attempt_at >= datetime.fromtimestamp(reset, UTC)
    assert "RateLimitExceeded" in record.last_error


@pytest.mark.parametrize(
    "fault",
    [
        Fault(method="POST", path=CREATE, status=502, body="<html>Bad Gateway</html>"),
        Fault(method="POST", path=CREATE, status=500, body={"error": "InternalServerError"}),
        Fault(method="POST", path="/xrpc/com.atproto.repo.uploadBlob", status=503),
        Fault(method="POST", path=CREATE, delay=3.0, drop=True),  # past the 2 s read time-out
    ],
    ids=["502", "500", "upload 503", "timeout"],
)
def test_server_errors_and_timeouts_are_retried_until_posted(fake_bluesky, fault):
    connect_bluesky_account(fake_bluesky)
    fake_bluesky.inject(fault)
    page = make_photo_page(image=make_image())

    assert run_tasks() == ["retrying", "posted"]

    assert len(fake_bluesky.posts) == 1
    assert record_of(page).attempts == 2


@pytest.mark.parametrize("duplicate_status", [500, 409])
def test_a_lost_answer_is_adopted_on_retry_through_the_same_record_key(duplicate_status):
    with FakeBluesky(
        accounts={"alice.test": "alice-app-pass"}, duplicate_status=duplicate_status
    ) as fake:
        connect_bluesky_account(fake)
        # The server stores the post, then the connection drops before the answer.
        fake.inject(Fault(method="POST", path=CREATE, drop=True, after=True))
        page = make_photo_page(image=make_image())

        assert run_tasks() == ["retrying", "posted"]

        post = only_post(fake)
        record = record_of(page)
        assert (record.remote_id, record.remote_url) == (post.uri, post.url)
        creates = [r for r in fake.requests if r.path == CREATE]
        assert len(creates) == 2
        assert creates[0].json["rkey"] == creates[1].json["rkey"] == post.rkey


def test_a_retry_hours_later_uploads_the_images_the_server_deleted_meanwhile(fake_bluesky):
    connect_bluesky_account(fake_bluesky)
    fake_bluesky.inject(Fault(method="POST", path=CREATE, status=502))
    page = make_photo_page(image=make_image())
    assert run_next() == "retrying"

    # Two hours pass before the retry: the blob no post used is gone, and the access JWT too.
    later = fake_bluesky.clock() + 2 * 3600
    fake_bluesky.clock = lambda: later
    assert run_next() == "posted"

    (image,) = only_post(fake_bluesky).images
    assert image["alt"] == page.alt_text
    assert calls(fake_bluesky, "com.atproto.repo.uploadBlob") == 2
    assert (fake_bluesky.sessions_created, fake_bluesky.sessions_refreshed) == (1, 1)


def test_a_changed_page_leaves_the_post_and_the_record_says_why(fake_bluesky):
    connect_bluesky_account(fake_bluesky)
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["posted"]
    before = len(fake_bluesky.requests)

    publish_page(page, title="Morning boats, later")
    assert run_tasks() == ["posted"]

    assert len(fake_bluesky.requests) == before
    assert only_post(fake_bluesky).text.startswith("Morning boats\n")
    record = record_of(page)
    assert record.state == "posted"
    assert "Bluesky posts cannot be edited" in record.notice


def test_unpublishing_deletes_the_post_when_configured(fake_bluesky, settings):
    connect_bluesky_account(fake_bluesky)
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["posted"]
    settings.WAGTAIL_SYNDICATE = {**settings.WAGTAIL_SYNDICATE, "DELETE_ON_UNPUBLISH": True}

    PhotoPage.objects.get(pk=page.pk).unpublish()
    assert run_tasks() == ["deleted"]

    assert fake_bluesky.posts == []
    assert calls(fake_bluesky, "com.atproto.repo.deleteRecord") == 1
    assert record_of(page).remote_id == ""


def test_mastodon_and_bluesky_each_get_their_post_and_fail_alone(fake_bluesky, fake_mastodon):
    mastodon = connect_account(fake_mastodon)
    bluesky = connect_bluesky_account(fake_bluesky)
    fake_bluesky.inject(Fault(method="POST", path=CREATE, status=500, times=10))
    page = make_photo_page(image=make_image())

    outcomes = run_tasks()

    assert sorted(outcomes) == ["failed", "posted", "retrying", "retrying"]
    assert len(fake_mastodon.statuses) == 1
    assert fake_mastodon.statuses[0].media[0].description == page.alt_text
    assert fake_bluesky.posts == []
    assert record_of(page, mastodon).state == "posted"
    failed = record_of(page, bluesky)
    assert failed.state == "failed"
    assert "Gave up after 3 attempts" in failed.last_error


def test_mastodon_and_bluesky_posts_of_one_page_each_fit_their_network(fake_bluesky, fake_mastodon):
    connect_account(fake_mastodon)
    connect_bluesky_account(fake_bluesky)
    page = make_photo_page(
        image=make_image(), search_description="A long day at the harbour. " * 15
    )

    assert sorted(run_tasks()) == ["posted", "posted"]

    url = page.get_full_url()
    status, post = fake_mastodon.statuses[0], only_post(fake_bluesky)
    assert count_graphemes(post.text) <= 300 < count_graphemes(status.text)
    assert status.text.endswith(url)
    assert post.text.endswith(url.removeprefix("http://")) and link_facet(post)[2] == url


def test_three_networks_get_one_post_each_and_failures_stay_with_their_network(
    fake_bluesky, fake_mastodon, fake_x, settings
):
    settings.WAGTAIL_SYNDICATE = {
        **settings.WAGTAIL_SYNDICATE,
        "X_CLIENT_ID": fake_x.client_id,
        "X_API_URL": fake_x.base_url,
    }
    mastodon = connect_account(fake_mastodon)
    bluesky = connect_bluesky_account(fake_bluesky)
    x = connect_x_account(fake_x)
    page = make_photo_page(image=make_image())
    assert sorted(run_tasks()) == ["posted", "posted", "posted"]

    url = page.get_full_url()
    alt = "A fishing boat leaving the harbour at dawn"
    assert [s.media[0].description for s in fake_mastodon.statuses] == [alt]
    assert [i["alt"] for p in fake_bluesky.posts for i in p.images] == [alt]
    assert [fake_x.media[t.media_ids[0]].alt_text for t in fake_x.tweets] == [alt]
    assert url in fake_mastodon.statuses[0].text and url in fake_x.tweets[0].text
    assert link_facet(fake_bluesky.posts[0])[2] == url

    # A 500 from Bluesky and a 401 from X (even after renewing its token) on the next page.
    fake_bluesky.inject(Fault(method="POST", path=CREATE, status=500, times=10))
    fake_x.inject(Fault(method="POST", path="/2/media/upload", status=401, times=10))
    second = make_photo_page(image=make_image(), title="Evening boats", slug="evening")
    run_tasks()

    assert len(fake_mastodon.statuses) == 2
    assert record_of(second, mastodon).state == "posted"
    assert record_of(second, bluesky).state in ("retrying", "failed")
    assert record_of(second, x).state == "failed"
    assert (len(fake_bluesky.posts), len(fake_x.tweets)) == (1, 1)


# The record key and the fake's checks ---------------------------------------------------------


def test_record_keys_are_valid_tids_derived_from_the_key():
    keys = [f"wagtail-syndicate-{n}-1" for n in range(200)]
    tids = [tid_from_key(key) for key in keys]
    assert tids == [tid_from_key(key) for key in keys]
    assert len(set(tids)) == len(tids)
    for tid in tids:
        assert len(tid) == 13
        assert set(tid) <= set(TID_ALPHABET)
        assert tid[0] in TID_ALPHABET[:16]  # the top bit is 0


def tid_time(tid: str) -> datetime:
    number = 0
    for char in tid:
        number = number * 32 + TID_ALPHABET.index(char)
    return datetime.fromtimestamp((number >> 10) / 1_000_000, UTC)


def test_a_record_key_holds_the_time_the_post_was_first_tried(fake_bluesky):
    connect_bluesky_account(fake_bluesky)
    page = make_photo_page(image=make_image())
    # The first attempt's answer is lost after the post was stored; the retry sends the same
    # key and time, so the same record key, and adopts the post.
    fake_bluesky.inject(Fault(method="POST", path=CREATE, drop=True, after=True))
    before = datetime.now(UTC)
    assert run_tasks() == ["retrying", "posted"]
    rkey = only_post(fake_bluesky).uri.rsplit("/", 1)[1]
    first, second = [r for r in fake_bluesky.requests if r.path == CREATE]
    assert first.json["rkey"] == second.json["rkey"] == rkey
    assert before <= tid_time(rkey) <= before + timedelta(seconds=5)
    assert SyndicationRecord.objects.get(page=page).remote_id.endswith(rkey)


def test_removing_an_account_ends_its_session_and_says_where_to_revoke_the_password(
    fake_bluesky,
):
    from django.core.management import call_command

    account = connect_bluesky_account(fake_bluesky)
    make_photo_page(image=make_image())
    assert run_tasks() == ["posted"]  # signed in: a session is stored
    refresh = SyndicationAccount.objects.get(pk=account.pk).session["refreshJwt"]
    out = io.StringIO()

    call_command("syndication_accounts", "remove", str(account.pk), stdout=out)

    assert fake_bluesky.sessions_deleted == 1
    renewed = requests.post(
        f"{fake_bluesky.base_url}/xrpc/com.atproto.server.refreshSession",
        headers={"Authorization": f"Bearer {refresh}"},
        timeout=5,
    )
    assert renewed.status_code == 400  # the session is over
    said = out.getvalue()
    assert "The Bluesky session of alice.test was ended." in said
    assert "revoked in Bluesky's settings" in said
    assert refresh not in said
