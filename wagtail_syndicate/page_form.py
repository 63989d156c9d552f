"""The page editor's form for shared pages: refuses a publish that could not be shared."""

import logging

from wagtail.admin.forms import WagtailAdminPageForm

from .conf import get_setting
from .exceptions import ContentError, ImageError

logger = logging.getLogger(__name__)


class SyndicatedPageForm(WagtailAdminPageForm):
    """``base_form_class`` of ``SyndicatedPageMixin``. A page model with a form of its own
    should subclass this one.

    With ``REQUIRE_ALT_TEXT`` on (the default), publishing a page set to be shared that cannot
    be shared as it is (an image without alt text, no image, a custom text too long for a
    connected account) is refused with an error on the field to fix. Saving a draft is not.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "syndication_accounts" in self.fields:
            # Only the accounts that could share this page are offered.
            from .models import SyndicationAccount

            page = self.instance if self.instance.pk else self.parent_page
            site = page.get_site() if page is not None else None
            self.fields["syndication_accounts"].queryset = SyndicationAccount.of_site(site)

    def _post_clean(self):
        super()._post_clean()  # self.instance now holds the submitted values
        if self.is_publishing() and self.instance.syndicate and get_setting("REQUIRE_ALT_TEXT"):
            for error in sharing_problems(self.instance, self.parent_page):
                field = error.field if error.field in self.fields else None
                if field is None or not self.has_error(field):
                    self.add_error(field, str(error))

    def is_publishing(self) -> bool:
        return "action-publish" in self.data


def sharing_problems(page, parent_page=None) -> list[ContentError]:
    """Why ``page`` could not be shared to each account it would go to (none: it can be).
    Each image's file is checked too, from its header only: a missing or unreadable file, or
    one with more pixels than ``MAX_SOURCE_PIXELS``."""
    from .fitting import check_source
    from .models import SyndicationAccount
    from .posts import plan_with_known_limits, unexpected_error_message

    site = (page if page.pk else parent_page).get_site()
    if not page.pk and parent_page is not None:
        page.set_url_path(parent_page)  # what its address will be (saving sets it so)
    problems: dict[str, ContentError] = {}
    checked_images = set()
    try:
        accounts = list(SyndicationAccount.for_page(page, site=site))
    except ContentError as err:  # the page model's choice of accounts failed (PageCodeError)
        return [err]
    for account in accounts:
        try:
            plan = plan_with_known_limits(page, account)
            for image, _alt, _focus in plan.images:
                if image.pk not in checked_images:
                    checked_images.add(image.pk)
                    check_source(image)
        except ContentError as err:
            if isinstance(err, ImageError) and err.field is None:
                err.field = getattr(page, "syndication_image_field", None)
            problems.setdefault(str(err), err)
        except Exception as err:  # the editor is told; the form never answers 500
            logger.exception("Could not check page %s for sharing", page.pk)
            problem = ContentError(unexpected_error_message(err))
            problems.setdefault(str(problem), problem)
    return list(problems.values())
