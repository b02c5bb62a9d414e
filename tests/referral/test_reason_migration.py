"""referral 0007-0010 on rows written before them: plaintext reasons are sealed where they
were written, coded transitions become ``other``, and each referral joins the task force its
organisations share."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from referral.models import Referral
from referral.selectors import referrals as selectors
from referral.services.referrals import referral_transition
from tests.factories import care_world, person_create_for, referral_sent

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("referral", "0006_consent_disclosed_fields")]


def test_existing_reasons_are_sealed_coded_other_and_scoped_to_their_task_force():
    # given: referrals written now, then the schema taken back to before coded reasons
    world = care_world()
    person = person_create_for(world.officer, display_name="Old", given_name="Ana")
    identified = referral_sent(person, sender=world.officer, service=world.treatment)
    anonymous = referral_sent(None, sender=world.officer, service=world.treatment)
    for referral in (identified, anonymous):
        referral_transition(
            referral=referral, actor=world.provider, to="declined", reason_code="no_capacity"
        )
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        old_referral = old.get_model("referral", "Referral")
        old_event = old.get_model("referral", "ReferralEvent")
        for referral in (identified, anonymous):
            old_referral.objects.filter(pk=referral.pk).update(
                reason=f"legacy reason {referral.pk}"
            )
            old_event.objects.filter(referral_id=referral.pk, to_status="declined").update(
                reason=f"legacy note {referral.pk}"
            )
    finally:
        # when
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    # then
    for referral in (identified, anonymous):
        migrated = Referral.objects.select_related("person").get(pk=referral.pk)
        assert migrated.task_force_id == world.task_force.pk
        assert migrated.status_reason_code == "other"
        assert migrated.reason_enc is not None
        officer_view = selectors.referral_get(user=world.officer, referral_id=referral.pk)
        assert selectors.referral_reason(user=world.officer, referral=officer_view) == (
            f"legacy reason {referral.pk}"
        )
        # the decline note was the clinic's: the clinic reads it, the police do not
        for user, expected in (
            (world.provider, f"legacy note {referral.pk}"),
            (world.officer, None),
        ):
            events = selectors.referral_events(user=user, referral_id=referral.pk)
            declined = events[-1]
            assert (declined.to_status, declined.reason_code) == ("declined", "other")
            assert declined.reason == expected
    columns = {
        c.name
        for c in connection.introspection.get_table_description(
            connection.cursor(), "referral_referralevent"
        )
    }
    assert "reason" not in columns and "reason_enc" in columns
