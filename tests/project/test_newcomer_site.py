"""A newcomer's site: a fresh ``wagtail start`` project that installs the plugin with the README's
own install line, adds the app as the README shows or after every Wagtail app, and shares a page.

Nothing here runs in this test process's Django: each step is a ``manage.py`` command in a venv
of its own, with the same Wagtail, Django and django-tasks versions as this one. The venv is
cached (``$XDG_CACHE_HOME/wagtail-syndicate/newcomer-<versions>``); a warm run reinstalls only
the plugin.
"""

import fcntl
import hashlib
import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from syndicate_fakes import FakeMastodon

CHECKOUT = Path(__file__).resolve().parents[2]
README = CHECKOUT / "README.md"
PINNED = ("wagtail", "Django", "django-tasks", "django-tasks-db")
# Guards against a hung command only; no assertion depends on how long anything takes.
PIP_TIMEOUT = 900
COMMAND_TIMEOUT = 300

# django-tasks 0.7 (what Wagtail 7.0 takes) bundles its database queue; later versions moved
# it to django-tasks-db. The README says which to write; so does this.
BUNDLED_QUEUE = importlib.util.find_spec("django_tasks.backends.database") is not None
QUEUE_APP = "django_tasks.backends.database" if BUNDLED_QUEUE else "django_tasks_db"
QUEUE_BACKEND = f"{QUEUE_APP}.DatabaseBackend"
WORKER_SETTINGS = ["--settings", "mysite.settings.worker"] if BUNDLED_QUEUE else []

README_ORDER = "as the README shows"
ORDERS = (README_ORDER, "after every Wagtail app")
# How most developers add an app to a `wagtail start` project: after everything it lists.
APPENDED = ["django_tasks", "django_tasks_db", "wagtail_syndicate"]

PAGE_MODEL = """

from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.images import get_image_model_string
from wagtail.models import Page

from wagtail_syndicate.admin import SyndicatedPageForm, syndication_panels
from wagtail_syndicate.models import SyndicatedPageMixin


class PhotoPage(SyndicatedPageMixin, Page):
    photo = models.ForeignKey(get_image_model_string(), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    alt_text = models.TextField(blank=True)

    syndication_image_field = "photo"
    syndication_alt_text_field = "alt_text"

    content_panels = Page.content_panels + [FieldPanel("photo"), FieldPanel("alt_text")]
    base_form_class = SyndicatedPageForm
    promote_panels = Page.promote_panels + syndication_panels()
"""

ALT_TEXT = "A red square on a white wall"

PUBLISH = f"""
from io import BytesIO

from django.core.files.images import ImageFile
from PIL import Image
from wagtail.images import get_image_model
from wagtail.models import Page

from home.models import PhotoPage

data = BytesIO()
Image.new("RGB", (640, 480), (200, 30, 30)).save(data, "JPEG")
image = get_image_model().objects.create(title="Red", file=ImageFile(data, name="red.jpg"))
home = Page.objects.get(depth=2)
page = home.add_child(instance=PhotoPage(
    title="A red square", slug="red-square", live=False,
    photo=image, alt_text={ALT_TEXT!r}, syndicate=True,
))
PhotoPage.objects.get(pk=page.pk).save_revision().publish()
print("published", page.pk)
"""

# Records are written by the worker only: the admin offers no page to add one, even to a superuser
# (the plugin's permission policy, which must be in force whatever the order of the apps).
ADMIN = """
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

client = Client()
client.force_login(get_user_model().objects.create_superuser("admin", "admin@example.com", "pw"))
records = "wagtailsnippets_wagtail_syndicate_syndicationrecord"
print("records list:", client.get(reverse(records + ":list")).status_code)
print("records add:", client.get(reverse(records + ":add")).status_code)
"""


def readme_install_section() -> str:
    text = README.read_text()
    match = re.search(r"^## Install into your site\n(.*?)^## ", text, re.S | re.M)
    assert match, "README.md has no '## Install into your site' section"
    return match.group(1)


def readme_install_target() -> str:
    """What the README's ``pip install`` line installs, its placeholder path made this checkout."""
    lines = re.findall(r"^pip install (\S+)\s*$", readme_install_section(), re.M)
    assert len(lines) == 1, f"expected one 'pip install' line in the README's install: {lines}"
    (target,) = lines
    assert target.endswith("/wagtail-syndicate"), (
        f"the README installs {target!r}; this test expects a path to a checkout"
    )
    return str(CHECKOUT)


def readme_apps() -> list[str]:
    """The apps the README's INSTALLED_APPS lists, in its order."""
    block = re.search(r"INSTALLED_APPS = \[\n(.*?)^\]", readme_install_section(), re.S | re.M)
    assert block, "the README's install section shows no INSTALLED_APPS list"
    apps = re.findall(r'^\s*"([\w.]+)",', block.group(1), re.M)
    assert "wagtail_syndicate" in apps, apps
    return apps


def with_this_queue(apps: list[str]) -> list[str]:
    return [QUEUE_APP if app == "django_tasks_db" else app for app in apps]


def run(args, *, cwd, stdin: str = "", timeout: int = COMMAND_TIMEOUT, failing: str = "") -> str:
    """Run a command of the newcomer's; fail the test with its output (after ``failing``, what
    the failure likely means) if it fails."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}
    }
    command = " ".join(map(str, args))
    try:
        result = subprocess.run(
            [str(arg) for arg in args],
            cwd=cwd,
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as hung:
        parts = (hung.stdout or b"", hung.stderr or b"")  # bytes, even with text=True
        output = "".join(p.decode(errors="replace") if isinstance(p, bytes) else p for p in parts)
        pytest.fail(
            f"{failing}{command} did not end in {timeout} s:\n{output[-6000:]}",
            pytrace=False,
        )
    if result.returncode:
        pytest.fail(
            f"{failing}{command} failed ({result.returncode}):\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-6000:]}",
            pytrace=False,
        )
    return result.stdout + result.stderr


def pip(python: Path, *args, cwd) -> None:
    run(
        [python, "-m", "pip", "--disable-pip-version-check", "install", "--quiet", *args],
        cwd=cwd,
        timeout=PIP_TIMEOUT,
        failing="pip could not install the newcomer's site (is PyPI reachable?):\n",
    )


def requirements() -> tuple[list[str], list[str]]:
    """This run's versions of what the site pins, and what building the plugin requires."""
    pins = [f"{name}=={importlib.metadata.version(name)}" for name in PINNED]
    pyproject = tomllib.loads((CHECKOUT / "pyproject.toml").read_text())
    return pins, pyproject["build-system"]["requires"]


def cache_folder() -> Path:
    """One venv per Python, pinned versions and plugin dependencies (which a warm run, installing
    the plugin alone, would not pick up)."""
    pyproject = tomllib.loads((CHECKOUT / "pyproject.toml").read_text())
    key = repr((sys.version, requirements(), pyproject["project"]["dependencies"]))
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return (
        Path(base)
        / "wagtail-syndicate"
        / f"newcomer-py{sys.version_info[0]}{sys.version_info[1]}-{digest}"
    )


@pytest.fixture(scope="module")
def newcomer_python(tmp_path_factory):
    """A venv with this run's Wagtail, Django and django-tasks versions and the plugin installed
    from this checkout by the README's line; built once per set of versions, then reused."""
    target = readme_install_target()
    venv = cache_folder()
    venv.parent.mkdir(parents=True, exist_ok=True)
    python = venv / "bin" / "python"
    built = venv / ".complete"
    cwd = tmp_path_factory.mktemp("pip")
    with open(venv.with_name(venv.name + ".lock"), "w") as lock:
        # Another test run may be building or using the same venv: take turns.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not built.exists():
            shutil.rmtree(venv, ignore_errors=True)
            run([sys.executable, "-m", "venv", venv], cwd=cwd)
            pins, build_requires = requirements()
            pip(python, *pins, *build_requires, target, cwd=cwd)
            built.touch()
        else:
            # The build requirements are in the venv: no build environment to set up each time.
            pip(python, "--no-deps", "--force-reinstall", "--no-build-isolation", target, cwd=cwd)
        yield python


@dataclass
class Shared:
    """What a newcomer's site said, and what reached its FakeMastodon."""

    checked: str
    added: str
    admin: str
    host: str
    statuses: list


def add_apps(site: Path, order: str) -> None:
    """Edit the site's settings as a developer would, in one of the two orders."""
    base = site / "mysite" / "settings" / "base.py"
    settings = base.read_text()
    if order == README_ORDER:
        listed = "".join(f'    "{app}",\n' for app in with_this_queue(readme_apps()))
        settings, count = re.subn(
            r"^INSTALLED_APPS = \[\n", rf"\g<0>{listed}", settings, flags=re.M
        )
        assert count == 1, "wagtail start's settings have no INSTALLED_APPS list"
    else:
        settings += f"\nINSTALLED_APPS += {with_this_queue(APPENDED)!r}\n"
    settings += (
        f'\nTASKS = {{"default": {{"BACKEND": "{QUEUE_BACKEND}"}}}}\n'
        # The local stand-in for Mastodon speaks plain HTTP on loopback.
        'WAGTAIL_SYNDICATE = {"ALLOW_INSECURE_INSTANCES": True}\n'
    )
    base.write_text(settings)
    if BUNDLED_QUEUE:
        # django-tasks 0.7's db_worker reloads on code changes under DEBUG (wagtail start's
        # dev settings), and a reloading worker never ends, --batch or not (later versions turn
        # reloading off for --batch). Its worker runs with DEBUG off.
        (site / "mysite" / "settings" / "worker.py").write_text(
            "from .dev import *\n\nDEBUG = False\n"
        )
    models = site / "home" / "models.py"
    models.write_text(models.read_text() + PAGE_MODEL)


def share_from_a_new_site(python: Path, folder: Path, order: str) -> Shared:
    run([python.parent / "wagtail", "start", "mysite"], cwd=folder)
    site = folder / "mysite"
    add_apps(site, order)

    def manage(*args, stdin=""):
        return run([python, "manage.py", *args], cwd=site, stdin=stdin)

    manage("makemigrations")
    manage("migrate", "--no-input")
    checked = manage("check")
    with FakeMastodon(tokens={"good-token": "alice"}) as fake:
        added = manage(
            "syndication_accounts",
            "add",
            "--network",
            "mastodon",
            "--instance",
            fake.base_url,
            "--token-stdin",
            stdin="good-token\n",
        )
        admin = manage("shell", "-c", PUBLISH + ADMIN)
        manage("db_worker", "--batch", *WORKER_SETTINGS)
        statuses = list(fake.statuses)
    return Shared(checked=checked, added=added, admin=admin, host=fake.host, statuses=statuses)


@pytest.fixture(scope="module")
def new_sites(newcomer_python, tmp_path_factory):
    """Both orders at once, in threads: each site spends most of its time in its own `migrate`
    (Django's migration state, a core's worth of work), so two cores do both in the time of one.
    """
    folders = {order: tmp_path_factory.mktemp("site") for order in ORDERS}
    with ThreadPoolExecutor(len(ORDERS)) as pool:
        return {
            order: pool.submit(share_from_a_new_site, newcomer_python, folder, order)
            for order, folder in folders.items()
        }


@pytest.mark.system
@pytest.mark.parametrize("order", ORDERS)
def test_a_new_wagtail_site_shares_a_published_page(new_sites, order):
    shared = new_sites[order].result()  # raises what failed in that site

    assert "System check identified no issues" in shared.checked
    assert f"Connected @alice@{shared.host}" in shared.added
    assert "records list: 200" in shared.admin
    assert re.search(r"^records add: (302|403)$", shared.admin, re.M), shared.admin
    assert len(shared.statuses) == 1
    (status,) = shared.statuses
    assert [(media.description, media.content_type) for media in status.media] == [
        (ALT_TEXT, "image/jpeg")
    ]
    assert (status.media[0].width, status.media[0].height) == (640, 480)
    assert "A red square" in status.text
