"""What will be posted, per account, for the editor's preview (no request to any server)."""

from dataclasses import dataclass, field

from wagtail_syndicate.content.image_files import IMAGE_ERRORS, image_error
from wagtail_syndicate.content.posts import PostPlan, plan_post
from wagtail_syndicate.exceptions import ContentError
from wagtail_syndicate.models import SyndicationAccount
from wagtail_syndicate.networks import get_network
from wagtail_syndicate.networks.limits import Limits
from wagtail_syndicate.pipeline.limits_refresh import admin_limits
from wagtail_syndicate.tokens import TokenUnreadable

THUMBNAIL = "max-165x165"


@dataclass
class Preview:
    """What one account will receive, as the task will compose it (same ``plan_post``)."""

    account: object
    limits: Limits
    plan: PostPlan | None = None
    problem: str = ""
    limits_unknown: bool = False
    thumbnails: list = field(default_factory=list)

    @property
    def network(self):
        return get_network(self.account.network)

    @property
    def length(self) -> int:
        if self.plan is None:
            return 0
        return self.limits.length(self.plan.text, self.plan.spoiler_text)

    @property
    def text(self) -> str:
        """The text as the network will show it (Bluesky shows links short)."""
        return self.limits.shown(self.plan.text) if self.plan else ""


def previews(page) -> list[Preview]:
    """A preview per enabled account that ``page`` (saved at least once) would be shared to,
    with each account's limits as last read (no request to any server: ``admin_limits``)."""

    result = []
    try:
        accounts, chosen_problem = list(SyndicationAccount.for_page(page)), ""
    except ContentError as err:  # the page model's choice of accounts failed: say so
        accounts, chosen_problem = list(SyndicationAccount.of_site(page.get_site())), str(err)
    for account in accounts:
        problem = chosen_problem
        if not problem and not account.token_readable:  # its posts fail so: say it here too
            problem = str(TokenUnreadable())
        if problem:
            defaults = get_network(account.network).default_limits
            result.append(Preview(account=account, limits=defaults, problem=problem))
            continue
        limits, known = admin_limits(account)
        preview = Preview(account=account, limits=limits, limits_unknown=not known)
        try:
            preview.plan = plan_post(page, account, limits)
        except ContentError as err:
            preview.problem = str(err)
        else:
            for image, alt, _focus in preview.plan.images:
                try:
                    preview.thumbnails.append((image.get_rendition(THUMBNAIL), alt))
                except IMAGE_ERRORS as err:  # a missing or unreadable file: say so, no 500
                    preview.problem = str(image_error(image, err))
        result.append(preview)
    return result
