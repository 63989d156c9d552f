"""Publishing a page with its toggle on leads to exactly one Mastodon post, whatever the path."""

import socket
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from wagtail.models import PageLogEntry
from wagtail.test.utils import WagtailTestUtils

from tests.testapp.models import PhotoPage
from tests.utils import (
    connect_account,
    make_image,
    make_photo_page,
    publish_page,
    run_tasks,
    schedule_and_come_due,
)
from wagtail_syndicate.models import SyndicationRecord

pytestmark = pytest.mark.django_db


@contextmanager
def no_network():
    """Fail any outgoing connection made inside the block, and report the attempts."""
    attempts = []
    original = socket.socket.connect

    def refuse(sock, address):
        attempts.append(address)
        raise OSError(f"network connection attempted during publish: {address}")

    socket.socket.connect = refuse
    try:
        yield attempts
    finally:
        socket.socket.connect = original


def only_status(fake):
    assert len(fake.statuses) == 1, [s.text for s in fake.statuses]
    return fake.statuses[0]


def test_admin_publish_posts_one_status_with_image_alt_text_and_focus(client, fake_mastodon):
    account = connect_account(fake_mastodon)
    image = make_image(
        640, 480, focal_point_x=480, focal_point_y=120, focal_point_width=40, focal_point_height=40
    )
    page = make_photo_page(image=image, publish=False, syndicate=False)
    client.force_login(WagtailTestUtils.create_superuser("editor", password="pw"))

    with no_network() as attempts:
        response = client.post(
            reverse("wagtailadmin_pages:edit", args=[page.pk]),
            {
                "title": page.title,
                "slug": page.slug,
                "photo": image.pk,
                "alt_text": "A fishing boat leaving the harbour at dawn",
                "syndicate": "on",
                "syndication_text": "",
                "action-publish": "action-publish",
            },
            follow=True,
        )
    assert attempts == []
    assert response.status_code == 200
    assert PhotoPage.objects.get(pk=page.pk).live
    assert f"Sharing to {account.handle}" in response.content.decode()
    assert fake_mastodon.requests == []

    assert run_tasks() == ["posted"]

    status = only_status(fake_mastodon)
    assert status.text == f"Morning boats\n\n{page.get_full_url()}"
    assert len(status.media) == 1
    assert status.media[0].description == "A fishing boat leaving the harbour at dawn"
    assert status.media[0].focus == (0.5, 0.5)
    assert (status.media[0].width, status.media[0].height) == (640, 480)
    record = SyndicationRecord.objects.get(page=page)
    assert record.state == "posted"
    assert record.remote_url == status.url
    assert record.remote_id == status.id
    assert record.attempts == 1


def test_publish_from_code_posts_once(fake_mastodon):
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image())
    run_tasks()
    assert only_status(fake_mastodon).media[0].description == page.alt_text
    assert SyndicationRecord.objects.get(page=page).state == "posted"


def test_scheduled_publish_posts_once_when_it_goes_live(fake_mastodon):
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image(), publish=False)
    schedule_and_come_due(page, timezone.now() - timedelta(minutes=1))

    # Scheduled, not live yet: nothing may be queued.
    assert not PhotoPage.objects.get(pk=page.pk).live
    assert not SyndicationRecord.objects.exists()
    assert run_tasks() == []

    call_command("publish_scheduled")

    assert PhotoPage.objects.get(pk=page.pk).live
    assert run_tasks() == ["posted"]
    assert only_status(fake_mastodon).text.startswith("Morning boats")


def test_toggle_off_queues_nothing(fake_mastodon):
    connect_account(fake_mastodon)
    make_photo_page(image=make_image(), syndicate=False)
    assert run_tasks() == []
    assert not SyndicationRecord.objects.exists()
    assert fake_mastodon.requests == []


def test_republishing_a_posted_page_posts_nothing(fake_mastodon):
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image())
    run_tasks()
    requests_before = len(fake_mastodon.requests)

    publish_page(page)
    publish_page(page)

    assert run_tasks() == []
    assert len(fake_mastodon.statuses) == 1
    assert len(fake_mastodon.requests) == requests_before
    assert SyndicationRecord.objects.count() == 1


def test_custom_text_replaces_the_title_and_keeps_the_link(fake_mastodon):
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image(), syndication_text="Boats! #harbour")
    run_tasks()
    assert only_status(fake_mastodon).text == f"Boats! #harbour\n\n{page.get_full_url()}"


def test_one_post_per_account_and_only_accounts_of_the_site(fake_mastodon):
    from wagtail.models import Site

    connect_account(fake_mastodon)
    connect_account(fake_mastodon, token="other-token", site=Site.objects.get(is_default_site=True))
    disabled = connect_account(fake_mastodon, token="other-token", enabled=False)
    make_photo_page(image=make_image())
    run_tasks()
    assert sorted(s.account for s in fake_mastodon.statuses) == ["alice", "bob"]
    assert not SyndicationRecord.objects.filter(account=disabled).exists()


def test_images_still_processing_are_waited_for(fake_mastodon):
    fake_mastodon.processing_polls = 2
    connect_account(fake_mastodon)
    make_photo_page(image=make_image())
    assert run_tasks() == ["posted"]
    polls = [r for r in fake_mastodon.requests if r.method == "GET" and "/media/" in r.path]
    assert len(polls) == 3
    assert len(only_status(fake_mastodon).media) == 1


def test_page_history_records_queue_and_outcome(fake_mastodon):
    account = connect_account(fake_mastodon)
    page = make_photo_page(image=make_image())
    run_tasks()
    entries = PageLogEntry.objects.filter(page=page, action__startswith="wagtail_syndicate.")
    actions = list(entries.order_by("timestamp", "pk").values_list("action", flat=True))
    assert actions == [
        "wagtail_syndicate.queued",
        "wagtail_syndicate.posting",
        "wagtail_syndicate.posted",
    ]
    posted = entries.get(action="wagtail_syndicate.posted")
    assert posted.message == f"Shared to {account}: {fake_mastodon.statuses[0].url}"


def test_text_only_page_posts_without_media(fake_mastodon):
    from wagtail.models import Page

    from tests.testapp.models import NotePage

    connect_account(fake_mastodon)
    note = NotePage(title="Short note", syndicate=True)
    Page.objects.get(depth=2).add_child(instance=note)
    publish_page(note)
    run_tasks()
    assert only_status(fake_mastodon).media == []


def test_workflow_approval_posts_once(fake_mastodon):
    from django.contrib.auth.models import Group
    from wagtail.models import GroupApprovalTask, Workflow, WorkflowPage, WorkflowTask

    connect_account(fake_mastodon)
    moderators, _ = Group.objects.get_or_create(name="Moderators")
    moderator = WagtailTestUtils.create_superuser("moderator", password="pw")
    moderator.groups.add(moderators)
    editor = WagtailTestUtils.create_user("writer", password="pw")
    workflow = Workflow.objects.create(name="Moderation")
    task = GroupApprovalTask.objects.create(name="Approve")
    task.groups.add(moderators)
    WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
    page = make_photo_page(image=make_image(), publish=False)
    WorkflowPage.objects.create(workflow=workflow, page=page.get_parent())

    page = PhotoPage.objects.get(pk=page.pk)
    page.save_revision(user=editor)
    workflow_state = workflow.start(page, editor)
    assert not PhotoPage.objects.get(pk=page.pk).live
    assert not SyndicationRecord.objects.exists()

    workflow_state.current_task_state.approve(user=moderator)

    assert PhotoPage.objects.get(pk=page.pk).live
    assert run_tasks() == ["posted"]
    assert len(fake_mastodon.statuses) == 1


def test_bulk_publish_in_the_admin_posts_each_page_once(client, fake_mastodon):
    connect_account(fake_mastodon)
    pages = [make_photo_page(image=make_image(), title=f"Boat {n}", publish=False) for n in (1, 2)]
    for page in pages:
        PhotoPage.objects.get(pk=page.pk).save_revision()
    client.force_login(WagtailTestUtils.create_superuser("editor", password="pw"))
    url = reverse("wagtail_bulk_action", args=["wagtailcore", "page", "publish"])
    query = "&".join(f"id={page.pk}" for page in pages)
    with no_network() as attempts:
        response = client.post(f"{url}?{query}", {"include_descendants": ""})
    assert response.status_code == 302
    assert attempts == []
    assert sorted(run_tasks()) == ["posted", "posted"]
    assert sorted(s.text.split("\n")[0] for s in fake_mastodon.statuses) == ["Boat 1", "Boat 2"]


def test_scheduling_in_the_admin_says_when_it_will_be_shared(client, fake_mastodon):
    connect_account(fake_mastodon)
    image = make_image()
    page = make_photo_page(image=image, publish=False)
    client.force_login(WagtailTestUtils.create_superuser("editor", password="pw"))
    go_live_at = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    response = client.post(
        reverse("wagtailadmin_pages:edit", args=[page.pk]),
        {
            "title": page.title,
            "slug": page.slug,
            "photo": image.pk,
            "alt_text": page.alt_text,
            "syndicate": "on",
            "go_live_at": go_live_at,
            "action-publish": "action-publish",
        },
        follow=True,
    )
    assert "will be shared when it goes live" in response.content.decode()
    assert not SyndicationRecord.objects.exists()
    assert run_tasks() == []
