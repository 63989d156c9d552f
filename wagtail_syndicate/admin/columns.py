"""How records and accounts are shown in the admin's lists and inspect view: each account with
its network's icon and name, each post as a "View on Mastodon ↗" link, reasons on one line."""

from dataclasses import dataclass

from django.forms import Media
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column, TitleColumn

from wagtail_syndicate.models.accounts import network_name

NETWORK_ICONS = {
    "mastodon": "network-mastodon",
    "bluesky": "network-bluesky",
    "x": "network-x",
}
ICON_FILES = [f"wagtail_syndicate/icons/{name}.svg" for name in NETWORK_ICONS.values()]

RECORDS_MEDIA = Media(css={"all": ["wagtail_syndicate/css/records.css"]})


def network_icon(network: str) -> str:
    """The icon of a network (a network of a site's own gets Wagtail's globe)."""
    return NETWORK_ICONS.get(network, "globe")


@dataclass
class Shown:
    """What one cell shows: an account or a post link, with its network."""

    network: str
    label: str = ""
    url: str = ""

    @property
    def icon(self) -> str:
        return network_icon(self.network)

    @property
    def network_name(self) -> str:
        return network_name(self.network)


def shown_account(record) -> Shown:
    return Shown(network=record.network, label=record.account_name())


def shown_post(record) -> Shown:
    # Only the checked link ever reaches the page: never ``remote_url`` itself.
    return Shown(network=record.network, url=record.safe_remote_url)


def account_html(record) -> str:
    """The record's account with its network's icon, for the inspect view."""
    shown = shown_account(record)
    return render_to_string(
        "wagtail_syndicate/shared/account.html",
        {"network": shown.network, "icon": shown.icon, "label": shown.label},
    )


def post_link_html(record) -> str:
    """ "View on Mastodon ↗", or a dash when there is no post (or its link may not be shown)."""
    shown = shown_post(record)
    return render_to_string(
        "wagtail_syndicate/shared/post_link.html",
        {"url": shown.url, "icon": shown.icon, "network_name": shown.network_name},
    )


class RecordsMediaMixin:
    @property
    def media(self):
        return super().media + RECORDS_MEDIA


class AccountColumn(RecordsMediaMixin, Column):
    """A record's account: network icon, handle, network and server."""

    cell_template_name = "wagtail_syndicate/tables/account_cell.html"

    def __init__(self, name="account", **kwargs):
        kwargs.setdefault("label", _("Account"))
        kwargs.setdefault("accessor", shown_account)
        kwargs.setdefault("sort_key", "account__handle")
        super().__init__(name, **kwargs)


class PostLinkColumn(RecordsMediaMixin, Column):
    """The post, as a link named after its network."""

    cell_template_name = "wagtail_syndicate/tables/post_link_cell.html"

    def __init__(self, name="post", **kwargs):
        kwargs.setdefault("label", _("Post"))
        kwargs.setdefault("accessor", shown_post)
        super().__init__(name, **kwargs)


class ReasonColumn(RecordsMediaMixin, Column):
    """The reason a post failed, clipped to one line; the whole of it in the tooltip."""

    cell_template_name = "wagtail_syndicate/tables/reason_cell.html"

    def __init__(self, name="last_error", **kwargs):
        kwargs.setdefault("label", _("Reason"))
        super().__init__(name, **kwargs)


class AccountTitleColumn(RecordsMediaMixin, TitleColumn):
    """The accounts list's first column: the account with its network's icon."""

    cell_template_name = "wagtail_syndicate/tables/account_title_cell.html"

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        context["network_icon"] = network_icon(instance.network)
        return context
