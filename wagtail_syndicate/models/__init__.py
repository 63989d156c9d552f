from .accounts import SyndicationAccount
from .mixin import SyndicatedPageMixin
from .records import SyndicationRecord

__all__ = ["SyndicatedPageMixin", "SyndicationAccount", "SyndicationRecord"]
