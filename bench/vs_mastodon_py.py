"""The same one-image post made by Mastodon.py, the usual Python client, and by the plugin's
worker, against a FakeMastodon that takes a while to process the image.

    pip install -e ".[bench]"          # Mastodon.py
    python bench/vs_mastodon_py.py     # 3 rounds, 1 s of processing
    python bench/vs_mastodon_py.py --rounds 5 --processing 2

Both upload with ``POST /api/v2/media``, which FakeMastodon answers 202 (still processing), poll
``GET /api/v1/media/:id`` until it answers 200, then post the status:

* **Mastodon.py** (``Mastodon(access_token=..., api_base_url=...)``, created once and reused):
  ``media_post(path, description=..., focus=..., synchronous=True)`` then
  ``status_post(text, media_ids=[media], ...)``. It polls at once, then every 5 s (and sleeps
  5 s after the poll that finds the image ready too).
* **plugin**: one run of the worker's task (``wagtail_syndicate.pipeline.tasks.share``) for a page
  published just before; it polls 1 s after the upload's answer, then after 3, 7, 15 s… (the
  interval doubles, up to 8 s).

"Time to posted" is from the start of the upload (Mastodon.py) or of the task run (plugin) to
the status's answer. A worker also takes up to its polling interval to pick the task up
(``db_worker --interval``, 1 s by default), which is not counted here.

FakeMastodon processes the image for ``--processing`` seconds from the upload, as Mastodon
does (``processing_seconds``): polls answer 206 until then, 200 after. The same fake serves
both, one account each, its upload rate limit lifted for the run.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common  # noqa: E402

CLIENTS = {"mastodon.py": "Mastodon.py", "plugin": "plugin (worker's task)"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="posts by each client (3)")
    parser.add_argument("--processing", type=float, default=1.0, help="seconds (default 1)")
    args = parser.parse_args(argv)
    try:
        from mastodon import Mastodon
    except ImportError:
        sys.exit('Mastodon.py is not installed: pip install -e ".[bench]"')
    print(__doc__.split("\n\n")[0].strip())
    _common.print_machine([("Mastodon.py", _common.package_version("Mastodon.py"))])
    _common.bootstrap()

    from syndicate_fakes import FakeMastodon
    from wagtail_syndicate.content.posts import compose_post
    from wagtail_syndicate.pipeline.limits_cache import limits_for
    from wagtail_syndicate.pipeline.tasks import share

    tokens = {"plugin-token": "plugin", "mastodonpy-token": "mastodonpy"}
    with FakeMastodon(tokens=tokens, processing_seconds=args.processing) as fake:
        fake.limits["media_rate_limit"] = 10_000
        account = _common.connect_account(fake.base_url, "plugin-token", "plugin")
        image = _common.make_image(_common.jpeg_bytes(1600, 1200), title="Boats")
        numbers = iter(range(10**9))
        warnings.filterwarnings("ignore", module="mastodon")  # "no API version found"
        client = None

        def post(name: str) -> tuple[float, list[str]]:
            nonlocal client
            page = _common.make_photo_page(image, title=f"Boats {next(numbers)}")
            composed = compose_post(page, account, limits_for(account, fetch=False))
            _common.fan_out_publishes()
            (record,) = _common.records_of(page)
            media = composed.media[0]
            before = len(fake.requests)
            start = time.perf_counter()
            if name == "plugin":
                outcome = share(record.pk, record.generation)
                assert outcome == "posted", (outcome, _common.records_of(page)[0].last_error)
            else:
                if client is None:
                    client = Mastodon(access_token="mastodonpy-token", api_base_url=fake.base_url)
                attachment = client.media_post(
                    image.file.path,
                    mime_type="image/jpeg",
                    description=media.alt_text,
                    focus=media.focus,
                    synchronous=True,
                )
                client.status_post(
                    composed.text,
                    media_ids=[attachment],
                    visibility="public",
                    language=composed.language,
                    idempotency_key=f"mastodonpy-{record.pk}",
                )
            seconds = time.perf_counter() - start
            made = [f"{r.method} {r.path}" for r in fake.requests[before:]]
            return seconds, made

        first = {name: post(name) for name in CLIENTS}  # fresh client, limits not cached
        runs: dict[str, list[tuple[float, list[str]]]] = {name: [] for name in CLIENTS}
        print(f"Posting: {args.rounds} rounds...", flush=True)
        for _round, name in _common.interleaved(list(CLIENTS), args.rounds):
            runs[name].append(post(name))
        statuses = fake.statuses
        attached = all(len(status.media) == 1 for status in statuses)

    rows = []
    for name, label in CLIENTS.items():
        counts = sorted({len(made) for _seconds, made in runs[name]})
        rows.append(
            (
                label,
                len(runs[name]),
                "/".join(map(str, counts)),
                len(first[name][1]),
                f"{_common.median(s for s, _made in runs[name]):.2f}",
                _shape(runs[name][0][1]),
            )
        )
    _common.print_table(
        ["client", "posts", "requests", "first post", "time to posted s", "requests of a post"],
        rows,
        title=f"One-image post, {args.processing:g} s of processing (medians)",
    )
    plugin = _common.median(len(made) for _s, made in runs["plugin"])
    other = _common.median(len(made) for _s, made in runs["mastodon.py"])
    ratio = _common.median(s for s, _m in runs["plugin"]) / _common.median(
        s for s, _m in runs["mastodon.py"]
    )
    for name, label in CLIENTS.items():
        print(f"\nFirst post of {label}: {_shape(first[name][1])}.", end="")
    print(f"\nEvery status has its image: {attached} ({len(statuses)} statuses).")
    print(
        f"Requests: plugin {plugin:g}, Mastodon.py {other:g}; target no more: "
        f"{_common.verdict(plugin <= other)}."
    )
    print(
        f"Time to posted: plugin {ratio:.2f} × Mastodon.py's; target ≤ 0.50: "
        f"{_common.verdict(ratio <= 0.5)}."
    )
    return 0


def _shape(made: list[str]) -> str:
    """``POST /api/v2/media, GET /api/v1/media/:id ×3, ...``"""
    import re

    names = [re.sub(r"/\d+", "/:id", request) for request in made]
    shaped = []
    for name in names:
        if shaped and shaped[-1][0] == name:
            shaped[-1][1] += 1
        else:
            shaped.append([name, 1])
    return ", ".join(name + (f" ×{count}" if count > 1 else "") for name, count in shaped)


if __name__ == "__main__":
    sys.exit(main())
