"""The exceptions of wagtail-syndicate.

``SyndicationError`` covers every expected failure to share a page; its message is written to
the record for editors to read. ``ConfigurationError`` is a mistake in the site's set-up and is
deliberately outside that hierarchy, so it is never mistaken for a passing network problem.
"""

from django.core.exceptions import ImproperlyConfigured


class SyndicationError(Exception):
    """A page could not be shared. ``str()`` is a sentence for editors."""


class ContentError(SyndicationError):
    """The page cannot be posted as it is (no image, no alt text, a text too long to fit).

    ``field`` names the page field to fix, when there is one.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NetworkError(SyndicationError):
    """A network answered with an error, or could not be reached."""

    def __init__(self, message: str, *, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class TransientNetworkError(NetworkError):
    """Worth trying again later: a time-out, a dropped connection, a 5xx."""


class RateLimited(TransientNetworkError):
    """The network asked us to slow down (HTTP 429). ``retry_at`` is when it allows more."""

    def __init__(self, message: str, *, retry_at=None, status: int | None = 429, body: str = ""):
        super().__init__(message, status=status, body=body)
        self.retry_at = retry_at


class PermanentNetworkError(NetworkError):
    """Trying again will not help: a bad token, a missing scope, a rejected post."""


class ConfigurationError(ImproperlyConfigured):
    """The site is set up wrongly (a bad setting, an instance URL that is not allowed)."""


class PageCodeError(ContentError):
    """The page model's own code (an override such as ``get_syndication_context()``), or the
    plugin's, failed while the post was being planned. The page still publishes; its record
    fails with this sentence, and the traceback is in the server log."""


class ImageError(ContentError):
    """An image of the page cannot be shared: its file is missing, is not a picture the site
    can read, or has more pixels than the site allows (``MAX_SOURCE_PIXELS``)."""
