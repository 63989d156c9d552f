# The fixtures imported from tests/browser_fixtures.py are used by name as arguments:
# ruff: noqa: F811
"""axe-core scans of the admin screens the plugin adds or adds to: the page editor of a photo
page with records (its Content and Promote tabs), the records report (Reports → Social posts),
a record's inspect view and the accounts list.

A violation fails the test when one of its elements is the plugin's own markup (see
``PLUGIN_MARKUP``); Wagtail's own violations are reported (printed, and in the assertion's
message when another fails it), not failed: they are not this project's to fix.

axe-core comes from npm, installed once outside the clone by ``.ci/axe/install.sh`` (or the
file ``$WAGTAIL_SYNDICATE_AXE`` names). Without it, or without the browser, these tests are
skipped; with ``WAGTAIL_SYNDICATE_BROWSER_TESTS=required`` (CI) they fail.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from wagtail.test.utils import WagtailTestUtils

from tests.browser_fixtures import (  # noqa: F401 (fixtures)
    BROWSER_MARKS,
    browser,
    browser_settings,
    live_server,
    log_in,
    page,
)
from tests.required import unavailable
from tests.utils import connect_account, make_image, make_photo_page, run_tasks
from wagtail_syndicate.models import SyndicationRecord

pytestmark = BROWSER_MARKS

CHECKOUT = Path(__file__).resolve().parents[2]
INSTALL = CHECKOUT / ".ci" / "axe" / "install.sh"
VARIABLE = "WAGTAIL_SYNDICATE_BROWSER_TESTS"

# The plugin's own markup: its panels and widgets (w-syndication-*), its form fields and their
# labels, and the cells of its own listing columns and inspect fields.
PLUGIN_MARKUP = ", ".join(
    [
        '[class*="w-syndication"]',
        '[id*="syndicat"]',
        '[name*="syndicat"]',
        '[for*="syndicat"]',
        '[data-controller*="syndicat"]',
    ]
)

# Runs axe on the page; returns its violations, each node marked ``own`` when it is inside the
# plugin's markup.
SCAN = """async (ownSelector) => {
    const results = await axe.run(document, {resultTypes: ["violations"]});
    return results.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => {
            const target = n.target[0];
            const element = typeof target === "string" ? document.querySelector(target) : null;
            return {
                target: n.target.join(" "),
                html: n.html,
                own: Boolean(element && element.closest(ownSelector)),
            };
        }),
    }));
}"""


@pytest.fixture(scope="session")
def axe_script() -> str:
    """The text of axe.min.js (axe-core 4)."""
    path = os.environ.get("WAGTAIL_SYNDICATE_AXE")
    if not path:
        if not shutil.which("npm"):
            unavailable("Accessibility scans", "no npm to install axe-core", VARIABLE)
        result = subprocess.run(
            [str(INSTALL)], capture_output=True, text=True, timeout=600, check=False
        )
        if result.returncode:
            unavailable("Accessibility scans", f"axe-core not installed: {result.stderr}", VARIABLE)
        path = result.stdout.strip()
    return Path(path).read_text()


@pytest.fixture
def scan(page, axe_script, capsys):
    """Scan the page as it is; fail on violations in the plugin's own markup, print the rest."""

    def scan(name: str) -> list[dict]:
        page.wait_for_load_state("networkidle")
        page.add_script_tag(content=axe_script)
        violations = page.evaluate(SCAN, PLUGIN_MARKUP)
        own, theirs = [], []
        for violation in violations:
            for node in violation["nodes"]:
                line = f"{violation['id']} ({violation['impact']}): {violation['help']}"
                line += f"\n    {node['target']}\n    {node['html'][:200]}"
                (own if node["own"] else theirs).append(line)
        with capsys.disabled():
            for line in theirs:
                print(f"\n[axe, {name}, Wagtail's markup, not failed] {line}")
        assert not own, f"axe-core on {name}, the plugin's markup:\n" + "\n".join(own)
        return violations

    return scan


@pytest.fixture
def page_with_records(fake_mastodon):
    """A published photo page with a post on one account and a failure (a refused token) on
    another."""
    connect_account(fake_mastodon)
    connect_account(fake_mastodon, token="refused-token")  # not a token the fake knows
    photo = make_photo_page(image=make_image(title="Boats"), alt_text="Boats leaving at dawn")
    run_tasks()
    assert SyndicationRecord.objects.filter(page=photo).count() == 2
    return photo


@pytest.fixture
def admin(log_in):
    log_in(WagtailTestUtils.create_superuser("admin", password="pw"))


def test_the_page_editor_of_a_photo_page_with_records(page, admin, page_with_records, scan):
    page.goto(f"/admin/pages/{page_with_records.pk}/edit/")
    scan("the page editor (Content)")
    page.get_by_role("tab", name="Promote").click()
    page.locator(".w-syndication-status").wait_for()
    scan("the page editor (Promote: Share when published, the preview, Shared posts)")


def test_the_records_report(page, admin, page_with_records, scan):
    page.goto("/admin/syndication/posts/")
    page.locator("table.listing").wait_for()
    scan("Reports → Social posts")


def test_a_records_inspect_view(page, admin, page_with_records, scan):
    for record in SyndicationRecord.objects.all():
        page.goto(f"/admin/syndication/posts/inspect/{record.pk}/")
        scan(f"the inspect view of a {record.state} record")


def test_the_accounts_list(page, admin, page_with_records, scan):
    page.goto("/admin/syndication/accounts/")
    page.locator("table.listing").wait_for()
    scan("Settings → Social accounts")


def test_a_violation_in_the_plugins_markup_fails_the_scan(page, admin, page_with_records, scan):
    """The scans above pass because the plugin's markup has no violation, not because they
    cannot see one: an image without alt text in the Shared posts panel fails it."""
    page.goto(f"/admin/pages/{page_with_records.pk}/edit/")
    page.get_by_role("tab", name="Promote").click()
    panel = page.locator(".w-syndication-status")
    panel.evaluate("""el => el.insertAdjacentHTML("beforeend", '<img src="data:,">')""")
    with pytest.raises(AssertionError, match=r"image-alt \(critical\)"):
        scan("the page editor with an image without alt text in Shared posts")
