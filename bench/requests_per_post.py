"""HTTP requests each publish costs, counted by FakeMastodon.

    python bench/requests_per_post.py

One account; photo pages with one JPEG each, published in code (``revision.publish()``) into
the database queue, and the queue then run by ``manage.py db_worker --batch`` (in this
process), as a worker would. FakeMastodon answers uploads at once (200, as Mastodon does for
still images); bench/vs_mastodon_py.py covers the 202 "still processing" case.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args(argv)
    print(__doc__.split("\n\n")[0].strip())
    _common.print_machine()
    _common.bootstrap()

    from syndicate_fakes import FakeMastodon

    with FakeMastodon(tokens={_common.TOKEN: _common.USERNAME}) as fake:
        _common.connect_account(fake.base_url)
        rows, met = [], True

        def measure(label: str, expected: int, publish) -> None:
            nonlocal met
            before = len(fake.requests)
            page = publish()
            queued = _common.queued_syndication_tasks()
            _common.run_worker()
            made = [f"{r.method} {_ids(r.path)}" for r in fake.requests[before:]]
            records = _common.records_of(page)
            state = ", ".join(record.state for record in records)
            met = met and len(made) == expected and state == "posted"
            rows.append((label, len(made), expected, queued, state, "; ".join(made) or "none"))

        image = _common.make_image(_common.jpeg_bytes(1600, 1200), title="Boats")
        measure(
            "first post (limits not cached yet)",
            3,
            lambda: _common.make_photo_page(image, title="First photo"),
        )
        page = None

        def second():
            nonlocal page
            page = _common.make_photo_page(image, title="Second photo")
            return page

        measure("another post (limits cached)", 2, second)
        measure("republish, nothing changed", 0, lambda: _common.republish(page))
        measure(
            "republish, new title", 1, lambda: _common.republish(page, title="Second photo, edited")
        )
        measure(
            "republish, new alt text",
            1,
            lambda: _common.republish(page, alt_text="Two boats leave the harbour at dawn"),
        )
        other = _common.make_image(_common.jpeg_bytes(1600, 1200, seed=2), title="Other boats")
        measure("republish, new image", 2, lambda: _common.republish(page, photo=other))
        statuses = len(fake.statuses)

    _common.print_table(
        ["publish", "requests", "expected", "tasks queued", "record", "requests made"],
        rows,
        title="HTTP requests per publish (one account, one image)",
    )
    print(f"\nStatuses on the fake: {statuses} (2 pages, no duplicate).")
    print(
        "Target: one-image post = 2 requests with limits cached, unchanged republish = 0: "
        f"{_common.verdict(met and statuses == 2)}."
    )
    return 0


def _ids(path: str) -> str:
    return re.sub(r"/\d+", "/:id", path)


if __name__ == "__main__":
    sys.exit(main())
