"""Referral journeys and contacts with chosen timings, for the flows, rollup and dashboard
tests (plain functions; the fixture that uses them is in this folder's conftest)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import time_machine
from django.contrib.auth import get_user_model

from referral.models import Contact, Referral
from referral.reasons import CODE_REQUIRED
from referral.services.contacts import contact_fingerprint, contact_record
from referral.services.referrals import referral_create, referral_transition

DAY = 86400
HOUR = 3600


def member_of(organization):
    """The member who acts for an organisation in these journeys (its first one)."""
    return (
        get_user_model()
        .objects.filter(membership__organization=organization)
        .order_by("pk")
        .first()
    )


def journey(
    *,
    sender,
    service,
    pathway: str,
    at: datetime,
    steps: list[tuple[str, int]] = (),
    journey_seconds: int = 0,
    parent: Referral | None = None,
) -> Referral:
    """A referral sent by a member of ``sender`` at ``at``, its journey begun
    ``journey_seconds`` before (a contact then, when there is no parent), then each
    ``(status, seconds after the previous step)`` taken by a member of the receiving side:
    all through the referral services, on a clock set to each moment."""
    started = at - timedelta(seconds=journey_seconds)  # a chain starts where its first did
    contact = None
    if parent is None and journey_seconds:
        with time_machine.travel(started, tick=False):
            contact = _contact(organization=sender, pathway=pathway, at=started)
    with time_machine.travel(at, tick=False):
        referral, _ = referral_create(
            sender=member_of(sender),
            service=service,
            pathway=pathway,
            contact=contact,
            parent=parent,
        )
    receiver = member_of(service.organization)
    when = at
    for to, seconds in steps:
        when = when + timedelta(seconds=seconds)
        with time_machine.travel(when, tick=False):
            referral = referral_transition(
                referral=referral,
                actor=receiver,
                to=to,
                reason="No place this month." if to in CODE_REQUIRED else "",
                reason_code="other" if to in CODE_REQUIRED else "",
                outcome="successful" if to == "completed" else "",
            )
    return referral


def _contact(*, organization, pathway: str, at: datetime) -> Contact:
    fields = {
        "client_uuid": uuid.uuid4(),
        "occurred_at": at,
        "place": "",
        "pathway": pathway,
        "offered": [],
    }
    contact, _ = contact_record(
        actor=member_of(organization), fingerprint=contact_fingerprint(**fields), **fields
    )
    return contact


def contacts(*, organization, pathway: str, at: datetime, n: int) -> None:
    """``n`` contacts logged by a member of ``organization``, a minute apart from ``at``."""
    for i in range(n):
        moment = at + timedelta(minutes=i)
        with time_machine.travel(moment, tick=False):
            _contact(organization=organization, pathway=pathway, at=moment)


def period(days_ago: int = 30) -> dict[str, str]:
    today = datetime.now(tz=UTC).date()
    return {
        "since": (today - timedelta(days=days_ago)).isoformat(),
        "until": (today + timedelta(days=1)).isoformat(),
    }
