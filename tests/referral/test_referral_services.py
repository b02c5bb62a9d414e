"""The referral state machine, the consent gate and the closed loop, at the service layer."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from core.errors import Conflict, NotFound, ValidationFailed
from referral.models import (
    Notification,
    PersonGroupObjectPermission,
    Referral,
    ReferralEvent,
    ReferralGroupObjectPermission,
    ReferralStatus,
)
from referral.selectors.access import person_identity_visible
from referral.selectors.referrals import (
    ReferralFilters,
    referral_count,
    referral_get,
    referral_list,
)
from referral.services.referrals import referral_create, referral_transition
from tests.coordination.test_board import CODED
from tests.factories import consent_create_for, person_create_for

pytestmark = pytest.mark.django_db


def refer(world, **kwargs):
    kwargs.setdefault("sender", world.officer)
    kwargs.setdefault("service", world.treatment)
    kwargs.setdefault("pathway", "officer_intervention")
    return referral_create(**kwargs)[0]


def test_an_anonymous_referral_is_sent_granted_evented_audited_and_announced(world):
    # when
    referral = refer(world, reason="Wants help with opioids")
    # then
    assert referral.status == ReferralStatus.SENT
    assert referral.receiving_organization == world.clinic
    assert referral.stage == "treatment"
    assert not referral.identified
    assert list(referral.events.values_list("from_status", "to_status")) == [("", "sent")]
    assert AuditEvent.objects.filter(
        target_label="referral.referral", target_id=str(referral.pk), action="create"
    ).exists()
    assert Notification.objects.get(referral=referral).organization == world.clinic
    # and both ends see it, an outsider does not
    assert referral_get(user=world.officer_colleague, referral_id=referral.pk)
    assert referral_get(user=world.provider, referral_id=referral.pk)
    with pytest.raises(NotFound):
        referral_get(user=world.outsider, referral_id=referral.pk)
    assert list(referral_list(user=world.outsider)) == []


def test_a_referral_grants_each_end_once_with_its_creation_time_for_the_list(world):
    # given a person the clinic already sees from an earlier referral
    person = person_create_for(world.officer, given_name="Ana")
    refer(world, person=person)
    # when the police refer them again
    referral = refer(world, person=person)
    # then the sender's and the receiver's organisations hold their grants, each row once,
    # dated like the referral (the list reads them newest first)
    grants = ReferralGroupObjectPermission.objects.filter(content_object=referral)
    assert sorted(grants.values_list("group_id", "permission__codename")) == sorted(
        [
            (world.police.group_id, "view_referral"),
            (world.clinic.group_id, "view_referral"),
            (world.clinic.group_id, "view_referral_notes"),
            (world.clinic.group_id, "transition_referral"),
        ]
    )
    assert {g.referral_created_at for g in grants} == {referral.created_at}
    # and the repeated person grant to the clinic was left as it was
    assert (
        PersonGroupObjectPermission.objects.filter(
            content_object=person, group_id=world.clinic.group_id
        ).count()
        == 1
    )
    assert [r.pk for r in referral_list(user=world.provider)][:1] == [referral.pk]
    assert {g.referral_status for g in grants} == {"sent"}
    # and a transition moves every grant row's copy of the status with the referral
    referral_transition(referral=referral, actor=world.provider, to="accepted")
    assert {g.referral_status for g in grants.all()} == {"accepted"}
    accepted = ReferralFilters(status="accepted")
    assert [r.pk for r in referral_list(user=world.officer, filters=accepted)] == [referral.pk]
    assert referral_count(user=world.officer, filters=accepted) == 1


def test_sla_is_the_services_and_half_for_urgent(world):
    world.treatment.referral_sla_hours = 48
    world.treatment.save()
    routine = refer(world)
    urgent = refer(world, urgency="urgent")
    # the clock starts when the referral is sent
    assert routine.sla_due_at - routine.status_changed_at == timedelta(hours=48)
    assert urgent.sla_due_at - urgent.status_changed_at == timedelta(hours=24)


def test_identifying_data_does_not_cross_without_consent(world):
    # given a person the police recorded with a name, and no consent
    person = person_create_for(world.officer, given_name="Jan", family_name="Kowalski")
    # when the client asks to refuse in that case
    with pytest.raises(ValidationFailed) as refused:
        refer(world, person=person, if_no_consent="refuse")
    # then nothing was created and the error names the person field
    assert "person" in refused.value.errors
    assert not Referral.objects.exists()
    # and by default the referral goes pseudonymous
    referral = refer(world, person=person)
    assert not referral.identified
    assert not person_identity_visible(world.provider, person)


@pytest.mark.parametrize("cover", ["organisation", "stage"])
def test_a_consent_covering_the_organisation_or_stage_discloses_identity(world, cover):
    person = person_create_for(world.officer, given_name="Jan", family_name="Kowalski")
    consent = consent_create_for(
        world.officer,
        person,
        recipients=[world.clinic] if cover == "organisation" else [],
        stages=["treatment"] if cover == "stage" else [],
    )
    referral = refer(world, person=person, if_no_consent="refuse")
    assert referral.identified
    assert referral.consent == consent
    assert person_identity_visible(world.provider, person)
    # a coordinator never sees identity
    assert not person_identity_visible(world.coordinator, person)


def test_revoked_or_expired_consent_hides_identity_from_then_on(world):
    person = person_create_for(world.officer, given_name="Jan")
    consent = consent_create_for(world.officer, person, recipients=[world.clinic])
    refer(world, person=person)
    assert person_identity_visible(world.provider, person)
    consent.revoked_at = timezone.now()
    consent.save()
    assert not person_identity_visible(world.provider, person)
    # an expired one likewise
    consent_create_for(
        world.officer,
        person,
        recipients=[world.clinic],
        expires_at=timezone.now() + timedelta(hours=1),
    )
    assert person_identity_visible(world.provider, person)
    assert not person_identity_visible(
        world.provider, person, at=timezone.now() + timedelta(hours=2)
    )


def test_the_happy_path_notifies_the_sender_at_every_step(
    world, django_capture_on_commit_callbacks
):
    world.officer.email = "officer@example.invalid"
    world.officer.save()
    referral = refer(world)
    with django_capture_on_commit_callbacks(execute=True):
        for to in ("accepted", "engaged", "completed"):
            referral = referral_transition(
                referral=referral, actor=world.provider, to=to, **CODED.get(to, {})
            )
    assert referral.status == "completed"
    assert list(
        ReferralEvent.objects.filter(referral=referral).values_list("to_status", flat=True)
    ) == [
        "sent",
        "accepted",
        "engaged",
        "completed",
    ]
    sender_notes = Notification.objects.filter(referral=referral, organization=world.police)
    assert sender_notes.count() == 3
    assert all(n.emailed_at for n in sender_notes)
    assert [m.to for m in mail.outbox] == [["officer@example.invalid"]] * 3
    # status only: no names, no notes
    assert all(
        "completed" in m.body or "accepted" in m.body or "engaged" in m.body for m in mail.outbox
    )


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ([], "completed"),
        ([], "engaged"),
        (["accepted"], "declined"),
        (["accepted", "engaged", "completed"], "engaged"),
        (["declined"], "accepted"),
    ],
)
def test_an_illegal_transition_is_a_conflict_and_changes_nothing(world, path, illegal):
    referral = refer(world)
    for to in path:
        referral = referral_transition(
            referral=referral,
            actor=world.provider,
            to=to,
            reason="no capacity",
            **CODED.get(to, {}),
        )
    before = (referral.status, referral.events.count(), AuditEvent.objects.count())
    with pytest.raises(Conflict):
        referral_transition(referral=referral, actor=world.provider, to=illegal, reason="x")
    referral.refresh_from_db()
    assert (referral.status, referral.events.count(), AuditEvent.objects.count()) == before


@pytest.mark.parametrize("to", ["declined", "withdrawn"])
def test_declining_and_withdrawing_need_a_coded_reason_and_the_note_is_optional(world, to):
    referral = refer(world)
    actor = world.provider if to == "declined" else world.officer
    with pytest.raises(ValidationFailed) as missing:
        referral_transition(referral=referral, actor=actor, to=to, reason="Person moved away")
    assert "reason_code" in missing.value.errors
    with pytest.raises(ValidationFailed) as unknown:
        referral_transition(referral=referral, actor=actor, to=to, reason_code="deceased")
    assert "reason_code" in unknown.value.errors
    referral.refresh_from_db()
    assert referral.status == "sent"
    referral_transition(referral=referral, actor=actor, to=to, reason_code="other")
    referral.refresh_from_db()
    assert (referral.status, referral.status_reason_code) == (to, "other")


def test_only_the_right_side_takes_each_step(world):
    referral = refer(world)
    # the sender cannot accept, the receiver cannot withdraw: conflicts
    with pytest.raises(Conflict):
        referral_transition(referral=referral, actor=world.officer, to="accepted")
    with pytest.raises(Conflict):
        referral_transition(referral=referral, actor=world.provider, to="withdrawn", reason="x")
    # nobody but the system expires a referral
    with pytest.raises(Conflict):
        referral_transition(referral=referral, actor=world.provider, to="expired")
    # an outsider is told nothing
    with pytest.raises(NotFound):
        referral_transition(referral=referral, actor=world.outsider, to="accepted")
    referral_transition(referral=referral, actor=None, to="expired")
    referral.refresh_from_db()
    assert referral.status == "expired"
    assert referral.events.last().organization is None


def test_forwarding_creates_the_child_in_the_same_transaction(world):
    person = person_create_for(world.officer, given_name="Jan")
    consent_create_for(world.officer, person, stages=["treatment", "recovery"])
    referral = refer(world, person=person)
    referral_transition(referral=referral, actor=world.provider, to="accepted")
    referral_transition(
        referral=referral,
        actor=world.provider,
        to="forwarded",
        reason="Ready for peer support",
        forward_to=world.recovery,
    )
    child = Referral.objects.get(parent=referral)
    assert child.to_service == world.recovery
    assert child.sender_organization == world.clinic
    assert child.person == person
    assert child.identified  # the consent covers the recovery stage too
    assert child.status == "sent"
    # the police, who started it, see the parent's outcome but not the child
    referral.refresh_from_db()
    assert referral.status == "forwarded"
    with pytest.raises(NotFound):
        referral_get(user=world.officer, referral_id=child.pk)


def test_a_forward_to_a_closed_service_rolls_everything_back(world):
    referral = refer(world)
    referral_transition(referral=referral, actor=world.provider, to="accepted")
    with pytest.raises(Conflict):
        referral_transition(
            referral=referral, actor=world.provider, to="forwarded", forward_to=world.closed
        )
    referral.refresh_from_db()
    assert referral.status == "accepted"
    assert not Referral.objects.filter(parent=referral).exists()


def test_a_retried_create_with_the_same_client_uuid_returns_the_first(world):
    import uuid

    key = uuid.uuid4()
    first, created = referral_create(
        sender=world.officer, service=world.treatment, pathway="self_referral", client_uuid=key
    )
    again, created_again = referral_create(
        sender=world.officer_colleague,
        service=world.treatment,
        pathway="self_referral",
        client_uuid=key,
    )
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert Referral.objects.count() == 1
    with pytest.raises(Conflict):
        referral_create(
            sender=world.officer, service=world.treatment, pathway="naloxone_plus", client_uuid=key
        )


def test_a_service_not_accepting_referrals_refuses_them(world):
    with pytest.raises(Conflict) as refused:
        refer(world, service=world.closed)
    assert "to_service" in refused.value.errors


def test_coordinators_see_their_task_forces_referrals(world):
    referral = refer(world)
    assert referral_get(user=world.coordinator, referral_id=referral.pk) == referral
    assert [r.pk for r in referral_list(user=world.coordinator)] == [referral.pk]


def test_the_list_count_is_the_number_of_referrals_the_list_gives(world):
    # given: referrals both ways across the task force, one forwarded on, one declined
    first = refer(world)
    referral_transition(referral=first, actor=world.provider, to="accepted")
    referral_transition(
        referral=first, actor=world.provider, to="forwarded", forward_to=world.recovery
    )
    declined = refer(world, sender=world.officer_colleague)
    referral_transition(
        referral=declined,
        actor=world.provider,
        to="declined",
        reason="Full",
        reason_code="no_capacity",
    )
    refer(world, sender=world.provider, service=world.recovery)
    readers = [
        world.officer,
        world.provider,
        world.recovery_worker,
        world.coordinator,
        world.outsider,
    ]
    choices = [
        ReferralFilters(),
        ReferralFilters(direction="sent"),
        ReferralFilters(direction="received"),
        ReferralFilters(status="sent"),
        ReferralFilters(status="declined"),
        ReferralFilters(direction="received", status="forwarded"),
        ReferralFilters(pathway="self_referral"),
    ]
    # then: every reader's count, filtered or not, is exactly what their list holds (the
    # receiver's three grants per referral count once; an outsider counts nothing)
    for reader in readers:
        for filters in choices:
            listed = list(referral_list(user=reader, filters=filters))
            assert referral_count(user=reader, filters=filters) == len(listed), (reader, filters)
    assert referral_count(user=world.provider) == 4
    assert referral_count(user=world.recovery_worker) == 2
    assert referral_count(user=world.officer) == 2
    assert referral_count(user=world.coordinator) == 4
    assert referral_count(user=world.outsider) == 0


def test_the_list_is_newest_first(world):
    made = [refer(world) for _ in range(3)]
    assert [r.pk for r in referral_list(user=world.provider)] == [r.pk for r in made[::-1]]


@pytest.mark.django_db(transaction=True)
def test_two_providers_accepting_at_once_exactly_one_wins(world, postgres_only):
    from tests.factories import member

    second_provider = member(organization=world.clinic, role="provider", username="provider-2t")
    referral = refer(world)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def accept(user):
        try:
            barrier.wait()
            referral_transition(referral=referral, actor=user, to="accepted")
            outcomes.append("won")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=accept, args=(u,)) for u in (world.provider, second_provider)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "won"]
    assert ReferralEvent.objects.filter(referral=referral, to_status="accepted").count() == 1
