"""Bluesky, through the account's PDS."""

from wagtail_syndicate.networks.bluesky.network import BlueskyNetwork

__all__ = ["BlueskyNetwork"]
