"""Sharing a backlog: ``manage.py syndicate --all-live`` for 500 old pages against a
FakeMastodon that enforces Mastodon's upload rate limit, time-scaled.

    python bench/backfill.py                       # 500 pages, 30 uploads per 6 s
    python bench/backfill.py --pages 200 --accounts 2 --window 3

Mastodon lets an account upload 30 images per 30 minutes, so 500 photo pages take at least
(⌈500 / 30⌉ − 1) × 30 min = 8 hours. Here time runs 300 × faster: 30 uploads per 6 s, for the
fake (``fake.limits["media_rate_period"]``, and its general API limit of 300 requests per 5
minutes scaled alike) and for the command (``WAGTAIL_SYNDICATE["MEDIA_UPLOAD_WINDOW"]``, and
``RETRY_BACKOFF`` so a retry waits as long, scaled). The floor is then
(⌈pages / 30⌉ − 1) × 6 s = 96 s: the last batch of uploads cannot start before. (With 3 s,
posting 30 pages one after another can take longer than the window on a slow or busy machine,
and the run measures the machine, not the pacing: the output says so when it happens.)

The pages are published before any account is connected (so nothing was queued), each with
"Share when published" on and a small JPEG of its own title (the work per post must stay well
under the time-scaled window, or the benchmark measures the machine, not the pacing). The
command runs in a process of its own, timed from start to exit; then it runs again, which
should post nothing. The checks: every page posted exactly once per account, no record failed,
no 429 from the fake (the command paces itself to the limit), and the time.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common  # noqa: E402

TARGET = 1.10
MASTODON_WINDOW = 1800.0  # 30 uploads per 30 minutes
UPLOAD_LIMIT = 30


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=500, help="pages to share (500)")
    parser.add_argument("--accounts", type=int, default=1, help="accounts (1)")
    parser.add_argument("--window", type=float, default=6.0, help="seconds for 30 uploads (6)")
    args = parser.parse_args(argv)
    print(__doc__.split("\n\n")[0].strip())
    _common.print_machine()
    bench_dir = _common.bootstrap()

    from django.db import transaction
    from django.utils import timezone
    from wagtail.models import Page

    from syndicate_fakes import FakeMastodon
    from tests.testapp.models import PhotoPage
    from wagtail_syndicate.models import SyndicationRecord

    print(f"\nPublishing {args.pages} pages...", flush=True)
    image = _common.make_image(_common.jpeg_bytes(320, 240), title="Boats")
    home = Page.objects.get(depth=2)
    now = timezone.now()
    with transaction.atomic():
        for number in range(args.pages):
            # Live with no revision: what matters is that they were published before.
            home.add_child(
                instance=PhotoPage(
                    title=f"Old photo {number}",
                    slug=f"old-photo-{number}",
                    photo=image,
                    alt_text=f"Old photo {number}: boats in the harbour",
                    syndicate=True,
                    live=True,
                    first_published_at=now,
                )
            )
            home.refresh_from_db()  # its numchild and last child changed

    scale = MASTODON_WINDOW / args.window
    tokens = {f"backfill-token-{n}": f"user{n}" for n in range(args.accounts)}
    log = TimedLog()
    with FakeMastodon(tokens=tokens, verbose=True, log=log) as fake:
        fake.limits.update(
            media_rate_limit=UPLOAD_LIMIT,
            media_rate_period=args.window,
            api_rate_period=fake.limits["api_rate_period"] / scale,
        )
        for token, username in tokens.items():
            _common.connect_account(fake.base_url, token, username)
        plugin_settings = {
            "MEDIA_UPLOAD_LIMIT": UPLOAD_LIMIT,
            "MEDIA_UPLOAD_WINDOW": args.window,
            "RETRY_BACKOFF": 30.0 / scale,
            "RETRY_BACKOFF_MAX": 3600.0 / scale,
        }
        env = {
            **os.environ,
            **_common.child_env(True, bench_dir),
            "BENCH_SYNDICATE": json.dumps(plugin_settings),
        }

        def syndicate() -> tuple[float, str, int]:
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "django", "syndicate", "--all-live"],
                capture_output=True,
                text=True,
                env=env,
                cwd=_common.ROOT,
            )
            seconds = time.perf_counter() - start
            last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
            return seconds, last, done.returncode

        print(
            f"Running: syndicate --all-live ({args.accounts} account(s), {UPLOAD_LIMIT} uploads "
            f"per {args.window:g} s)...",
            flush=True,
        )
        seconds, summary, code = syndicate()
        requests = fake.requests
        statuses = fake.statuses
        answers_429 = sum(1 for _moment, line in log.lines if line.endswith("-> 429"))
        kinds = Counter(re.sub(r"/\d+", "/:id", line) for _moment, line in log.lines)
        uploaded_at = [m for m, line in log.lines if line.startswith("POST /api/v2/media ->")]
        before = len(requests)
        again_seconds, again_summary, again_code = syndicate()
        again_requests = len(fake.requests) - before

    posts_per_page = Counter()
    for status in statuses:
        found = re.search(r"/old-photo-(\d+)/", status.text)
        posts_per_page[(status.account, found.group(1) if found else "?")] += 1
    expected = args.pages * args.accounts
    duplicates = sum(count - 1 for count in posts_per_page.values() if count > 1)
    missing = expected - len(posts_per_page)
    states = Counter(SyndicationRecord.objects.values_list("state", flat=True))
    failed = expected - states.get("posted", 0)
    floor = (math.ceil(args.pages / UPLOAD_LIMIT) - 1) * args.window
    ratio = seconds / floor if floor else float("nan")
    # The command posts one page at a time: when posting 30 pages takes longer than the
    # window, the machine is the bound, not the rate limit. A post's work is the usual gap
    # between two uploads (the waits for the rate limit are the few long gaps).
    gaps = [b - a for a, b in zip(uploaded_at, uploaded_at[1:], strict=False)]
    work = _common.median(gaps) * expected if gaps else 0.0

    _common.print_table(
        ["", ""],
        [
            ("pages × accounts", f"{args.pages} × {args.accounts} = {expected}"),
            ("upload rate limit (time-scaled)", f"{UPLOAD_LIMIT} per {args.window:g} s"),
            ("command's summary", summary),
            ("exit status", code),
            ("statuses on the fake", len(statuses)),
            ("duplicates / missing", f"{duplicates} / {missing}"),
            ("records", dict(states)),
            ("requests", len(requests)),
            *((f"  {kind}", count) for kind, count in sorted(kinds.items())),
            ("rate-limit floor", f"{floor:.1f} s"),
            ("posting alone (median gap between uploads × posts)", f"{work:.1f} s"),
            ("time, command start to exit", f"{seconds:.1f} s"),
            ("time / floor", f"{ratio:.3f}"),
            ("time / max(floor, posting alone)", f"{seconds / max(floor, work):.3f}"),
            ("run again: summary", again_summary),
            ("run again: requests, time", f"{again_requests}, {again_seconds:.1f} s"),
        ],
        title="manage.py syndicate --all-live",
    )
    met = (
        code == 0
        and failed == 0
        and duplicates == 0
        and missing == 0
        and ratio <= TARGET
        and again_requests == 0
    )
    if answers_429:
        print(
            f"\n{answers_429} upload(s) answered 429: the command's pacer counts an upload "
            "from before it is sent, the fake's window from the first upload's arrival."
        )
    print(
        f"\nTarget (no failure, no duplicate, within {TARGET - 1:.0%} of the floor, a rerun "
        f"posts nothing): {_common.verdict(met)}."
    )
    per_window = work / expected * UPLOAD_LIMIT if expected else 0.0
    if per_window > args.window:
        print(
            f"Posting alone takes longer than the rate limit allows on this machine "
            f"({work / expected * 1000:.0f} ms a post, {UPLOAD_LIMIT} posts in "
            f"{per_window:.1f} s > {args.window:g} s): the floor cannot be reached; try a "
            "longer --window."
        )
    return 0


class TimedLog:
    """FakeMastodon's request log ("METHOD PATH -> STATUS"), each line with its time."""

    def __init__(self) -> None:
        self.lines: list[tuple[float, str]] = []

    def write(self, text: str) -> None:
        if "->" in text:
            self.lines.append((time.monotonic(), text.strip()))

    def flush(self) -> None:
        pass


if __name__ == "__main__":
    sys.exit(main())
