"""Check a running demo end to end in a real browser, as a newcomer would use it.

Start the demo first (`make demo`), then, in another terminal:

    apt-get install chromium       (once, Debian's; any Chromium on the PATH, or --chromium PATH)
    .venv/bin/python example_site/check_demo.py --password PASSWORD_FROM_THE_BANNER

`make demo` installs Playwright in .venv (the "browser" extra; elsewhere:
`pip install -e ".[browser]"`). Playwright drives the Chromium found on the PATH: no browser is
downloaded, so this works without internet.

It logs in to the Wagtail admin, opens the draft photo, checks "Share when published" is
ticked, clicks Publish, then waits for the post on FakeMastodon, FakeBluesky and FakeX (text,
image, alt text), for the three records in Reports → Social posts, and for "Shared to" on the
public page. It starts nothing itself and saves screenshots in example_site/.demo/check/.
Exit code 0 when all is well. Options may also be given as DEMO_SITE, DEMO_MASTODON,
DEMO_BLUESKY, DEMO_X, DEMO_PASSWORD, DEMO_DRAFT.
"""

import argparse
import os
import re
import shutil
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urljoin

from playwright.sync_api import expect, sync_playwright

HERE = Path(__file__).resolve().parent
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def parse_args():
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", default=env("DEMO_SITE", "http://127.0.0.1:8000"))
    parser.add_argument("--mastodon", default=env("DEMO_MASTODON", "http://127.0.0.1:8001"))
    parser.add_argument("--bluesky", default=env("DEMO_BLUESKY", "http://127.0.0.1:8002"))
    parser.add_argument("--x", default=env("DEMO_X", "http://127.0.0.1:8003"))
    parser.add_argument("--username", default="admin")
    password = env("DEMO_PASSWORD")
    parser.add_argument("--password", default=password, required=not password)
    parser.add_argument("--draft", default=env("DEMO_DRAFT", "Autumn forest"), help="page title")
    parser.add_argument("--timeout", type=float, default=10, help="seconds to wait for the post")
    parser.add_argument("--chromium", default=shutil.which("chromium"), help="browser to use")
    parser.add_argument("--screenshots", type=Path, default=HERE / ".demo" / "check")
    return parser.parse_args()


def step(message):
    print(f"- {message}", flush=True)


def wait_for(url, seconds=60):
    """Wait for the demo to answer at ``url`` (it may still be starting)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (the demo's URL)
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                sys.exit(f"Nothing answers at {url}: is the demo running (make demo)?")
            time.sleep(0.5)


def wait_for_post(page, name, url, args, alt_text):
    """Wait for the post about the draft on a fake's front page; check its text, image and
    alt text; return it."""
    step(f"wait for the post on {name} at {url}/")
    post = page.locator("article", has_text=args.draft)
    deadline = time.monotonic() + args.timeout
    started = time.monotonic()
    while True:
        page.goto(f"{url}/")
        if post.count() or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert post.count() == 1, f"{name}: no post about “{args.draft}” within {args.timeout:g} s"
    print(f"  the post appeared after {time.monotonic() - started:.1f} s")
    image = post.locator("figure img")
    assert image.get_attribute("alt") == alt_text, f"{name}: the image's alt text differs"
    assert image.evaluate("img => img.complete && img.naturalWidth > 0"), f"{name}: no image"
    expect(post.locator("figcaption")).to_contain_text(alt_text)
    return post


def main():
    args = parse_args()
    wait_for(f"{args.site}/")
    for url in (args.mastodon, args.bluesky, args.x):
        wait_for(f"{url}/")
    args.screenshots.mkdir(parents=True, exist_ok=True)
    shots = args.screenshots
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(15_000)

        step(f"log in to {args.site}/admin/ as {args.username}")
        page.goto(f"{args.site}/admin/login/")
        page.fill("#id_username", args.username)
        page.fill("#id_password", args.password)
        page.click("button[type=submit]")
        expect(page).not_to_have_url(re.compile(r"/login/"))

        step(f"find the draft “{args.draft}” and open it")
        page.goto(f"{args.site}/admin/pages/search/?q={args.draft}")
        page.get_by_role("link", name=args.draft, exact=True).first.click()
        expect(page).to_have_url(re.compile(r"/admin/pages/\d+/edit/"))
        edit_url = page.url
        alt_text = page.input_value("#id_alt_text")
        assert alt_text, "the draft has no alt text"
        page.get_by_role("tab", name="Promote").click()
        expect(page.locator("#id_syndicate")).to_be_checked()
        page.screenshot(path=shots / "1-draft-promote-tab.png")

        step("click Publish")
        page.locator("footer [data-w-dropdown-target='toggle']").first.click()
        page.locator("button[name='action-publish']").click()
        expect(page.locator(".messages")).to_contain_text("published")
        messages = page.locator(".messages").inner_text()
        print("  admin says:", " / ".join(m.strip() for m in messages.splitlines() if m.strip()))
        view_live = page.locator(".messages a", has_text="View live").get_attribute("href")
        page_link = urljoin(page.url, view_live)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=shots / "2-admin-after-publish.png")

        post = wait_for_post(page, "FakeMastodon", args.mastodon, args, alt_text)
        page.screenshot(path=shots / "3-fakemastodon-front-page.png", full_page=True)
        post.locator(".meta a").click()
        status_url = page.url
        print(f"  status page: {status_url}")
        page.screenshot(path=shots / "4-fakemastodon-status.png", full_page=True)
        # Its text has the page's address (a link where Mastodon links it: not on an IP).
        expect(page.locator("article")).to_contain_text(page_link)
        print(f"  the post links to {page_link}")

        for number, (name, url) in enumerate((("FakeBluesky", args.bluesky), ("FakeX", args.x))):
            wait_for_post(page, name, url, args, alt_text)
            page.screenshot(path=shots / f"{5 + number}-{name.lower()}.png", full_page=True)

        step("Reports → Social posts shows it posted to the three accounts, with the links")
        page.goto(f"{args.site}/admin/syndication/posts/")
        rows = page.locator("tr", has_text=args.draft)
        expect(rows).to_have_count(3)
        for row in rows.all():
            expect(row).to_contain_text("Posted")
        expect(rows.locator(f"a[href='{status_url}']")).to_have_count(1)
        # "View post" opens the post on FakeBluesky and FakeX (the demo's BLUESKY_WEB_URL and
        # X_WEB_URL), where bsky.app and x.com would show it.
        links = [rows.locator(f"a[href^='{site}/']") for site in (args.bluesky, args.x)]
        for link in links:
            expect(link).to_have_count(1)
        page.screenshot(path=shots / "7-admin-social-posts.png", full_page=True)
        for number, link in enumerate([link.get_attribute("href") for link in links]):
            page.goto(link)
            expect(page.locator("article", has_text=args.draft)).to_have_count(1)
            page.screenshot(path=shots / f"7{'ab'[number]}-view-post.png", full_page=True)

        step("the public page says where it was shared")
        page.goto(page_link)
        expect(page.locator(f"a[href='{status_url}']")).to_have_count(1)
        for site in (args.bluesky, args.x):
            expect(page.locator(f"a[href^='{site}/']")).to_have_count(1)
        page.screenshot(path=shots / "8-public-page.png", full_page=True)

        browser.close()
    print(f"All good. Edit view was {edit_url}; screenshots are in {shots}/.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
