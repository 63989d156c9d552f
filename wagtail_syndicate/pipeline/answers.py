"""What a server answered to a create or an edit, checked before the record keeps it: the
post's id and link (a record keeps only what it can name and show safely), and the notices
when it cannot keep them or the server kept the post's earlier media."""

from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from wagtail_syndicate.exceptions import SyndicationError
from wagtail_syndicate.models import SyndicationRecord
from wagtail_syndicate.networks.links import MAX_POST_URL_LENGTH


def _server(account) -> str:
    return urlsplit(account.instance_url).netloc or account.instance_url


def checked_remote_id(account, network, remote_id: str) -> str:
    """The post's id as the server gave it, if the record can keep it (else the record fails,
    saying so: a post the site cannot name can be neither edited nor deleted)."""
    limit = SyndicationRecord._meta.get_field("remote_id").max_length
    if len(remote_id) <= limit:
        return remote_id
    raise SyndicationError(
        _(
            "%(server)s answered with a post ID of %(length)s characters, more than the "
            "%(limit)s this site can keep: the post may be on the account, but this site "
            "cannot edit or delete it. Look for it there; a retry is answered with the same "
            "post where the server remembers the request."
        )
        % {"server": _server(account), "length": len(remote_id), "limit": limit}
    )


def checked_post_link(account, network, url: str) -> tuple[str, str]:
    """The post's link and "", or "" and a notice saying why no link is kept: only a plain
    https link (http where insecure instances are allowed) on the account's server or a host
    the network's posts are on, and no longer than the record keeps, is shown anywhere."""
    problem = network.post_link_problem(account.instance_url, url)
    if not problem:
        return url, ""
    if problem == "too long":
        notice = _(
            "%(server)s answered with a link of %(length)s characters, longer than the "
            "%(limit)s this site keeps: the post was shared, but no link to it is shown."
        ) % {"server": _server(account), "length": len(url), "limit": MAX_POST_URL_LENGTH}
    else:
        if problem == "elsewhere":
            parts = urlsplit(url)
            where = f"{parts.scheme}://{parts.hostname}"
        elif problem == "scheme":
            where = _("a “%(scheme)s:” link") % {"scheme": url.partition(":")[0][:20]}
        else:
            where = _("a link with spaces, backslashes or a user name in it")
        notice = _(
            "%(server)s answered with a link that is not on its server (%(where)s): the post "
            "was shared, but no link to it is shown."
        ) % {"server": _server(account), "where": where}
    return "", notice


def kept_media_notice(account) -> str:
    """What the record says when the server applied an edit's text but not its media."""
    return _(
        "%(server)s kept the post's earlier image or image description (it applied only the "
        "new text): delete the post and share the page again to change it."
    ) % {"server": _server(account)}
