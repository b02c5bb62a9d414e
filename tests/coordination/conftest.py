"""Fixtures of the coordination tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from referral.models import Pathway
from tests.coordination.flows_data import DAY, HOUR, contacts, journey


@pytest.fixture
def flows_world(world):
    """3 referrals on naloxone_plus beside 12 on officer_intervention and 8 on
    active_outreach, 2 days ago; 3 contacts on naloxone_plus beside 9 and 11."""
    at = datetime.now(tz=UTC).replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(
        days=2
    )
    for n in range(12):
        journey(
            sender=world.police,
            service=world.treatment,
            pathway=Pathway.OFFICER_INTERVENTION,
            at=at + timedelta(minutes=n),
            steps=[("accepted", 2 * HOUR), ("engaged", DAY + n * HOUR)],
            journey_seconds=3 * HOUR,
        )
    for n in range(8):
        journey(
            sender=world.police,
            service=world.recovery,
            pathway=Pathway.ACTIVE_OUTREACH,
            at=at + timedelta(minutes=n),
            steps=[("declined", 5 * HOUR)],
        )
    for n in range(3):
        journey(
            sender=world.police,
            service=world.treatment,
            pathway=Pathway.NALOXONE_PLUS,
            at=at + timedelta(minutes=n),
            steps=[("accepted", HOUR)],
        )
    contacts(organization=world.police, pathway=Pathway.NALOXONE_PLUS, at=at, n=3)
    contacts(organization=world.police, pathway=Pathway.OFFICER_INTERVENTION, at=at, n=9)
    contacts(organization=world.police, pathway=Pathway.ACTIVE_OUTREACH, at=at, n=11)
    return world
