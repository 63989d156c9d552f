"""``manage.py syndicate``: backfill old pages, dry runs, pacing, and running it again."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from syndicate_fakes import Fault
from tests.utils import connect_account, make_image, make_photo_page
from wagtail_syndicate.models import SyndicationAccount, SyndicationRecord
from wagtail_syndicate.pipeline.backfill import UploadPacer

pytestmark = pytest.mark.django_db


def syndicate(*args):
    out = io.StringIO()
    try:
        call_command("syndicate", *args, stdout=out, stderr=io.StringIO())
    except SystemExit as exit:
        return out.getvalue(), exit.code
    return out.getvalue(), 0


@pytest.fixture
def old_pages():
    """Three pages published before any account was connected, and one not set to share."""
    pages = [make_photo_page(image=make_image(), title=f"Old photo {n}") for n in (1, 2, 3)]
    make_photo_page(image=make_image(), title="Not shared", syndicate=False)
    return pages


def test_all_live_shares_every_page_set_to_share_once(fake_mastodon, old_pages):
    assert not SyndicationRecord.objects.exists()
    connect_account(fake_mastodon)
    out, code = syndicate("--all-live")
    assert code == 0
    assert out.strip().endswith("3 posted, 0 skipped, 0 failed.")
    assert sorted(s.text.split("\n")[0] for s in fake_mastodon.statuses) == [
        "Old photo 1",
        "Old photo 2",
        "Old photo 3",
    ]


def test_running_it_again_posts_nothing(fake_mastodon, old_pages):
    connect_account(fake_mastodon)
    syndicate("--page", str(old_pages[0].pk))  # interrupted after the first page, say
    out, code = syndicate("--all-live")
    assert out.strip().endswith("2 posted, 1 skipped, 0 failed.")
    before = len(fake_mastodon.requests)
    out, code = syndicate("--all-live")
    assert out.strip().endswith("0 posted, 3 skipped, 0 failed.")
    assert len(fake_mastodon.statuses) == 3
    assert len(fake_mastodon.requests) == before, "an unchanged page costs no request"


def test_dry_run_prints_exactly_what_would_be_posted_and_posts_nothing(fake_mastodon, old_pages):
    connect_account(fake_mastodon)
    out, code = syndicate("--all-live", "--dry-run")
    assert code == 0
    assert "would post, visibility public" in out
    assert f"   | Old photo 1\n   | \n   | {old_pages[0].get_full_url()}" in out
    assert f"alt text: {old_pages[0].alt_text}" in out
    assert out.strip().endswith("Dry run: nothing was posted.")
    assert fake_mastodon.statuses == []
    assert not SyndicationRecord.objects.exists()


def test_page_account_and_since_narrow_it_down(fake_mastodon, old_pages):
    alice = connect_account(fake_mastodon)
    connect_account(fake_mastodon, token="other-token")
    out, _ = syndicate("--page", str(old_pages[1].pk), "--account", str(alice.pk))
    assert out.strip().endswith("1 posted, 0 skipped, 0 failed.")
    assert [(s.account, s.text.split("\n")[0]) for s in fake_mastodon.statuses] == [
        ("alice", "Old photo 2")
    ]
    future = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    out, _ = syndicate("--all-live", "--since", future)
    assert out.strip().endswith("0 posted, 0 skipped, 0 failed.")


def test_a_rate_limit_is_waited_out_not_failed(fake_mastodon, old_pages):
    connect_account(fake_mastodon)
    reset = datetime.now(UTC) + timedelta(seconds=1)
    fake_mastodon.inject(
        Fault(
            method="POST",
            path="/api/v2/media",
            status=429,
            headers={"X-RateLimit-Reset": reset.isoformat().replace("+00:00", "Z")},
        )
    )
    out, code = syndicate("--all-live")
    assert code == 0
    assert out.strip().endswith("3 posted, 0 skipped, 0 failed.")
    assert datetime.now(UTC) >= reset


def test_failures_are_counted_and_the_exit_code_says_so(fake_mastodon, old_pages):
    connect_account(fake_mastodon, token="revoked-token")
    out, code = syndicate("--all-live")
    assert code == 1
    assert out.strip().endswith("0 posted, 0 skipped, 3 failed.")
    assert "refused the access token (401)" in out


def fake_clock_pacer():
    now = [0.0]
    return UploadPacer(sleep=lambda s: now.__setitem__(0, now[0] + s), clock=lambda: now[0])


def test_the_pacer_keeps_uploads_within_the_limit(settings):
    settings.WAGTAIL_SYNDICATE = {"MEDIA_UPLOAD_LIMIT": 3, "MEDIA_UPLOAD_WINDOW": 10.0}
    pacer = fake_clock_pacer()
    one, two = SyndicationAccount(pk=1), SyndicationAccount(pk=2)
    waits = [pacer.wait_for(one, 1) for _ in range(7)]
    assert waits == [0, 0, 0, 10.0, 0, 0, 10.0]
    assert pacer.wait_for(two, 3) == 0, "each account has its own budget"


def test_the_pacer_keeps_to_each_networks_own_rate():
    pacer = fake_clock_pacer()
    mastodon = SyndicationAccount(pk=1, network="mastodon")
    waits = [pacer.wait_for(mastodon, 1) for _ in range(31)]
    assert waits == [0] * 30 + [1800.0], "Mastodon: 30 uploads per 30 minutes"


def test_nothing_to_do_is_an_error():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Say what to share"):
        call_command("syndicate")
