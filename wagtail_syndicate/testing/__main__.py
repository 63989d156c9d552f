"""Run FakeMastodon as a process, e.g. for the demo:

    python -m wagtail_syndicate.testing --host 127.0.0.1 --port 8765 \\
        --token demo-token --username demo

Give ``--token``/``--username`` several times for several accounts.
``--chaos-rate 0.2 --chaos-seed 1`` gives API requests seeded random faults
(``--chaos-kinds``, ``--chaos-delay``: see ``FakeMastodon.chaos``). Apps may
connect with OAuth: the consent page acts for the first username;
``--no-oauth-metadata`` makes the server look older than Mastodon 4.3 (no PKCE).
``--processing-seconds 1`` answers uploads 202 and keeps each image processing for a second
(``--processing-polls N``: for N polls). ``--limits '{"max_characters": 100}'`` (JSON) changes
the instance's limits, e.g. ``media_rate_limit``/``media_rate_period`` to time-scale the upload
rate limit; ``--aligned-rate-windows`` starts rate-limit windows at multiples of their period
since the epoch, as Mastodon does. The first
line printed is ``FakeMastodon running at http://HOST:PORT`` (useful with
``--port 0``); one line per request follows. Stops on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from ._chaos import CHAOS_KINDS, DEFAULT_KINDS
from .fake_mastodon import DEFAULT_LIMITS, FakeMastodon


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m wagtail_syndicate.testing",
        description="Run a fake Mastodon server for local testing and demos.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (0 picks a free one)")
    parser.add_argument("--token", action="append", help="access token (repeatable)")
    parser.add_argument("--username", action="append", help="username for each --token")
    parser.add_argument(
        "--processing-polls",
        type=int,
        default=0,
        help="answer uploads 202 and stay 'processing' for this many polls",
    )
    parser.add_argument(
        "--processing-seconds",
        type=float,
        default=0.0,
        help="answer uploads 202 and stay 'processing' for this many seconds after the upload",
    )
    parser.add_argument(
        "--limits",
        type=_limits,
        default={},
        help='JSON object merged into the instance limits, e.g. \'{"media_rate_limit": 30, '
        '"media_rate_period": 6}\'',
    )
    parser.add_argument(
        "--aligned-rate-windows",
        action="store_true",
        help="start rate-limit windows at multiples of their period since the epoch (Mastodon's "
        "way) rather than at a token's first request",
    )
    parser.add_argument(
        "--no-oauth-metadata",
        action="store_true",
        help="act as a server older than Mastodon 4.3: no OAuth metadata document, no PKCE",
    )
    parser.add_argument("--quiet", action="store_true", help="do not print one line per request")
    parser.add_argument(
        "--chaos-rate",
        type=float,
        default=0.0,
        help="give each API request a random fault with this probability (e.g. 0.2)",
    )
    parser.add_argument("--chaos-seed", type=int, default=None, help="seed of the random faults")
    parser.add_argument(
        "--chaos-kinds",
        default=",".join(DEFAULT_KINDS),
        help=f"comma-separated fault kinds among {','.join(CHAOS_KINDS)} "
        f"(default {','.join(DEFAULT_KINDS)})",
    )
    parser.add_argument(
        "--chaos-delay",
        type=float,
        default=2.0,
        help="seconds a 'timeout' fault stays silent (past the client's read time-out)",
    )
    args = parser.parse_args(argv)

    tokens = args.token or ["demo-token"]
    usernames = args.username or ["demo"] * len(tokens)
    if len(usernames) != len(tokens):
        parser.error("give one --username per --token")

    fake = FakeMastodon(
        tokens=dict(zip(tokens, usernames, strict=True)),
        host=args.host,
        port=args.port,
        processing_polls=args.processing_polls,
        processing_seconds=args.processing_seconds,
        limits=args.limits,
        aligned_rate_windows=args.aligned_rate_windows,
        verbose=not args.quiet,
        oauth_metadata=not args.no_oauth_metadata,
    )
    if args.chaos_rate:
        try:
            fake.chaos(
                args.chaos_rate,
                args.chaos_seed,
                [kind.strip() for kind in args.chaos_kinds.split(",") if kind.strip()],
                delay=args.chaos_delay,
            )
        except ValueError as err:
            parser.error(str(err))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    fake.start()
    print(f"FakeMastodon running at {fake.base_url}", flush=True)
    print(f"Accounts: {', '.join('@' + u for u in dict.fromkeys(usernames))}", flush=True)
    print(f"OAuth consent pages sign in as @{usernames[0]}", flush=True)
    if args.chaos_rate:
        print(
            f"Chaos: {args.chaos_rate:.0%} of API requests fail "
            f"({args.chaos_kinds}; seed {args.chaos_seed})",
            flush=True,
        )
    print("Press Ctrl-C to stop.", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        fake.stop()
    print("FakeMastodon stopped.", flush=True)
    return 0


def _limits(value: str) -> dict:
    try:
        limits = json.loads(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not JSON: {err}") from None
    if not isinstance(limits, dict):
        raise argparse.ArgumentTypeError("a JSON object is expected")
    unknown = sorted(set(limits) - set(DEFAULT_LIMITS))
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown limits {', '.join(unknown)} (known: {', '.join(sorted(DEFAULT_LIMITS))})"
        )
    return limits


if __name__ == "__main__":
    sys.exit(main())
