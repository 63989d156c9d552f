"""The publish writes an intent; the worker fans it out. What an editor and a remote server see
does not change: one post per (page, account), the newest revision wins, a fan-out run twice
or lost is posted once, and the editor is told at once what is being shared."""

import os
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.testapp.models import PhotoPage
from tests.utils import (
    connect_account,
    edit_page,
    make_image,
    make_photo_page,
    publish_page,
    run_tasks,
)
from wagtail_syndicate.compat import task_backends
from wagtail_syndicate.content import posts
from wagtail_syndicate.models import SyndicationIntent, SyndicationRecord
from wagtail_syndicate.pipeline.outbox import fan_out_task as fan_out

pytestmark = pytest.mark.django_db

PUBLISH = {"action-publish": "action-publish"}


def fan_outs():
    """The queued fan-out tasks' intents."""
    return [r.args[0] for r in task_backends["default"].results if r.task.func is fan_out.func]


def test_a_fan_out_run_twice_posts_once(fake_mastodon, pending_fan_out):
    connect_account(fake_mastodon)
    connect_account(fake_mastodon, token="other-token")
    page = make_photo_page(image=make_image())
    (intent_id,) = fan_outs()
    assert not SyndicationRecord.objects.exists()

    assert fan_out.call(intent_id) == "fanned out"  # a redelivery of the task, first
    assert fan_out.call(intent_id) == "skipped"
    assert run_tasks() == ["posted", "posted"]  # the queued fan-out is skipped too
    assert len(fake_mastodon.statuses) == 2
    assert SyndicationRecord.objects.filter(page=page, generation=1).count() == 2


def test_a_lost_fan_out_is_recovered_by_retry_due(fake_mastodon, pending_fan_out):
    """The worker died before the fan-out committed (or the task was lost): the intent is still
    pending, and cron's ``syndicate --retry-due`` fans it out once it is older than a lease."""
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image())
    task_backends["default"].clear()  # the task is gone
    call_command("syndicate", "--retry-due", stdout=open(os.devnull, "w"))
    assert not SyndicationRecord.objects.exists()  # not yet: a worker may still hold it

    SyndicationIntent.objects.update(
        created_at=SyndicationIntent.objects.get().created_at - timedelta(hours=1)
    )
    call_command("syndicate", "--retry-due", stdout=open(os.devnull, "w"))
    assert run_tasks() == ["posted"]
    assert SyndicationRecord.objects.get(page=page).state == "posted"
    assert len(fake_mastodon.statuses) == 1
    assert not SyndicationIntent.objects.pending().exists()


def test_the_newest_revision_wins_over_an_older_intent(fake_mastodon, pending_fan_out):
    connect_account(fake_mastodon)
    page = make_photo_page(image=make_image())
    publish_page(page, title="Morning boats, second edition")
    older, newer = fan_outs()
    assert fan_out.call(older) == "superseded"
    assert run_tasks() == ["posted"]
    (status,) = fake_mastodon.statuses
    assert status.text.startswith("Morning boats, second edition")


def test_the_editor_is_told_at_once_and_the_panel_shows_the_pending_accounts(
    editor,
    fake_mastodon,
    pending_fan_out,
    monkeypatch,
):
    account = connect_account(fake_mastodon)
    page = make_photo_page(image=make_image(), publish=False)
    planned = []
    original = posts._plan_post  # what plan_post runs, wherever it is imported

    def plan_post(page, account, limits):
        planned.append(account.pk)
        return original(page, account, limits)

    monkeypatch.setattr(posts, "_plan_post", plan_post)
    response = edit_page(editor, page, page.photo, **PUBLISH)
    assert response.status_code == 302
    assert planned == [account.pk]  # the form's check, once; the message reuses it
    assert not SyndicationRecord.objects.exists()  # the worker has not fanned it out

    panel = editor.get(reverse("wagtail_syndicate_page_status", args=[page.pk]))
    content = panel.content.decode()
    assert f"pending-{account.pk}" in content and "Queued" in content
    assert PhotoPage.objects.get(pk=page.pk).live
    messages = [str(m).strip() for m in response.wsgi_request._messages]
    assert f"Sharing to {account}" in messages

    assert run_tasks() == ["posted"]
    content = editor.get(reverse("wagtail_syndicate_page_status", args=[page.pk])).content
    assert b"pending-" not in content and b"Posted" in content


def test_the_history_of_a_fan_out_is_the_publishing_editors(
    editor,
    fake_mastodon,
    pending_fan_out,
):
    """The worker writes the "Queued for sharing" entry, as the editor who published, in the
    publish's group of entries."""
    from wagtail.models import PageLogEntry

    account = connect_account(fake_mastodon)
    page = make_photo_page(image=make_image(), publish=False)
    assert edit_page(editor, page, page.photo, **PUBLISH).status_code == 302
    assert not PageLogEntry.objects.filter(action="wagtail_syndicate.queued").exists()

    assert run_tasks() == ["posted"]  # the worker, outside the editor's request

    published = PageLogEntry.objects.get(page=page, action="wagtail.publish")
    queued = PageLogEntry.objects.get(page=page, action="wagtail_syndicate.queued")
    assert queued.user_id == published.user_id is not None
    assert queued.uuid == published.uuid
    assert queued.data["account"] == str(account)
