"""The editor's preview as cards that look like the post on each network (nothing saved, no
request to any server); ``preview_views`` renders them from the form as the editor types."""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.urls import reverse
from django.utils.translation import gettext as _

from wagtail_syndicate.admin.previews import previews
from wagtail_syndicate.models import SyndicationRecord
from wagtail_syndicate.networks.text import link_spans, short_url

TEMPLATE = "wagtail_syndicate/panels/preview_cards.html"
# A hashtag as the networks link one: "#" and word characters, not glued to a word before it.
HASHTAG_RE = re.compile(r"(?<![\w&/#])#(?=\w*[^\W\d])\w+")
# Mastodon shows a link without "http(s)://" and "www.", cut after 30 characters with "…"
# (its TextFormatter#link_to_url: the rest is in an invisible span, the cut marked by CSS).
MASTODON_LINK_LENGTH = 30
# X shows a link (t.co's display_url) without its scheme and "www.", cut with "…". The length
# is read from posts X shows, not from a specification (X publishes none).
X_LINK_LENGTH = 25


@dataclass(frozen=True)
class Segment:
    """A piece of a post's text as the card shows it: words, a link or a hashtag."""

    kind: str  # "text", "link" or "hashtag"
    text: str
    url: str = ""


def _without_scheme(url: str) -> str:
    parts = urlsplit(url)
    shown = url[len(parts.scheme) + 3 :] if parts.scheme else url
    return shown[4:] if shown.lower().startswith("www.") else shown


def _cut(text: str, length: int) -> str:
    return text if len(text) <= length else text[:length] + "…"


def shown_link(network_name: str, url: str) -> str:
    """``url`` as ``network_name``'s app shows it in a post."""
    if network_name == "bluesky":
        return short_url(url)
    if network_name == "x":
        return _cut(_without_scheme(url), X_LINK_LENGTH)
    return _cut(_without_scheme(url), MASTODON_LINK_LENGTH)


def _words_and_hashtags(text: str) -> list[Segment]:
    segments, pos = [], 0
    for match in HASHTAG_RE.finditer(text):
        if match.start() > pos:
            segments.append(Segment("text", text[pos : match.start()]))
        segments.append(Segment("hashtag", match.group()))
        pos = match.end()
    if pos < len(text):
        segments.append(Segment("text", text[pos:]))
    return segments


def segments(network_name: str, text: str) -> list[Segment]:
    """``text`` cut into words, links (with the form the network shows) and hashtags."""
    result, pos = [], 0
    for start, end in link_spans(text):
        result += _words_and_hashtags(text[pos:start])
        url = text[start:end]
        result.append(Segment("link", shown_link(network_name, url), url))
        pos = end
    result += _words_and_hashtags(text[pos:])
    return result


def object_position(focus: tuple[float, float] | None) -> str:
    """The CSS ``object-position`` that keeps Mastodon's ``focus`` (x, y in [-1, 1], y up)
    in view when the network's grid crops the image."""
    if focus is None:
        return "50% 50%"
    x, y = focus
    return f"{(x + 1) * 50:.0f}% {(1 - y) * 50:.0f}%"


def initial(account) -> str:
    """The letter of the account's avatar: the first letter or digit of its handle."""
    for character in str(account):
        if character.isalnum():
            return character.upper()
    return "?"


def display_name(account) -> str:
    """The name the card shows above the handle: the handle's user part."""
    name = str(account).lstrip("@").split("@")[0]
    return name.split(".")[0] if account.network == "bluesky" else name


def outcome(preview, record) -> tuple[str, str]:
    """What publishing will do for this account, as the worker decides it (``runner._post``):
    ("new", …), ("edit", …), ("unchanged", …) or ("kept", …), with its sentence."""
    network = preview.network
    if record is None or not record.remote_id:
        return "new", _("Publishing shares a new post.")
    if preview.plan is not None and preview.plan.fingerprint == record.content_hash:
        return "unchanged", _("The post already shows this: publishing changes nothing.")
    if not network.edits:
        return "kept", _(
            "%(network)s posts cannot be edited: the post stays as it was first shared."
        ) % {"network": network.label}
    return "edit", _("Publishing edits the post already shared.")


@dataclass
class Card:
    """One account's card: the ``previews.Preview`` with what the card template shows."""

    preview: object
    segments: list[Segment]
    images: list[tuple]  # (rendition, alt text, CSS object-position)
    outcome: str
    outcome_text: str

    @property
    def initial(self) -> str:
        return initial(self.preview.account)

    @property
    def display_name(self) -> str:
        return display_name(self.preview.account)


def cards(page) -> list[Card]:
    """A card per account ``page`` would be shared to (``previews.previews``: cached limits
    only, no request to any server)."""

    records = {}
    if page.pk:
        records = {r.account_id: r for r in SyndicationRecord.objects.filter(page_id=page.pk)}
    result = []
    for preview in previews(page):
        plan = preview.plan
        focuses = [focus for _image, _alt, focus in plan.images] if plan else []
        images = [
            (rendition, alt, object_position(focus))
            for (rendition, alt), focus in zip(preview.thumbnails, focuses, strict=False)
        ]
        kind, sentence = outcome(preview, records.get(preview.account.pk))
        result.append(
            Card(
                preview=preview,
                segments=segments(preview.account.network, plan.text) if plan else [],
                images=images,
                outcome=kind,
                outcome_text=sentence,
            )
        )
    return result


def cards_context(page, from_form: bool = False) -> dict:
    """What ``preview_cards.html`` needs for ``page`` as it is in memory. A page not yet saved
    gets its cards only ``from_form`` (the values typed so far), not from the blank form."""
    saved, enabled = bool(page.pk) or from_form, bool(page.syndicate)
    return {
        "saved": saved,
        "enabled": enabled,
        "cards": cards(page) if saved and enabled else [],
    }


def preview_url(page, parent_page=None) -> str:
    """Where the editor's form is posted for ``page``'s cards: its edit preview, or, for a page
    not yet saved, the preview of adding it under ``parent_page``; "" when neither is known."""
    if page.pk:
        return reverse("wagtail_syndicate_preview", args=[page.pk])
    if parent_page is None or parent_page.pk is None:
        return ""
    meta = type(page)._meta
    return reverse(
        "wagtail_syndicate_preview_on_add",
        args=[meta.app_label, meta.model_name, parent_page.pk],
    )
