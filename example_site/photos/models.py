"""The example site's pages: a home page listing photos, and the photos, shared when published."""

from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.images import get_image_model_string
from wagtail.models import Page

from wagtail_syndicate.models import SyndicatedPageMixin


class HomePage(Page):
    """The site root: lists its photos, newest first."""

    intro = models.TextField(blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    subpage_types = ["photos.PhotoPage"]
    max_count = 1

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["photos"] = (
            PhotoPage.objects.child_of(self)
            .live()
            .select_related("photo")
            .order_by("-first_published_at")
        )
        return context


class PhotoPage(SyndicatedPageMixin, Page):
    """One photo. Mixing in SyndicatedPageMixin (before Page) adds the "Share when published"
    toggle; the two attributes below tell the plugin which image to post and its alt text."""

    photo = models.ForeignKey(
        get_image_model_string(),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    alt_text = models.TextField(
        blank=True,
        help_text="Describe the photo for people who cannot see it. Posted with the image.",
    )
    caption = models.TextField(blank=True)

    syndication_image_field = "photo"
    syndication_alt_text_field = "alt_text"

    content_panels = Page.content_panels + [
        FieldPanel("photo"),
        FieldPanel("alt_text"),
        FieldPanel("caption"),
    ]
    # The toggle and the optional post text, on the Promote tab.
    promote_panels = Page.promote_panels + SyndicatedPageMixin.syndication_panels
    parent_page_types = ["photos.HomePage"]
    subpage_types = []
