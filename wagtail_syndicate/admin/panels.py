"""Panels for the page editor: what will be posted, per connected account."""

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, Panel

from wagtail_syndicate.admin.live import page_status_context
from wagtail_syndicate.admin.preview_cards import cards_context, preview_url


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
