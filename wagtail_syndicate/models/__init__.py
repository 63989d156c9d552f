from wagtail_syndicate.models.accounts import SyndicationAccount
from wagtail_syndicate.models.intents import SyndicationIntent
from wagtail_syndicate.models.mixin import SyndicatedPageMixin
from wagtail_syndicate.models.oauth import MastodonApp
from wagtail_syndicate.models.records import SyndicationRecord

__all__ = [
    "MastodonApp",
    "SyndicatedPageMixin",
    "SyndicationAccount",
    "SyndicationIntent",
    "SyndicationRecord",
]
