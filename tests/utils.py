"""Helpers shared by the tests: images, pages, accounts and running queued tasks."""

import html
import io
import re
import struct
import sys
import zlib
from datetime import timedelta

import requests
from django.core.files.images import ImageFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from PIL import Image as PILImage
from wagtail.images import get_image_model
from wagtail.models import Page, Revision, Site

from tests.clock import pass_time
from tests.commits import commit_pending, committing
from tests.testapp.models import PhotoPage
from wagtail_syndicate.compat import task_backends
from wagtail_syndicate.models import SyndicationAccount, SyndicationRecord
from wagtail_syndicate.pipeline.tasks import syndicate_record


def make_image(width=640, height=480, *, image_format="PNG", title="Harbour at dawn", **fields):
    """A real image file in storage, drawn with Pillow (a gradient, so it compresses honestly)."""
    picture = PILImage.linear_gradient("L").resize((width, height)).convert("RGB")
    buffer = io.BytesIO()
    picture.save(buffer, image_format)
    extension = {"JPEG": "jpg"}.get(image_format, image_format.lower())
    return get_image_model().objects.create(
        title=title,
        file=ImageFile(io.BytesIO(buffer.getvalue()), name=f"photo.{extension}"),
        **fields,
    )


def one_bit_png(width, height) -> bytes:
    """A real black 1-bit PNG: a few KiB however many pixels (a decompression bomb),
    made without holding its pixels in memory."""

    def chunk(kind, data):
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    row = b"\0" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def give_the_site_a_public_name(hostname="photos.example.com"):
    """Name the default site as a real one is named: Mastodon and X count a link as 23 only
    when its host has a top-level domain (not "localhost", the tests' own site)."""
    Site.objects.filter(is_default_site=True).update(hostname=hostname)


def make_photo_page(
    *,
    image=None,
    alt_text="A fishing boat leaving the harbour at dawn",
    syndicate=True,
    publish=True,
    model=PhotoPage,
    parent=None,
    **fields,
) -> PhotoPage:
    """A photo page (of ``model``, PhotoPage or a subclass) under ``parent`` (default: the
    home page)."""
    home = parent or Page.objects.get(depth=2)
    page = model(
        title=fields.pop("title", "Morning boats"),
        photo=image,
        alt_text=alt_text,
        syndicate=syndicate,
        live=False,  # a draft until published, as in the admin
        **fields,
    )
    home.add_child(instance=page)
    if publish:
        publish_page(page)
    return model.objects.get(pk=page.pk)


def publish_page(page, **changes):
    """Publish ``page`` with ``changes`` from code, as a developer's script would
    (``revision.publish()``)."""
    # A fresh instance: a stale one takes the wrong branch.
    page = type(page).objects.get(pk=page.pk)
    for name, value in changes.items():
        setattr(page, name, value)
    with committing():
        page.save_revision().publish()
    return type(page).objects.get(pk=page.pk)


def schedule_and_come_due(page, go_live_at):
    """Schedule ``page`` to go live (``revision.publish()`` with a ``go_live_at``), then move
    the schedule into the past (at ``go_live_at``), as the clock would; ``manage.py
    publish_scheduled`` then publishes it."""
    page.go_live_at = timezone.now() + timedelta(hours=1)
    revision = page.save_revision()
    revision.publish()  # schedules it: the page is not live yet
    revision = Revision.objects.get(pk=revision.pk)
    revision.content["go_live_at"] = go_live_at.isoformat()
    revision.approved_go_live_at = go_live_at
    revision.save()
    type(page).objects.filter(pk=page.pk).update(go_live_at=go_live_at)
    return revision


def connect_account(fake, token="good-token", **fields) -> SyndicationAccount:
    account = SyndicationAccount(
        instance_url=fake.base_url,
        handle=f"@{fake.tokens.get(token, 'unknown')}@{fake.host}",
        **{"network": "mastodon", **fields},
    )
    account.access_token = token
    account.save()
    return account


def run_tasks(backend_name="default", max_wait=10.0) -> list[str]:
    """Run, as a worker would, every task the Dummy backend has collected (Wagtail's own too),
    each no earlier than its ``run_after`` (moving the test's clock on to it: at most
    ``max_wait`` seconds); return what each syndication task returned, in order."""
    backend = task_backends[backend_name]
    commit_pending()  # what queued them has committed before a worker sees them
    outcomes = []
    while backend.results:
        backend.results.sort(key=lambda r: r.task.run_after or timezone.now())
        result = backend.results.pop(0)
        if result.task.run_after:
            wait = (result.task.run_after - timezone.now()).total_seconds()
            assert wait <= max_wait, f"task not due for {wait:.0f} s"
            if wait > 0:
                pass_time(wait)
        with committing():  # a worker's task commits on its own
            outcome = result.task.call(*result.args, **result.kwargs)
        if result.task.func is syndicate_record.func:
            outcomes.append(outcome)
    return outcomes


def run_next(backend_name="default") -> str:
    """Run only the first queued syndication task (dropping Wagtail's own); return its outcome."""
    backend = task_backends[backend_name]
    commit_pending()
    backend.results[:] = [r for r in backend.results if r.task.func is syndicate_record.func]
    result = backend.results.pop(0)
    with committing():
        return result.task.call(*result.args, **result.kwargs)


def connect_x_account(fake, *, lifetime=None, username="alice", **session) -> SyndicationAccount:
    """An X account connected with OAuth 2.0 on ``fake``: a bearer token that expires after
    ``lifetime`` seconds (the fake's default: two hours) and its refresh token; ``session``
    entries replace those of the stored session."""
    issued = fake.issue(username, lifetime=lifetime)
    account = SyndicationAccount(network="x", instance_url=fake.base_url, handle=f"@{username}")
    account.access_token = issued["access_token"]
    account.session = {
        "refresh_token": issued["refresh_token"],
        "expires_at": fake.clock() + issued["expires_in"],
        **session,
    }
    account.save()
    return account


def connect_bluesky_account(
    fake, handle="alice.test", app_password=None, **fields
) -> SyndicationAccount:
    """A Bluesky account on ``fake`` (its PDS), with the handle's app password (or
    ``app_password``); no session yet: the first request signs in."""
    account = SyndicationAccount(
        network="bluesky", instance_url=fake.base_url, handle=handle, **fields
    )
    account.access_token = app_password or fake.accounts[handle].password
    account.save()
    return account


def post_other_statuses(fake, count, token="good-token"):
    """``count`` statuses of the account's own, posted straight to ``fake`` (not by the
    plugin): newer posts that a look-up for the plugin's post must page past."""
    for number in range(count):
        requests.post(
            f"{fake.base_url}/api/v1/statuses",
            headers={"Authorization": f"Bearer {token}"},
            data={"status": f"Another post {number}"},
            timeout=5,
        ).raise_for_status()


def accounts_command(*args, stdin=""):
    """Run ``manage.py syndication_accounts`` with ``stdin`` as its standard input; return
    what it printed."""
    out, real_stdin = io.StringIO(), sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        call_command("syndication_accounts", *args, stdout=out)
    finally:
        sys.stdin = real_stdin
    return out.getvalue()


def log_in_as_editor(client, *codenames, page_permissions=("change_page",), name="editor"):
    """Log ``client`` in as a user with admin access, the ``page_permissions`` on the whole
    tree, and the model permissions ``codenames`` (e.g. "view_syndicationrecord")."""
    from django.contrib.auth.models import Group, Permission
    from wagtail.models import GroupPagePermission
    from wagtail.test.utils import WagtailTestUtils

    user = WagtailTestUtils.create_user(name, password="pw")
    group = Group.objects.create(name=f"{name} group")
    group.permissions.add(
        *Permission.objects.filter(codename__in=["access_admin", *codenames]),
    )
    for codename in page_permissions:
        GroupPagePermission.objects.create(
            group=group,
            page=Page.objects.get(depth=1),
            permission=Permission.objects.get(codename=codename),
        )
    user.groups.add(group)
    client.force_login(user)
    return user


PREVIEW_START = '<div class="w-syndication-preview"'
PREVIEW_END = "<!-- end of the preview cards -->"


def preview_html(content: str) -> str:
    """The editor's "What will be posted" panel in the edit view's HTML ``content``."""
    start = content.index(PREVIEW_START)
    return content[start : content.index(PREVIEW_END, start)]


def preview_sections(preview: str) -> dict[str, str]:
    """The preview's card per account (by account id), as HTML."""
    found = re.findall(r'data-account="(\d+)"[^>]*>(.*?)</section>', preview, re.S)
    return dict(found)


def card_texts(preview: str, *, as_posted: bool = True) -> list[str]:
    """The text of each card in ``preview``: as posted (each link its full address), or as
    the card shows it (each link as the network shows it)."""
    found = re.findall(r"data-preview-text>(.*?)</p>", preview, re.S)
    if as_posted:
        link = r'<span[^>]*data-preview-link="([^"]*)"[^>]*>.*?</span>'
        found = [re.sub(link, r"\1", text) for text in found]
    return [html.unescape(re.sub(r"<[^>]+>", "", text)) for text in found]


def card_count(card: str) -> str:
    """The "n of limit" of a card's count of characters."""
    (count,) = re.findall(r"data-preview-count>.*?(\d+ of \d+) characters", card, re.S)
    return count


def edit_page(client, page, image, **fields):
    data = {
        "title": page.title,
        "slug": page.slug,
        "photo": image.pk if image else "",
        "alt_text": page.alt_text,
        "syndicate": "on",
        "syndication_text": "",
        **fields,
    }
    return client.post(reverse("wagtailadmin_pages:edit", args=[page.pk]), data)


def field_errors(response):
    form = response.context["form"]
    return {name: [str(e) for e in errors] for name, errors in form.errors.items()}


def failed_record(page):
    record = SyndicationRecord.objects.get(page=page)
    assert record.state == "failed"
    assert PhotoPage.objects.get(pk=page.pk).live, "publishing must succeed whatever happens"
    return record
