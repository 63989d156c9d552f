"""Bluesky's image limit by PDS version: 2,000,000 bytes from 0.4.218 (the version a PDS gives at
``GET /xrpc/_health``), 1,000,000 before or when the version cannot be read; a photo too large
as it is goes out at the 2000 px the Bluesky app shows, as large as the server takes."""

import io

import pytest
from PIL import Image

from syndicate_fakes import FakeBluesky
from tests.photos import draw, encode, stored
from tests.utils import connect_bluesky_account, make_photo_page, run_tasks
from wagtail_syndicate.networks.bluesky.client import limits_for_version
from wagtail_syndicate.pipeline.limits_cache import limits_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("version", "limit"),
    [
        ("0.4.218", 2_000_000),
        ("0.5.35", 2_000_000),
        ("1.0.0", 2_000_000),
        ("v0.4.219-beta.1", 2_000_000),
        ("0.4.217", 1_000_000),
        ("0.3.999", 1_000_000),
        ("", 1_000_000),
        ("unknown", 1_000_000),
        (None, 1_000_000),
        (42, 1_000_000),
    ],
)
def test_the_image_limit_follows_the_pds_version(version, limit):
    limits = limits_for_version(version)
    assert limits.image_size_limit == limit
    assert limits.display_side == 2000


def posted_blob(fake) -> tuple[bytes, dict]:
    (post,) = fake.posts
    (entry,) = post.images
    blob = fake.blobs[entry["image"]["ref"]["$link"]]
    return blob.data, entry


@pytest.mark.parametrize(
    ("version", "low", "high"),
    [("0.4.218", 1_000_000, 2_000_000), ("0.4.217", 0, 1_000_000)],
)
def test_a_detailed_camera_photo_is_posted_as_large_as_the_pds_takes(version, low, high):
    """A detailed 4000×3000 JPEG: at 2000 px and quality 85 it is about 1.25 MB, which a
    current PDS takes and an older one refuses."""
    photo = encode(draw("detail", 4000, 3000, seed=43), "jpeg", quality=92)
    with FakeBluesky(accounts={"alice.test": "alice-app-pass"}, version=version) as fake:
        account = connect_bluesky_account(fake)
        make_photo_page(image=stored(photo, "camera.jpg"))

        assert run_tasks() == ["posted"]

        data, entry = posted_blob(fake)
        assert low < len(data) <= high
        picture = Image.open(io.BytesIO(data))
        assert picture.size == (2000, 1500)
        assert entry["aspectRatio"] == {"width": 2000, "height": 1500}
        # The version was read once, and is kept with the account's limits.
        assert [r.path for r in fake.requests].count("/xrpc/_health") == 1
        assert limits_for(account, fetch=False).image_size_limit == max(high, 1_000_000)
