from .accounts import SyndicationAccount
from .mixin import SyndicatedPageMixin
from .oauth import MastodonApp
from .records import SyndicationRecord

__all__ = ["MastodonApp", "SyndicatedPageMixin", "SyndicationAccount", "SyndicationRecord"]
