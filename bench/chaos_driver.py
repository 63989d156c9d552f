"""The editor side of the fault-injection run: pages, accounts and publishes, in one process.

Run by ``bench/chaos.py`` with ``DJANGO_SETTINGS_MODULE=tests.chaos_settings``::

    python -m bench.chaos_driver --pages 100 --instance http://127.0.0.1:PORT \\
        --account TOKEN:USERNAME --account TOKEN:USERNAME --manifest out.json

It connects the accounts, creates the pages (each with its own small image and alt text) as
drafts, then publishes every page twice. The second publish retitles the page, at one of three
moments, by page number: at once (the first run has not started), while a run is in flight
(a record is ``posting``: the run is handed over), or after the post is out (an edit). It
writes a manifest (what each page and account should end as on the fake) and what it saw.
"""

import argparse
import io
import json
import sys
import time

import django

django.setup()

from django.core.files.images import ImageFile  # noqa: E402
from django.db import OperationalError, transaction  # noqa: E402
from PIL import Image as PILImage  # noqa: E402
from PIL import ImageDraw  # noqa: E402
from wagtail.images import get_image_model  # noqa: E402
from wagtail.models import Page  # noqa: E402

from tests.testapp.models import PhotoPage  # noqa: E402
from wagtail_syndicate.models import SyndicationAccount, SyndicationRecord  # noqa: E402

MOMENTS = ("at once", "in flight", "after posting")


def make_image(number: int):
    """A 64×48 PNG unlike every other: its own colours and a square where its number says."""
    picture = PILImage.new("RGB", (64, 48), ((number * 37) % 256, (number * 91) % 256, 128))
    draw = ImageDraw.Draw(picture)
    x, y = (number * 7) % 56, (number * 5) % 40
    draw.rectangle((x, y, x + 7, y + 7), fill=(255 - (number % 256), 255, number % 256))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return get_image_model().objects.create(
        title=f"Chaos photo {number}",
        file=ImageFile(io.BytesIO(buffer.getvalue()), name=f"chaos-{number}.png"),
    )


def connect(instance: str, accounts: list[str]) -> dict[int, str]:
    usernames = {}
    for entry in accounts:
        token, username = entry.split(":", 1)
        host = instance.split("://", 1)[1]
        account = SyndicationAccount(
            network="mastodon", instance_url=instance, handle=f"@{username}@{host}"
        )
        account.access_token = token
        account.save()
        usernames[account.pk] = username
    return usernames


def create_pages(count: int) -> list[int]:
    return [retrying_locked(create_page, number) for number in range(count)]


def create_page(number: int) -> int:
    with transaction.atomic():
        home = Page.objects.get(depth=2)  # fresh each time: add_child changes it
        page = PhotoPage(
            title=f"Chaos page {number}",
            slug=f"chaos-page-{number}",
            photo=make_image(number),
            alt_text=f"Square {number} on a field of its own colour",
            syndicate=True,
            live=False,
        )
        home.add_child(instance=page)
        return page.pk


def publish(page_id: int, title: str | None = None) -> None:
    """``revision.publish()``, as a script would."""
    page = PhotoPage.objects.get(pk=page_id)
    if title:
        page.title = title
    page.save_revision().publish()


def retrying_locked(function, *args, attempts: int = 10):
    """Call ``function``; when SQLite says the database is locked (a deferred transaction
    that could not get the write lock), count it and try again: the transaction was rolled
    back whole."""
    for attempt in range(attempts):
        try:
            return function(*args)
        except OperationalError as err:
            if "locked" not in str(err) or attempt == attempts - 1:
                raise
            print(f"{function.__name__}{args}: {err}; trying again", file=sys.stderr, flush=True)
            LOCKED.append(args)
            time.sleep(0.1)


LOCKED: list[int] = []


def states(page_ids) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {pid: set() for pid in page_ids}
    rows = SyndicationRecord.objects.filter(page_id__in=page_ids).values_list("page_id", "state")
    for page_id, state in rows:
        found[page_id].add(state)
    return found


def ready(moment: str, seen: set[str], waited: float, patience: float) -> bool:
    if moment == "at once":
        return True
    if moment == "in flight":
        return "posting" in seen or seen == {"posted"} or waited > patience
    return seen == {"posted"} or waited > patience


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos_driver")
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--instance", required=True)
    parser.add_argument("--account", action="append", required=True, help="TOKEN:USERNAME")
    parser.add_argument("--manifest", required=True, help="write the expected end state here")
    parser.add_argument("--pause", type=float, default=0.02, help="seconds between publishes")
    parser.add_argument("--patience", type=float, default=30.0, help="longest wait for a moment")
    args = parser.parse_args(argv)

    usernames = retrying_locked(connect, args.instance, args.account)
    page_ids = create_pages(args.pages)
    print(f"created {len(page_ids)} pages and {len(usernames)} accounts", flush=True)

    started = time.monotonic()
    pending: dict[int, tuple[str, float]] = {}  # page → (moment, when first published)
    seen_at_second: dict[str, int] = {}
    titles = {pid: f"Chaos page {n}" for n, pid in enumerate(page_ids)}

    def second(page_id: int, seen: set[str]) -> None:
        titles[page_id] = f"{titles[page_id]}, retitled"
        retrying_locked(publish, page_id, titles[page_id])
        label = "+".join(sorted(seen)) or "none"
        seen_at_second[label] = seen_at_second.get(label, 0) + 1

    def sweep() -> None:
        if not pending:
            return
        now = time.monotonic()
        for page_id, seen in states(list(pending)).items():
            moment, since = pending[page_id]
            if ready(moment, seen, now - since, args.patience):
                del pending[page_id]
                second(page_id, seen)

    for number, page_id in enumerate(page_ids):
        retrying_locked(publish, page_id)
        moment = MOMENTS[number % len(MOMENTS)]
        if moment == "at once":
            second(page_id, set(next(iter(states([page_id]).values()))))
        else:
            pending[page_id] = (moment, time.monotonic())
        sweep()
        time.sleep(args.pause)
    while pending:
        sweep()
        time.sleep(0.05)

    pages = {
        page.pk: {"title": page.title, "url": page.get_full_url(), "alt_text": page.alt_text}
        for page in PhotoPage.objects.filter(pk__in=page_ids)
    }
    assert all(pages[pid]["title"] == titles[pid] for pid in page_ids)
    with open(args.manifest, "w") as manifest:
        json.dump(
            {
                "pages": {str(pk): value for pk, value in pages.items()},
                "accounts": {str(pk): name for pk, name in usernames.items()},
                "second_publish_saw": seen_at_second,
                "publish_seconds": round(time.monotonic() - started, 1),
                "publishes_locked": len(LOCKED),
            },
            manifest,
            indent=1,
        )
    print(f"published {len(page_ids)} pages twice; second publishes saw {seen_at_second}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
