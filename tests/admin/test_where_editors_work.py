"""Editors see where their page's posts stand: editor panel, header menu, dashboard, public page."""

import re

import pytest
from django.template import Context, Template
from django.urls import reverse
from wagtail.test.utils import WagtailTestUtils

from syndicate_fakes import Fault
from tests.utils import connect_account, make_image, make_photo_page, run_tasks
from wagtail_syndicate.models import SyndicationRecord

pytestmark = pytest.mark.django_db


def edit_view(client, page) -> str:
    return client.get(reverse("wagtailadmin_pages:edit", args=[page.pk])).content.decode()


def test_status_panel_shows_a_posted_page_with_its_link(editor, fake_mastodon):
    account = connect_account(fake_mastodon)
    page = make_photo_page(image=make_image())
    run_tasks()
    html = edit_view(editor, page)
    status_url = fake_mastodon.statuses[0].url
    assert 'data-record-state="posted"' in html
    assert f'href="{status_url}" target="_blank" rel="noopener" data-post-link' in html
    assert f"View post on {account.handle}" in html  # the header menu item


def test_status_panel_shows_a_failure_with_reason_and_retry(editor, fake_mastodon):
    connect_account(fake_mastodon)
    fake_mastodon.inject(
        Fault(method="POST", path="/api/v1/statuses", status=422, body={"error": "Nope"})
    )
    page = make_photo_page(image=make_image())
    run_tasks()
    record = SyndicationRecord.objects.get(page=page)
    html = edit_view(editor, page)
    assert 'data-record-state="failed"' in html
    assert "rejected the post (422): Nope" in html
    assert (
        reverse("wagtailsnippets_wagtail_syndicate_syndicationrecord:retry", args=[record.pk])
        in html
    )


def test_dashboard_lists_recent_failures_for_those_who_can_retry(editor, fake_mastodon):
    connect_account(fake_mastodon)
    fake_mastodon.inject(
        Fault(method="POST", path="/api/v1/statuses", status=422, body={"error": "Nope"})
    )
    make_photo_page(image=make_image())
    run_tasks()
    html = editor.get(reverse("wagtailadmin_home")).content.decode()
    assert "Posts that failed" in html
    assert "rejected the post (422): Nope" in html


def test_dashboard_is_quiet_without_failures(editor, fake_mastodon):
    connect_account(fake_mastodon)
    make_photo_page(image=make_image())
    run_tasks()
    assert "Posts that failed" not in editor.get(reverse("wagtailadmin_home")).content.decode()


def test_syndication_links_tag_renders_u_syndication_links(fake_mastodon):
    account = connect_account(fake_mastodon)
    page = make_photo_page(image=make_image())
    run_tasks()
    html = Template("{% load syndication_tags %}{% syndication_links page %}").render(
        Context({"page": page})
    )
    url = fake_mastodon.statuses[0].url
    assert html == f'<a class="u-syndication" rel="syndication" href="{url}">{account}</a>'


def test_syndication_links_tag_renders_nothing_before_posting(fake_mastodon):
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image())
    html = Template("{% load syndication_tags %}{% syndication_links page %}").render(
        Context({"page": page})
    )
    assert html == ""


def test_an_editor_who_may_publish_retries_from_the_editor_and_comes_back(client, fake_mastodon):
    """No permission on social posts is needed: publishing the page is what Retry does."""
    from django.contrib.auth.models import Group, Permission
    from wagtail.models import GroupPagePermission, Page

    connect_account(fake_mastodon)
    fake_mastodon.inject(
        Fault(method="POST", path="/api/v1/statuses", status=422, body={"error": "Nope"})
    )
    page = make_photo_page(image=make_image())
    run_tasks()
    editors = Group.objects.create(name="Photo editors")
    editors.permissions.add(Permission.objects.get(codename="access_admin"))
    for codename in ("add_page", "change_page", "publish_page"):
        GroupPagePermission.objects.create(
            group=editors,
            page=Page.objects.get(depth=1),
            permission_id=Permission.objects.get(codename=codename).pk,
        )
    user = WagtailTestUtils.create_user("photographer", password="pw")
    user.groups.add(editors)
    client.force_login(user)

    html = edit_view(client, page)
    retry = re.search(r'href="([^"]*/retry/[^"]*)"', html).group(1).replace("&amp;", "&")
    response = client.post(retry)
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailadmin_pages:edit", args=[page.pk])
    assert run_tasks() == ["posted"]
    assert 'data-record-state="posted"' in edit_view(client, page)
