"""The volunteer's contact page: ``/contacts/new/`` logs a street contact from a phone, and
keeps working without a connection.

With scripts (``static/contacts.js``) the form never posts itself: each contact is given its
``client_uuid`` on the phone, put in a queue in the browser's storage and uploaded as a batch
to ``POST /api/v1/contacts/`` whenever the phone is online (at once, when the connection
comes back, every 30 s, or with "Upload now"). A contact leaves the queue only when the API
has answered for it, so a dropped answer is simply uploaded again and the API recognises the
replay. The service worker (``/sw.js``, ``referral.web.offline``) keeps a copy of this page
and its assets so that it opens offline too. The page itself carries no records: nothing
another user of the same phone could read. Notes are free text that may identify someone:
they are never put in the queue, so a contact with notes is uploaded at once or not at all.

Without scripts the form posts here and is recorded through the same service; its
``client_uuid`` is made when the page is rendered, so a resubmitted form records nothing
twice.
"""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.errors import DomainError
from core.web import error_summary, field_messages
from referral.api.contacts import ContactInput, field_errors
from referral.models import Offer, Pathway
from referral.selectors.access import membership_of
from referral.services import contacts as services
from services_directory.services import default_time_zone

FORM_FIELDS = ("client_uuid", "place", "pathway", "notes")
FIELD_IDS = {
    "occurred_at": "c-occurred-at",
    "pathway": "c-pathway",
    "place": "c-place",
    "offered": "c-offered-naloxone",
    "notes": "c-notes",
}


def _local_time_zone(user) -> zoneinfo.ZoneInfo:
    membership = membership_of(user)
    return zoneinfo.ZoneInfo(default_time_zone(membership.organization if membership else None))


def _form_body(request) -> dict:
    """The posted form as the API's contact body; a ``datetime-local`` value has no offset,
    so it is read in the organisation's task-force time zone."""
    form = request.POST
    body: dict = {name: form.get(name, "") for name in FORM_FIELDS}
    body["offered"] = form.getlist("offered")
    body["notes"] = body["notes"] or None
    raw = form.get("occurred_at", "").strip()
    try:
        local = datetime.fromisoformat(raw) if raw else None
    except ValueError:
        local = None
    if local is None:
        body["occurred_at"] = raw  # the API's own message names the field
    else:
        if local.tzinfo is None:
            local = local.replace(tzinfo=_local_time_zone(request.user))
        body["occurred_at"] = local.isoformat()
    return body


def _page(request, *, errors=None, values=None, status=200):
    zone = _local_time_zone(request.user)
    context = {
        "pathways": Pathway.choices,
        "offers": Offer.choices,
        "client_uuid": uuid.uuid4(),
        "now_local": timezone.now().astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
        "errors": errors,
        "field_errors": field_messages(errors),
        "error_items": error_summary(errors, FIELD_IDS),
        "values": values or {},
        "place_max": services.PLACE_MAX,
        "notes_max": services.NOTES_MAX,
    }
    return render(request, "referral/contact_form.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def contact_page(request):
    if request.method == "GET":
        return _page(request)
    body = _form_body(request)
    params = ContactInput(data=body)
    if not params.is_valid():
        return _page(request, errors=field_errors(params.errors), values=body, status=400)
    values = dict(params.validated_data)
    try:
        _contact, created = services.contact_record(
            actor=request.user, fingerprint=services.contact_fingerprint(**values), **values
        )
    except DomainError as exc:
        errors = exc.errors or {"non_field_errors": [exc.message]}
        if exc.http_status == 409:
            # this form was saved before with other details (back button, edit, resend):
            # what is on it now is another contact, so it gets an id of its own
            body.pop("client_uuid")
        return _page(request, errors=errors, values=body, status=exc.http_status)
    messages.success(
        request, _("Contact saved.") if created else _("That contact was saved already.")
    )
    return redirect("contact-new")


urlpatterns = [
    path("contacts/new/", contact_page, name="contact-new"),
]
