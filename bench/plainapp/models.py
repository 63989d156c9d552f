"""``tests.testapp.PhotoPage`` as a site without the plugin has it: no mixin, no extra fields."""

from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.images import get_image_model_string
from wagtail.models import Page


class PlainPhotoPage(Page):
    photo = models.ForeignKey(
        get_image_model_string(),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    alt_text = models.TextField(blank=True)

    content_panels = Page.content_panels + [FieldPanel("photo"), FieldPanel("alt_text")]
