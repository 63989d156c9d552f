"""The example site's pages: a home page listing photos, and the photos, shared when published."""

from django.db import models
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, InlinePanel
from wagtail.images import get_image_model_string
from wagtail.models import Orderable, Page

from wagtail_syndicate.admin import SyndicatedPageForm, syndication_panels
from wagtail_syndicate.contract import SyndicationImage
from wagtail_syndicate.exceptions import ContentError
from wagtail_syndicate.models import SyndicatedPageMixin


class HomePage(Page):
    """The site root: lists its photos, newest first."""

    intro = models.TextField(blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    subpage_types = ["photos.PhotoPage", "photos.GalleryPage"]
    max_count = 1

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["photos"] = (
            PhotoPage.objects.child_of(self)
            .live()
            .select_related("photo")
            .order_by("-first_published_at")
        )
        context["galleries"] = GalleryPage.objects.child_of(self).live()
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
    base_form_class = SyndicatedPageForm
    promote_panels = Page.promote_panels + syndication_panels()
    parent_page_types = ["photos.HomePage"]
    subpage_types = []


class GalleryPage(SyndicatedPageMixin, Page):
    """Several photos in one post: the page overrides ``get_syndication_images`` to return every
    photo with its alt text; the plugin posts as many as the server takes (4 on Mastodon)."""

    intro = models.TextField(blank=True)

    content_panels = Page.content_panels + [
        FieldPanel("intro"),
        InlinePanel("gallery_images", label="Photos", min_num=1),
    ]
    base_form_class = SyndicatedPageForm
    promote_panels = Page.promote_panels + syndication_panels()
    parent_page_types = ["photos.HomePage"]
    subpage_types = []

    def get_syndication_intro(self) -> str:
        return self.intro

    def get_syndication_images(self) -> list[SyndicationImage]:
        # Each photo's own alt text, else its image's description; one with neither is
        # refused by the plugin, with the reason.
        images = [
            SyndicationImage.described(item.image, item.alt_text)
            for item in self.gallery_images.select_related("image")
        ]
        if not images:
            raise ContentError("The gallery has no photos to share.")
        return images


class GalleryImage(Orderable):
    page = ParentalKey(GalleryPage, on_delete=models.CASCADE, related_name="gallery_images")
    image = models.ForeignKey(get_image_model_string(), on_delete=models.CASCADE, related_name="+")
    alt_text = models.TextField(
        blank=True, help_text="Describe the photo. Empty: the image's own description."
    )

    panels = [FieldPanel("image"), FieldPanel("alt_text")]
