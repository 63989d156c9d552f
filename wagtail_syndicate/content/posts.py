"""What gets posted: the ``Post`` and ``Media`` composed from a page.

Composing reads the database and storage (the page, its image, renditions); it makes no network
request, so the editor can be told at publish time when a page cannot be shared. The task, the
editor's preview and the publish-time checks all use ``plan_post`` and ``compose_post``.
"""

import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from wagtail_syndicate.content.fitting import fit_text, trim_alt_text
from wagtail_syndicate.content.image_files import check_source_pixels
from wagtail_syndicate.content.images import fit_image, focus_from_focal_point, image_source
from wagtail_syndicate.contract import SyndicationOptions, has_visible_characters
from wagtail_syndicate.exceptions import ContentError, PageCodeError, SyndicationError
from wagtail_syndicate.networks.post import Post, fingerprint

logger = logging.getLogger(__name__)

# At most this many characters of an exception's message are written to a record.
ERROR_MESSAGE_LENGTH = 300


@dataclass(frozen=True)
class PostPlan:
    """A post decided but not yet fitted: its text, and the images with their alt text and
    focus, without renditions. Cheap enough to make while a page is being published."""

    text: str
    url: str
    images: list[tuple[Any, str, tuple[float, float] | None]]
    spoiler_text: str
    visibility: str
    language: str | None
    images_left_out: int = 0

    @property
    def fingerprint(self) -> str:
        images = [(image_source(image), alt, focus) for image, alt, focus in self.images]
        return fingerprint(self.text, self.spoiler_text, self.language, images)


def plan_post(page, account, limits) -> PostPlan:
    """What ``page`` will post to ``account`` under ``limits``: text fitted, at most
    ``limits.max_media`` images, alt text trimmed. Raises ``ContentError`` when the page
    cannot be posted (no image, no alt text, a text that cannot be shortened, no address, an
    image with too many pixels), and ``PageCodeError`` (a ``ContentError``) when the page
    model's code or the plugin's fails: nothing else escapes it."""
    try:
        return _plan_post(page, account, limits)
    except SyndicationError:
        raise
    except Exception as err:  # the plugin's own code, between the page's methods
        logger.exception("Unexpected error while planning the post of page %s", page.pk)
        raise PageCodeError(unexpected_error_message(err)) from err


def _plan_post(page, account, limits) -> PostPlan:

    url = call_page_method(page, "get_syndication_url")
    if not url:
        raise ContentError(
            _(
                "The page has no address on the web (it is not under the home page of any "
                "site), so the post could not link to it. Move the page into a site, or set "
                "the site up in Settings › Sites."
            ),
            field="syndicate",
        )
    options = call_page_method(page, "get_syndication_options", account)
    if not isinstance(options, SyndicationOptions):
        raise PageCodeError(
            _(
                "The page model's get_syndication_options() returned %(kind)s, not "
                "wagtail_syndicate.contract.SyndicationOptions. Tell the site's developers."
            )
            % {"kind": type(options).__name__}
        )
    pairs = call_page_method(page, "get_syndication_images")
    for image, alt in pairs:
        if not has_visible_characters(alt):
            raise ContentError(
                _("The image “%(title)s” has no alt text: describe it for people who can't see it.")
                % {"title": image.title},
                field=getattr(page, "syndication_alt_text_field", None)
                or getattr(page, "syndication_image_field", None),
            )
        check_source_pixels(image, image.width, image.height)
    images = [
        (image, trim_alt_text(alt, limits.description_limit), focus_from_focal_point(image))
        for image, alt in pairs[: limits.max_media]
    ]
    return PostPlan(
        text=_fitted_text(page, account, limits, options.spoiler_text),
        url=url,
        images=images,
        images_left_out=max(0, len(pairs) - limits.max_media),
        spoiler_text=options.spoiler_text,
        visibility=options.visibility,
        language=options.language,
    )


def _fitted_text(page, account, limits, spoiler_text: str) -> str:
    """The words of the post: the page's template for ``account`` with the page's values,
    fitted to ``limits`` (``fitting.fit_text``)."""

    template = call_page_method(page, "get_syndication_template", account)
    values = call_page_method(page, "get_syndication_context")
    try:
        return fit_text(template, values, limits, spoiler_text=spoiler_text)
    except ContentError as err:
        raise ContentError(str(err), field="syndication_text") from None


def call_page_method(page, name: str, *args):
    """``page.<name>(*args)``; whatever it raises but a ``SyndicationError`` is logged with its
    traceback and raised as a ``PageCodeError`` saying, in words, which method failed how."""
    try:
        return getattr(page, name)(*args)
    except SyndicationError:
        raise
    except Exception as err:
        logger.exception("%s.%s() of page %s raised", type(page).__name__, name, page.pk)
        raise PageCodeError(page_method_error_message(page, name, err)) from err


def page_method_error_message(page, name: str, err: Exception) -> str:
    """The sentence for a record when ``page.<name>()`` raised ``err``."""
    if isinstance(err, ImproperlyConfigured):  # a mistake in the set-up, already in words
        return str(err)
    values = {"method": name, "kind": type(err).__name__, "error": _error_text(err)}
    # The mixin's own method (the page model did not override it): the plugin's code.
    method_module = getattr(getattr(type(page), name, None), "__module__", "") or ""
    if method_module.split(".")[0] == "wagtail_syndicate":
        message = _("wagtail-syndicate's %(method)s() raised %(kind)s: %(error)s")
    else:
        message = _("The page model's %(method)s() raised %(kind)s: %(error)s")
    return message % values + " " + _("Tell the site's developers; the server log has the details.")


def unexpected_error_message(err: BaseException) -> str:
    """The sentence for a record that failed on an error nobody expected (``err``): what kind
    of error, in words where it is a known one. The worker (``tasks.share``) and a publish
    both use it; neither shows the error's own text, which may quote anything."""
    if isinstance(err, MemoryError):
        return _(
            "The server ran out of memory while preparing the post (most likely an image "
            "too large to process); the server log has details."
        )
    return _("Unexpected error (%(kind)s); the server log has details.") % {
        "kind": type(err).__name__
    }


def _error_text(err: Exception) -> str:
    text = " ".join(str(err).split()) or _("(no message)")
    if len(text) > ERROR_MESSAGE_LENGTH:
        text = text[: ERROR_MESSAGE_LENGTH - 1] + "…"
    return text if text[-1] in ".!?…" else text + "."


def compose_post(page, account, limits) -> Post:
    """The post of ``page`` for ``account``, with every image fitted to ``limits`` (renditions
    made where needed). Raises ``ContentError`` like ``plan_post``, and for an image that
    cannot be made to fit."""

    plan = plan_post(page, account, limits)
    return Post(
        text=plan.text,
        url=plan.url,
        media=[fit_image(image, alt, limits) for image, alt, _focus in plan.images],
        spoiler_text=plan.spoiler_text,
        visibility=plan.visibility,
        language=plan.language,
    )
