"""Share what you publish in Wagtail to Mastodon, Bluesky and X (POSSE)."""

__version__ = "0.1.0"
