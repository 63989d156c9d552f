from .accounts import SyndicationAccount
from .intents import SyndicationIntent
from .mixin import SyndicatedPageMixin
from .oauth import MastodonApp
from .records import SyndicationRecord

__all__ = [
    "MastodonApp",
    "SyndicatedPageMixin",
    "SyndicationAccount",
    "SyndicationIntent",
    "SyndicationRecord",
]
