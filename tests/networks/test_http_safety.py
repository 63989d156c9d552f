"""Requests go only to the address that was checked, only public addresses pass the check,
and every request ends by its deadline, however slowly the server answers."""

import socket
import threading
import time

import pytest
from django.core.checks import registry

from wagtail_syndicate.exceptions import ConfigurationError, TransientNetworkError
from wagtail_syndicate.networks.http import (
    HttpClient,
    addresses,
    network_time_per_run,
    normalize_instance_url,
    run_deadline,
)
from wagtail_syndicate.networks.http.addresses import is_public_address

# Given by the resolvers below to the first look-up only (the check before the request),
# never connected to: the tests reach nothing but loopback.
PUBLIC = "93.184.215.14"


def answers(*addresses):
    """A resolver answering its first call with the first address, its second with the
    second, and so on (the last one again after that); ``.calls`` lists what it answered."""

    def resolver(host, port):
        address = addresses[min(len(resolver.calls), len(addresses) - 1)]
        resolver.calls.append((host, address))
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port or 0))]

    resolver.calls = []
    return resolver


class Listener:
    """A loopback socket that answers nothing; ``accepted()`` says whether anyone connected
    (a connection the kernel completed waits in its queue, accepted or not)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def accepted(self) -> bool:
        try:
            self.sock.accept()[0].close()
        except BlockingIOError:
            return False
        return True


@pytest.fixture
def listener():
    server = Listener()
    with server.sock:
        yield server


@pytest.fixture
def secure(settings):
    """Addresses are checked, as in production."""
    settings.WAGTAIL_SYNDICATE = {**settings.WAGTAIL_SYNDICATE, "ALLOW_INSECURE_INSTANCES": False}


# ---------------------------------------------------------------- the address check


@pytest.mark.parametrize(
    "address",
    [
        "100.64.0.1",  # carrier-grade NAT
        "100.100.100.200",  # a cloud's metadata service, in carrier-grade NAT space
        "fec0::1",  # IPv6 site-local
        "2002:7f00:0001::",  # 6to4 holding 127.0.0.1
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::127.0.0.1",  # IPv4-compatible loopback
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b:1::808:808",  # local-use NAT64
        "169.254.169.254",  # link-local metadata service
        "10.1.2.3",
        "192.168.1.1",
        "172.16.0.1",
        "127.0.0.1",
        "::1",
        "0.0.0.0",
        "::",
        "fd00::1",
        "fe80::1",
        "224.0.0.1",
        "ff02::1",
        "192.0.2.1",
        "2001:db8::1",
    ],
)
def test_an_address_that_is_not_public_is_refused(address):
    assert not is_public_address(address)


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "2002:808:808::1", "64:ff9b::808:808"],
)
def test_a_public_address_is_accepted(address):
    assert is_public_address(address)


@pytest.mark.parametrize(
    "url", ["https://100.100.100.200", "https://[fec0::1]", "https://[::ffff:10.0.0.1]"]
)
def test_an_instance_at_an_address_that_is_not_public_is_refused(secure, url):
    with pytest.raises(ConfigurationError, match="is a local address"):
        normalize_instance_url(url)


# ---------------------------------------------------------------- DNS rebinding


def test_a_name_that_answers_loopback_to_the_connection_is_never_connected_to(secure, listener):
    """The check before the request is told a public address; the connection, resolving
    again, is told 127.0.0.1: it refuses it and connects to nothing."""
    resolver = answers(PUBLIC, "127.0.0.1")
    port = listener.port
    client = HttpClient(
        f"https://rebind.example:{port}", "token", label="Mastodon", resolver=resolver
    )

    with pytest.raises(ConfigurationError, match="resolves to 127.0.0.1, which is not a public"):
        client.request("GET", "/api/v2/instance")

    assert [address for _host, address in resolver.calls] == [PUBLIC, "127.0.0.1"]
    assert not listener.accepted()


def test_a_name_with_one_private_address_among_public_ones_is_refused(
    secure, listener, monkeypatch
):
    """The module's resolver (the hook every client uses by default) is asked; one
    non-public address among the answers refuses the host, before any connection."""
    port = listener.port

    def resolver(host, port):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC, port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("100.100.100.200", port)),
        ]

    monkeypatch.setattr(addresses, "resolve", resolver)
    client = HttpClient(f"https://mixed.example:{port}", None, label="Mastodon")
    with pytest.raises(ConfigurationError, match="resolves to 100.100.100.200"):
        client.request("GET", "/")
    assert not listener.accepted()


def test_the_connection_goes_to_the_resolved_address_with_the_hosts_name(fake_mastodon):
    """With insecure instances allowed (as for the fakes), the address is not checked, but
    the connection still goes where the resolver said, and the server is asked for the
    name, not the address."""
    port = fake_mastodon.base_url.rsplit(":", 1)[1]
    resolver = answers("127.0.0.1")
    client = HttpClient(f"http://mastodon.test:{port}", None, label="Mastodon", resolver=resolver)

    assert client.request("GET", "/api/v2/instance").status_code == 200

    assert resolver.calls == [("mastodon.test", "127.0.0.1")]
    assert fake_mastodon.requests[-1].headers["Host"] == f"mastodon.test:{port}"


@pytest.fixture
def tls_for(tmp_path):
    """``tls_for(name)``: a server-side TLS context with a self-signed certificate for
    ``name``, and the certificate's file (for the client to trust); ``.names`` lists the
    server names (SNI) clients asked it for."""
    import datetime
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def make(name: str):
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        cert_file, key_file = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        context.names = []
        context.sni_callback = lambda sock, server_name, ctx: context.names.append(server_name)
        return context, str(cert_file)

    return make


@pytest.mark.parametrize("certified", ["mastodon.test", "other.test"])
def test_tls_is_checked_against_the_hosts_name_not_the_address(tls_for, certified):
    """Connected to 127.0.0.1 as the resolver said, the client still asks for the name
    (SNI) and accepts only a certificate for the name."""
    tls, cert_file = tls_for(certified)
    with Trickler("body", gap=0, tls=tls) as server:
        client = HttpClient(
            f"https://mastodon.test:{server.sock.getsockname()[1]}",
            None,
            label="Mastodon",
            resolver=answers("127.0.0.1"),
        )
        # Trusting that certificate alone (given per request: an environment's CA bundle
        # would override the session's).
        if certified == "mastodon.test":
            assert client.request("GET", "/api/v2/instance", verify=cert_file).json()["pad"]
        else:
            with pytest.raises(TransientNetworkError, match="TLS certificate was not accepted"):
                client.request("GET", "/api/v2/instance", verify=cert_file)
    assert tls.names == ["mastodon.test"]


# ---------------------------------------------------------------- the deadline


class Trickler:
    """A loopback HTTP server that sends its answer one byte every ``gap`` seconds: all of
    it (``part="headers"``: the status line and headers come slowly) or only the body, after
    headers sent at once (``part="body"``), and hangs up after ``hang_up_after`` of those
    bytes if given; over TLS with the server-side ``ssl.SSLContext`` ``tls``. ``gone`` is set
    when the client hung up."""

    HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n"
    BODY = b'{"pad": "' + b"x" * 53 + b'"}'

    def __init__(
        self, part: str, gap: float = 0.2, *, hang_up_after: int | None = None, tls=None
    ) -> None:
        self.part, self.gap, self.hang_up_after, self.tls = part, gap, hang_up_after, tls
        self.gone = threading.Event()
        self._stop = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.base_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.sock.close()
        self._thread.join(5)

    def _serve(self) -> None:
        try:
            conn, _address = self.sock.accept()
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
        except OSError:
            return
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(4096)
            if self.part == "body":
                conn.sendall(self.HEAD)
                slow = self.BODY
            else:
                slow = self.HEAD + self.BODY
            for index in range(len(slow) if self.hang_up_after is None else self.hang_up_after):
                if self._stop.wait(self.gap):
                    return
                try:
                    conn.sendall(slow[index : index + 1])
                except OSError:
                    self.gone.set()
                    return
            self.gone.set()  # all sent: the client should never have waited this long


def ended_by_its_deadline(server, run: float | None = None) -> float:
    """Ask ``server`` for something (inside a run of ``run`` seconds if given); assert the
    request failed as too slow; return how long it took."""
    client = HttpClient(server.base_url, None, label="Mastodon")
    started = time.monotonic()
    with pytest.raises(TransientNetworkError, match="did not answer in time"):
        if run is None:
            client.request("GET", "/api/v2/instance")
        else:
            with run_deadline(run):
                client.request("GET", "/api/v2/instance")
    return time.monotonic() - started


@pytest.mark.parametrize("part", ["headers", "body"])
def test_a_server_that_trickles_its_answer_is_cut_at_the_deadline(settings, part):
    settings.WAGTAIL_SYNDICATE = {
        **settings.WAGTAIL_SYNDICATE,
        "REQUEST_DEADLINE": 1.0,
        "READ_TIMEOUT": 2.0,  # each byte comes well within it
    }
    with Trickler(part) as server:
        elapsed = ended_by_its_deadline(server)

    # Cut by the deadline (1 s), not by the server, which would take 13 s or more.
    assert 0.9 <= elapsed < 1.0 + 2.0


def test_a_server_that_hangs_up_within_its_body_is_a_passing_failure():
    with Trickler("body", gap=0, hang_up_after=10) as server:
        client = HttpClient(server.base_url, None, label="Mastodon")
        with pytest.raises(TransientNetworkError, match="dropped before the whole answer came"):
            client.request("GET", "/api/v2/instance")


def test_the_deadline_is_measured_on_the_clients_clock(fake_mastodon):
    """A clock that jumps past the deadline once the server has the request: the answer
    that arrives after it is not taken."""
    moments = {"before": 0.0, "after": 1000.0}

    def clock():
        return moments["after" if fake_mastodon.requests else "before"]

    client = HttpClient(fake_mastodon.base_url, None, label="Mastodon", clock=clock)
    with pytest.raises(TransientNetworkError, match="did not answer in time"):
        client.request("GET", "/api/v2/instance")
    assert len(fake_mastodon.requests) == 1

    moments["after"] = 0.0  # the same clock, standing still: the answer is in time
    assert client.request("GET", "/api/v2/instance").status_code == 200


def test_a_request_past_its_deadline_before_connecting_is_not_sent(fake_mastodon):
    ticks = iter([0.0])

    def clock():
        return next(ticks, 1000.0)  # the deadline is set at 0; every later look is past it

    client = HttpClient(fake_mastodon.base_url, None, label="Mastodon", clock=clock)
    with pytest.raises(TransientNetworkError, match="did not answer in time"):
        client.request("GET", "/api/v2/instance")
    assert fake_mastodon.requests == []


def test_kept_alive_connections_serve_many_requests_within_their_deadlines(fake_mastodon):
    """The watchdog of one request never shuts the connection the next one reuses."""
    client = HttpClient(fake_mastodon.base_url, None, label="Mastodon")
    for _ in range(5):
        assert client.request("GET", "/api/v2/instance").status_code == 200
    assert len(fake_mastodon.requests) == 5


# ---------------------------------------------------------------- a run within its lease


def test_a_run_sends_no_request_once_its_time_is_used(fake_mastodon):
    now = {"seconds": 0.0}
    client = HttpClient(fake_mastodon.base_url, None, label="Mastodon")
    with run_deadline(30, clock=lambda: now["seconds"]):
        assert client.request("GET", "/api/v2/instance").status_code == 200
        now["seconds"] = 30.5
        with pytest.raises(TransientNetworkError, match="used all the 30 seconds"):
            client.request("GET", "/api/v1/instance")
    assert [r.path for r in fake_mastodon.requests] == ["/api/v2/instance"]
    # Outside the run, requests are bounded by REQUEST_DEADLINE alone again.
    assert client.request("GET", "/api/v1/instance").status_code == 200


def test_a_request_ends_with_the_run_that_makes_it(settings):
    """A run with one second left cuts a trickling answer at that second, though
    REQUEST_DEADLINE alone would allow a minute."""
    settings.WAGTAIL_SYNDICATE = {
        **settings.WAGTAIL_SYNDICATE,
        "REQUEST_DEADLINE": 60.0,
        "READ_TIMEOUT": 2.0,
    }
    with Trickler("headers") as server:
        elapsed = ended_by_its_deadline(server, run=1.0)
    assert 0.9 <= elapsed < 1.0 + 2.0


@pytest.mark.parametrize("lease, warned", [(300.0, True), (400.0, False)])
def test_a_lease_too_short_for_a_run_is_a_warning(settings, lease, warned):
    settings.WAGTAIL_SYNDICATE = {
        **settings.WAGTAIL_SYNDICATE,
        "LEASE_TIMEOUT": lease,
        "REQUEST_DEADLINE": 60.0,
        "MEDIA_PROCESSING_TIMEOUT": 60.0,
    }
    # A run may use the lease less 60 s: 240 or 340 s; one image may need 4 × 60 + 60 = 300.
    from wagtail_syndicate.checks import check_lease

    assert check_lease in registry.registry.get_checks()  # run by manage.py check
    messages = [m for m in check_lease(None) if m.id == "wagtail_syndicate.W004"]
    assert bool(messages) == warned
    if warned:
        assert "above 360 seconds" in messages[0].hint


@pytest.mark.parametrize("lease, network_time", [(900.0, 840.0), (240.0, 180.0), (8.0, 6.0)])
def test_a_short_lease_keeps_a_quarter_of_itself_for_the_runs_own_work(
    settings, lease, network_time
):
    # The chaos runs' 8 s lease still leaves their requests time to be sent.
    settings.WAGTAIL_SYNDICATE = {**settings.WAGTAIL_SYNDICATE, "LEASE_TIMEOUT": lease}
    assert network_time_per_run() == network_time
