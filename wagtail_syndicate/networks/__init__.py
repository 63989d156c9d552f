"""Networks that pages are shared to, each behind the one ``Network`` interface."""

from wagtail_syndicate.networks.base import Network
from wagtail_syndicate.networks.registry import get_network

__all__ = ["Network", "get_network"]
