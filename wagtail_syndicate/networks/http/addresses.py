"""Public addresses only: the check of a server's address (before every request) and the
connections that go to exactly the address checked (no DNS rebinding)."""

import ipaddress
import socket
import sys
from urllib.parse import urlsplit

from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from wagtail_syndicate.conf import get_setting
from wagtail_syndicate.exceptions import ConfigurationError, TransientNetworkError
from wagtail_syndicate.networks.http.deadlines import _current, _Sending, _sending


def normalize_instance_url(url: str) -> str:
    """Return ``url`` as ``scheme://host[:port]``, or raise ``ConfigurationError``.

    Only https URLs of public hosts are accepted unless
    ``WAGTAIL_SYNDICATE["ALLOW_INSECURE_INSTANCES"]`` is true.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            _("“%(url)s” is not a web address like https://mastodon.social.") % {"url": url}
        )
    if not get_setting("ALLOW_INSECURE_INSTANCES"):
        if parts.scheme != "https":
            raise ConfigurationError(
                _(
                    "“%(url)s” does not use https. Set "
                    'WAGTAIL_SYNDICATE["ALLOW_INSECURE_INSTANCES"] = True only for development.'
                )
                % {"url": url}
            )
        if _is_local_host(parts.hostname):
            raise ConfigurationError(
                _(
                    "“%(url)s” is a local address. Set "
                    'WAGTAIL_SYNDICATE["ALLOW_INSECURE_INSTANCES"] = True only for development.'
                )
                % {"url": url}
            )
    return f"{parts.scheme}://{parts.netloc}"


def _is_local_host(hostname: str) -> bool:
    if hostname == "localhost" or hostname.endswith(".localhost"):
        return True
    try:
        return not is_public_address(hostname)
    except ValueError:
        return False


# NAT64's well-known prefix holds an IPv4 address in its last 32 bits; the local-use prefix
# (RFC 8215) may map to anything, so it is refused whole.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


def is_public_address(address) -> bool:
    """Whether ``address`` (an ``ipaddress`` address or its text) is a globally reachable
    unicast address: ``is_global``, after unwrapping an IPv4 address held in an IPv6 one
    (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible ``::a.b.c.d``, 6to4 ``2002::/16``,
    NAT64 ``64:ff9b::/96``), which must be public itself. Carrier-grade NAT
    (``100.64.0.0/10``), site-local ``fec0::/10``, private, loopback, link-local, reserved,
    multicast and unspecified addresses are not."""
    if not isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address):
        address = ipaddress.ip_address(str(address).split("%")[0])
    if address.version == 6:
        if address.is_site_local or address in _NAT64_LOCAL:
            return False  # Python before 3.13 calls these global
        inner = address.ipv4_mapped or address.sixtofour
        if inner is None and address in _NAT64:
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is None and int(address) >> 32 == 0:  # ::a.b.c.d, and :: and ::1
            inner = ipaddress.IPv4Address(int(address))
        if inner is not None:
            return is_public_address(inner)
    return address.is_global and not (address.is_multicast or address.is_reserved)


def resolve(host: str, port: int) -> list[tuple]:
    """The addresses ``host`` has, as ``socket.getaddrinfo`` gives them. Every connection the
    plugin opens asks this (through ``HttpClient``'s ``resolver``) and connects to exactly the
    address it checked; tests replace it to answer as a hostile name server would."""
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)


def _refuse(hostname: str, address) -> ConfigurationError:
    return ConfigurationError(
        f"{hostname} resolves to {address}, which is not a public address: "
        "requests there are refused."
    )


def ensure_public_host(hostname: str, resolver=None) -> None:
    """Refuse a host that resolves to a loopback, private or link-local address (so the site
    cannot be made to send requests into its own network), unless
    ``ALLOW_INSECURE_INSTANCES``. Checked before every request, not just when connecting an
    account, since DNS answers can change; the connection checks the address it connects to
    again (a name may answer differently the second time)."""
    if get_setting("ALLOW_INSECURE_INSTANCES"):
        return
    try:
        infos = (resolver or resolve)(hostname, None)
    except OSError as err:
        raise TransientNetworkError(
            _("Could not look up %(host)s: %(error)s.") % {"host": hostname, "error": err}
        ) from err
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not is_public_address(address):
            raise _refuse(hostname, address)


class _CheckedConnectionMixin:
    """Resolve the host once, refuse it if any of its addresses is not public, and connect to
    the checked address itself, so the check and the connection cannot disagree (DNS
    rebinding). The Host header, TLS SNI and the certificate check still use the host name."""

    def _new_conn(self) -> socket.socket:
        sending = _sending()
        try:
            sock = _connect(self, sending)
        except socket.gaierror as e:
            raise NameResolutionError(self.host, self, e) from e
        except TimeoutError as e:
            raise ConnectTimeoutError(
                self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
            ) from e
        except OSError as e:
            raise NewConnectionError(self, f"Failed to establish a new connection: {e}") from e
        sys.audit("http.client.connect", self, self.host, self.port)
        if sending.deadline is not None:
            sending.deadline.watch(sock)
            self._deadline = sending.deadline
        return sock

    def request(self, *args, **kwargs):
        sending = getattr(_current, "sending", None)
        if (
            sending is not None
            and sending.deadline is not None
            and self.sock is not None
            and self._deadline is not sending.deadline
        ):
            sending.deadline.watch(self.sock)  # a kept-alive connection, reused
            self._deadline = sending.deadline
        return super().request(*args, **kwargs)

    _deadline = None


def _connect(conn, sending: _Sending) -> socket.socket:
    infos = (sending.resolver or resolve)(conn._dns_host, conn.port)
    if sending.check:
        for info in infos:
            address = ipaddress.ip_address(info[4][0].split("%")[0])
            if not is_public_address(address):
                raise _refuse(conn.host, address)
    error: OSError = OSError(f"{conn.host} has no address")
    for family, socktype, proto, _name, sockaddr in infos:
        timeout = conn.timeout if isinstance(conn.timeout, int | float) else None
        if sending.deadline is not None:
            left = sending.deadline.left()
            if left <= 0:
                raise TimeoutError("deadline")
            timeout = left if timeout is None else min(timeout, left)
        sock = socket.socket(family, socktype, proto)
        try:
            for option in conn.socket_options or ():
                sock.setsockopt(*option)
            sock.settimeout(timeout)
            if conn.source_address:
                sock.bind(conn.source_address)
            sock.connect((sockaddr[0], conn.port, *sockaddr[2:]))
            return sock
        except OSError as err:
            error = err
            sock.close()
    raise error


class _CheckedHTTPConnection(_CheckedConnectionMixin, HTTPConnection):
    pass


class _CheckedHTTPSConnection(_CheckedConnectionMixin, HTTPSConnection):
    pass


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class CheckedAdapter(HTTPAdapter):
    """requests' adapter with the connections above (a proxy, if the environment sets one,
    connects instead: then only ``ensure_public_host``'s check of the name applies)."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _CheckedHTTPPool,
            "https": _CheckedHTTPSPool,
        }
