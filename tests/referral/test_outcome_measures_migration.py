"""referral 0014 on referrals made before it: the measures the outcome metrics read are
filled from each referral's events, as the transitions now keep them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from referral.models import Referral
from referral.services.referrals import referral_transition
from tests.factories import care_world, referral_sent

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("referral", "0013_referral_to_stage")]
AT = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
FIELDS = (
    "accepted_after_seconds",
    "engaged_at",
    "engaged_after_journey_seconds",
    "left_care_after_seconds",
    "waitlisted_seconds",
)


def test_the_measures_of_older_referrals_are_filled_from_their_events():
    # given a referral accepted after 2 h, waitlisted 1 h later for 3 days, engaged, then
    # lost 10 days on: its measures as the transitions keep them
    world = care_world()
    with time_machine.travel(AT, tick=False):
        referral = referral_sent(sender=world.officer, service=world.treatment)
    steps = [
        ("accepted", timedelta(hours=2), {}),
        ("waitlisted", timedelta(hours=1), {"expected_start": date(2025, 6, 5)}),
        ("engaged", timedelta(days=3), {}),
        ("disengaged", timedelta(days=10), {"reason_code": "lost_contact"}),
    ]
    at = AT
    for to, after, fields in steps:
        at += after
        with time_machine.travel(at, tick=False):
            referral_transition(referral=referral, actor=world.provider, to=to, **fields)
    kept = Referral.objects.filter(pk=referral.pk).values(*FIELDS).get()
    assert kept == {
        "accepted_after_seconds": 2 * 3600,
        "engaged_at": AT + timedelta(hours=3, days=3),
        "engaged_after_journey_seconds": 3 * 86400 + 3 * 3600,
        "left_care_after_seconds": 10 * 86400,
        "waitlisted_seconds": 3 * 86400,
    }
    # when the schema goes back to before the measures and forward again
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    # then the same measures, from the events
    assert Referral.objects.filter(pk=referral.pk).values(*FIELDS).get() == kept
