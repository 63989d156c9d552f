"""Concrete page models that use the mixin the way a site developer would."""

from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.images import get_image_model_string
from wagtail.models import Page

from wagtail_syndicate.admin import SyndicatedPageForm, syndication_panels
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
    base_form_class = SyndicatedPageForm
    promote_panels = Page.promote_panels + syndication_panels()


class NotePage(SyndicatedPageMixin, Page):
    """A text-only page: no image field is named, so its posts carry no media."""

    body = models.TextField(blank=True)

    content_panels = Page.content_panels + [FieldPanel("body")]
    base_form_class = SyndicatedPageForm
    promote_panels = Page.promote_panels + syndication_panels()


class TemperamentalPhotoPage(PhotoPage):
    """A photo page whose own code fails: the override that ``fails_in`` names raises
    ``ValueError`` (as a site's code with a bug would); "account ids that are not ids" makes
    ``get_syndication_account_ids()`` return a value the plugin's own query fails on."""

    fails_in = models.CharField(max_length=64, blank=True)

    def _fail_if(self, name):
        if self.fails_in == name:
            raise ValueError(f"no value for {self.title!r}")

    def get_syndication_url(self):
        self._fail_if("get_syndication_url")
        return super().get_syndication_url()

    def get_syndication_images(self):
        self._fail_if("get_syndication_images")
        return super().get_syndication_images()

    def get_syndication_context(self):
        self._fail_if("get_syndication_context")
        return super().get_syndication_context()

    def get_syndication_options(self, account):
        self._fail_if("get_syndication_options")
        return super().get_syndication_options(account)

    def get_syndication_account_ids(self):
        self._fail_if("get_syndication_account_ids")
        if self.fails_in == "account ids that are not ids":  # fails later, in the plugin's query
            return ["not an id"]
        return super().get_syndication_account_ids()
