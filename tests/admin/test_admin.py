"""What editors and administrators see in the Wagtail admin."""

import pytest
from django.urls import reverse

from syndicate_fakes import Fault
from tests.utils import (
    connect_account,
    log_in_as_editor,
    make_image,
    make_photo_page,
    run_tasks,
)
from wagtail_syndicate.models import SyndicationAccount, SyndicationRecord

pytestmark = pytest.mark.django_db


def failed_post(fake):
    connect_account(fake)
    fake.inject(
        Fault(
            method="POST",
            path="/api/v1/statuses",
            status=422,
            body={"error": "Down for maintenance"},
        )
    )
    page = make_photo_page(image=make_image())
    run_tasks()
    return SyndicationRecord.objects.get(page=page)


def test_records_list_shows_reason_link_and_retry(admin_client, fake_mastodon):
    record = failed_post(fake_mastodon)
    posted_page = make_photo_page(image=make_image(), title="Evening boats")
    run_tasks()
    posted = SyndicationRecord.objects.get(page=posted_page)

    html = admin_client.get(
        reverse("wagtailsnippets_wagtail_syndicate_syndicationrecord:list")
    ).content.decode()
    assert "Down for maintenance" in html
    assert f'href="{posted.remote_url}"' in html
    retry_url = reverse(
        "wagtailsnippets_wagtail_syndicate_syndicationrecord:retry", args=[record.pk]
    )
    assert retry_url in html
    assert (
        reverse("wagtailsnippets_wagtail_syndicate_syndicationrecord:retry", args=[posted.pk])
        not in html
    )


def test_records_list_filters_by_state_and_searches(admin_client, fake_mastodon):
    failed_post(fake_mastodon)
    make_photo_page(image=make_image(), title="Evening boats")
    run_tasks()
    url = reverse("wagtailsnippets_wagtail_syndicate_syndicationrecord:list")
    failed_only = admin_client.get(url, {"state": "failed"}).content.decode()
    assert "Morning boats" in failed_only and "Evening boats" not in failed_only
    found = admin_client.get(url, {"q": "Evening"}).content.decode()
    assert "Evening boats" in found and "Morning boats" not in found


def test_retry_posts_a_failed_record(admin_client, fake_mastodon):
    record = failed_post(fake_mastodon)
    retry_url = reverse(
        "wagtailsnippets_wagtail_syndicate_syndicationrecord:retry", args=[record.pk]
    )

    confirm = admin_client.get(retry_url)
    assert "Down for maintenance" in confirm.content.decode()
    response = admin_client.post(retry_url, follow=True)
    assert "queued again" in response.content.decode()
    assert run_tasks() == ["posted"]

    record.refresh_from_db()
    assert record.state == "posted" and record.attempts == 1  # attempts at the latest publish
    assert len(fake_mastodon.statuses) == 1
    inspect = admin_client.get(
        reverse("wagtailsnippets_wagtail_syndicate_syndicationrecord:inspect", args=[record.pk])
    ).content.decode()
    assert record.remote_url in inspect


def test_records_are_read_only(admin_client, fake_mastodon):
    record = failed_post(fake_mastodon)
    ns = "wagtailsnippets_wagtail_syndicate_syndicationrecord"
    assert admin_client.get(reverse(f"{ns}:add")).status_code in (302, 403)
    assert admin_client.get(reverse(f"{ns}:edit", args=[record.pk])).status_code in (302, 403)


def record_reader(client, *, can_publish: bool):
    """A user who may see social posts, and may or may not publish pages."""
    pages = ["change_page", "publish_page"] if can_publish else ["change_page"]
    return log_in_as_editor(client, "view_syndicationrecord", page_permissions=pages, name="reader")


def test_retry_needs_permission_to_publish_the_page(client, fake_mastodon):
    record = failed_post(fake_mastodon)
    record_reader(client, can_publish=False)
    ns = "wagtailsnippets_wagtail_syndicate_syndicationrecord"
    listing = client.get(reverse(f"{ns}:list"))
    assert listing.status_code == 200
    retry_url = reverse(f"{ns}:retry", args=[record.pk])
    assert retry_url not in listing.content.decode()
    # Wagtail answers a permission denial in the admin by redirecting to the dashboard.
    assert client.post(retry_url).status_code in (302, 403)
    assert client.get(retry_url).status_code in (302, 403)
    record.refresh_from_db()
    assert record.state == "failed"


def test_a_publisher_may_retry(client, fake_mastodon):
    record = failed_post(fake_mastodon)
    record_reader(client, can_publish=True)
    ns = "wagtailsnippets_wagtail_syndicate_syndicationrecord"
    retry_url = reverse(f"{ns}:retry", args=[record.pk])
    assert retry_url in client.get(reverse(f"{ns}:list")).content.decode()
    client.post(retry_url)
    record.refresh_from_db()
    assert record.state == "queued"


def test_connecting_an_account_checks_the_token_and_fills_the_handle(admin_client, fake_mastodon):
    url = reverse("wagtailsnippets_wagtail_syndicate_syndicationaccount:add")
    response = admin_client.post(
        url,
        {
            "network": "mastodon",
            "instance_url": fake_mastodon.base_url,
            "access_token": "good-token",
            "enabled": "on",
            "visibility": "public",
        },
    )
    assert response.status_code == 302
    account = SyndicationAccount.objects.get()
    assert account.handle == f"@alice@{fake_mastodon.host}"
    assert account.access_token == "good-token"
    assert "good-token" not in account.encrypted_token

    edit = admin_client.get(
        reverse("wagtailsnippets_wagtail_syndicate_syndicationaccount:edit", args=[account.pk])
    ).content.decode()
    listing = admin_client.get(
        reverse("wagtailsnippets_wagtail_syndicate_syndicationaccount:list")
    ).content.decode()
    for html in (edit, listing):
        assert "good-token" not in html
        assert account.encrypted_token not in html


def test_a_refused_token_is_a_clear_form_error(admin_client, fake_mastodon):
    url = reverse("wagtailsnippets_wagtail_syndicate_syndicationaccount:add")
    response = admin_client.post(
        url,
        {
            "network": "mastodon",
            "instance_url": fake_mastodon.base_url,
            "access_token": "wrong-token",
            "enabled": "on",
            "visibility": "public",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "The access token is invalid" in html
    assert "wrong-token" not in html
    assert not SyndicationAccount.objects.exists()


def test_editing_an_account_without_a_token_keeps_the_token(admin_client, fake_mastodon):
    account = connect_account(fake_mastodon)
    url = reverse("wagtailsnippets_wagtail_syndicate_syndicationaccount:edit", args=[account.pk])
    response = admin_client.post(
        url,
        {
            "network": "mastodon",
            "instance_url": fake_mastodon.base_url,
            "access_token": "",
            "visibility": "unlisted",
        },
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.access_token == "good-token"
    assert account.enabled is False
    assert account.visibility == "unlisted"


def test_http_instances_are_refused_unless_allowed(admin_client, fake_mastodon, settings):
    settings.WAGTAIL_SYNDICATE = {"ALLOW_INSECURE_INSTANCES": False}
    url = reverse("wagtailsnippets_wagtail_syndicate_syndicationaccount:add")
    response = admin_client.post(
        url,
        {
            "network": "mastodon",
            "instance_url": fake_mastodon.base_url,
            "access_token": "good-token",
            "enabled": "on",
            "visibility": "public",
        },
    )
    assert "does not use https" in response.content.decode()
    assert fake_mastodon.requests == []


def test_editor_is_told_when_a_post_will_be_updated(admin_client, fake_mastodon):
    account = connect_account(fake_mastodon)
    image = make_image()
    page = make_photo_page(image=image)
    run_tasks()
    response = admin_client.post(
        reverse("wagtailadmin_pages:edit", args=[page.pk]),
        {
            "title": "Evening boats",
            "slug": page.slug,
            "photo": image.pk,
            "alt_text": page.alt_text,
            "syndicate": "on",
            "action-publish": "action-publish",
        },
        follow=True,
    )
    assert f"Updating the post on {account.handle}" in response.content.decode()
    assert run_tasks() == ["posted"]
    assert fake_mastodon.statuses[0].text.startswith("Evening boats")


def test_send_a_test_post_proves_the_whole_path(admin_client, fake_mastodon):
    account = connect_account(fake_mastodon)
    url = reverse("wagtail_syndicate_check_post", args=[account.pk])
    listing = admin_client.get(
        reverse("wagtailsnippets_wagtail_syndicate_syndicationaccount:list")
    ).content.decode()
    assert url in listing
    assert "only the account itself sees it" in admin_client.get(url).content.decode()

    response = admin_client.post(url, follow=True)
    (status,) = fake_mastodon.statuses
    assert status.visibility == "direct"
    assert len(status.media) == 1 and status.media[0].description.startswith("A white frame")
    html = response.content.decode()
    assert f"Test post sent to {account.handle}" in html
    assert status.url in html


def test_a_failed_test_post_says_why(admin_client, fake_mastodon):
    account = connect_account(fake_mastodon, token="revoked-token")
    response = admin_client.post(
        reverse("wagtail_syndicate_check_post", args=[account.pk]), follow=True
    )
    html = response.content.decode()
    assert "The test post to" in html and "refused the access token (401)" in html
    assert fake_mastodon.statuses == []


def test_a_test_post_needs_permission_to_change_accounts(client, fake_mastodon):
    account = connect_account(fake_mastodon)
    record_reader(client, can_publish=True)
    response = client.post(reverse("wagtail_syndicate_check_post", args=[account.pk]))
    assert response.status_code in (302, 403)
    assert fake_mastodon.statuses == []


def test_a_network_without_a_usual_server_needs_its_address(admin_client):
    response = admin_client.post(
        reverse("wagtailsnippets_wagtail_syndicate_syndicationaccount:add"),
        {"network": "mastodon", "instance_url": "", "access_token": "good-token"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["instance_url"] == ["Enter the address of the server."]
    assert not SyndicationAccount.objects.exists()


def test_checking_a_bluesky_account_posts_nothing(admin_client, fake_bluesky):
    from tests.utils import connect_bluesky_account

    account = connect_bluesky_account(fake_bluesky)
    url = reverse("wagtail_syndicate_check_post", args=[account.pk])
    listing = admin_client.get(
        reverse("wagtailsnippets_wagtail_syndicate_syndicationaccount:list")
    ).content.decode()
    assert "Check the account" in listing
    assert (
        "Nothing is posted: Bluesky has no posts that only the account itself sees."
        in admin_client.get(url).content.decode()
    )

    response = admin_client.post(url, follow=True)

    assert fake_bluesky.posts == []
    assert len(fake_bluesky.blobs) == 1  # the test image was taken
    assert "signed in and took the test image; nothing was posted" in response.content.decode()


def test_a_confirmation_page_names_where_it_is(admin_client, fake_mastodon):
    account = connect_account(fake_mastodon)
    html = admin_client.get(reverse("wagtail_syndicate_check_post", args=[account.pk])).content
    breadcrumbs = html.decode().split("data-w-breadcrumbs", 1)[1].split("</nav>", 1)[0]
    assert "Social accounts" in breadcrumbs and account.handle in breadcrumbs
    assert "Send a test post" in breadcrumbs
