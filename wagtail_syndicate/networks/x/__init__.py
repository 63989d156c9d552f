"""X, through API v2."""

from wagtail_syndicate.networks.x.network import XNetwork

__all__ = ["XNetwork"]
