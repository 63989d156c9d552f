"""A network of a site's own, as a site would declare one in ``WAGTAIL_SYNDICATE["NETWORKS"]``
(tests/networks/test_networks.py runs it through publishing)."""

from wagtail_syndicate.networks.limits import Limits
from wagtail_syndicate.networks.mastodon.client import MastodonNetwork


class UneditableMastodon(MastodonNetwork):
    """Mastodon's API, declared as a network whose posts cannot be edited or deleted."""

    name = "uneditable"
    label = "Stone tablets"
    edits = False
    deletes = False
    default_limits = Limits(max_characters=120, counting="graphemes")
