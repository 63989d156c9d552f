"""X, through API v2."""

from wagtail_syndicate.networks.x.client import XNetwork

__all__ = ["XNetwork"]
