"""The one network interface: the task, the fitter and the editor use only what a network
declares (can it edit, how it counts text, its limits), and a page may choose its accounts."""

import re

import pytest
from django.urls import reverse
from wagtail.test.utils import WagtailTestUtils

from tests.testapp.models import PhotoPage
from tests.testapp.networks import UneditableMastodon
from tests.utils import connect_account, make_image, make_photo_page, publish_page, run_tasks
from wagtail_syndicate.content.fitting import fit_text
from wagtail_syndicate.exceptions import ContentError
from wagtail_syndicate.models import SyndicationAccount, SyndicationRecord
from wagtail_syndicate.networks import registry
from wagtail_syndicate.networks.limits import Limits
from wagtail_syndicate.pipeline.limits_cache import limits_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def uneditable(settings):
    """A network of the site's own, named in the setting: no migration, no code of the
    plugin's changed."""
    settings.WAGTAIL_SYNDICATE = {
        **settings.WAGTAIL_SYNDICATE,
        "NETWORKS": {"uneditable": {"BACKEND": "tests.testapp.networks.UneditableMastodon"}},
    }


def test_a_changed_page_leaves_a_post_that_cannot_be_edited_and_the_record_says_why(
    fake_mastodon, uneditable
):
    connect_account(fake_mastodon, network="uneditable")
    page = make_photo_page(image=make_image())
    assert run_tasks() == ["posted"]
    requests_before = len(fake_mastodon.requests)

    publish_page(page, title="Morning boats, renamed")
    assert run_tasks() == ["posted"]

    assert len(fake_mastodon.requests) == requests_before  # no edit, no new post
    (status,) = fake_mastodon.statuses
    assert status.text.startswith("Morning boats\n") and status.edits == []
    record = SyndicationRecord.objects.get()
    assert record.state == "posted"
    assert "Stone tablets posts cannot be edited" in record.notice
    assert record.last_error == ""


def test_the_admin_offers_and_filters_by_the_configured_networks(client, fake_mastodon, uneditable):
    client.force_login(WagtailTestUtils.create_superuser("admin"))
    accounts = "wagtailsnippets_wagtail_syndicate_syndicationaccount"
    form = client.get(reverse(f"{accounts}:add")).content.decode()
    assert re.search(r'<option value="uneditable"[^>]*>Stone tablets</option>', form)
    assert re.search(r'<option value="x"[^>]*>X</option>', form)  # the built-in ones stay

    connect_account(fake_mastodon, network="uneditable")
    connect_account(fake_mastodon, token="other-token")
    listed = client.get(reverse(f"{accounts}:list"), {"network": "uneditable"})
    assert [a.network for a in listed.context["object_list"]] == ["uneditable"]


def test_the_editor_sees_the_notice_in_the_page_editor(client, fake_mastodon, uneditable):
    client.force_login(WagtailTestUtils.create_superuser("admin"))
    connect_account(fake_mastodon, network="uneditable")
    page = make_photo_page(image=make_image())
    run_tasks()
    publish_page(page, title="Morning boats, renamed")
    run_tasks()
    html = client.get(reverse("wagtailadmin_pages:edit", args=[page.pk])).content.decode()
    assert "data-record-notice>Stone tablets posts cannot be edited" in html
    # A network of the site's own is named by its label.
    assert re.search(r"<strong>@alice@127\.0\.0\.1:\d+ on Stone tablets</strong>:", html)


def test_the_notice_goes_when_the_page_shows_what_was_posted_again(fake_mastodon, uneditable):
    connect_account(fake_mastodon, network="uneditable")
    page = make_photo_page(image=make_image())
    run_tasks()
    publish_page(page, title="Morning boats, renamed")
    run_tasks()
    assert SyndicationRecord.objects.get().notice

    publish_page(page, title="Morning boats")
    run_tasks()
    assert SyndicationRecord.objects.get().notice == ""


def test_unpublishing_keeps_a_post_the_network_cannot_delete(fake_mastodon, uneditable, settings):
    settings.WAGTAIL_SYNDICATE = {**settings.WAGTAIL_SYNDICATE, "DELETE_ON_UNPUBLISH": True}
    connect_account(fake_mastodon, network="uneditable")
    page = make_photo_page(image=make_image())
    run_tasks()
    page.unpublish()
    run_tasks()
    assert len(fake_mastodon.statuses) == 1
    assert SyndicationRecord.objects.get().state == "posted"


def test_text_is_counted_by_the_networks_rule():
    text = "Café ☕ at dawn https://example.com/" + "a" * 80
    mastodon = Limits(max_characters=500, characters_per_url=23)
    graphemes = Limits(max_characters=300, counting="graphemes")
    weighted = Limits(max_characters=280, characters_per_url=23, counting="weighted")
    assert mastodon.length(text) == len("Café ☕ at dawn ") + 23
    assert graphemes.length(text) == len(text)  # the link as written
    assert weighted.length(text) == len("Café  at dawn ") + 2 + 23  # the emoji weighs 2
    # Only Mastodon counts the content warning with the text.
    assert mastodon.length("x", "CW") == 3 and graphemes.length("x", "CW") == 1


def test_the_fitter_keeps_the_whole_link_under_a_rule_that_counts_it_as_written():
    url = "https://photos.example.com/2026/11/27/morning-boats-at-the-harbour"
    limits = Limits(max_characters=100, counting="graphemes")
    text = fit_text("{title}\n\n{url}", {"title": "Boats " * 40, "url": url}, limits)
    assert text.endswith("\n\n" + url)
    assert limits.length(text) <= 100 and "…" in text


def test_limits_not_yet_read_are_the_networks_own_defaults(fake_mastodon, uneditable):
    account = connect_account(fake_mastodon, network="uneditable")
    assert limits_for(account, fetch=False) == UneditableMastodon.default_limits
    mastodon = connect_account(fake_mastodon)
    assert limits_for(mastodon, fetch=False) == Limits()


def test_an_unknown_network_is_a_clear_configuration_error(fake_mastodon):
    from wagtail_syndicate.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="Unknown network 'myspace'. Known networks: "):
        registry.get_network("myspace")


def test_a_renewed_session_is_kept_encrypted_on_the_account(fake_mastodon):
    account = connect_account(fake_mastodon)
    credentials = account.credentials()
    assert credentials.session == {}
    credentials.save_session({"refresh_token": "refresh-secret-1"})

    stored = SyndicationAccount.objects.get(pk=account.pk)
    assert "refresh-secret-1" not in stored.encrypted_session
    assert stored.credentials().session == {"refresh_token": "refresh-secret-1"}
    assert stored.access_token == "good-token"  # nothing else was touched
    assert "refresh-secret-1" not in repr(stored.credentials())


def test_a_page_shares_only_to_the_accounts_the_editor_chose(fake_mastodon):
    alice = connect_account(fake_mastodon, token="good-token")
    connect_account(fake_mastodon, token="other-token")
    page = make_photo_page(image=make_image(), publish=False)
    page.syndication_accounts = [alice]
    page.save_revision().publish()
    assert run_tasks() == ["posted"]
    assert list(SyndicationRecord.objects.values_list("account", flat=True)) == [alice.pk]
    assert [s.account for s in fake_mastodon.statuses] == ["alice"]


def test_a_page_with_no_account_chosen_shares_to_every_account_of_its_site(fake_mastodon):
    connect_account(fake_mastodon, token="good-token")
    connect_account(fake_mastodon, token="other-token")
    make_photo_page(image=make_image())
    assert run_tasks() == ["posted", "posted"]
    assert sorted(s.account for s in fake_mastodon.statuses) == ["alice", "bob"]


class TestEditorChoosesAccounts(WagtailTestUtils):
    def test_the_editor_is_offered_the_enabled_accounts_of_the_site(self, client, fake_mastodon):
        client.force_login(self.create_superuser("admin"))
        alice = connect_account(fake_mastodon, token="good-token")
        connect_account(fake_mastodon, token="other-token", enabled=False)
        page = make_photo_page(image=make_image())
        response = client.get(reverse("wagtailadmin_pages:edit", args=[page.pk]))
        choices = response.context["form"].fields["syndication_accounts"].queryset
        assert list(choices) == [alice]
        assert 'name="syndication_accounts"' in response.content.decode()

    def test_the_choice_is_saved_with_the_page(self, client, fake_mastodon):
        client.force_login(self.create_superuser("admin"))
        alice = connect_account(fake_mastodon, token="good-token")
        connect_account(fake_mastodon, token="other-token")
        page = make_photo_page(image=make_image(), publish=False)
        response = client.get(reverse("wagtailadmin_pages:edit", args=[page.pk]))
        data = self.form_data(response)
        data.setlist("syndication_accounts", [str(alice.pk)])
        data["syndicate"] = "on"
        data["action-publish"] = "action-publish"
        response = client.post(reverse("wagtailadmin_pages:edit", args=[page.pk]), data)
        assert response.status_code == 302, response.context["form"].errors
        assert PhotoPage.objects.get(pk=page.pk).get_syndication_account_ids() == [alice.pk]
        assert run_tasks() == ["posted"]
        assert [s.account for s in fake_mastodon.statuses] == ["alice"]

    @staticmethod
    def form_data(response):
        """The edit form's current values, as the browser would submit them."""
        from wagtail.test.utils.form_data import querydict_from_html

        return querydict_from_html(response.content.decode(), form_id="page-edit-form")


@pytest.mark.parametrize(
    "url, shown",
    [
        ("https://example.com/", "example.com"),
        ("https://example.com", "example.com"),
        ("https://example.com/a/b?c=1", "example.com/a/b?c=1"),
        ("https://example.com/0123456789abcdef", "example.com/0123456789ab..."),
        ("http://example.com:8000/photos/2026/boats#top", "example.com:8000/photos/2026/..."),
    ],
)
def test_links_are_shown_as_the_bluesky_app_shows_them(url, shown):
    from wagtail_syndicate.networks.text import short_url

    assert short_url(url) == shown


def test_bluesky_counts_and_posts_each_link_as_shown():
    from wagtail_syndicate.networks.text import shorten_links

    url = "https://photos.example.com/2026/11/27/morning-boats-at-the-harbour/"
    text = f"Café 🌅 {url} and {url}."
    shown, links = shorten_links(text)
    short = "photos.example.com/2026/11/27/m..."
    assert shown == f"Café 🌅 {short} and {short}."
    assert [uri for _start, _end, uri in links] == [url, url]
    data = shown.encode()
    assert [data[start:end].decode() for start, end, _uri in links] == [
        "photos.example.com/2026/11/27/m...",
        "photos.example.com/2026/11/27/m...",
    ]
    assert Limits(counting="bluesky").length(text) == len(shown) < len(text) - 60


def test_bluesky_text_is_fitted_to_its_bytes_too():
    family = "👨\u200d👩\u200d👧\u200d👦"  # one grapheme, 25 bytes
    url = "https://photos.example.com/family"
    limits = Limits(max_characters=300, counting="bluesky", max_bytes=3000)
    text = fit_text("{title}\n\n{url}", {"title": f"Family {family} " * 150, "url": url}, limits)
    assert text.endswith(url) and "…" in text
    assert len(text.replace(url, "photos.example.com/family").encode()) <= 3000
    assert limits.length(text) < 300  # the bytes were the limit, not the graphemes

    with pytest.raises(ContentError, match="limit of 3000 bytes and cannot be shortened"):
        fit_text(family * 150 + "\n\n{url}", {"url": url}, limits)
