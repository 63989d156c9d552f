"""Run a fake network server as a process, e.g. for the demo:

    python -m syndicate_fakes --host 127.0.0.1 --port 8765 \\
        --token demo-token --username demo
    python -m syndicate_fakes --network bluesky --port 8002 \\
        --handle demo.test --app-password demo-app-password
    python -m syndicate_fakes --network x --port 8003 \\
        --token x-demo-token --username demo

``--network`` is ``mastodon`` (the default: FakeMastodon), ``bluesky`` (FakeBluesky) or ``x``
(FakeX). Mastodon and X: give ``--token``/``--username`` several times for several accounts
(bearer tokens that never expire); apps may also connect with OAuth, the consent page acting
for the first username (X: the app ``--client-id``, default ``fake-x-client``). Bluesky: give
``--handle``/``--app-password`` several times for several accounts.
``--chaos-rate 0.2 --chaos-seed 1`` gives API requests seeded random faults
(``--chaos-kinds``, ``--chaos-delay``: see ``FakeServer.chaos``). Mastodon only:
``--no-oauth-metadata`` makes the server look older than Mastodon 4.3 (no PKCE).
``--processing-seconds 1`` answers uploads 202 and keeps each image processing for a second
(``--processing-polls N``: for N polls). ``--limits '{"max_characters": 100}'`` (JSON) changes
the instance's limits, e.g. ``media_rate_limit``/``media_rate_period`` to time-scale the upload
rate limit; ``--aligned-rate-windows`` starts rate-limit windows at multiples of their period
since the epoch, as Mastodon does. The first
line printed is ``FakeMastodon running at http://HOST:PORT`` (``FakeBluesky``, ``FakeX``;
useful with ``--port 0``); one line per request follows. Each fake's front page lists its
posts with their images and alt text. Stops on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from ._chaos import CHAOS_KINDS, DEFAULT_KINDS
from .fake_bluesky import FakeBluesky
from .fake_mastodon import DEFAULT_LIMITS, FakeMastodon
from .fake_x import FakeX

# Options that only FakeMastodon knows, with their defaults.
MASTODON_ONLY = {
    "processing_polls": 0,
    "processing_seconds": 0.0,
    "limits": {},
    "aligned_rate_windows": False,
    "no_oauth_metadata": False,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m syndicate_fakes",
        description="Run a fake Mastodon, Bluesky or X server for local testing and demos.",
    )
    parser.add_argument(
        "--network",
        choices=("mastodon", "bluesky", "x"),
        default="mastodon",
        help="the network to fake (default mastodon)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (0 picks a free one)")
    parser.add_argument("--token", action="append", help="access token (repeatable)")
    parser.add_argument("--username", action="append", help="username for each --token")
    parser.add_argument("--handle", action="append", help="Bluesky: handle (repeatable)")
    parser.add_argument(
        "--app-password", action="append", help="Bluesky: app password for each --handle"
    )
    parser.add_argument(
        "--client-id",
        default="fake-x-client",
        help="X: the OAuth 2.0 client ID of the app (default fake-x-client)",
    )
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

    fake, accounts, signed_in = _fake(parser, args)
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
    name = type(fake).__name__
    print(f"{name} running at {fake.base_url}", flush=True)
    print(f"Accounts: {', '.join('@' + a for a in dict.fromkeys(accounts))}", flush=True)
    if signed_in:
        print(f"OAuth consent pages sign in as @{signed_in}", flush=True)
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
    print(f"{name} stopped.", flush=True)
    return 0


def _fake(parser, args):
    """The fake server the options ask for, the names of its accounts, and who its OAuth
    consent page signs in as (None: it has none)."""
    common = {"host": args.host, "port": args.port, "verbose": not args.quiet}
    if args.network != "mastodon":
        given = [k for k, default in MASTODON_ONLY.items() if getattr(args, k) != default]
        if given:
            options = ", ".join("--" + k.replace("_", "-") for k in given)
            parser.error(f"{options}: for --network mastodon only")
    if args.network == "bluesky":
        if args.token or args.username:
            parser.error("--network bluesky: give --handle and --app-password")
        handles = args.handle or ["demo.test"]
        passwords = args.app_password or ["demo-app-password"] * len(handles)
        if len(passwords) != len(handles):
            parser.error("give one --app-password per --handle")
        return FakeBluesky(dict(zip(handles, passwords, strict=True)), **common), handles, None
    if args.handle or args.app_password:
        parser.error("--handle and --app-password are for --network bluesky")
    tokens = args.token or ["demo-token"]
    usernames = args.username or ["demo"] * len(tokens)
    if len(usernames) != len(tokens):
        parser.error("give one --username per --token")
    tokens = dict(zip(tokens, usernames, strict=True))
    if args.network == "x":
        return FakeX(tokens, client_id=args.client_id, **common), usernames, usernames[0]
    fake = FakeMastodon(
        tokens=tokens,
        processing_polls=args.processing_polls,
        processing_seconds=args.processing_seconds,
        limits=args.limits,
        aligned_rate_windows=args.aligned_rate_windows,
        oauth_metadata=not args.no_oauth_metadata,
        **common,
    )
    return fake, usernames, usernames[0]


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
