# The fixtures imported from tests/browser_fixtures.py are used by name as arguments:
# ruff: noqa: F811
"""What administrators and editors do, in a real browser (Chromium through Playwright):
connecting an account with OAuth, publishing a photo and following the link to its post,
retrying a post that failed, watching the preview follow the form, and a refused publish.

The site is pytest-django's live server, Mastodon is FakeMastodon, and the worker is the test
itself (``run_tasks``) between browser steps. Without Playwright or a ``chromium`` on the PATH
these tests are skipped; with ``WAGTAIL_SYNDICATE_BROWSER_TESTS=required`` (CI) they fail.
Screenshots go to ``$SCREENSHOT_DIR`` when it is set (``docs/screenshots`` holds the docs').
"""

import re

import pytest
from django.contrib.auth.models import Group, Permission
from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission, Page
from wagtail.test.utils import WagtailTestUtils

from syndicate_fakes import Fault
from tests.browser_fixtures import (  # noqa: F401 (fixtures, used by name)
    BROWSER_MARKS,
    VIEWPORT,
    browser,
    browser_settings,
    live_server,
    log_in,
    page,
    screenshot,
)
from tests.utils import (
    connect_account,
    connect_bluesky_account,
    connect_x_account,
    make_image,
    make_photo_page,
    run_tasks,
)
from wagtail_syndicate.models import SyndicationAccount, SyndicationRecord
from wagtail_syndicate.networks.text import short_url

pytestmark = BROWSER_MARKS

ALT_TEXT = "Three fishing boats leaving the harbour at dawn, gulls above them"


def make_editor():
    """Someone who may edit and publish pages and choose images, as Wagtail's Editors group,
    and see social posts (Retry leads to a screen of those)."""
    user = WagtailTestUtils.create_user("editor", password="pw", first_name="Eda")
    # Wagtail's own migrations make an Editors group; the test's first test sees it.
    group, _ = Group.objects.get_or_create(name="Editors")
    for codename in ("access_admin", "view_syndicationrecord"):
        group.permissions.add(Permission.objects.get(codename=codename))
    for codename in ("add_page", "change_page", "publish_page"):
        GroupPagePermission.objects.get_or_create(
            group=group,
            page=Page.objects.get(depth=1),
            permission=Permission.objects.get(codename=codename),
        )
    GroupCollectionPermission.objects.get_or_create(
        group=group,
        collection=Collection.get_first_root_node(),
        permission=Permission.objects.get(codename="choose_image"),
    )
    user.groups.add(group)
    return user


def publish(page) -> None:
    page.locator("footer [data-w-dropdown-target='toggle']").first.click()
    page.locator("button[name='action-publish']").click()


def show_near_top(locator) -> None:
    """Scroll so that ``locator`` is below the editor's header, with what follows it."""
    locator.evaluate("el => { el.scrollIntoView({block: 'start'}); window.scrollBy(0, -140); }")


def shared_posts(page):
    """The "Shared posts" panel on the editor's Promote tab."""
    page.get_by_role("tab", name="Promote").click()
    return page.locator(".w-syndication-status")


def test_an_administrator_connects_an_account_with_oauth(page, log_in, fake_mastodon, screenshot):
    from playwright.sync_api import expect

    log_in(WagtailTestUtils.create_superuser("admin", password="pw"))
    page.goto("/admin/syndication/accounts/")
    page.get_by_role("link", name="Connect a Mastodon account").click()
    page.get_by_label("Mastodon server or handle").fill(f"@alice@{fake_mastodon.host}")
    screenshot(page, "1-connect-form")
    page.get_by_role("button", name="Continue to sign in").click()

    expect(page).to_have_url(re.compile(rf"^{re.escape(fake_mastodon.base_url)}/oauth/authorize"))
    expect(page.locator("body")).to_contain_text("wagtail-syndicate would like permission")
    expect(page.locator(".scopes")).to_contain_text("write:statuses")
    screenshot(page, "2-mastodon-consent")
    page.get_by_role("button", name="Authorize").click()

    handle = f"@alice@{fake_mastodon.host}"
    expect(page).to_have_url(re.compile(r"/admin/syndication/accounts/$"))
    expect(page.locator(".messages")).to_contain_text(f"Connected {handle} on Mastodon.")
    expect(page.locator("table.listing")).to_contain_text(handle)
    screenshot(page, "3-account-connected")
    account = SyndicationAccount.objects.get()
    assert account.handle == handle and account.oauth_app is not None
    assert account.access_token in fake_mastodon.tokens


def test_an_editor_publishes_a_photo_and_follows_the_link_to_its_post(
    page, log_in, fake_mastodon, screenshot
):
    from playwright.sync_api import expect

    connect_account(fake_mastodon)
    draft = make_photo_page(
        image=make_image(title="Boats"), alt_text=ALT_TEXT, syndicate=False, publish=False
    )
    log_in(make_editor())
    page.goto(f"/admin/pages/{draft.pk}/edit/")
    page.get_by_role("tab", name="Promote").click()
    page.locator("#id_syndicate").check()
    show_near_top(page.locator("#id_syndicate"))
    screenshot(page, "4-editor-share-when-published")
    publish(page)
    expect(page.locator(".messages")).to_contain_text("Sharing to @alice@")

    assert run_tasks() == ["posted"]  # the worker

    page.goto(f"/admin/pages/{draft.pk}/edit/")
    panel = shared_posts(page)
    expect(panel.locator("[data-record-state='posted']")).to_contain_text("Posted")
    show_near_top(panel)
    screenshot(page, "5-editor-posted")
    with page.context.expect_page() as opened:
        panel.get_by_role("link", name="View post").click()
    post = opened.value
    post.set_viewport_size(VIEWPORT)
    expect(post).to_have_url(fake_mastodon.statuses[0].url)
    image = post.locator("figure img")
    expect(image).to_have_attribute("alt", ALT_TEXT)
    assert image.evaluate("img => img.complete && img.naturalWidth > 0"), "the image did not load"
    expect(post.locator("figcaption")).to_contain_text(ALT_TEXT)
    expect(post.locator("article")).to_contain_text("Morning boats")
    screenshot(post, "6-mastodon-post")


def test_a_failure_shows_its_reason_and_retry_posts(page, log_in, fake_mastodon, screenshot):
    from playwright.sync_api import expect

    connect_account(fake_mastodon)
    fake_mastodon.inject(
        Fault(
            method="POST",
            path="/api/v1/statuses",
            status=503,
            body={"error": "Down for maintenance"},
            times=3,  # every attempt (MAX_ATTEMPTS is 3 in the test settings)
        )
    )
    draft = make_photo_page(image=make_image(), alt_text=ALT_TEXT, publish=False)
    log_in(make_editor())
    page.goto(f"/admin/pages/{draft.pk}/edit/")
    publish(page)
    expect(page.locator(".messages")).to_contain_text("Sharing to @alice@")
    assert run_tasks() == ["retrying", "retrying", "failed"]

    page.goto(f"/admin/pages/{draft.pk}/edit/")
    panel = shared_posts(page)
    failed = panel.locator("[data-record-state='failed']")
    expect(failed).to_contain_text("Failed")
    expect(failed.locator("[data-record-reason]")).to_contain_text("Down for maintenance")
    show_near_top(panel)
    screenshot(page, "7-editor-failed")

    failed.get_by_role("link", name="Retry").click()
    expect(page.locator("main")).to_contain_text("Down for maintenance")
    screenshot(page, "8-retry-confirm")
    page.get_by_role("button", name="Yes, retry").click()
    expect(page.locator(".messages")).to_contain_text("queued again")
    assert run_tasks() == ["posted"]

    page.goto(f"/admin/pages/{draft.pk}/edit/")
    panel = shared_posts(page)
    expect(panel.locator("[data-record-state='posted']")).to_contain_text("Posted")
    expect(panel.get_by_role("link", name="View post")).to_have_attribute(
        "href", fake_mastodon.statuses[0].url
    )
    assert SyndicationRecord.objects.get().state == "posted"


@pytest.fixture
def quick_polls(settings):
    """The live status asks again every 0.2 s (the real schedule backs off from 2 s)."""
    settings.WAGTAIL_SYNDICATE = {**settings.WAGTAIL_SYNDICATE, "LIVE_STATUS_INTERVALS": [0.2]}


def refuse_posts(fake) -> None:
    """The next post fails for good (422: no retry)."""
    fake.inject(
        Fault(method="POST", path="/api/v1/statuses", status=422, body={"error": "Rejected"})
    )


def publish_and_come_back(page, log_in, fake):
    """An editor publishes a new photo page, shared to ``fake``'s account, and opens its editor
    again before the worker runs: the "Shared posts" panel, with the post Queued."""
    from playwright.sync_api import expect

    connect_account(fake)
    draft = make_photo_page(image=make_image(), alt_text=ALT_TEXT, publish=False)
    log_in(make_editor())
    page.goto(f"/admin/pages/{draft.pk}/edit/")
    publish(page)
    expect(page.locator(".messages")).to_contain_text("Sharing to @alice@")
    page.goto(f"/admin/pages/{draft.pk}/edit/")
    panel = shared_posts(page)
    expect(panel.locator("[data-record-state='queued']")).to_contain_text("Queued")
    return panel


def test_the_panel_goes_from_queued_to_posted_by_itself(
    page, log_in, fake_mastodon, screenshot, quick_polls
):
    from playwright.sync_api import expect

    panel = publish_and_come_back(page, log_in, fake_mastodon)
    expect(panel).to_have_attribute("data-syndication-live-in-flight-value", "true")

    assert run_tasks() == ["posted"]  # the worker, while the editor looks at the panel

    posted = panel.locator("[data-record-state='posted']")
    expect(posted).to_contain_text("Posted")
    expect(posted.get_by_role("link", name="View post")).to_have_attribute(
        "href", fake_mastodon.statuses[0].url
    )
    expect(panel.get_by_role("status")).to_contain_text("Posted")  # read out by screen readers
    expect(panel).to_have_attribute("data-syndication-live-in-flight-value", "false")
    # The preview follows: publishing again would change nothing now.
    expect(page.locator("[data-preview-outcome]")).to_have_attribute(
        "data-preview-outcome", "unchanged"
    )
    # Folded, the preview above leaves the panel in view, clear of the editor's footer.
    preview = page.locator(".w-panel").filter(has=page.get_by_text("What will be posted")).last
    preview.locator("[data-panel-toggle]").first.click()
    show_near_top(panel)
    screenshot(page, "13-editor-posted-live")


def test_retry_that_fails_again_shows_the_new_time(page, log_in, fake_mastodon, quick_polls):
    from playwright.sync_api import expect

    connect_account(fake_mastodon)
    refuse_posts(fake_mastodon)
    draft = make_photo_page(image=make_image(), alt_text=ALT_TEXT, publish=False)
    log_in(make_editor())
    page.goto(f"/admin/pages/{draft.pk}/edit/")
    publish(page)
    expect(page.locator(".messages")).to_contain_text("Sharing to @alice@")
    assert run_tasks() == ["failed"]
    page.goto(f"/admin/pages/{draft.pk}/edit/")
    panel = shared_posts(page)
    failed = panel.locator("[data-record-state='failed']")
    expect(failed).to_contain_text("Failed")
    first_time = failed.locator("[data-record-time] time").get_attribute("datetime")
    expect(panel).to_have_attribute("data-syndication-live-in-flight-value", "false")

    refuse_posts(fake_mastodon)
    failed.get_by_role("link", name="Retry").click()
    page.get_by_role("button", name="Yes, retry").click()
    expect(page.locator(".messages")).to_contain_text("queued again")
    expect(page.locator(".messages time")).to_be_visible()
    panel = shared_posts(page)
    expect(panel.locator("[data-record-state='queued']")).to_contain_text("Queued")

    assert run_tasks() == ["failed"]

    failed = panel.locator("[data-record-state='failed']")
    expect(failed).to_contain_text("Failed")
    expect(failed.locator("[data-record-time] time")).not_to_have_attribute("datetime", first_time)
    new_time = failed.locator("[data-record-time] time").get_attribute("datetime")
    assert new_time > first_time  # ISO 8601 times in one zone sort as text
    expect(panel.get_by_role("status")).to_contain_text("Failed")
    expect(panel).to_have_attribute("data-syndication-live-in-flight-value", "false")


def test_the_records_report_and_a_record_update_by_themselves(
    page, log_in, fake_mastodon, quick_polls
):
    from playwright.sync_api import expect

    connect_account(fake_mastodon)
    make_photo_page(image=make_image(), alt_text=ALT_TEXT)  # published: its record is queued
    record = SyndicationRecord.objects.get()
    log_in(make_editor())
    page.goto("/admin/syndication/posts/")
    report = page.locator("#syndication-records-live")
    expect(report.locator("table.listing")).to_contain_text("Queued")
    inspect = page.context.new_page()
    inspect.goto(f"/admin/syndication/posts/inspect/{record.pk}/")
    expect(inspect.locator("#syndication-record-live")).to_contain_text("Queued")

    assert run_tasks() == ["posted"]

    expect(report.locator("table.listing")).to_contain_text("Posted")
    expect(report.get_by_role("status")).to_contain_text("Posted")
    expect(report).to_have_attribute("data-syndication-live-in-flight-value", "false")
    live_record = inspect.locator("#syndication-record-live")
    expect(live_record).to_contain_text(fake_mastodon.statuses[0].url)
    expect(live_record).to_have_attribute("data-syndication-live-in-flight-value", "false")


def header_menu(page):
    """The page header's Actions menu ("…"): its toggle, and the menu's items (in the popper
    that Wagtail's dropdown, a tippy, shows while it is open)."""
    toggle = page.locator("#w-slim-header-buttons [data-w-dropdown-target='toggle']")

    def items():
        popper = toggle.evaluate("toggle => toggle._tippy.popper.id")
        return page.locator(f"#{popper} .w-dropdown__content")

    return toggle, items


def test_the_header_menu_gains_view_post_by_itself(page, log_in, fake_mastodon, quick_polls):
    from playwright.sync_api import expect

    panel = publish_and_come_back(page, log_in, fake_mastodon)
    toggle, menu_items = header_menu(page)
    toggle.click()
    menu = menu_items()
    view_post = menu.get_by_role("link", name=re.compile(r"^View post on @alice@"))
    expect(menu.get_by_role("link", name="History")).to_be_visible()
    expect(view_post).to_have_count(0)  # nothing to view yet
    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(menu).to_have_count(0)  # closed: the menu's items are out of the page

    assert run_tasks() == ["posted"]  # the worker, while the menu is closed

    expect(panel.locator("[data-record-state='posted']")).to_contain_text("Posted")
    expect(panel).to_have_attribute("data-syndication-live-in-flight-value", "false")
    toggle.click()
    expect(view_post).to_have_count(1)
    expect(view_post).to_have_attribute("href", fake_mastodon.statuses[0].url)
    expect(view_post).to_have_attribute("target", "_blank")


def test_the_inspect_views_retry_appears_when_the_record_fails(
    page, log_in, fake_mastodon, quick_polls
):
    from playwright.sync_api import expect

    connect_account(fake_mastodon)
    refuse_posts(fake_mastodon)
    make_photo_page(image=make_image(), alt_text=ALT_TEXT)  # published: its record is queued
    record = SyndicationRecord.objects.get()
    log_in(make_editor())
    page.goto(f"/admin/syndication/posts/inspect/{record.pk}/")
    live_record = page.locator("#syndication-record-live")
    expect(live_record).to_contain_text("Queued")
    toggle, menu_items = header_menu(page)
    expect(toggle).to_have_count(0)  # queued: no Retry, and no other action either

    assert run_tasks() == ["failed"]

    expect(live_record).to_contain_text("Rejected")
    toggle.click()
    retry = menu_items().get_by_role("link", name="Retry")
    expect(retry).to_have_attribute("href", f"/admin/syndication/posts/retry/{record.pk}/")
    retry.click()
    expect(page.locator("main")).to_contain_text("Rejected")
    expect(page.get_by_role("button", name="Yes, retry")).to_be_visible()


def test_the_records_report_keeps_titles_whole_and_reasons_on_one_line(
    page, log_in, fake_mastodon, screenshot
):
    from playwright.sync_api import expect

    reason = (
        "Validation failed: the harbour master refused this status because it mentions the "
        "night ferry, which is not running this week; try again when the timetable is back"
    )
    connect_account(fake_mastodon)
    fake_mastodon.inject(
        Fault(method="POST", path="/api/v1/statuses", status=422, body={"error": reason})
    )
    make_photo_page(image=make_image(), alt_text=ALT_TEXT, title="Harbour at night")
    make_photo_page(image=make_image(), alt_text=ALT_TEXT, title="Evening boats")
    assert sorted(run_tasks()) == ["failed", "posted"]

    page.set_viewport_size({"width": 1400, "height": 900})
    log_in(WagtailTestUtils.create_superuser("admin", password="pw"))
    page.goto("/admin/syndication/posts/")
    title = page.get_by_role("link", name="Harbour at night", exact=True)
    expect(title).to_be_visible()
    # No word broken across lines ("Harb / our"): each word's boxes lie on one line.
    lines_per_word = title.evaluate(
        """el => {
            const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
            const counts = [];
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                for (const match of node.data.matchAll(/\\S+/g)) {
                    const range = document.createRange();
                    range.setStart(node, match.index);
                    range.setEnd(node, match.index + match[0].length);
                    const tops = [...range.getClientRects()].map(b => Math.round(b.top));
                    counts.push(new Set(tops).size);
                }
            }
            return counts;
        }"""
    )
    assert lines_per_word and set(lines_per_word) == {1}, lines_per_word
    clipped = page.locator("[data-record-reason]")
    expect(clipped).to_have_attribute("title", re.compile(re.escape(reason)))
    assert clipped.evaluate("el => el.scrollWidth > el.clientWidth")  # clipped to one line
    expect(page.get_by_role("link", name=re.compile("View on Mastodon"))).to_have_attribute(
        "href", fake_mastodon.statuses[0].url
    )
    expect(page.locator("[data-bulk-action-checkbox]")).to_have_count(0)
    screenshot(page, "14-records-report")


def tab_errors(page, tab):
    """The error counter of the editor's ``tab`` ("content", "promote"): hidden when none."""
    return page.locator(f"#tab-label-{tab} .w-tabs__errors")


def test_the_preview_follows_the_editor_as_they_type(
    page, log_in, fake_mastodon, fake_bluesky, fake_x, screenshot
):
    from playwright.sync_api import expect

    accounts = {
        "mastodon": connect_account(fake_mastodon),
        "bluesky": connect_bluesky_account(fake_bluesky),
        "x": connect_x_account(fake_x),
    }
    fakes = (fake_mastodon, fake_bluesky, fake_x)
    draft = make_photo_page(
        image=make_image(focal_point_x=480, focal_point_y=120),
        alt_text=ALT_TEXT,
        publish=False,
        syndication_content_warning="Bright light",
    )
    log_in(make_editor())
    page.goto(f"/admin/pages/{draft.pk}/edit/")
    for tab in ("content", "promote", "settings"):
        expect(tab_errors(page, tab)).to_be_hidden()
    before = sum(len(fake.requests) for fake in fakes)
    cards = {name: page.locator(f"[data-account='{a.pk}']") for name, a in accounts.items()}

    page.get_by_role("tab", name="Promote").click()
    link = "https://example.com/harbour/boats/at-dawn-with-the-gulls"
    page.get_by_label("Text of the post").fill(f"Three boats at #dawn: {link}")
    for card in cards.values():
        expect(card.locator("[data-preview-hashtag]")).to_have_text("#dawn")
        expect(card.locator("[data-preview-link]").first).to_contain_text("example.com/harbour")
    expect(cards["bluesky"].locator("[data-preview-link]").first).to_have_text(short_url(link))
    page.get_by_role("tab", name="Content").click()
    page.locator("#id_alt_text").fill("Three boats, gulls above, as typed just now")
    page.get_by_role("tab", name="Promote").click()
    for card in cards.values():
        expect(card.locator("[data-preview-alt]")).to_have_text(
            "Three boats, gulls above, as typed just now"
        )

    mastodon = cards["mastodon"]
    mastodon.locator("summary").click()  # opens the content warning's fold
    badge = mastodon.get_by_role("button", name="ALT")
    badge.focus()
    expect(mastodon.get_by_role("tooltip")).to_be_visible()
    assert sum(len(fake.requests) for fake in fakes) == before, "no request to any server"
    expect(tab_errors(page, "promote")).to_be_hidden()
    show_near_top(mastodon)
    screenshot(page, "9-preview-mastodon")
    cards["bluesky"].locator("summary").click()  # its fold: the post is marked sensitive
    show_near_top(cards["bluesky"])
    screenshot(page, "10-preview-bluesky")
    show_near_top(cards["x"])
    screenshot(page, "11-preview-x")


def test_a_publish_refused_for_missing_alt_text_marks_the_content_tab(
    page, log_in, fake_mastodon, screenshot
):
    from playwright.sync_api import expect

    connect_account(fake_mastodon)
    draft = make_photo_page(image=make_image(description=""), alt_text="", publish=False)
    log_in(make_editor())
    page.goto(f"/admin/pages/{draft.pk}/edit/")
    page.get_by_role("tab", name="Promote").click()
    expect(page.locator("[data-preview-problem]")).to_contain_text("has no alt text")
    expect(tab_errors(page, "promote")).to_be_hidden()  # a note of the preview, no error

    publish(page)

    expect(page.locator(".messages")).to_contain_text("could not be")
    expect(tab_errors(page, "content")).to_be_visible()
    expect(tab_errors(page, "content")).to_contain_text("1")
    expect(tab_errors(page, "promote")).to_be_hidden()
    page.get_by_role("tab", name="Content").click()
    field_errors = page.locator("#panel-child-content-child-alt_text-errors")
    expect(field_errors).to_be_visible()
    expect(field_errors).to_contain_text("The image “Harbour at dawn” has no alt text")
    show_near_top(page.locator("#id_alt_text"))
    screenshot(page, "12-publish-refused-alt-text")
    assert not SyndicationRecord.objects.exists()
    assert fake_mastodon.requests == []
