"""A post's visibilities are its network's (``Network.visibilities``): the account's form offers
its network's, the page editor those of the networks its accounts are on, and a value a network
does not have is refused in the form. The models' fields have no choices, so a network of a
site's own with visibilities of its own needs no migration."""

import html
import re

import pytest
from django.urls import reverse

from tests.utils import connect_account, connect_bluesky_account, make_image, make_photo_page
from wagtail_syndicate.models import SyndicationAccount
from wagtail_syndicate.networks.bluesky import BlueskyNetwork
from wagtail_syndicate.networks.mastodon import MastodonNetwork
from wagtail_syndicate.networks.x import XNetwork

pytestmark = pytest.mark.django_db

MASTODON = [
    ("public", "Public"),
    ("unlisted", "Quiet public"),
    ("private", "Followers only"),
    ("direct", "Mentioned people only"),
]


class CirclesMastodon(MastodonNetwork):
    """Mastodon's API, declared as a network with visibilities of its own."""

    label = "Circles"
    visibilities = (("public", "Everyone"), ("circle", "My circle"))


@pytest.fixture
def circles(settings):
    settings.WAGTAIL_SYNDICATE = {
        **settings.WAGTAIL_SYNDICATE,
        "NETWORKS": {"circles": {"BACKEND": f"{__name__}.CirclesMastodon"}},
    }


def offered(page_html: str, name: str) -> list[tuple[str, str]] | None:
    """The (value, label) options of the form's select ``name``; None when there is none."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page_html, re.S)
    if select is None:
        assert f'name="{name}"' not in page_html  # not even as another kind of field
        return None
    options = re.findall(r'<option value="([^"]*)"[^>]*>(.*?)</option>', select.group(1), re.S)
    return [(value, html.unescape(label).strip()) for value, label in options]


def account_url(view, *args):
    return reverse(f"wagtailsnippets_wagtail_syndicate_syndicationaccount:{view}", args=args)


def test_the_networks_declare_their_visibilities():
    assert [(value, str(label)) for value, label in MastodonNetwork.visibilities] == MASTODON
    assert BlueskyNetwork.visibilities == () and XNetwork.visibilities == ()


def test_a_mastodon_accounts_form_offers_its_four_visibilities(admin_client, fake_mastodon):
    account = connect_account(fake_mastodon)
    assert (
        offered(admin_client.get(account_url("edit", account.pk)).content.decode(), "visibility")
        == MASTODON
    )


def test_a_bluesky_accounts_form_offers_none_and_ignores_one_sent(admin_client, fake_bluesky):
    account = connect_bluesky_account(fake_bluesky)
    page_html = admin_client.get(account_url("edit", account.pk)).content.decode()
    assert offered(page_html, "visibility") is None
    response = admin_client.post(
        account_url("edit", account.pk),
        {
            "network": "bluesky",
            "instance_url": fake_bluesky.base_url,
            "handle": account.handle,
            "visibility": "direct",
            "enabled": "on",
        },
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.visibility == "public"  # as it was: Bluesky posts have no visibility


def offered_by_network(page_html: str, name: str) -> dict[str, list[tuple[str, str]]]:
    """The options of the form's select ``name`` under each of its groups' labels."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page_html, re.S)
    groups = re.findall(r'<optgroup label="([^"]*)">(.*?)</optgroup>', select.group(1), re.S)
    return {
        html.unescape(label): offered(f'<select name="{name}">{options}</select>', name)
        for label, options in groups
    }


def test_a_new_accounts_form_offers_each_networks_visibilities_under_its_name(
    admin_client, settings
):
    settings.WAGTAIL_SYNDICATE = {
        **settings.WAGTAIL_SYNDICATE,
        "NETWORKS": {"circles": {"BACKEND": f"{__name__}.CirclesMastodon"}},
    }  # added to the built-in networks
    page_html = admin_client.get(account_url("add")).content.decode()
    assert offered_by_network(page_html, "visibility") == {
        "Mastodon": MASTODON,
        "Circles": [("public", "Everyone"), ("circle", "My circle")],
    }  # Bluesky's and X's posts have none: they have no group


def test_with_one_network_of_visibilities_a_new_accounts_form_offers_its_own(admin_client):
    page_html = admin_client.get(account_url("add")).content.decode()
    assert "<optgroup" not in page_html.split('name="visibility"', 1)[1].split("</select>")[0]
    assert offered(page_html, "visibility") == MASTODON


def test_an_account_cannot_have_a_visibility_its_network_does_not(admin_client, fake_mastodon):
    response = admin_client.post(
        account_url("add"),
        {
            "network": "mastodon",
            "instance_url": fake_mastodon.base_url,
            "access_token": "good-token",
            "visibility": "circle",
            "enabled": "on",
        },
    )
    assert response.status_code == 200
    assert "“circle” is not a visibility posts can have here" in html.unescape(
        response.content.decode()
    )
    assert not SyndicationAccount.objects.exists()


def test_a_network_of_the_sites_own_brings_its_visibilities(admin_client, fake_mastodon, circles):
    account = connect_account(fake_mastodon, network="circles", visibility="circle")
    edit = admin_client.get(account_url("edit", account.pk)).content.decode()
    assert offered(edit, "visibility") == [("public", "Everyone"), ("circle", "My circle")]
    response = admin_client.post(
        account_url("edit", account.pk),
        {"network": "circles", "instance_url": fake_mastodon.base_url, "visibility": "direct"},
    )
    assert response.status_code == 200
    assert "“direct” is not a visibility posts can have here" in html.unescape(
        response.content.decode()
    )
    account.refresh_from_db()
    assert account.visibility == "circle"


def page_edit(client, page) -> str:
    return client.get(reverse("wagtailadmin_pages:edit", args=[page.pk])).content.decode()


def test_the_page_editor_offers_the_visibilities_of_its_accounts_networks(
    admin_client, fake_mastodon, fake_bluesky, circles
):
    page = make_photo_page(image=make_image(), publish=False)
    assert offered(page_edit(admin_client, page), "syndication_visibility") is None  # no account
    connect_bluesky_account(fake_bluesky)
    assert offered(page_edit(admin_client, page), "syndication_visibility") is None  # none there
    connect_account(fake_mastodon)
    default = ("", "The account's default")
    assert offered(page_edit(admin_client, page), "syndication_visibility") == [default, *MASTODON]
    connect_account(fake_mastodon, token="other-token", network="circles")
    choices = offered(page_edit(admin_client, page), "syndication_visibility")
    assert choices == [default, *MASTODON, ("circle", "My circle")]


def test_the_page_form_refuses_a_bogus_visibility(admin_client, fake_mastodon):
    connect_account(fake_mastodon)
    image = make_image()
    page = make_photo_page(image=image, publish=False, syndication_visibility="unlisted")
    data = {
        "title": page.title,
        "slug": page.slug,
        "photo": image.pk,
        "alt_text": page.alt_text,
        "syndicate": "on",
        "syndication_visibility": "friends",
    }
    url = reverse("wagtailadmin_pages:edit", args=[page.pk])
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "“friends” is not a visibility posts can have here" in html.unescape(
        response.content.decode()
    )
    page.refresh_from_db()
    assert page.syndication_visibility == "unlisted"

    response = admin_client.post(url, {**data, "syndication_visibility": ""})
    assert response.status_code == 302
    page.refresh_from_db()
    assert page.syndication_visibility == ""  # each account's own


class PrivateCirclesMastodon(MastodonNetwork):
    """Mastodon's API, declared as a network whose posts only the account sees are
    "private" ones."""

    label = "Private circles"
    visibilities = (("public", "Everyone"), ("private", "Only me"))
    private_visibility = "private"


@pytest.mark.parametrize(
    "backend, posted",
    [("CirclesMastodon", None), ("PrivateCirclesMastodon", "private")],
)
def test_a_test_post_has_the_networks_own_private_visibility_or_is_not_sent(
    admin_client, fake_mastodon, settings, backend, posted
):
    settings.WAGTAIL_SYNDICATE = {
        **settings.WAGTAIL_SYNDICATE,
        "NETWORKS": {"circles": {"BACKEND": f"{__name__}.{backend}"}},
    }
    account = connect_account(fake_mastodon, network="circles", visibility="public")
    url = reverse("wagtail_syndicate_check_post", args=[account.pk])
    question = html.unescape(admin_client.get(url).content.decode())
    response = admin_client.post(url, follow=True)

    assert len(fake_mastodon.media) == 1  # signed in and took the test image either way
    if posted is None:
        assert "Nothing is posted" in question
        assert fake_mastodon.statuses == []
        assert "nothing was posted" in response.content.decode()
    else:
        assert "Its visibility is “Only me”: only the account itself sees it." in question
        (status,) = fake_mastodon.statuses
        assert status.visibility == "private"
