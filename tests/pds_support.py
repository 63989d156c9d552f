"""The real Bluesky PDS in the tests: accounts of their own on it, its public reads, and a small
loopback proxy between the plugin and the PDS that records what the plugin sent and can lose an
answer on the way back.

The PDS is the official one (``@atproto/pds``), started by ``.ci/pds/start.sh``; its URL is in
``TEST_BLUESKY_PDS_URL``. The tests' own set-up requests carry the rate-limit bypass key that
start.sh gives the PDS, so only the plugin's requests count against its rate limits.
"""

from __future__ import annotations

import http.client
import io
import os
import secrets
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import requests

PDS_URL_VARIABLE = "TEST_BLUESKY_PDS_URL"
REQUIRED_VARIABLE = "WAGTAIL_SYNDICATE_PDS_TESTS"
BYPASS = {
    "x-ratelimit-bypass": os.environ.get("PDS_RATE_LIMIT_BYPASS_KEY", "wagtail-syndicate-tests")
}
POSTS = "app.bsky.feed.post"


def pds_url() -> str:
    return os.environ.get(PDS_URL_VARIABLE, "").rstrip("/")


def missing_pds() -> str | None:
    """Why the real PDS cannot be used here, or None."""
    url = pds_url()
    if not url:
        return f'{PDS_URL_VARIABLE} is not set (eval "$(.ci/pds/start.sh)" starts the PDS)'
    try:
        requests.get(f"{url}/xrpc/_health", timeout=5).raise_for_status()
    except requests.RequestException as err:
        return f"the PDS at {url} does not answer /xrpc/_health ({err})"
    return None


def xrpc(method: str, nsid: str, token: str | None = None, **kwargs) -> requests.Response:
    """A request of the tests' own to the PDS (not limited by its rate limits)."""
    headers = {**BYPASS, **kwargs.pop("headers", {})}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(
        method, f"{pds_url()}/xrpc/{nsid}", headers=headers, timeout=30, **kwargs
    )


@dataclass
class PdsAccount:
    """An account made for one test, with an app password for the plugin."""

    handle: str
    did: str
    app_password: str

    @classmethod
    def create(cls) -> PdsAccount:
        # The dev-env PDS needs no invite code and serves handles under .test.
        handle = f"t{secrets.token_hex(6)}.test"
        made = xrpc(
            "POST",
            "com.atproto.server.createAccount",
            json={
                "handle": handle,
                "email": f"{handle}@example.com",
                "password": secrets.token_hex(),
            },
        )
        assert made.status_code == 200, made.text
        session = made.json()
        app = xrpc(
            "POST",
            "com.atproto.server.createAppPassword",
            session["accessJwt"],
            json={"name": "wagtail-syndicate"},
        )
        assert app.status_code == 200, app.text
        return cls(handle=handle, did=session["did"], app_password=app.json()["password"])

    def posts(self) -> list[dict]:
        """Every post of the account on the PDS (``listRecords``), newest first."""
        answer = xrpc(
            "GET",
            "com.atproto.repo.listRecords",
            params={"repo": self.did, "collection": POSTS, "limit": 100},
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["records"]

    def only_post(self) -> dict:
        posts = self.posts()
        assert len(posts) == 1, [p["value"]["text"] for p in posts]
        return posts[0]

    def blob(self, cid: str) -> bytes:
        answer = xrpc("GET", "com.atproto.sync.getBlob", params={"did": self.did, "cid": cid})
        assert answer.status_code == 200, answer.text
        return answer.content


@dataclass
class Seen:
    method: str
    path: str
    body: bytes


@dataclass
class Proxy:
    """A loopback HTTP proxy in front of the PDS. ``base_url`` is what the plugin is given;
    ``requests`` is what it sent; ``lose(nsid)`` forwards the next such request and then
    closes the connection without answering (the PDS did it, the plugin never hears)."""

    upstream: str
    requests: list[Seen] = field(default_factory=list)
    losing: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _ProxyHandler)
        self.server.daemon_threads = True
        self.server.proxy = self
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Proxy:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def lose(self, nsid: str, times: int = 1) -> None:
        self.losing[f"/xrpc/{nsid}"] = times

    def sent(self, nsid: str) -> list[Seen]:
        return [r for r in self.requests if r.path == f"/xrpc/{nsid}"]


# Hop-by-hop headers, and those the proxy sets itself.
_SKIPPED = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b""):
                pass  # trailers
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _forward(self) -> None:
        proxy: Proxy = self.server.proxy
        body = self._body()
        path = urlsplit(self.path).path
        proxy.requests.append(Seen(self.command, path, body))
        upstream = urlsplit(proxy.upstream)
        connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _SKIPPED}
        try:
            connection.request(self.command, self.path, body=body, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
        finally:
            connection.close()
        if proxy.losing.get(path):
            proxy.losing[path] -= 1
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(answer.status, answer.reason)
        for name, value in answer.getheaders():
            if name.lower() not in _SKIPPED:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _forward


def detailed_jpeg(width: int, height: int) -> bytes:
    """A JPEG with detail everywhere, as a camera's photo of foliage or gravel: at full size it
    stays over 2,000,000 bytes at any quality a photo is shown at (6000×4000: 5 MB at 50)."""
    from PIL import Image

    channels = [
        Image.blend(
            Image.linear_gradient("L").rotate(angle).resize((width, height)),
            Image.effect_noise((width, height), sigma),
            0.5,
        )
        for angle, sigma in ((0, 60), (90, 70), (180, 80))
    ]
    buffer = io.BytesIO()
    Image.merge("RGB", channels).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@dataclass
class OnPds:
    """What a test against the real PDS gets: its own account there, and the proxy that the
    plugin reaches the PDS through."""

    account: PdsAccount
    proxy: Proxy

    def connect(self, **fields):
        """The account connected in the plugin, as an administrator would (handle and app
        password), at the proxy's address."""
        from tests.utils import connect_bluesky_account

        return connect_bluesky_account(
            self.proxy, self.account.handle, self.account.app_password, **fields
        )
