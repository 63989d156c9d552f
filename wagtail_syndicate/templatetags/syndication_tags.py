"""``{% syndication_links page %}``: links from a page to its copies elsewhere (IndieWeb's
``u-syndication``), for the public page template."""

from django import template
from django.utils.html import format_html_join

from wagtail_syndicate.models import SyndicationRecord

register = template.Library()


@register.simple_tag
def syndication_links(page):
    """``<a class="u-syndication" rel="syndication" href="…">@handle on Network</a>`` per post
    of ``page``."""
    records = (
        SyndicationRecord.objects.filter(page=page, state=SyndicationRecord.State.POSTED)
        .exclude(remote_url="")
        .select_related("account")
        .order_by("account__handle")
    )
    return format_html_join(
        "\n",
        '<a class="u-syndication" rel="syndication" href="{}">{}</a>',
        (
            (record.safe_remote_url, record.public_account_name())
            for record in records
            if record.safe_remote_url
        ),
    )
