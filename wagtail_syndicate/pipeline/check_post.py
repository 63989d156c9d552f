""" "Send a test post": prove an account's whole path, image included, from the admin.

Only where the network has posts nobody else sees (``Network.private_visibility``, Mastodon's
"direct"): elsewhere the check stops short of posting, since a test post would be seen."""

import io

from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw

from wagtail_syndicate.models import SyndicationAccount
from wagtail_syndicate.networks import get_network
from wagtail_syndicate.networks.post import Media, Post
from wagtail_syndicate.pipeline.limits_cache import limits_for


def check_image() -> Media:
    """A small picture drawn on the spot (no file in storage is needed)."""
    picture = Image.new("RGB", (480, 270), (56, 90, 140))
    ImageDraw.Draw(picture).rectangle((40, 40, 440, 230), outline=(255, 255, 255), width=6)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    data = buffer.getvalue()
    return Media(
        file=ContentFile(data, name="wagtail-syndicate-test.png"),
        filename="wagtail-syndicate-test.png",
        content_type="image/png",
        alt_text=_("A white frame on a blue background: a test image from wagtail-syndicate."),
        focus=None,
        width=480,
        height=270,
        size=len(data),
        source="wagtail-syndicate-test",
    )


def send_test_post(account: SyndicationAccount) -> str | None:
    """Prove the account's whole path: on a network with posts only the account sees
    (``Network.private_choice``), post one with an image and return its URL; on a network whose
    posts others see (Bluesky, X), sign in and upload the image, post nothing and return None.
    Raises ``SyndicationError`` with the reason when it fails."""
    network = get_network(account.network)
    limits_for(account, refresh=True)  # the server answers, and its limits are fresh
    private = network.private_choice()
    if private is None:
        network.upload_media(network.connect(account.credentials()), check_image())
        return None
    now = timezone.now()
    post = Post(
        text=_("Test post from wagtail-syndicate, %(when)s. Only this account can see it.")
        % {"when": now.strftime("%Y-%m-%d %H:%M:%S %Z")},
        url="",
        media=[check_image()],
        visibility=private[0],
    )
    key = f"wagtail-syndicate-test-{account.pk}-{now.timestamp()}"
    return network.publish(account.credentials(), post, key).url
