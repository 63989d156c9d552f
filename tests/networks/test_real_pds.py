"""Publishing to the official Bluesky PDS (``@atproto/pds``), a judge this project did not write.

``.ci/pds/start.sh`` starts it on loopback and prints ``TEST_BLUESKY_PDS_URL``; without that
variable these tests are skipped (CI sets ``WAGTAIL_SYNDICATE_PDS_TESTS=required`` and fails them
instead). Each test makes its own account on the PDS with an app password, and the plugin
reaches the PDS through a recording proxy (``tests.pds_support.Proxy``). What the PDS stored is
read back with its own public methods (``listRecords``, ``getRecord``, ``sync.getBlob``).
"""

import base64
import io
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import regex
import requests
from django.core.files.images import ImageFile
from django.core.management import call_command
from PIL import Image as PILImage
from wagtail.images import get_image_model

from tests.pds_support import detailed_jpeg, pds_url, xrpc
from tests.testapp.models import PhotoPage
from tests.utils import make_image, make_photo_page, publish_page, run_next, run_tasks
from wagtail_syndicate.models import SyndicationAccount, SyndicationRecord

pytestmark = pytest.mark.django_db(transaction=True)

CREATE = "com.atproto.repo.createRecord"
UPLOAD = "com.atproto.repo.uploadBlob"


def record_of(page) -> SyndicationRecord:
    return SyndicationRecord.objects.get(page=page)


def images_of(post: dict) -> list[dict]:
    return post["value"]["embed"]["images"]


def shown_link(post: dict) -> tuple[str, str]:
    """The text a post's one link facet covers (cut from the UTF-8 bytes at its byte range) and
    the URL it links to."""
    (facet,) = post["value"]["facets"]
    (feature,) = facet["features"]
    assert feature["$type"] == "app.bsky.richtext.facet#link"
    index = facet["index"]
    shown = post["value"]["text"].encode()[index["byteStart"] : index["byteEnd"]]
    return shown.decode(), feature["uri"]


def graphemes(text: str) -> int:
    """Counted as the PDS counts them (extended grapheme clusters), with ``regex``'s ``\\X``,
    not with the plugin's own counting."""
    return len(regex.findall(r"\X", text))


# One post, as the PDS stored it ---------------------------------------------------------------


def test_one_post_per_publish_with_its_image_alt_text_aspect_ratio_link_and_language(real_pds):
    account = real_pds.connect()
    page = make_photo_page(image=make_image(640, 480))

    assert run_tasks() == ["posted"]

    post = real_pds.account.only_post()
    assert len(real_pds.proxy.sent(CREATE)) == 1
    record = record_of(page)
    assert record.state == "posted"
    assert record.remote_id == post["uri"]
    assert post["uri"].startswith(f"at://{real_pds.account.did}/app.bsky.feed.post/")
    assert record.remote_url.endswith(post["uri"].rsplit("/", 1)[1])
    value = post["value"]
    assert value["langs"] == ["en"]
    assert "labels" not in value
    assert shown_link(post) == ("localhost/morning-boats/", page.get_full_url())
    (image,) = images_of(post)
    assert image["alt"] == "A fishing boat leaving the harbour at dawn"
    assert image["aspectRatio"] == {"width": 640, "height": 480}
    # The blob the PDS serves is, byte for byte, what the plugin uploaded.
    (upload,) = real_pds.proxy.sent(UPLOAD)
    served = real_pds.account.blob(image["image"]["ref"]["$link"])
    assert served == upload.body
    assert PILImage.open(io.BytesIO(served)).size == (640, 480)
    assert image["image"]["size"] == len(served)
    assert SyndicationAccount.objects.get(pk=account.pk).session["did"] == real_pds.account.did


def test_two_images_each_blob_served_as_sent_with_its_alt_text_and_aspect_ratio(
    real_pds, monkeypatch
):
    real_pds.connect()
    wide = make_image(800, 400, title="Wide", image_format="JPEG")
    tall = make_image(300, 600, title="Tall")
    monkeypatch.setattr(
        PhotoPage,
        "get_syndication_images",
        lambda self: [(wide, "The whole harbour"), (tall, "The lighthouse")],
    )
    make_photo_page(image=wide)

    assert run_tasks() == ["posted"]

    images = images_of(real_pds.account.only_post())
    assert [i["alt"] for i in images] == ["The whole harbour", "The lighthouse"]
    uploads = real_pds.proxy.sent(UPLOAD)
    assert len(uploads) == 2
    for image, upload in zip(images, uploads, strict=True):
        served = real_pds.account.blob(image["image"]["ref"]["$link"])
        assert served == upload.body
        width, height = PILImage.open(io.BytesIO(served)).size
        assert image["aspectRatio"] == {"width": width, "height": height}
    assert [i["aspectRatio"] for i in images] == [
        {"width": 800, "height": 400},
        {"width": 300, "height": 600},
    ]


def test_the_link_facet_covers_the_shown_link_after_emoji_and_cjk(real_pds):
    real_pds.connect()
    page = make_photo_page(image=make_image(), title="Café 🌅 au port — 港の朝 👨‍👩‍👧 ça va")

    assert run_tasks() == ["posted"]

    post = real_pds.account.only_post()
    shown, uri = shown_link(post)
    assert uri == page.get_full_url()
    path = uri.removeprefix("http://localhost")
    assert shown == f"localhost{path[:13]}..."  # as the Bluesky app shows a long link
    text = post["value"]["text"]
    # Bytes, not characters: before the link they differ by a lot.
    assert len(text[: text.index(shown)].encode()) > text.index(shown)


def test_a_long_title_is_fitted_to_300_graphemes_and_keeps_its_link(real_pds):
    real_pds.connect()
    page = make_photo_page(
        image=make_image(),
        title="Ünïcødé harbour 🌊 港 " * 12,
        search_description="Boats leave at dawn, one by one, café au lait in hand 🚣‍♀️. " * 10,
    )

    assert run_tasks() == ["posted"]

    text = real_pds.account.only_post()["value"]["text"]
    assert 250 < graphemes(text) <= 300
    assert "…" in text
    assert shown_link(real_pds.account.only_post())[1] == page.get_full_url()


def test_a_content_warning_becomes_the_graphic_media_self_label(real_pds):
    real_pds.connect()
    make_photo_page(image=make_image(), syndication_content_warning="Blood")

    assert run_tasks() == ["posted"]

    value = real_pds.account.only_post()["value"]
    assert value["labels"] == {
        "$type": "com.atproto.label.defs#selfLabels",
        "values": [{"val": "graphic-media"}],
    }
    assert "Blood" not in value["text"]


def test_a_24_megapixel_high_detail_jpeg_posts(real_pds):
    real_pds.connect()
    data = detailed_jpeg(6000, 4000)
    original = get_image_model().objects.create(
        title="Gravel", file=ImageFile(io.BytesIO(data), name="gravel.jpg")
    )
    page = make_photo_page(image=original)

    assert run_tasks() == ["posted"], record_of(page).last_error

    (image,) = images_of(real_pds.account.only_post())
    served = real_pds.account.blob(image["image"]["ref"]["$link"])
    assert len(served) <= 2_000_000
    width, height = PILImage.open(io.BytesIO(served)).size
    assert image["aspectRatio"] == {"width": width, "height": height}
    assert abs(width / height - 1.5) < 0.01


def test_a_photo_over_a_million_bytes_that_the_pds_takes_is_not_made_smaller(real_pds):
    """The lexicon allows 2,000,000 bytes an image since PDS 0.4.218 (this one is newer)."""
    real_pds.connect()
    data = detailed_jpeg(1800, 1200)
    assert 1_000_000 < len(data) < 2_000_000
    original = get_image_model().objects.create(
        title="Gravel", file=ImageFile(io.BytesIO(data), name="gravel.jpg")
    )
    make_photo_page(image=original)

    assert run_tasks() == ["posted"]

    (image,) = images_of(real_pds.account.only_post())
    served = real_pds.account.blob(image["image"]["ref"]["$link"])
    assert len(served) > 1_000_000
    assert PILImage.open(io.BytesIO(served)).size == (1800, 1200)
    assert image["aspectRatio"] == {"width": 1800, "height": 1200}


# Republishing and unpublishing ----------------------------------------------------------------


def test_an_unchanged_republish_sends_nothing(real_pds):
    real_pds.connect()
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["posted"]
    sent = len(real_pds.proxy.requests)

    publish_page(page)
    run_tasks()

    assert len(real_pds.proxy.requests) == sent
    assert len(real_pds.account.posts()) == 1
    assert record_of(page).state == "posted"


def test_unpublishing_deletes_the_post(real_pds, settings):
    real_pds.connect()
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["posted"]
    rkey = record_of(page).remote_id.rsplit("/", 1)[1]
    settings.WAGTAIL_SYNDICATE = {**settings.WAGTAIL_SYNDICATE, "DELETE_ON_UNPUBLISH": True}

    PhotoPage.objects.get(pk=page.pk).unpublish()
    assert run_tasks() == ["deleted"]

    assert real_pds.account.posts() == []
    gone = xrpc(
        "GET",
        "com.atproto.repo.getRecord",
        params={"repo": real_pds.account.did, "collection": "app.bsky.feed.post", "rkey": rkey},
    )
    assert (gone.status_code, gone.json()["error"]) == (400, "RecordNotFound")
    assert record_of(page).remote_id == ""


# Failures -------------------------------------------------------------------------------------


def test_a_lost_answer_to_create_record_is_adopted_not_posted_twice(real_pds):
    real_pds.connect()
    # The PDS stores the post; the connection then drops before its answer reaches the plugin.
    real_pds.proxy.lose(CREATE)
    page = make_photo_page(image=make_image())

    assert run_tasks() == ["retrying", "posted"]

    post = real_pds.account.only_post()
    record = record_of(page)
    assert record.remote_id == post["uri"]
    first, second = real_pds.proxy.sent(CREATE)
    assert json.loads(first.body)["rkey"] == json.loads(second.body)["rkey"]
    assert post["uri"].endswith("/" + json.loads(first.body)["rkey"])


def test_a_429_from_the_pds_is_honoured_to_its_ratelimit_reset(real_pds):
    real_pds.connect()
    # createSession allows 30 sign-ins per handle in five minutes. Use them up (with passwords
    # the PDS refuses before checking them: the limit counts every attempt).
    for _attempt in range(30):
        requests.post(
            f"{pds_url()}/xrpc/com.atproto.server.createSession",
            json={"identifier": real_pds.account.handle, "password": "x" * 600},
            timeout=10,
        )
    limited = requests.post(
        f"{pds_url()}/xrpc/com.atproto.server.createSession",
        json={"identifier": real_pds.account.handle, "password": "x" * 600},
        timeout=10,
    )
    assert limited.status_code == 429, "the PDS was started without rate limits (.ci/pds/start.sh)"
    reset = datetime.fromtimestamp(int(limited.headers["RateLimit-Reset"]), UTC)
    assert reset > datetime.now(UTC) + timedelta(minutes=1)
    page = make_photo_page(image=make_image())

    assert run_next() == "retrying"

    record = record_of(page)
    assert record.state == "retrying"
    assert reset <= record.next_attempt_at <= reset + timedelta(seconds=1)
    assert "429" in record.last_error
    assert real_pds.proxy.sent(CREATE) == []
    assert real_pds.account.posts() == []


# Sessions -------------------------------------------------------------------------------------


def expired(jwt: str) -> str:
    """``jwt`` saying it expired a minute ago (its signature no longer matches: the PDS would
    refuse it too)."""
    header, payload, signature = jwt.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["exp"] = int(time.time()) - 60
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{payload}.{signature}"


def test_an_expired_session_is_refreshed_on_the_pds_and_the_new_one_kept(real_pds):
    account = real_pds.connect()
    make_photo_page(image=make_image(), title="First")
    assert run_tasks() == ["posted"]
    account = SyndicationAccount.objects.get(pk=account.pk)
    first = account.session
    account.save_session({**first, "accessJwt": expired(first["accessJwt"])})
    signed_in = len(real_pds.proxy.sent("com.atproto.server.createSession"))

    make_photo_page(image=make_image(), title="Second", slug="second")
    assert run_tasks() == ["posted"]

    assert len(real_pds.account.posts()) == 2
    assert len(real_pds.proxy.sent("com.atproto.server.refreshSession")) == 1
    assert len(real_pds.proxy.sent("com.atproto.server.createSession")) == signed_in == 1
    renewed = SyndicationAccount.objects.get(pk=account.pk).session
    assert renewed["refreshJwt"] != first["refreshJwt"]
    # The PDS takes the new access JWT.
    who = xrpc("GET", "com.atproto.server.getSession", renewed["accessJwt"])
    assert (who.status_code, who.json()["did"]) == (200, real_pds.account.did)


def test_removing_the_account_ends_its_session_on_the_pds(real_pds):
    account = real_pds.connect()
    make_photo_page(image=make_image())
    assert run_tasks() == ["posted"]
    refresh = SyndicationAccount.objects.get(pk=account.pk).session["refreshJwt"]

    call_command("syndication_accounts", "remove", str(account.pk), stdout=io.StringIO())

    assert len(real_pds.proxy.sent("com.atproto.server.deleteSession")) == 1
    renewed = xrpc("POST", "com.atproto.server.refreshSession", refresh)
    assert renewed.status_code == 400
    assert renewed.json() == {"error": "ExpiredToken", "message": "Token has been revoked"}
