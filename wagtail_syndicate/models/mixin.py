"""``SyndicatedPageMixin``: what a page model mixes in to be shared when published."""

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel

from ..exceptions import ConfigurationError, ContentError


class SyndicatedPageMixin(models.Model):
    """Mix into a Wagtail ``Page`` subclass, before ``Page``.

    Set ``syndication_image_field`` to the name of an image ForeignKey on the page (or leave it
    ``None`` for text-only posts) and ``syndication_alt_text_field`` to a text field holding the
    image's alt text; without one, the image's own ``description`` is used. Add
    ``SyndicatedPageMixin.syndication_panels`` to a panel list so editors see the toggle.
    """

    syndication_image_field: str | None = None
    syndication_alt_text_field: str | None = None

    syndicate = models.BooleanField(
        _("Share when published"),
        default=False,
        help_text=_("Post this page to the connected social accounts when it is published."),
    )
    syndication_text = models.TextField(
        _("Text of the post"),
        blank=True,
        help_text=_(
            "Optional. Replaces the page title in the post; the link to the page is always added."
        ),
    )

    syndication_panels = [
        MultiFieldPanel(
            [FieldPanel("syndicate"), FieldPanel("syndication_text")],
            heading=_("Sharing"),
        )
    ]

    class Meta:
        abstract = True

    def _named_field_value(self, attribute: str):
        field_name = getattr(self, attribute)
        try:
            self._meta.get_field(field_name)
        except FieldDoesNotExist as err:
            raise ConfigurationError(
                f"{type(self).__name__}.{attribute} names '{field_name}', "
                "which is not a field of this page model."
            ) from err
        return getattr(self, field_name)

    def get_syndication_alt_text(self, image) -> str:
        """Alt text for ``image``: the page's alt-text field, else the image's description."""
        alt_text = ""
        if self.syndication_alt_text_field:
            alt_text = (self._named_field_value("syndication_alt_text_field") or "").strip()
        if not alt_text:
            alt_text = (getattr(image, "description", "") or "").strip()
        return alt_text

    def get_syndication_images(self) -> list[tuple]:
        """Images to attach, as ``(image, alt_text)`` pairs, in order.

        Raises ``ContentError`` when the configured image is missing or has no alt text:
        posting an image nobody can describe is not something to do silently.
        """
        if not self.syndication_image_field:
            return []
        image = self._named_field_value("syndication_image_field")
        if image is None:
            raise ContentError(
                _("The page has no image to share: choose one in “%(field)s”.")
                % {"field": self._meta.get_field(self.syndication_image_field).verbose_name}
            )
        alt_text = self.get_syndication_alt_text(image)
        if not alt_text:
            raise ContentError(
                _("The image “%(title)s” has no alt text: describe it for people who can't see it.")
                % {"title": image.title}
            )
        return [(image, alt_text)]

    def get_syndication_url(self) -> str:
        """The address the post links to: the page's full URL."""
        return self.get_full_url()

    def get_syndication_text(self, account) -> str:
        """The words of the post for ``account``: the custom text or the title, then the link."""
        words = self.syndication_text.strip() or self.title
        return f"{words}\n\n{self.get_syndication_url()}"
