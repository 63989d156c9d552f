"""Share what you publish in Wagtail to Mastodon and other networks."""

__version__ = "0.1.0"
