"""Task change notifications, the R4 Subscriptions backport way: a partner system subscribes
with a rest-hook; whenever a Task of its organisation is made or changes status, the
referral write queues one notification per subscription in its own transaction (the
outbox), and the handler POSTs an id-only notification Bundle to the endpoint after commit.
A partner reads what changed with its own token (``GET /fhir/Task/<id>``): nothing about the
person travels in the notification. An endpoint that fails is retried by the outbox with
back-off; polling (``GET /fhir/Task?_lastUpdated=ge...``) always works too.

Endpoints must match the operator's allow-list ``CONTINUUM_FHIR_SUBSCRIPTION_HOSTS``: a host
(``partner.example.org``), a host and port (``127.0.0.1:8443``) or a domain and its
subdomains (``*.example.org``). ``https`` only, except on the loopback interface.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import urllib.error
import urllib.request
import uuid
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connections, router
from django.db.models import F
from django.utils import timezone

from core.outbox import handler, outbox_send
from referral.fhir import mapping as m
from referral.models import FhirSubscription, FhirSubscriptionStatus, Referral

logger = logging.getLogger(__name__)

NOTIFY = "referral.fhir_notify"
TIMEOUT_SECONDS = 10


def endpoint_refusal(endpoint: str) -> str | None:
    """Why this endpoint may not be used, or None when the allow-list admits it."""
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        return "Not a URL."
    host = (parts.hostname or "").lower()
    if not host or parts.username or parts.password:
        return "A URL with a host and no credentials in it."
    if parts.scheme not in ("https", "http"):
        return "An https URL."
    if parts.scheme == "http" and not _is_loopback(host):
        return "An https URL (http only on the loopback interface)."
    for allowed in getattr(settings, "CONTINUUM_FHIR_SUBSCRIPTION_HOSTS", []):
        allowed = allowed.strip().lower()
        if not allowed:
            continue
        name, _, allowed_port = allowed.rpartition(":") if _has_port(allowed) else (allowed, "", "")
        if allowed_port and str(port or "") != allowed_port:
            continue
        if name.startswith("*."):
            if host.endswith(name[1:]) or host == name[2:]:
                return None
        elif host == name:
            return None
    return "This endpoint's host is not on the operator's allow-list."


def _has_port(value: str) -> bool:
    head, sep, tail = value.rpartition(":")
    return bool(sep) and tail.isdigit() and "]" not in tail and bool(head)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def subscriptions_notify(*, referral: Referral) -> int:
    """Queue a notification for every active subscription that covers this referral's Task
    (in the caller's transaction). Returns how many were queued."""
    connection = connections[router.db_for_read(FhirSubscription)]
    organization = FhirSubscription._meta.get_field("organization")
    sender, receiver = (
        organization.get_db_prep_value(value, connection, prepared=False)
        for value in (referral.sender_organization_id, referral.receiving_organization_id)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            _matching_sql(connection.ops.quote_name),
            [FhirSubscriptionStatus.ACTIVE, sender, receiver, receiver, sender],
        )
        pk = FhirSubscription._meta.pk.get_col(FhirSubscription._meta.db_table)
        converters = connection.ops.get_db_converters(pk) + pk.get_db_converters(connection)
        matching = []
        for (value,) in cursor.fetchall():
            for converter in converters:
                value = converter(value, pk, connection)
            matching.append(value)
    queued = 0
    at = timezone.now()
    for subscription_id in matching:
        FhirSubscription.objects.filter(pk=subscription_id).update(
            events_since_start=F("events_since_start") + 1
        )
        number = FhirSubscription.objects.values_list("events_since_start", flat=True).get(
            pk=subscription_id
        )
        outbox_send(
            handler=NOTIFY,
            args=[str(subscription_id), str(referral.pk), number, at.isoformat()],
        )
        queued += 1
    return queued


@cache
def _matching_sql(qn) -> str:
    """The active subscriptions that cover a Task of these sender and receiver organisations
    (a NULL receiver, a referral to a stage not taken yet, matches nothing), in the
    subscriptions' own order. Written once: every referral write asks it, and building it
    through the ORM cost more than running it."""
    meta = FhirSubscription._meta
    column = {name: qn(meta.get_field(name).column) for name in ("organization", "role", "status")}
    order = ", ".join(
        f"{qn(meta.get_field(name.lstrip('-')).column)}{' DESC' if name.startswith('-') else ''}"
        for name in meta.ordering
    )
    return (
        f"SELECT {qn(meta.pk.column)} FROM {qn(meta.db_table)} "  # noqa: S608 - names only
        f"WHERE {column['status']} = %s AND {column['organization']} IN (%s, %s) "
        f"AND ({column['role']} = '' "
        f"OR ({column['role']} = 'owner' AND {column['organization']} = %s) "
        f"OR ({column['role']} = 'requester' AND {column['organization']} = %s)) "
        f"ORDER BY {order}"
    )


def notification_bundle(
    subscription: FhirSubscription, *, task_id: str, event_number: int, at: str
) -> dict[str, Any]:
    """The id-only notification (backport-subscription-notification-r4): a history Bundle
    whose first entry is the subscription status, and whose second names the Task by its
    URL alone."""
    base = subscription.server_base
    subscription_url = f"{base}Subscription/{subscription.pk}"
    task_url = f"{base}Task/{task_id}"
    status_id = str(uuid.uuid4())
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"profile": [m.PROFILE_NOTIFICATION]},
        "type": "history",
        "timestamp": timezone.now().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "entry": [
            {
                "fullUrl": f"urn:uuid:{status_id}",
                "resource": {
                    "resourceType": "Parameters",
                    "id": status_id,
                    "meta": {"profile": [m.PROFILE_STATUS]},
                    "parameter": [
                        {"name": "subscription", "valueReference": {"reference": subscription_url}},
                        {"name": "topic", "valueCanonical": m.TOPIC},
                        {"name": "status", "valueCode": subscription.status},
                        {"name": "type", "valueCode": "event-notification"},
                        {
                            "name": "events-since-subscription-start",
                            "valueString": str(subscription.events_since_start),
                        },
                        {
                            "name": "notification-event",
                            "part": [
                                {"name": "event-number", "valueString": str(event_number)},
                                {"name": "timestamp", "valueInstant": at},
                                {"name": "focus", "valueReference": {"reference": task_url}},
                            ],
                        },
                    ],
                },
                "request": {"method": "GET", "url": f"{subscription_url}/$status"},
                "response": {"status": "200"},
            },
            {
                "fullUrl": task_url,
                "request": {"method": "PUT", "url": f"Task/{task_id}"},
                "response": {"status": "200"},
            },
        ],
    }


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect could lead off the allow-list: it is a failed delivery instead."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


@handler(NOTIFY)
def notification_deliver(subscription_id: str, task_id: str, event_number: int, at: str) -> bool:
    """POST one notification. A subscription switched off (or an endpoint the allow-list no
    longer admits) drops it; an endpoint that does not answer 2xx raises, and the outbox
    tries again later."""
    subscription = FhirSubscription.objects.filter(
        pk=subscription_id, status=FhirSubscriptionStatus.ACTIVE
    ).first()
    if subscription is None:
        return False
    refusal = endpoint_refusal(subscription.endpoint)
    if refusal is not None:
        logger.warning("fhir: subscription %s endpoint refused now: %s", subscription.pk, refusal)
        return False
    body = json.dumps(
        notification_bundle(subscription, task_id=task_id, event_number=event_number, at=at)
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        subscription.endpoint,
        data=body,
        method="POST",
        headers={"Content-Type": "application/fhir+json"},
    )
    opener = urllib.request.build_opener(_NoRedirects)
    with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
        if not 200 <= response.status < 300:
            raise urllib.error.HTTPError(
                subscription.endpoint, response.status, "not 2xx", response.headers, None
            )
    return True
