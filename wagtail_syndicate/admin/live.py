"""Live status of shared posts: what the admin's ``syndication-live`` Stimulus controller
(static/wagtail_syndicate/js/live-status.js) needs to keep the editor's Shared posts panel, the
records report and a record's inspect view up to date while a post is in flight.

The fragment a poll asks for is rendered with the template the screen itself uses, so there is
one template for both. Nothing here asks any remote server anything."""

import json
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET
from wagtail.models import Page

from wagtail_syndicate.admin.components import view_post_buttons_for
from wagtail_syndicate.admin.permissions import may_retry, retry_url
from wagtail_syndicate.conf import get_setting
from wagtail_syndicate.models import SyndicationAccount, SyndicationIntent, SyndicationRecord
from wagtail_syndicate.models.accounts import site_id_of

STATUS_TEMPLATE = "wagtail_syndicate/panels/status.html"
LIVE_URL_NAME = "wagtail_syndicate_page_status"


def in_flight(records) -> bool:
    """Whether any of ``records`` is still on its way (queued, posting or retrying): the
    controller keeps asking while it is."""

    State = SyndicationRecord.State
    return any(record.state in (State.QUEUED, State.POSTING, State.RETRYING) for record in records)


def intervals_json() -> str:
    """The controller's waits between polls, in milliseconds, as a data attribute's JSON."""
    return json.dumps([round(float(s) * 1000) for s in get_setting("LIVE_STATUS_INTERVALS")])


def live_context(records, url: str) -> dict:
    """What a live fragment's wrapper needs: the poll URL, whether to poll, the waits."""
    return {
        "live_records": records,
        "live_url": url,
        "live_in_flight": in_flight(records),
        "live_intervals": intervals_json(),
    }


def page_status_context(page, user, back_url: str) -> dict:
    """The Shared posts panel's context: ``page``'s records with a Retry link (back to
    ``back_url``) for those the user may retry, and the page header's "View post" items (which
    the controller puts in the header's Actions menu). The same queries whatever the number of
    records."""

    records = list(SyndicationRecord.objects.filter(page_id=page.pk).select_related("account"))
    records += pending_records(page, records)
    for record in records:
        record.page = page  # already read: no query per record for Retry's permission check
    back = urlencode({"next": back_url})
    return {
        "records": [
            (record, f"{retry_url(record)}?{back}" if may_retry(user, record) else None)
            for record in records
        ],
        "live_header_items": view_post_buttons_for(records),
        **live_context(records, reverse(LIVE_URL_NAME, args=[page.pk])),
    }


def pending_records(page, records) -> list:
    """For a publish the worker has not fanned out yet: an unsaved record, queued, per account
    it goes to that has no record of the page yet (from the intent: no page-model code)."""

    intent = SyndicationIntent.objects.pending().filter(page_id=page.pk).order_by("-pk").first()
    if intent is None:
        return []
    accounts = SyndicationAccount.of_site(site_id_of(page))
    if intent.account_ids:
        accounts = accounts.filter(pk__in=intent.account_ids)
    have = {record.account_id for record in records}
    return [
        SyndicationRecord(
            page_id=page.pk,
            account=account,
            state=SyndicationRecord.State.QUEUED,
            updated_at=intent.created_at,
        )
        for account in accounts.exclude(pk__in=have)
    ]


@require_GET
def page_status(request, page_id: int):
    """The Shared posts panel of a page, alone: for those who may edit the page (who see the
    panel in its editor)."""
    page = get_object_or_404(Page, pk=page_id)
    if not page.permissions_for_user(request.user).can_edit():
        raise PermissionDenied
    back = reverse("wagtailadmin_pages:edit", args=[page.pk])
    context = page_status_context(page, request.user, back)
    return TemplateResponse(request, STATUS_TEMPLATE, context)
