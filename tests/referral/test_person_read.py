"""The read of the person a referral is made for (``access.person_visible_get``): the same
people as ``person_visible_q`` lets each user see, with the time of their first contact,
where the referral's journey starts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from core.sql import Select
from referral.models import Person
from referral.selectors.access import person_visible_get, person_visible_q
from referral.services.contacts import contact_fingerprint, contact_record
from tests.factories import person_create_for, referral_sent

pytestmark = pytest.mark.django_db

# contacts are recorded within a few days of when they happened
EARLY = (datetime.now(tz=UTC) - timedelta(days=2)).replace(microsecond=0)


def _contact(actor, person, at):
    fields = {
        "client_uuid": uuid.uuid4(),
        "occurred_at": at,
        "place": "",
        "pathway": "active_outreach",
        "offered": [],
        "person": person.pk,
    }
    contact, _ = contact_record(actor=actor, fingerprint=contact_fingerprint(**fields), **fields)
    return contact


def _users(world):
    return [
        world.officer,
        world.officer_colleague,
        world.provider,
        world.recovery_worker,
        world.outsider,
        world.coordinator,
    ]


def test_each_user_reads_exactly_the_people_the_visibility_rule_lets_them_see(world):
    # given: one person referred to the clinic, one kept by the police, one of the outsider
    referred = person_create_for(world.officer, display_name="Referred")
    referral_sent(referred, sender=world.officer, service=world.treatment)
    kept = person_create_for(world.officer, display_name="Kept")
    theirs = person_create_for(world.outsider, display_name="Theirs")
    for user in _users(world):
        for person in (referred, kept, theirs):
            # when
            read = person_visible_get(user, person.pk)
            # then: the coordinator's rule (people referred in their task force) included
            rule = Person.objects.filter(person_visible_q(user), pk=person.pk).exists()
            assert (read is not None) == rule, (user.username, person.display_name)
            if read is not None:
                assert read == person and read.display_name == person.display_name
    assert person_visible_get(world.provider, referred.pk) is not None
    assert person_visible_get(world.coordinator, referred.pk) is not None
    assert person_visible_get(world.provider, kept.pk) is None
    assert person_visible_get(world.officer, uuid.uuid4()) is None


def test_the_person_comes_with_the_time_of_their_first_contact(world):
    # given
    person = person_create_for(world.officer, display_name="Seen twice")
    referral_sent(person, sender=world.officer, service=world.treatment)
    for user in (world.officer, world.provider, world.coordinator):
        assert person_visible_get(user, person.pk).first_contact_at is None
    # when: two contacts, the later one recorded first
    _contact(world.officer, person, EARLY + timedelta(days=2))
    _contact(world.officer, person, EARLY)
    # then: the earliest, for a member and for a coordinator alike, as an aware time
    for user in (world.officer, world.provider, world.coordinator):
        assert person_visible_get(user, person.pk).first_contact_at == EARLY


def test_a_referral_through_the_api_starts_its_journey_at_the_first_contact(world, client_for):
    # given
    person = person_create_for(world.officer, display_name="Met twice")
    _contact(world.officer, person, EARLY + timedelta(hours=3))
    _contact(world.officer, person, EARLY)
    # when
    response = client_for(world.officer).post(
        "/api/v1/referrals/",
        {
            "to_service": str(world.treatment.pk),
            "pathway": "active_outreach",
            "person": str(person.pk),
        },
        format="json",
    )
    # then
    assert response.status_code == 201, response.content
    referral = person.referrals.get()
    assert referral.journey_started_at == EARLY
    since = referral.events.get().seconds_since_journey_start
    assert abs(since - (referral.status_changed_at - EARLY).total_seconds()) < 1


def test_a_select_leaves_a_foreign_key_that_points_nowhere_as_none(
    world, django_assert_num_queries
):
    # given: a person whose recorder's account is gone
    person = person_create_for(world.officer, display_name="Orphan")
    Person.objects.filter(pk=person.pk).update(created_by=None)
    select = Select(
        Person,
        related=["created_by", "organization"],
        where=lambda column, qn: f"{column('id')} = %s",
        params=[Person._meta.pk],
    )
    # when
    with django_assert_num_queries(1):
        read = select.one(person.pk)
        # then: both relations come with it, the missing one as None
        assert read.created_by is None
        assert read.organization == world.police
    Person.objects.filter(pk=person.pk).update(created_by=world.officer)
    with django_assert_num_queries(1):
        assert select.one(person.pk).created_by == world.officer
