"""A removed account's records stay, with their posts; the same account connected again takes
them back, so a page is never posted twice."""

import pytest
from django.template import Context, Template
from django.urls import reverse

from tests.utils import (
    accounts_command,
    connect_account,
    make_image,
    make_photo_page,
    publish_page,
    run_tasks,
)
from wagtail_syndicate.models import SyndicationAccount, SyndicationRecord
from wagtail_syndicate.pipeline.tasks import share

pytestmark = pytest.mark.django_db

ACCOUNTS = "wagtailsnippets_wagtail_syndicate_syndicationaccount"
RECORDS = "wagtailsnippets_wagtail_syndicate_syndicationrecord"


def add_with_command(fake, token="good-token"):
    out = accounts_command("add", "--instance", fake.base_url, "--token-stdin", stdin=token + "\n")
    return SyndicationAccount.objects.get(handle=f"@{fake.tokens[token]}@{fake.host}"), out


def creates(fake, since=0):
    requests = fake.requests[since:]
    return [r for r in requests if r.method == "POST" and r.path == "/api/v1/statuses"]


def edits(fake, since=0):
    requests = fake.requests[since:]
    return [r for r in requests if r.method == "PUT" and r.path.startswith("/api/v1/statuses/")]


def shared_page(fake):
    account = connect_account(fake)
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["posted"]
    record = SyndicationRecord.objects.get(page=page)
    return account, page, record


def test_removing_with_the_command_keeps_the_records_and_adding_again_posts_nothing(
    fake_mastodon,
):
    account, page, record = shared_page(fake_mastodon)
    url, remote_id = record.remote_url, record.remote_id

    removed = accounts_command("remove", str(account.pk))
    assert "Kept the records of its 1 posts" in removed
    kept = SyndicationRecord.objects.get(pk=record.pk)
    assert kept.account is None
    assert (kept.remote_url, kept.remote_id, kept.state) == (url, remote_id, "posted")
    assert kept.account_name() == f"@alice@{fake_mastodon.host} on Mastodon (removed)"

    again, out = add_with_command(fake_mastodon)
    assert "Took back 1 posts" in out
    assert SyndicationRecord.objects.get(pk=record.pk).account == again

    since = len(fake_mastodon.requests)
    publish_page(page)  # unchanged
    run_tasks()
    assert creates(fake_mastodon, since) == [] and edits(fake_mastodon, since) == []
    assert len(fake_mastodon.statuses) == 1
    assert SyndicationRecord.objects.get().pk == record.pk
    assert SyndicationRecord.objects.get().state == "posted"


def test_removed_in_the_admin_then_a_changed_page_edits_the_same_status(
    admin_client, fake_mastodon
):
    account, page, record = shared_page(fake_mastodon)
    confirm = admin_client.get(reverse(f"{ACCOUNTS}:delete", args=[account.pk])).content.decode()
    assert "Its posts stay on the network and their records stay here" in confirm

    admin_client.post(reverse(f"{ACCOUNTS}:delete", args=[account.pk]), follow=True)
    assert not SyndicationAccount.objects.exists()
    assert SyndicationRecord.objects.get().remote_url == record.remote_url

    # With the account gone, every place that shows records still works.
    listing = admin_client.get(reverse(f"{RECORDS}:list")).content.decode()
    assert f"@alice@{fake_mastodon.host} on Mastodon (removed)" in listing
    inspect = admin_client.get(reverse(f"{RECORDS}:inspect", args=[record.pk]))
    assert inspect.status_code == 200
    assert f"@alice@{fake_mastodon.host} on Mastodon (removed)" in inspect.content.decode()
    editor = admin_client.get(reverse("wagtailadmin_pages:edit", args=[page.pk]))
    assert editor.status_code == 200
    links = Template("{% load syndication_tags %}{% syndication_links page %}").render(
        Context({"page": page})
    )
    # Readers of the page see who posted it, not the admin's "(removed)".
    assert record.remote_url in links and f"@alice@{fake_mastodon.host} on Mastodon<" in links
    assert "(removed)" not in links

    again, _ = add_with_command(fake_mastodon)
    since = len(fake_mastodon.requests)
    publish_page(page, title="Evening boats")
    assert run_tasks() == ["posted"]
    assert creates(fake_mastodon, since) == []
    assert len(edits(fake_mastodon, since)) == 1
    (status,) = fake_mastodon.statuses
    assert status.text.startswith("Evening boats")
    assert SyndicationRecord.objects.get().account == again


def test_another_account_on_the_same_server_does_not_take_them(fake_mastodon):
    account, page, record = shared_page(fake_mastodon)
    accounts_command("remove", str(account.pk))

    bob, out = add_with_command(fake_mastodon, token="other-token")
    assert "Took back" not in out
    assert SyndicationRecord.objects.get(pk=record.pk).account is None

    publish_page(page)
    assert run_tasks() == ["posted"]
    # Bob's is a post of its own; Alice's record stays as it was.
    assert len(fake_mastodon.statuses) == 2
    assert SyndicationRecord.objects.get(account=bob).remote_id != record.remote_id
    assert SyndicationRecord.objects.get(pk=record.pk).account is None


def test_a_queued_record_whose_account_is_gone_fails_with_words(fake_mastodon):
    account, page, record = shared_page(fake_mastodon)
    SyndicationRecord.objects.queue(record.pk)
    record.refresh_from_db()
    account.delete()

    share(record.pk, record.generation)
    record.refresh_from_db()
    assert record.state == "failed"
    assert record.last_error.startswith("The account was removed.")
    assert record.remote_url  # the post it still shows


def test_the_same_account_pasted_again_in_the_admin_takes_them_back(admin_client, fake_mastodon):
    account, page, record = shared_page(fake_mastodon)
    admin_client.post(reverse(f"{ACCOUNTS}:delete", args=[account.pk]))
    response = admin_client.post(
        reverse(f"{ACCOUNTS}:add"),
        {
            "network": "mastodon",
            "instance_url": fake_mastodon.base_url,
            "access_token": "good-token",
            "enabled": "on",
            "visibility": "public",
        },
    )
    assert response.status_code == 302
    assert SyndicationRecord.objects.get(pk=record.pk).account == SyndicationAccount.objects.get()
