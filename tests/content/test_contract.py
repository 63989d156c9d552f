"""The values page models hand the plugin (``wagtail_syndicate.contract``)."""

from types import SimpleNamespace

import pytest

from wagtail_syndicate.contract import SyndicationImage

PHOTO = SimpleNamespace(title="Harbour", description="Boats at dawn in the harbour")


@pytest.mark.parametrize(
    "alt_text, image, expected",
    [
        ("  Two boats  ", PHOTO, "Two boats"),  # the page's own words first, trimmed
        ("", PHOTO, "Boats at dawn in the harbour"),  # else the image's description
        (None, PHOTO, "Boats at dawn in the harbour"),
        ("\u200b\u200b", PHOTO, "Boats at dawn in the harbour"),  # zero-width only: none
        ("", SimpleNamespace(title="Harbour", description="\u200b"), ""),  # neither: none
        ("", SimpleNamespace(title="Harbour"), ""),  # an image model without descriptions
    ],
)
def test_an_image_is_described_by_its_alt_text_else_its_description(alt_text, image, expected):
    described = SyndicationImage.described(image, alt_text)
    assert described == (image, expected)  # a pair, as page models may also return
    assert (described.image, described.alt_text) == (image, expected)
