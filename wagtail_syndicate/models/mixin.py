"""``SyndicatedPageMixin``: what a page model mixes in to be shared when published."""

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalManyToManyField

from wagtail_syndicate.conf import get_setting
from wagtail_syndicate.content.fitting import hashtag
from wagtail_syndicate.contract import SyndicationImage, SyndicationOptions
from wagtail_syndicate.exceptions import ConfigurationError, ContentError


class SyndicatedPageMixin(models.Model):
    """Mix into a Wagtail ``Page`` subclass, before ``Page``.

    Set ``syndication_image_field`` to the name of an image ForeignKey on the page (or leave it
    ``None`` for text-only posts) and ``syndication_alt_text_field`` to a text field holding the
    image's alt text; without one, the image's own ``description`` is used. Add
    ``wagtail_syndicate.admin.syndication_panels`` to a panel list so editors see the toggle,
    and set ``base_form_class`` to ``wagtail_syndicate.admin.SyndicatedPageForm`` (or a
    subclass) for the publish-time refusal (check ``W007`` warns without it).
    """

    syndication_image_field: str | None = None
    syndication_alt_text_field: str | None = None
    # The text of posts, with {title}, {intro}, {url} and {tags}; None: STATUS_TEMPLATE.
    syndication_template: str | None = None

    syndicate = models.BooleanField(
        _("Share when published"),
        default=False,
        help_text=_("Post this page to the connected social accounts when it is published."),
    )
    syndication_accounts = ParentalManyToManyField(
        "wagtail_syndicate.SyndicationAccount",
        verbose_name=_("Share to"),
        blank=True,
        related_name="+",
        help_text=_("Leave all unticked to share to every connected account of the site."),
    )
    syndication_text = models.TextField(
        _("Text of the post"),
        blank=True,
        help_text=_(
            "Optional. Replaces the usual text; it may use {title}, {intro}, {url} and {tags}. "
            "The link to the page is added if it has no {url}. It is never shortened."
        ),
    )
    syndication_content_warning = models.CharField(
        _("Content warning"),
        max_length=255,
        blank=True,
        help_text=_("Optional. Shown before the post, which is then marked sensitive."),
    )
    syndication_visibility = models.CharField(
        _("Visibility"),
        max_length=16,
        blank=True,
        # No choices: the editor's form offers those of the accounts' networks
        # (``Network.visibilities``), so a network of a site's own needs no migration.
        help_text=_("Leave empty for the account's default visibility."),
    )

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
        """Alt text for ``image``: the page's alt-text field, else the image's description
        (one with no visible character, such as only zero-width spaces, counts as none)."""
        alt_text = ""
        if self.syndication_alt_text_field:
            alt_text = self._named_field_value("syndication_alt_text_field")
        return SyndicationImage.described(image, alt_text).alt_text

    def get_syndication_images(self) -> list[SyndicationImage]:
        """Images to attach, in order, each with its alt text (``SyndicationImage``).

        Raises ``ContentError`` when the configured image is missing. An image without alt text
        is refused when the post is planned: posting an image nobody can describe is not
        something to do silently.
        """
        if not self.syndication_image_field:
            return []
        image = self._named_field_value("syndication_image_field")
        if image is None:
            raise ContentError(
                _("The page has no image to share: choose one in “%(field)s”.")
                % {"field": self._meta.get_field(self.syndication_image_field).verbose_name},
                field=self.syndication_image_field,
            )
        # One without alt text is refused with the reason when the post is planned.
        return [SyndicationImage(image, self.get_syndication_alt_text(image))]

    def get_syndication_account_ids(self) -> list[int]:
        """The accounts the editor chose for this page (empty: every account of the site)."""
        return [account.pk for account in self.syndication_accounts.all()]

    def get_syndication_url(self) -> str:
        """The address the post links to: the page's full URL."""
        return self.get_full_url()

    def get_syndication_template(self, account) -> str:
        """The editor's custom text (with the link added if it has none), else the model's
        ``syndication_template``, else the ``STATUS_TEMPLATE`` setting."""
        custom = self.syndication_text.strip()
        if custom:
            return custom if "{url}" in custom else custom + "\n\n{url}"
        return self.syndication_template or get_setting("STATUS_TEMPLATE")

    def get_syndication_intro(self) -> str:
        """The ``{intro}`` of the text: the page's search description."""
        return (getattr(self, "search_description", "") or "").strip()

    def get_syndication_tags(self) -> list[str]:
        """The ``{tags}`` of the text: the page's tags (a ``tags`` field), if it has any."""
        tags = getattr(self, "tags", None)
        if tags is None or not hasattr(tags, "names"):
            return []
        return sorted(tags.names())

    def get_syndication_context(self) -> dict[str, str]:
        """The values of the text template's placeholders: ``{title}``, ``{intro}``,
        ``{url}`` and ``{tags}`` (the page's tags as hashtags). A page model may add its own
        (``{caption}``, say). To fit a server's limit the plugin shortens ``{intro}``, then
        ``{title}``, then drops hashtags from ``{tags}``; it never cuts the rest."""

        hashtags = [tag for tag in map(hashtag, self.get_syndication_tags()) if tag]
        return {
            "title": self.title,
            "intro": self.get_syndication_intro(),
            "url": self.get_syndication_url(),
            "tags": " ".join(dict.fromkeys(hashtags)),
        }

    def get_syndication_options(self, account) -> SyndicationOptions:
        """Content warning, visibility and language of the post for ``account``: the page's
        content warning, its visibility (else the account's) and its locale's language."""
        locale = getattr(self, "locale", None)
        language = locale.language_code.split("-")[0].lower() if locale else None
        return SyndicationOptions(
            spoiler_text=self.syndication_content_warning.strip(),
            visibility=self.syndication_visibility or account.visibility,
            language=language or None,
        )
