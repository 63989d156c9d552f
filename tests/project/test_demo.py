"""What a newcomer meets first: `make demo` installs what `check_demo.py` needs, no set-up
command downloads a browser, `demo.py` says what it is doing while it prepares, and the demo's
"View post" links for Bluesky and X open the local stand-ins (FakeBluesky, FakeX), not bsky.app
and x.com, while a link anywhere else is still hidden."""

import ast
import importlib.util
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model

from tests.utils import (
    connect_bluesky_account,
    connect_x_account,
    make_image,
    make_photo_page,
    run_tasks,
)
from wagtail_syndicate.models import SyndicationRecord

CHECKOUT = Path(__file__).resolve().parents[2]
EXAMPLE = CHECKOUT / "example_site"

pytestmark = pytest.mark.django_db(transaction=True)


def load(path: Path, name: str):
    """Import the file at ``path`` as a fresh module ``name`` (not kept in sys.modules)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_recipe(target: str) -> list[str]:
    """The commands ``make`` runs for ``target`` on a clean clone (``make -n -B``: printed,
    not run)."""
    if not shutil.which("make"):
        pytest.skip("no make on the PATH")
    result = subprocess.run(
        ["make", "-n", "-B", target], cwd=CHECKOUT, capture_output=True, text=True, check=True
    )
    return result.stdout.splitlines()


def installed_extras(commands: list[str]) -> set[str]:
    """The extras of this project the ``pip install`` commands among ``commands`` install."""
    extras = set()
    for command in commands:
        for group in re.findall(r"pip install .*?\.\[([\w,-]+)\]", command):
            extras.update(group.split(","))
    return extras


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_make_demo_installs_playwright_which_check_demo_imports():
    extras = installed_extras(make_recipe("demo"))
    pyproject = tomllib.loads((CHECKOUT / "pyproject.toml").read_text())
    optional = pyproject["project"]["optional-dependencies"]
    requirements = {re.split(r"[<>=\[; ]", r)[0].lower() for e in extras for r in optional[e]}
    assert "playwright" in imported_packages(EXAMPLE / "check_demo.py")
    assert "playwright" in requirements, f"make demo installs the extras {sorted(extras)}"


def set_up_texts() -> dict[str, str]:
    """Every file that tells a newcomer (or CI) how to set something up."""
    paths = [CHECKOUT / "README.md", CHECKOUT / "Makefile", *EXAMPLE.glob("*.py")]
    paths += [CHECKOUT / "CHANGELOG.md", *(CHECKOUT / "docs").glob("*.md")]
    paths += [p for p in (CHECKOUT / ".ci").rglob("*") if p.is_file() and p.suffix != ".json"]
    return {str(p.relative_to(CHECKOUT)): p.read_text() for p in paths}


def test_no_set_up_step_downloads_a_browser_or_installs_from_an_empty_registry():
    for name, text in set_up_texts().items():
        # Playwright's own browser download reaches a CDN, not a package registry.
        assert "playwright install" not in text, name
        # Not on PyPI yet: only "after the first release" may a README line say so.
        for line in re.findall(r"^.*pip install wagtail-syndicate\b.*$", text, re.M):
            assert "after the first release" in line, (name, line)


def test_check_demo_launches_the_chromium_on_the_path():
    source = (EXAMPLE / "check_demo.py").read_text()
    assert 'default=shutil.which("chromium")' in source
    assert "executable_path=args.chromium" in source


def test_demo_says_what_it_prepares_as_it_goes(monkeypatch, tmp_path, capfd):
    """``demo.py``'s preparation (migrate, seed) prints a line per stage with its time, and
    migrate's own progress, instead of sitting silent."""
    monkeypatch.setenv("PYTHONUNBUFFERED", "1")
    demo = load(EXAMPLE / "demo.py", "demo_under_test")
    ran = []

    def manage(*args, **kwargs):
        ran.append(args)
        if args[0] == "seed_demo":
            return '{"username": "admin"}\n'
        return ""

    monkeypatch.setattr(demo, "manage", manage)
    assert demo.prepare() == {"username": "admin"}
    out = capfd.readouterr().out
    [migrate] = [args for args in ran if args[0] == "migrate"]
    assert "-v" not in migrate or migrate[migrate.index("-v") + 1] != "0", migrate
    assert re.search(r"Migrating the database….*\n.*done in \d+\.\d s", out), out
    assert re.search(r"Adding the demo content….*\n.*done in \d+\.\d s", out), out


def test_demo_settings_point_post_links_at_the_demos_fakes(monkeypatch):
    for variable, port in (("DEMO_PORT", 18000), ("DEMO_BLUESKY_PORT", 18002)):
        monkeypatch.setenv(variable, str(port))
    monkeypatch.setenv("DEMO_X_PORT", "18003")
    monkeypatch.setenv("DEMO_MASTODON_PORT", "18001")
    monkeypatch.setenv("PYTHONUNBUFFERED", "1")
    demo = load(EXAMPLE / "demo.py", "demo_under_test")
    settings = load(EXAMPLE / "example_site" / "settings.py", "demo_settings_under_test")
    syndicate = settings.WAGTAIL_SYNDICATE
    assert syndicate["BLUESKY_WEB_URL"] == demo.BLUESKY.url == "http://127.0.0.1:18002"
    assert syndicate["X_WEB_URL"] == demo.X.url == "http://127.0.0.1:18003"


@pytest.fixture
def web_urls_on_the_fakes(settings, fake_bluesky, fake_x):
    """The demo's settings: Bluesky's and X's web app are the fakes."""
    settings.WAGTAIL_SYNDICATE = {
        **settings.WAGTAIL_SYNDICATE,
        "X_CLIENT_ID": fake_x.client_id,
        "X_API_URL": fake_x.base_url,
        "BLUESKY_WEB_URL": fake_bluesky.base_url,
        "X_WEB_URL": fake_x.base_url,
    }
    return settings


def test_view_post_opens_the_post_on_fake_bluesky_and_fake_x(
    web_urls_on_the_fakes, fake_bluesky, fake_x, client
):
    connect_bluesky_account(fake_bluesky)
    connect_x_account(fake_x)
    page = make_photo_page(image=make_image(), alt_text="A fishing boat leaving the harbour")
    assert run_tasks() == ["posted", "posted"]

    for fake in (fake_bluesky, fake_x):
        record = SyndicationRecord.objects.get(page=page, account__instance_url=fake.base_url)
        link = record.safe_remote_url
        assert link and urlsplit(link).netloc == fake.host, link
        shown = requests.get(link, timeout=5)
        assert shown.status_code == 200
        assert "Morning boats" in shown.text
        assert 'alt="A fishing boat leaving the harbour"' in shown.text
        # The fake's front page links each post to that same page.
        front = requests.get(f"{fake.base_url}/", timeout=5).text
        assert f'href="{urlsplit(link).path}"' in front

    # The records report shows the links (the admin's "View post").
    admin = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(admin)
    report = client.get("/admin/syndication/posts/").content.decode()
    for fake in (fake_bluesky, fake_x):
        assert f'href="{fake.base_url}/' in report


def test_a_post_page_that_is_not_there_is_not_found(fake_bluesky, fake_x):
    did = fake_bluesky.accounts["alice.test"].did
    for url in (
        f"{fake_bluesky.base_url}/profile/{did}/post/3nosuchpost",
        f"{fake_bluesky.base_url}/profile/nobody.test",
        f"{fake_x.base_url}/alice/status/999",
        f"{fake_x.base_url}/nobody/status/1",
    ):
        assert requests.get(url, timeout=5).status_code == 404, url
    assert requests.get(f"{fake_bluesky.base_url}/profile/alice.test", timeout=5).ok


def test_post_links_elsewhere_stay_hidden_with_a_stand_in_web_url(
    web_urls_on_the_fakes, fake_bluesky, fake_x
):
    """The safety rule holds: the setting adds its own host, no other."""
    connect_bluesky_account(fake_bluesky)
    connect_x_account(fake_x)
    make_photo_page(image=make_image(), alt_text="A fishing boat leaving the harbour")
    assert run_tasks() == ["posted", "posted"]
    for record in SyndicationRecord.objects.all():
        kept = record.safe_remote_url
        path = urlsplit(kept).path
        for other in ("https://evil.example", "http://127.0.0.1:1", "javascript:alert(1)//"):
            record.remote_url = f"{other}{path}"
            assert record.safe_remote_url == "", record.remote_url
        record.remote_url = kept
        assert record.safe_remote_url == kept
        # The real web apps stay allowed (records made before the setting was set).
        real = "https://bsky.app" if record.account.network == "bluesky" else "https://x.com"
        record.remote_url = f"{real}{path}"
        assert record.safe_remote_url == record.remote_url


def test_check_demo_runs_without_a_display_or_network_download():
    """``check_demo.py --help`` works with what ``make demo`` installs (playwright imported).
    Skipped in a venv made with ``.[test]`` only (CI's other legs), which ``make demo`` is not."""
    pytest.importorskip("playwright", reason="a venv without make demo's extra (browser)")
    result = subprocess.run(
        [sys.executable, str(EXAMPLE / "check_demo.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "--chromium" in result.stdout
