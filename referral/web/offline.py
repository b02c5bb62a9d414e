"""The service worker that lets a phone work in the street without a connection.

``/sw.js`` (scope ``/``) keeps the last copy of the contact page, the referral page and the
directory, and the assets they need; the pages queue what is made offline in the browser's
storage (``static/contacts.js``, ``static/referrals.js``) and upload it through the API with
the phone's own ids, so that each arrives exactly once. Nothing that identifies a person is
kept on the phone: no page with identity is cached, and the queues hold ids, codes, a
pseudonym for a person made offline, never names, birth dates, phone numbers or free text.
The kept pages are one member's (their pickers name the people that member sees, by street
name): the login page (``static/signed-out.js``) has the worker forget them, as does a page
that answers with the login page, so a phone handed on after sign-out opens none of them.
``/contacts/sw.js`` serves the same worker to phones that registered it there before.
"""

from __future__ import annotations

from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET


@require_GET
def offline_service_worker(request):
    response = render(
        request, "referral/offline-sw.js", content_type="text/javascript; charset=utf-8"
    )
    response["Cache-Control"] = "no-cache"  # a new version reaches phones on their next visit
    return response


urlpatterns = [
    path("sw.js", offline_service_worker, name="offline-service-worker"),
    path("contacts/sw.js", offline_service_worker, name="contact-service-worker"),
]
