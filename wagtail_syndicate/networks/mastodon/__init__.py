"""Mastodon and servers that speak its API."""

from wagtail_syndicate.networks.mastodon.client import MastodonNetwork

__all__ = ["MastodonNetwork"]
