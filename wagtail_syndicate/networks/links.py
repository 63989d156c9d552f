"""Which post links a server gives may be shown: https, written plainly, on the network's
own hosts, short enough to keep."""

from collections.abc import Iterable
from urllib.parse import urlsplit

from wagtail_syndicate.conf import get_setting

# Longest post link shown (the record's column is 500 characters long).
MAX_POST_URL_LENGTH = 500


def _origin(url: str) -> str:
    """``host`` or ``host:port`` (a port that is not the scheme's own) of ``url``, lower case."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    host = (parts.hostname or "").lower()
    if port is None or port == {"https": 443, "http": 80}.get(parts.scheme.lower()):
        return host
    return f"{host}:{port}"


def post_link_problem(url: str, hosts: Iterable[str]) -> str:
    """Why ``url`` must not be shown as a post link ("too long", "scheme", "written oddly",
    "elsewhere"), or "" when it may: only an ``https`` link
    (``http`` too where ``ALLOW_INSECURE_INSTANCES`` is on), with no spaces, control
    characters, backslashes or user name (which browsers and parsers read differently),
    to one of ``hosts`` (``host`` or ``host:port``), no longer than the record keeps."""
    if not url:
        return ""
    if len(url) > MAX_POST_URL_LENGTH:
        return "too long"
    schemes = ("https", "http") if get_setting("ALLOW_INSECURE_INSTANCES") else ("https",)
    if not url.lower().startswith(tuple(f"{scheme}://" for scheme in schemes)):
        return "scheme"
    if any(ord(char) <= 32 or ord(char) == 127 or char == "\\" for char in url):
        return "written oddly"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "written oddly"
    if "@" in parts.netloc:
        return "written oddly"
    origin = _origin(url)
    if not origin or origin not in {host.lower() for host in hosts if host}:
        return "elsewhere"
    return ""
