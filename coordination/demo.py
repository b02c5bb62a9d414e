"""Demo City's past few months: pseudonymous contacts and referrals in every state, so that
the board, the flows and the dashboard have something to show on first run.

Called by ``manage.py seed_demo`` after the directory and the users (``config.settings``
lists it in ``CONTINUUM_DEMO_SEEDERS``, so the directory app needs nothing from above it).
Everything goes through the services (contacts, people, referrals, every transition, the
SLA expiry), so the audit trail, permissions and outbox are as real use makes them. Only
then are the timestamps of these rows moved into the past, directly: the contacts' times,
the referrals' dates and the referral events' times, nothing else (the audit trail keeps the
real time it was written). Idempotent: the first referral's fixed id marks a seeded database.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from coordination.expiry import referral_expire
from referral.models import Contact, Offer, Pathway, Referral, ReferralEvent, ReferralStatus
from referral.reasons import SUCCESSFUL
from referral.services.contacts import contact_fingerprint, contact_record
from referral.services.people import person_create
from referral.services.referrals import referral_create, referral_transition
from services_directory.models import Service

NAMESPACE = uuid.UUID("5b0f3c52-8f7e-4d0b-9d9e-2f6a4c1e7a31")
DAYS = 90
CONTACTS = 120
SENDERS = ["officer", "volunteer", "outreach", "officer2"]
PLACES = ["Central station", "Harbour", "Old town square", "Riverside park", "Bus terminal"]
# the service each referral goes to (by name) and who there answers it
RECEIVERS = [
    ("Opioid agonist treatment", "provider"),
    ("Outpatient counselling", "provider2"),
    ("Drop-in and syringe service", "harmreduction"),
]
FORWARD_TO = "Recovery peer support"
S = ReferralStatus
# where each referral ends, in turn; the moves that take it there
ENDINGS = [
    S.SENT,
    S.ACCEPTED,
    S.ENGAGED,
    S.COMPLETED,
    S.FORWARDED,
    S.DISENGAGED,
    S.DECLINED,
    S.EXPIRED,
    S.WITHDRAWN,
    S.WAITLISTED,
    S.COMPLETED,
    S.ENGAGED,
]
REFERRALS = 48


def _id(*parts: object) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, "/".join(map(str, parts)))


@transaction.atomic
def seed_demo_activity() -> int:
    """Add the demo's contacts and referrals once; returns how many rows it made."""
    if Referral.objects.filter(client_uuid=_id("referral", 0)).exists():
        return 0
    users = {u.username: u for u in get_user_model().objects.filter(is_active=True)}
    if not all(name in users for name in [*SENDERS, *(r for _, r in RECEIVERS)]):
        return 0
    services = {s.name: s for s in Service.objects.select_related("organization")}
    now = timezone.now()
    pathways = [value for value, _ in Pathway.choices]
    offers = [value for value, _ in Offer.choices]
    made = 0

    for n in range(CONTACTS):
        sender = users[SENDERS[n % len(SENDERS)]]
        # recorded as of now (the service takes nothing older than a month), then moved
        when = now - timedelta(days=(n * 37) % DAYS, hours=n % 11)
        values = {
            "client_uuid": _id("contact", n),
            "occurred_at": now - timedelta(minutes=n),
            "place": PLACES[n % len(PLACES)],
            "pathway": pathways[n % len(pathways)],
            "offered": offers[n % 3 : n % 3 + 1 + n % 2],
            "notes": None,
        }
        contact, _ = contact_record(
            actor=sender, fingerprint=contact_fingerprint(**values), **values
        )
        Contact.objects.filter(pk=contact.pk).update(occurred_at=when, created_at=when)
        made += 1

    for n in range(REFERRALS):
        sender = users[SENDERS[n % len(SENDERS)]]
        service_name, receiver_name = RECEIVERS[n % len(RECEIVERS)]
        receiver = users[receiver_name]
        ending = ENDINGS[n % len(ENDINGS)]
        # recent for those still waiting on an answer; the rest across the months
        days_ago = 1 + n % 3 if ending == S.SENT else 4 + (n * 29) % (DAYS - 4)
        person = None
        if n % 2 == 0:
            person = person_create(actor=sender, display_name=f"Demo {n:02d}")
        referral, _ = referral_create(
            sender=sender,
            service=services[service_name],
            pathway=pathways[n % len(pathways)],
            person=person,
            client_uuid=_id("referral", n),
        )
        _walk(referral, ending, sender=sender, receiver=receiver, forward=services[FORWARD_TO])
        _back_date(referral, start=now - timedelta(days=days_ago, hours=n % 9))
        made += 1
    return made


def _walk(referral: Referral, ending: str, *, sender, receiver, forward: Service) -> None:
    def move(to, actor=receiver, **fields):
        referral_transition(referral=referral, actor=actor, to=to, **fields)

    if ending == S.SENT:
        return
    if ending == S.DECLINED:
        return move(S.DECLINED, reason_code="no_capacity")
    if ending == S.WITHDRAWN:
        return move(S.WITHDRAWN, actor=sender, reason_code="client_declined")
    if ending == S.EXPIRED:
        Referral.objects.filter(pk=referral.pk).update(sla_due_at=timezone.now())
        referral_expire(referral_id=referral.pk, now=timezone.now() + timedelta(seconds=1))
        return None
    move(S.ACCEPTED)
    if ending == S.ACCEPTED:
        return None
    if ending == S.WAITLISTED:
        return move(S.WAITLISTED, expected_start=timezone.localdate() + timedelta(days=10))
    move(S.ENGAGED)
    if ending == S.COMPLETED:
        return move(S.COMPLETED, outcome=SUCCESSFUL)
    if ending == S.DISENGAGED:
        return move(S.DISENGAGED, reason_code="lost_contact")
    if ending == S.FORWARDED:
        return move(S.FORWARDED, forward_to=forward)
    return None


def _back_date(referral: Referral, *, start) -> None:
    """Move the referral, its events (a few hours apart) and a forward's child to ``start``."""
    referral.refresh_from_db()
    shift = start - referral.created_at
    rows = [referral, *Referral.objects.filter(parent=referral)]
    for row in rows:
        events = list(ReferralEvent.objects.filter(referral=row).order_by("created_at", "pk"))
        for step, event in enumerate(events):
            ReferralEvent.objects.filter(pk=event.pk).update(
                created_at=start + timedelta(hours=6 * step)
            )
        last = start + timedelta(hours=6 * max(len(events) - 1, 0))
        Referral.objects.filter(pk=row.pk).update(
            created_at=start,
            journey_started_at=start,
            status_changed_at=last,
            sla_due_at=row.sla_due_at + shift,
        )
