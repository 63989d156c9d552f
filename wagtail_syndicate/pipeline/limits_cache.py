"""What an instance accepts: read from the server, cached per account, with safe defaults."""

import time
from dataclasses import asdict, replace

from django.core.cache import cache

from wagtail_syndicate.exceptions import PermanentNetworkError
from wagtail_syndicate.networks import get_network
from wagtail_syndicate.networks.limits import Limits
from wagtail_syndicate.tokens import TokenUnreadable

CACHE_SECONDS = 3600
# The account's session also keeps the limits last read, with when they were read (the
# database is shared by every web and worker process; a cache such as LocMemCache may not
# be): what admin pages show, since they never ask a server (``known_limits``).
LAST_READ = "limits"
# The clock that dates the limits kept in the session (tests move it).
clock = time.time
# Kept in the account's session once its server refused a text as too long that was counted
# with each link as ``characters_reserved_per_url``: the server counts links at full length.
FULL_LENGTH_LINKS = "full_length_links"


def _cache_key(account) -> str:
    return f"wagtail_syndicate:limits:{account.pk}:{account.instance_url}"


def _session_flag(account) -> bool:
    return _known_session(account).get(FULL_LENGTH_LINKS) is True


def _limits_of(reading, full_length: bool) -> Limits | None:
    """The limits of a reading kept by ``keep_limits`` (None: not one, or kept by another
    version of the plugin)."""
    try:
        value = dict(reading["values"])
        value["supported_formats"] = frozenset(value["supported_formats"])
        return replace(Limits(**value), full_length_links=full_length)
    except (TypeError, KeyError, ValueError):
        return None


def _reading(account, kept) -> tuple[dict, float] | None:
    if not isinstance(kept, dict) or kept.get("instance_url") != account.instance_url:
        return None  # none, or read from the server the account had before
    read_at = kept.get("read_at")
    if isinstance(read_at, bool) or not isinstance(read_at, int | float):
        return None
    return kept, float(read_at)


def keep_limits(account, limits: Limits, read_at: float | None = None) -> None:
    """Keep ``limits``, read from the account's server at ``read_at`` (now), in the cache
    for an hour and in the account's session."""
    value = asdict(limits)
    value["supported_formats"] = sorted(limits.supported_formats)
    reading = {
        "instance_url": account.instance_url,
        "values": value,
        "read_at": clock() if read_at is None else read_at,
    }
    cache.set(_cache_key(account), reading, CACHE_SECONDS)
    account.credentials().renew_session(lambda stored: {**stored, LAST_READ: reading})


def known_limits(account) -> tuple[Limits | None, float | None]:
    """The account's limits as last read from its server, without asking it, and when
    they were read (``clock`` time): from the cache, else the account's session; (None, None)
    when none were ever read."""
    full_length = _session_flag(account)
    for kept in (cache.get(_cache_key(account)), _known_session(account).get(LAST_READ)):
        reading = _reading(account, kept)
        limits = reading and _limits_of(reading[0], full_length)
        if limits is not None:
            return limits, reading[1]
    return None, None


def is_fresh(read_at: float | None) -> bool:
    """Whether limits read at ``read_at`` were read within the hour (``CACHE_SECONDS``)."""
    return read_at is not None and 0 <= clock() - read_at < CACHE_SECONDS


def limits_for(account, *, fetch: bool = True, refresh: bool = False) -> Limits:
    """The account's limits: cached for an hour, else read from its server (when ``fetch``),
    else (without ``fetch``) the ones last read, else the defaults. An unreachable server
    raises (a passing failure, retried); a server that does not describe itself gives the
    network's defaults."""

    network = get_network(account.network)
    full_length = _session_flag(account)
    if not refresh:
        reading = _reading(account, cache.get(_cache_key(account)))
        cached = reading and _limits_of(reading[0], full_length)
        if cached is not None:
            return cached
    if not fetch:
        limits = None if refresh else known_limits(account)[0]
        return limits or replace(network.default_limits, full_length_links=full_length)
    try:
        limits = network.limits(account.credentials())
    except PermanentNetworkError:
        limits = network.default_limits
    keep_limits(account, limits)
    return replace(limits, full_length_links=full_length)


def _known_session(account) -> dict:
    """The account's session, or nothing when it cannot be decrypted: limits are still known
    (a publish and the editor go on), and posting fails with that reason."""

    try:
        return account.session
    except TokenUnreadable:
        return {}


def count_links_in_full(account) -> None:
    """Remember that the account's server counts links at their full length: every later
    post is fitted so (``Limits.full_length_links``)."""
    account.credentials().renew_session(lambda stored: {**stored, FULL_LENGTH_LINKS: True})
