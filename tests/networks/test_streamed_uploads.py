"""Uploads stream the image from storage: each network's server gets the whole file with its
Content-Length (not chunked), read from the file a chunk at a time, and a request sent again (a
retry after a 5xx or a 429, or at once after a renewed token) sends the whole file again."""

import io
from dataclasses import dataclass

import pytest
from django.core.files.base import File
from PIL import Image as PILImage

from syndicate_fakes import Fault
from tests.utils import (
    connect_account,
    connect_bluesky_account,
    connect_x_account,
    make_image,
    make_photo_page,
    run_tasks,
)
from wagtail_syndicate.networks import get_network
from wagtail_syndicate.networks.http.uploads import UPLOAD_CHUNK
from wagtail_syndicate.networks.post import Media

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Endpoint:
    """Where a network's fake takes uploads, and where in a recorded request the file is."""

    fixtures: tuple[str, ...]
    path: str
    part: str | None  # the multipart file part; None: the body is the file

    def connect(self, fake):
        network = self.fixtures[0].removeprefix("fake_")
        return {"mastodon": connect_account, "bluesky": connect_bluesky_account}.get(
            network, connect_x_account
        )(fake)

    def received(self, fake) -> list[bytes]:
        """The file each upload request carried, checking that it came with its length."""
        files = []
        for request in fake.requests:
            if request.method == "POST" and request.path == self.path:
                assert "transfer-encoding" not in request.headers
                assert request.headers["content-length"] == str(len(request.body))
                files.append(request.body if self.part is None else request.files[self.part][0][2])
        return files


NETWORKS = {
    "mastodon": Endpoint(("fake_mastodon",), "/api/v2/media", "file"),
    "bluesky": Endpoint(("fake_bluesky",), "/xrpc/com.atproto.repo.uploadBlob", None),
    "x": Endpoint(("fake_x", "x_settings"), "/2/media/upload", "media"),
}


@pytest.fixture(params=list(NETWORKS))
def network(request):
    """(the upload's description, its fake) for each network in turn."""
    upload = NETWORKS[request.param]
    for name in upload.fixtures:
        request.getfixturevalue(name)
    return upload, request.getfixturevalue(upload.fixtures[0])


def noise_png(width=640, height=480) -> bytes:
    """A PNG of random grey pixels: it does not compress, so it is several upload chunks."""
    buffer = io.BytesIO()
    PILImage.effect_noise((width, height), 64).save(buffer, "PNG")
    return buffer.getvalue()


class ReadsRecorded(File):
    """A file as storage opens it, that records the size of each read made of it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data), name="noise.png")
        self.reads: list[int] = []

    def read(self, size=-1):
        chunk = self.file.read(size)
        self.reads.append(len(chunk))
        return chunk


def test_the_file_is_read_a_chunk_at_a_time_and_arrives_whole_with_its_length(network):
    upload, fake = network
    account = upload.connect(fake)
    data = noise_png()
    assert len(data) > 3 * UPLOAD_CHUNK
    file = ReadsRecorded(data)
    media = Media(
        file=file,
        filename="noise.png",
        content_type="image/png",
        alt_text="Grey noise",
        focus=None,
        width=640,
        height=480,
        size=len(data),
        source="noise",
    )
    net = get_network(account.network)

    assert net.upload_media(net.connect(account.credentials()), media)

    assert upload.received(fake) == [data]
    assert sum(file.reads) == len(data)  # read once
    assert max(file.reads) <= UPLOAD_CHUNK  # never whole


@pytest.mark.parametrize(
    "fault",
    [
        Fault(method="POST", status=503),
        Fault(method="POST", status=429, headers={"Retry-After": "0"}),
    ],
    ids=["503", "429"],
)
def test_a_retried_upload_sends_the_whole_file_again(network, fault):
    upload, fake = network
    upload.connect(fake)
    fault.path = upload.path
    fake.inject(fault)
    image = make_image(1200, 900, image_format="JPEG")
    make_photo_page(image=image)

    assert run_tasks() == ["retrying", "posted"]

    with image.file.open("rb") as file:
        data = file.read()
    assert upload.received(fake) == [data, data]


@pytest.mark.parametrize(
    "name, fault",
    [
        # X renews a refused bearer token and sends the request again at once.
        ("x", Fault(method="POST", status=401)),
        # Bluesky renews an expired session and sends the call again at once.
        ("bluesky", Fault(method="POST", status=400, body={"error": "ExpiredToken"})),
    ],
)
def test_an_upload_sent_again_after_a_renewed_token_sends_the_whole_file(request, name, fault):
    upload = NETWORKS[name]
    for fixture in upload.fixtures:
        request.getfixturevalue(fixture)
    fake = request.getfixturevalue(upload.fixtures[0])
    upload.connect(fake)
    fault.path = upload.path
    fake.inject(fault)
    image = make_image(1200, 900, image_format="JPEG")
    make_photo_page(image=image)

    assert run_tasks() == ["posted"]

    with image.file.open("rb") as file:
        data = file.read()
    assert upload.received(fake) == [data, data]
