"""Concrete page models that use the mixin the way a site developer would."""

from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.images import get_image_model_string
from wagtail.models import Page

from wagtail_syndicate.models import SyndicatedPageMixin


class PhotoPage(SyndicatedPageMixin, Page):
    photo = models.ForeignKey(
        get_image_model_string(),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    alt_text = models.TextField(blank=True)

    syndication_image_field = "photo"
    syndication_alt_text_field = "alt_text"

    content_panels = Page.content_panels + [FieldPanel("photo"), FieldPanel("alt_text")]
    promote_panels = Page.promote_panels + SyndicatedPageMixin.syndication_panels


class NotePage(SyndicatedPageMixin, Page):
    """A text-only page: no image field is named, so its posts carry no media."""

    body = models.TextField(blank=True)

    content_panels = Page.content_panels + [FieldPanel("body")]
    promote_panels = Page.promote_panels + SyndicatedPageMixin.syndication_panels
