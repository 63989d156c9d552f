"""Panels for the page editor: what will be posted, per connected account."""

from dataclasses import dataclass, field

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, Panel

from wagtail_syndicate.content.fitting import IMAGE_ERRORS, image_error
from wagtail_syndicate.content.posts import PostPlan, plan_post
from wagtail_syndicate.exceptions import ContentError
from wagtail_syndicate.networks import get_network
from wagtail_syndicate.networks.limits import Limits
from wagtail_syndicate.pipeline.limits_refresh import admin_limits
from wagtail_syndicate.tokens import TokenUnreadable

RETRY_URL_NAME = "wagtailsnippets_wagtail_syndicate_syndicationrecord:retry"


def retry_url(record) -> str:
    return reverse(RETRY_URL_NAME, args=[record.pk])


def may_retry(user, record) -> bool:
    from wagtail_syndicate.admin.permissions import can_retry

    return record.can_retry and can_retry(user, record)


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
    from wagtail_syndicate.models import SyndicationAccount

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


class SyndicationPreviewPanel(Panel):
    """Shows, per connected account, exactly what publishing will post, as a card in the
    manner of its network: text and character count against the server's limit, each image
    with its alt text, content warning, visibility and language, and whether publishing makes
    a new post or edits one. It follows the form as the editor types (``preview_cards``)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("heading", _("What will be posted"))
        super().__init__(**kwargs)

    class BoundPanel(Panel.BoundPanel):
        template_name = "wagtail_syndicate/panels/preview.html"

        class Media:  # the editor's CSS (Wagtail 8 has no insert_editor_css hook)
            css = {"all": ["wagtail_syndicate/css/syndication-preview.css"]}

        def get_context_data(self, parent_context=None):
            from wagtail_syndicate.admin.preview_cards import cards_context, preview_url

            context = super().get_context_data(parent_context)
            page = self.instance
            # No request to any server, on a GET as on a form sent back with errors.
            context.update(cards_context(page))
            context["preview_url"] = preview_url(page, getattr(self.form, "parent_page", None))
            return context


class SyndicationStatusPanel(Panel):
    """Where this page's posts stand: queued, posted (with a link), failed (with the reason and
    Retry for those who may publish the page)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("heading", _("Shared posts"))
        super().__init__(**kwargs)

    class BoundPanel(Panel.BoundPanel):
        template_name = "wagtail_syndicate/panels/status.html"

        def is_shown(self):
            return bool(self.instance.pk)

        def get_context_data(self, parent_context=None):
            from wagtail_syndicate.admin.live import page_status_context

            context = super().get_context_data(parent_context)
            back = self.request.get_full_path()
            context.update(page_status_context(self.instance, self.request.user, back))
            return context


def syndication_panels() -> list[Panel]:
    """The editor's panels of a shared page: the toggle, the accounts, the optional text,
    content warning and visibility, the preview and the status. Add them to a panel list of
    the page model, e.g. ``promote_panels = Page.promote_panels + syndication_panels()``."""
    return [
        MultiFieldPanel(
            [
                FieldPanel("syndicate"),
                FieldPanel("syndication_accounts", widget=forms.CheckboxSelectMultiple),
                FieldPanel("syndication_text"),
                FieldPanel("syndication_content_warning"),
                FieldPanel("syndication_visibility"),
            ],
            heading=_("Sharing"),
        ),
        SyndicationPreviewPanel(),
        SyndicationStatusPanel(),
    ]
