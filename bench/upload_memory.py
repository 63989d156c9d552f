"""Peak memory of one image upload to each network, against the image's file size: the body
built by requests (as before), against the body streamed from the file (as shipped).

    python bench/upload_memory.py               # 3 rounds
    python bench/upload_memory.py --rounds 5

The image is a JPEG of about 4.8 MiB (a gradient with grain, 3100×2325), under every network's
upload limit, so it is sent as it is (no rendition: nothing is decoded). Each network's fake
(FakeMastodon, FakeBluesky, FakeX) runs in a process of its own (``python -m
syndicate_fakes``), so what it holds is not counted. Each measurement is a fresh
process (``python bench/upload_memory.py --child ...``) on the same site that connects to the
account, uploads a small image first (signing in, opening the connection, importing what an
upload imports), then resets its peak resident set size (``5`` into ``/proc/self/clear_refs``)
and uploads the photo from storage; the figure is its peak (``VmHWM``) less its resident size
just before (``VmRSS``):

* **requests builds the body** (before): the request the plugin sent until it streamed, through
  the same client: Mastodon and X with requests' ``files=`` (which reads the whole file and
  joins the multipart body in memory), Bluesky with the open file as ``data=`` (requests
  already sent a file body as it read it);
* **streamed** (shipped): ``network.upload_media``: a ``MultipartEncoder`` over the file
  (Mastodon, X) or the file itself (Bluesky), read a chunk at a time, with its Content-Length.

Rounds run every variant once in a shuffled order; the table gives medians.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common  # noqa: E402

TARGET = 1.2  # peak growth of an upload at most 1.2 × the file's size
NETWORKS = ("mastodon", "bluesky", "x")
VARIANTS = {"requests": "requests builds the body (before)", "streamed": "streamed (shipped)"}
PHOTO = (3100, 2325, 20, 95)  # width, height, noise, JPEG quality: about 4.8 MiB
# What each account signs in with: Mastodon's and X's bearer token, Bluesky's app password.
SECRETS = {"mastodon": _common.TOKEN, "bluesky": "bench-app-password", "x": "x-bench-token"}
HANDLE = "bench.test"
FAKE_ARGUMENTS = {
    "mastodon": ["--token", SECRETS["mastodon"], "--username", _common.USERNAME],
    "bluesky": ["--handle", HANDLE, "--app-password", SECRETS["bluesky"]],
    "x": ["--token", SECRETS["x"], "--username", _common.USERNAME],
}


# The child: one measurement ------------------------------------------------------------------


def send_as_before(network: str, client, media) -> None:
    """The upload request as the plugin sent it before it streamed, through the same client."""
    with media.file.open("rb") as file:
        part = (media.filename, file, media.content_type)
        if network == "mastodon":
            client.http.json(
                "POST", "/api/v2/media", files={"file": part}, data={"description": media.alt_text}
            )
        elif network == "x":
            client.http.request(
                "POST",
                "/2/media/upload",
                files={"media": part},
                data={"media_category": "tweet_image"},
                headers={"Authorization": f"Bearer {client.bearer_token}"},
            )
        else:
            client.call(
                "POST",
                "com.atproto.repo.uploadBlob",
                data=file,
                headers={"Content-Type": media.content_type},
            )


def child(network_name: str, variant: str, bench_dir: str, account_id: int, image_id: int) -> None:
    _common.bootstrap(bench_dir=bench_dir, migrate_it=False)
    from django.core.files.base import ContentFile
    from wagtail.images import get_image_model

    from wagtail_syndicate.models import SyndicationAccount
    from wagtail_syndicate.networks import get_network
    from wagtail_syndicate.networks.post import Media

    def media_of(file, size: int) -> Media:
        return Media(file=file, filename="photo.jpg", content_type="image/jpeg", alt_text="",
                     focus=None, width=0, height=0, size=size, source="bench")  # fmt: skip

    account = SyndicationAccount.objects.get(pk=account_id)
    image = get_image_model().objects.get(pk=image_id)
    network = get_network(network_name)
    client = network.connect(account.credentials())

    def upload(media) -> None:
        if variant == "streamed":
            network.upload_media(client, media)
        else:
            send_as_before(network_name, client, media)

    small = _common.jpeg_bytes(64, 48)
    upload(media_of(ContentFile(small, name="small.jpg"), len(small)))  # sign in, connect
    size = image.file.size
    media = media_of(image.file, size)
    with _common.peak_memory(restart=True) as answer:
        upload(media)
    _common.report({**answer, "size": size})


# The driver ----------------------------------------------------------------------------------


@contextlib.contextmanager
def fake_process(network: str):
    """The network's fake on a free port of 127.0.0.1 in a process of its own; its base URL."""
    command = [sys.executable, "-m", "syndicate_fakes", "--network", network]
    command += ["--port", "0", "--quiet", *FAKE_ARGUMENTS[network]]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=_common.ROOT)
    try:
        match = re.search(r"running at (http://127\.0\.0\.1:\d+)", process.stdout.readline())
        if not match:
            raise RuntimeError(f"the fake {network} server did not start")
        yield match.group(1)
    finally:
        process.terminate()  # this process's own child, by its pid
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def connect(network: str, base_url: str):
    from wagtail_syndicate.models import SyndicationAccount

    if network == "mastodon":
        return _common.connect_account(base_url)
    handle = HANDLE if network == "bluesky" else f"@{_common.USERNAME}"
    account = SyndicationAccount(network=network, instance_url=base_url, handle=handle)
    account.access_token = SECRETS[network]
    account.save()
    return account


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        network, variant, bench_dir, account_id, image_id = args.child
        child(network, variant, bench_dir, int(account_id), int(image_id))
        return 0

    print(__doc__.split("\n\n")[0].strip())
    _common.print_machine()
    bench_dir = _common.bootstrap()
    width, height, noise, quality = PHOTO
    data = _common.jpeg_bytes(width, height, noise=noise, quality=quality)
    image = _common.make_image(data, title="Harbour")
    print(f"\nPhoto: {width}×{height} JPEG, {len(data) / 2**20:.2f} MiB", flush=True)

    results: dict[tuple[str, str], list[dict]] = {}
    with contextlib.ExitStack() as stack:
        accounts = {
            network: connect(network, stack.enter_context(fake_process(network)))
            for network in NETWORKS
        }
        pairs = [f"{network} {variant}" for network in NETWORKS for variant in VARIANTS]
        print(f"Measuring: {args.rounds} rounds of fresh processes...", flush=True)
        for _round, pair in _common.interleaved(pairs, args.rounds):
            network, variant = pair.split()
            command = [__file__, "--child", network, variant, bench_dir]
            command += [str(accounts[network].pk), str(image.pk)]
            answer = _common.run_child(bench_dir, *command)
            results.setdefault((network, variant), []).append(answer)

    rows, worst = [], 0.0
    for network in NETWORKS:
        for variant, label in VARIANTS.items():
            runs = results[network, variant]
            added = _common.median(r["peak"] - r["before"] for r in runs)
            ratio = added / len(data)
            if variant == "streamed":
                worst = max(worst, ratio)
            rows.append(
                (
                    network,
                    label,
                    len(runs),
                    f"{_common.median(r['before'] for r in runs) / 2**20:.0f}",
                    f"{added / 2**10:,.0f}",
                    f"{ratio:.3f}",
                    f"{_common.median(r['seconds'] for r in runs):.2f}",
                )
            )
    _common.print_table(
        ["network", "upload", "runs", "RSS before MiB", "peak added KiB", "× file", "seconds"],
        rows,
        title=f"One upload of a {len(data) / 2**20:.2f} MiB file (medians; × file: peak added / "
        "file size)",
    )
    print(
        f"\nThe streamed upload's peak adds at most {worst:.3f} × the file's size; "
        f"target ≤ {TARGET:.1f}: {_common.verdict(worst <= TARGET)}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
