"""Bluesky, through the account's PDS."""

from wagtail_syndicate.networks.bluesky.client import BlueskyNetwork

__all__ = ["BlueskyNetwork"]
