"""Records and accounts are snippets, but only users with a permission on records (or on
accounts) see them: Wagtail's snippet choosers (which list page titles and handles), the
Snippets index and the Reports and Settings menus; admin access alone shows none of them."""

import re

import pytest
from django.urls import reverse

from tests.utils import connect_account, log_in_as_editor, make_image, make_photo_page, run_tasks
from wagtail_syndicate.models import SyndicationRecord

pytestmark = pytest.mark.django_db

TITLE = "Secret harbour plans"


@pytest.fixture
def shared(fake_mastodon):
    """An account and a page shared to it: one record, one account for the choosers."""
    account = connect_account(fake_mastodon)
    make_photo_page(image=make_image(), title=TITLE)
    run_tasks()
    return SyndicationRecord.objects.get(), account


def chooser_urls(model_name, pk):
    ns = f"wagtailsnippetchoosers_wagtail_syndicate_{model_name}"
    return [
        reverse(f"{ns}:choose"),
        reverse(f"{ns}:choose_results"),
        reverse(f"{ns}:chosen", args=[pk]),
        reverse(f"{ns}:chosen_multiple") + f"?id={pk}",
    ]


def test_admin_access_alone_does_not_open_the_choosers(client, shared):
    record, account = shared
    log_in_as_editor(client, page_permissions=["change_page", "publish_page"])
    urls = chooser_urls("syndicationrecord", record.pk) + chooser_urls(
        "syndicationaccount", account.pk
    )
    for url in urls:
        response = client.get(url)
        assert response.status_code in (302, 403), url
        html = response.content.decode()
        assert TITLE not in html and account.handle not in html, url


@pytest.mark.parametrize(
    ("codename", "model_name", "shown"),
    [
        ("view_syndicationrecord", "syndicationrecord", TITLE),
        ("view_syndicationaccount", "syndicationaccount", "@alice@"),
        ("change_syndicationaccount", "syndicationaccount", "@alice@"),
    ],
)
def test_a_permission_on_the_model_opens_its_chooser(client, shared, codename, model_name, shown):
    record, account = shared
    log_in_as_editor(client, codename)
    pk = record.pk if model_name == "syndicationrecord" else account.pk
    for url in chooser_urls(model_name, pk):
        response = client.get(url)
        assert response.status_code == 200, url
    assert shown in client.get(chooser_urls(model_name, pk)[0]).content.decode()
    # and the other model's chooser stays closed
    other = "syndicationaccount" if model_name == "syndicationrecord" else "syndicationrecord"
    assert client.get(chooser_urls(other, 1)[0]).status_code in (302, 403)


LISTINGS = {
    "Social posts": "wagtailsnippets_wagtail_syndicate_syndicationrecord:list",
    "Social accounts": "wagtailsnippets_wagtail_syndicate_syndicationaccount:list",
}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("codenames", "shown"),
    [
        ([], set()),
        (["view_syndicationrecord"], {"Social posts"}),
        (["change_syndicationaccount"], {"Social accounts"}),
        (["view_syndicationrecord", "view_syndicationaccount"], set(LISTINGS)),
    ],
)
def test_the_snippets_index_and_the_menus_show_only_what_the_user_may_open(
    client, codenames, shown
):
    log_in_as_editor(client, *codenames, page_permissions=["change_page", "publish_page"])

    index = client.get(reverse("wagtailsnippets:index"))
    if not shown:  # no snippet the user may see: Wagtail refuses its index
        assert index.status_code == 302
    html = index.content.decode()
    listed = {label for label, name in LISTINGS.items() if f'href="{reverse(name)}"' in html}
    assert listed == shown

    home = client.get(reverse("wagtailadmin_home")).content.decode()
    in_menus = set(re.findall(r'"label": "(Social [a-z]+)"', home))
    assert in_menus == shown
    for label, name in LISTINGS.items():
        assert client.get(reverse(name)).status_code == (200 if label in shown else 302)
