"""The page editor's form for shared pages: refuses a publish that could not be shared."""

import logging

from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminPageForm

from wagtail_syndicate.admin.forms import offer_visibilities, visibility_choices
from wagtail_syndicate.conf import get_setting
from wagtail_syndicate.content.image_files import check_source
from wagtail_syndicate.content.posts import plan_post, unexpected_error_message
from wagtail_syndicate.exceptions import ContentError, ImageError
from wagtail_syndicate.models import SyndicatedPageMixin, SyndicationAccount, SyndicationRecord
from wagtail_syndicate.models.accounts import site_id_of
from wagtail_syndicate.networks.registry import configured_networks
from wagtail_syndicate.pipeline.limits_cache import limits_for

logger = logging.getLogger(__name__)

# The page model's methods a plan reads the account in. When a model keeps the mixin's, its
# plan depends on the account only through its limits and visibility.
ACCOUNT_METHODS = ("get_syndication_template", "get_syndication_options")


class SyndicatedPageForm(WagtailAdminPageForm):
    """``base_form_class`` of ``SyndicatedPageMixin``. A page model with a form of its own
    should subclass this one.

    With ``REQUIRE_ALT_TEXT`` on (the default), publishing a page set to be shared that cannot
    be shared as it is (an image without alt text, no image, a custom text too long for a
    connected account) is refused with an error on the field to fix. Saving a draft is not.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not {"syndication_accounts", "syndication_visibility"} & set(self.fields):
            return
        page = self.instance if self.instance.pk else self.parent_page
        self.syndication_site = site_id_of(page) if page is not None else None
        accounts = SyndicationAccount.of_site(self.syndication_site)
        if "syndication_accounts" in self.fields:
            # Only the accounts that could share this page are offered.
            self.fields["syndication_accounts"].queryset = accounts
        # The visibilities of the networks of those accounts ("": each account's own); with
        # none, the field is not shown.
        in_use = set(accounts.values_list("network", flat=True))
        choices = visibility_choices(name for name in configured_networks() if name in in_use)
        offer_visibilities(self, "syndication_visibility", choices, _("The account's default"))

    def _post_clean(self):
        super()._post_clean()  # self.instance now holds the submitted values
        if not (self.is_publishing() and self.instance.syndicate):
            return
        # Kept on the page for the after-publish message: the check is made once a request.
        check = self.instance.syndication_check = SharingCheck(
            self.instance, self.parent_page, site=getattr(self, "syndication_site", None)
        )
        if get_setting("REQUIRE_ALT_TEXT"):
            for error in check.problems:
                field = error.field if error.field in self.fields else None
                if field is None or not self.has_error(field):
                    self.add_error(field, str(error))

    def is_publishing(self) -> bool:
        return "action-publish" in self.data


class SharingCheck:
    """What publishing ``page`` as the form holds it would share, checked in the request:
    the accounts it goes to, why it cannot be posted to each (``errors``, by account id),
    and what each would do (``outcome``). The after-publish message is made from it, so
    nothing the publish or the worker writes is read back. ``site``: the page's site (or its
    id), when the caller knows it already. ``problems``: why the page could not be shared to
    each account it would go to (none: it can be); each image's file is checked too, from its
    header only (a missing or unreadable file, or one with more pixels than
    ``MAX_SOURCE_PIXELS``).

    Accounts whose plans cannot differ share one: those with the same limits and visibility,
    when the page model plans alike for every account (``ACCOUNT_METHODS`` are the mixin's).
    """

    def __init__(self, page, parent_page=None, site=None) -> None:

        self.accounts: list = []
        self.go_live_at = page.go_live_at  # as submitted: when a scheduled publish goes live
        self._checked_images: set = set()
        self.errors: dict[int, str] = {}
        self.plans: dict = {}
        self._shared_plans: dict = {}
        self._plans_alike = all(
            getattr(type(page), name) is getattr(SyndicatedPageMixin, name)
            for name in ACCOUNT_METHODS
        )
        self.choice_error: ContentError | None = None
        problems: dict[str, ContentError] = {}
        if not page.pk and parent_page is not None:
            page.set_url_path(parent_page)  # what its address will be (saving sets it so)
        if site is None:
            site = site_id_of(page if page.pk else parent_page)
        try:
            self.accounts = list(SyndicationAccount.for_page(page, site=site))
        except ContentError as err:  # the page model's choice of accounts failed (PageCodeError)
            self.choice_error = err
            self.problems = [err]
            self.records = {}
            return
        self.records = (
            {
                record["account_id"]: record
                for record in SyndicationRecord.objects.filter(
                    page_id=page.pk, account__in=self.accounts
                ).values("account_id", "state", "remote_id", "content_hash")
            }
            # A page never published has no records: only a publish (or a backfill of a live
            # page) makes them.
            if page.pk and self.accounts and page.first_published_at is not None
            else {}
        )
        for account in self.accounts:
            problem = self._check(page, account)
            if problem is not None:
                self.errors[account.pk] = str(problem)
                problems.setdefault(str(problem), problem)
        self.problems = list(problems.values())

    def _check(self, page, account) -> ContentError | None:

        try:
            plan = self.plans[account.pk] = self._plan(page, account)
            for image, _alt, _focus in plan.images:
                if image.pk not in self._checked_images:
                    self._checked_images.add(image.pk)
                    check_source(image)
        except ContentError as err:
            if isinstance(err, ImageError) and err.field is None:
                err.field = getattr(page, "syndication_image_field", None)
            return err
        except Exception as err:  # the editor is told; the form never answers 500
            logger.exception("Could not check page %s for sharing", page.pk)
            return ContentError(unexpected_error_message(err))
        return None

    def _plan(self, page, account):

        limits = limits_for(account, fetch=False)  # known limits only: no request is made
        if not self._plans_alike:
            return plan_post(page, account, limits)
        key = (limits, account.visibility)
        if key not in self._shared_plans:
            self._shared_plans[key] = plan_post(page, account, limits)
        return self._shared_plans[key]

    def outcome(self, account) -> str:
        """What the publish does for ``account``: "failed", "unchanged" (a post already
        shows the page as it is), "updating" (a post is edited) or "sharing"."""
        if account.pk in self.errors:
            return "failed"
        record = self.records.get(account.pk)
        if record and record["remote_id"]:
            if record["state"] == "posted" and (
                get_setting("ON_UPDATE") == "ignore"
                or self.plans[account.pk].fingerprint == record["content_hash"]
            ):
                return "unchanged"
            return "updating"
        return "sharing"
