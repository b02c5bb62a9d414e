"""The referral API as phones and desktops call it."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from fhir.resources.R4B.bundle import Bundle

from audit.models import AuditEvent
from referral.models import Notification, Referral, ReferralEvent
from referral.services.referrals import referral_transition
from tests.factories import (
    ServiceFactory,
    consent_create_for,
    person_create_for,
    referral_sent,
)

pytestmark = pytest.mark.django_db


def create(client, world, **body):
    body.setdefault("to_service", str(world.treatment.pk))
    body.setdefault("pathway", "officer_intervention")
    return client.post("/api/v1/referrals/", body, format="json")


def test_officer_refers_and_the_provider_works_the_inbox(client_for, world):
    officer, provider = client_for(world.officer), client_for(world.provider)
    # when
    response = create(officer, world, reason="Asked for help", urgency="urgent")
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    referral_id = body["id"]
    assert body["status"] == "sent"
    assert body["relation"] == ["sender"]
    assert body["allowed_transitions"] == ["withdrawn"]
    inbox = provider.get("/api/v1/referrals/", {"direction": "received", "status": "sent"}).json()
    assert [r["id"] for r in inbox["results"]] == [referral_id]
    assert inbox["results"][0]["allowed_transitions"] == ["accepted", "declined"]
    # the provider accepts, engages, adds a note, completes
    for to in ("accepted", "engaged"):
        moved = provider.post(
            f"/api/v1/referrals/{referral_id}/transition/", {"to": to}, format="json"
        )
        assert moved.status_code == 200, moved.content
    note = provider.post(
        f"/api/v1/referrals/{referral_id}/notes/",
        {"text": "First session went well"},
        format="json",
    )
    assert note.status_code == 201
    assert provider.get(f"/api/v1/referrals/{referral_id}/notes/").json()[0]["text"] == (
        "First session went well"
    )
    provider.post(
        f"/api/v1/referrals/{referral_id}/transition/",
        {"to": "completed", "outcome": "successful"},
        format="json",
    )
    # the officer learns the outcome, status only: no notes
    seen = officer.get(f"/api/v1/referrals/{referral_id}/").json()
    assert seen["status"] == "completed"
    assert officer.get(f"/api/v1/referrals/{referral_id}/notes/").status_code == 404
    events = officer.get(f"/api/v1/referrals/{referral_id}/events/").json()
    assert [e["to_status"] for e in events] == ["sent", "accepted", "engaged", "completed"]
    messages = [n["message"] for n in officer.get("/api/v1/notifications/").json()["results"]]
    assert "Your referral to Treatment is now completed: successful." in messages


def test_an_illegal_transition_is_409_and_changes_nothing(client_for, world):
    referral_id = create(client_for(world.officer), world).json()["id"]
    provider = client_for(world.provider)
    response = provider.post(
        f"/api/v1/referrals/{referral_id}/transition/", {"to": "completed"}, format="json"
    )
    assert response.status_code == 409
    assert "to" in response.json()["errors"]
    assert Referral.objects.get(pk=referral_id).status == "sent"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"to": "teleported"}, "to"),
        ({"to": "declined"}, "reason_code"),
        ({"to": "declined", "reason_code": "deceased"}, "reason_code"),
        ({"to": "accepted", "reason_code": "other"}, "reason_code"),
        ({"to": "accepted", "outcome": "successful"}, "outcome"),
        ({}, "to"),
    ],
)
def test_bad_transition_input_is_400_naming_the_field(client_for, world, body, field):
    referral_id = create(client_for(world.officer), world).json()["id"]
    response = client_for(world.provider).post(
        f"/api/v1/referrals/{referral_id}/transition/", body, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert Referral.objects.get(pk=referral_id).status == "sent"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"to_service": "nope"}, "to_service"),
        ({"to_service": str(uuid.uuid4())}, "to_service"),
        ({"pathway": "arrest"}, "pathway"),
        ({"urgency": "whenever"}, "urgency"),
        ({"person": str(uuid.uuid4())}, "person"),
        ({"contact": str(uuid.uuid4())}, "contact"),
        ({"if_no_consent": "sure"}, "if_no_consent"),
        ({"client_uuid": "123"}, "client_uuid"),
    ],
)
def test_bad_referral_input_is_400_naming_the_field_and_creates_nothing(
    client_for, world, body, field
):
    response = create(client_for(world.officer), world, **body)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not Referral.objects.exists()


def test_another_organisations_person_cannot_be_referred_and_is_not_revealed(client_for, world):
    theirs = person_create_for(world.outsider, given_name="Secret")
    missing = create(client_for(world.officer), world, person=str(uuid.uuid4()))
    forbidden = create(client_for(world.officer), world, person=str(theirs.pk))
    assert forbidden.status_code == missing.status_code == 400
    assert forbidden.json() == missing.json()


def test_refuse_without_consent_is_400_that_says_why(client_for, world):
    person = person_create_for(world.officer, given_name="Jan")
    response = create(
        client_for(world.officer), world, person=str(person.pk), if_no_consent="refuse"
    )
    assert response.status_code == 400
    assert "consent" in response.json()["detail"]
    assert not Referral.objects.exists()


def test_forbidden_and_missing_referrals_look_the_same(client_for, world):
    referral_id = create(client_for(world.officer), world).json()["id"]
    outsider = client_for(world.outsider)
    for suffix in ("", "events/", "notes/", "fhir/"):
        forbidden = outsider.get(f"/api/v1/referrals/{referral_id}/{suffix}")
        missing = outsider.get(f"/api/v1/referrals/{uuid.uuid4()}/{suffix}")
        assert forbidden.status_code == missing.status_code == 404
        assert forbidden.json() == missing.json()
    forbidden = outsider.post(
        f"/api/v1/referrals/{referral_id}/transition/", {"to": "accepted"}, format="json"
    )
    assert forbidden.status_code == 404
    assert outsider.get("/api/v1/referrals/").json()["count"] == 0


def test_forwarding_through_the_api(client_for, world):
    referral_id = create(client_for(world.officer), world).json()["id"]
    provider = client_for(world.provider)
    provider.post(f"/api/v1/referrals/{referral_id}/transition/", {"to": "accepted"}, format="json")
    response = provider.post(
        f"/api/v1/referrals/{referral_id}/transition/",
        {"to": "forwarded", "to_service": str(world.recovery.pk), "reason": "Next stage"},
        format="json",
    )
    assert response.status_code == 200, response.content
    child = client_for(world.recovery_worker).get("/api/v1/referrals/").json()["results"][0]
    assert child["parent"] == referral_id
    assert child["sender_organization"]["name"] == "Clinic"


def test_coordinator_sees_status_and_pseudonym_but_no_reason(client_for, world):
    person = person_create_for(world.officer, display_name="Blue Jacket", given_name="Jan")
    referral_id = create(
        client_for(world.officer), world, person=str(person.pk), reason="Sensitive"
    ).json()["id"]
    body = client_for(world.coordinator).get(f"/api/v1/referrals/{referral_id}/").json()
    assert body["person"] == {"id": str(person.pk), "display_name": "Blue Jacket"}
    assert body["reason"] is None
    assert body["relation"] == ["coordinator"]
    assert body["allowed_transitions"] == []


@pytest.mark.parametrize("reader", ["provider", "officer", "coordinator"])
def test_fhir_bundle_is_valid_r4b_and_identity_only_as_permitted(client_for, world, reader):
    person = person_create_for(
        world.officer,
        display_name="Blue",
        given_name="Jan",
        family_name="Kowalski",
        birth_date="1990-04-01",
    )
    consent_create_for(world.officer, person, recipients=[world.clinic])
    referral_id = create(client_for(world.officer), world, person=str(person.pk)).json()["id"]
    client_for(world.provider).post(
        f"/api/v1/referrals/{referral_id}/transition/",
        {"to": "declined", "reason_code": "no_capacity", "reason": "Full"},
        format="json",
    )
    before = AuditEvent.objects.filter(action="read").count()
    response = client_for(getattr(world, reader)).get(f"/api/v1/referrals/{referral_id}/fhir/")
    assert response.status_code == 200
    data = response.json()
    bundle = Bundle.model_validate(data)
    service_request, task = (entry.resource for entry in bundle.entry[:2])
    assert service_request.__resource_type__ == "ServiceRequest"
    assert task.__resource_type__ == "Task"
    assert task.status == "rejected"
    # the code and its label, never the note
    assert task.statusReason.text == "No capacity"
    assert task.statusReason.coding[0].code == "no_capacity"
    assert "Full" not in response.content.decode()
    patients = [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Patient"]
    if reader == "coordinator":
        assert patients == []
        assert "Kowalski" not in response.content.decode()
        assert AuditEvent.objects.filter(action="read").count() == before
    else:
        # the officer's organisation recorded the person; the clinic holds a consent
        assert patients[0]["name"][0]["family"] == "Kowalski"
        assert patients[0]["birthDate"] == "1990-04-01"
        assert AuditEvent.objects.filter(action="read").count() == before + 1


def test_a_retried_post_with_the_same_client_uuid_creates_one_referral(client_for, world):
    officer = client_for(world.officer)
    key = str(uuid.uuid4())
    first = create(officer, world, client_uuid=key)
    second = create(officer, world, client_uuid=key)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Referral.objects.count() == 1
    conflict = create(officer, world, client_uuid=key, pathway="self_referral")
    assert conflict.status_code == 409


def test_idempotency_key_replays_the_first_answer(client_for, world):
    officer = client_for(world.officer)
    headers = {"HTTP_IDEMPOTENCY_KEY": "retry-after-timeout-1"}
    body = {"to_service": str(world.treatment.pk), "pathway": "naloxone_plus"}
    first = officer.post("/api/v1/referrals/", body, format="json", **headers)
    second = officer.post("/api/v1/referrals/", body, format="json", **headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert Referral.objects.count() == 1


@pytest.mark.parametrize("reader", ["provider", "coordinator"])
def test_the_list_counts_what_it_may_show_in_the_same_queries_at_any_page_size(
    client_for, world, reader
):
    # given: twelve referrals to the clinic (one declined), one from it, one it is not part of
    for n in range(12):
        referral = referral_sent(None, sender=world.officer, service=world.treatment)
        if n == 5:
            referral_transition(
                referral=referral,
                actor=world.provider,
                to="declined",
                reason="No beds.",
                reason_code="no_capacity",
            )
    referral_sent(None, sender=world.provider, service=world.recovery)
    referral_sent(None, sender=world.officer, service=world.recovery)
    client = client_for(getattr(world, reader))
    client.get("/api/v1/referrals/")  # the same user object: its membership is cached from now
    counts, bodies = [], []
    for size in (2, 10):
        # when
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/v1/referrals/", {"page_size": size})
        # then
        assert response.status_code == 200
        counts.append(len(queries))
        bodies.append(response.json())
    assert counts[0] == counts[1]
    small, large = bodies
    expected = 13 if reader == "provider" else 14
    assert small["count"] == large["count"] == expected
    assert [r["id"] for r in small["results"]] == [r["id"] for r in large["results"][:2]]
    created = [r["created_at"] for r in large["results"]]
    assert created == sorted(created, reverse=True)
    filtered = client.get("/api/v1/referrals/", {"status": "sent", "page_size": 5}).json()
    assert filtered["count"] == expected - 1
    assert len(filtered["results"]) == 5


@pytest.mark.parametrize("status", [None, "sent"])
def test_the_received_list_and_its_count_are_the_referrals_the_organisation_receives(
    client_for, world, status
):
    # given: referrals to the clinic (one declined), one the clinic sends to recovery, one
    # within the clinic (it is sender and receiver), and one it is not part of
    to_clinic = [referral_sent(None, sender=world.officer, service=world.treatment) for _ in "abc"]
    referral_transition(
        referral=to_clinic[1],
        actor=world.provider,
        to="declined",
        reason="No beds.",
        reason_code="no_capacity",
    )
    referral_sent(None, sender=world.provider, service=world.recovery)
    own = referral_sent(None, sender=world.provider, service=world.treatment)
    referral_sent(None, sender=world.officer, service=world.recovery)
    params = {"direction": "received", **({"status": status} if status else {})}
    for user in (world.provider, world.recovery_worker, world.officer, world.outsider):
        organization_id = user.membership.organization_id
        expected = Referral.objects.filter(receiving_organization_id=organization_id)
        if status:
            expected = expected.filter(status=status)
        # when
        body = client_for(user).get("/api/v1/referrals/", params).json()
        # then
        assert {r["id"] for r in body["results"]} == {
            str(pk) for pk in expected.values_list("pk", flat=True)
        }
        assert body["count"] == len(body["results"]) == expected.count()
    provider = client_for(world.provider).get("/api/v1/referrals/", params).json()
    assert str(own.pk) in {r["id"] for r in provider["results"]}


@pytest.mark.parametrize("reader", ["provider", "coordinator"])
@pytest.mark.parametrize("params", [{}, {"status": "sent"}, {"direction": "received"}])
def test_the_list_reads_a_page_in_the_same_queries_however_many_referrals_there_are(
    client_for, world, reader, params
):
    # given: a page's worth of referrals the reader may see, among others it may not
    client = client_for(getattr(world, reader))
    client.get("/api/v1/referrals/")  # the same user object: its membership is cached from now

    def add(count: int) -> None:
        for _ in range(count):
            referral_sent(None, sender=world.officer, service=world.treatment)
            referral_sent(None, sender=world.provider, service=world.recovery)
            referral_sent(None, sender=world.officer, service=world.recovery)

    def page() -> tuple[int, dict]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/v1/referrals/", {"page_size": 5, **params})
        assert response.status_code == 200
        return len(queries), response.json()

    add(3)
    # when the data triples
    few, small = page()
    add(6)
    many, large = page()
    # then the page takes as many queries, and shows the newest of the larger set
    assert few == many
    if small["count"]:  # (a coordinator's organisation receives none of them)
        assert large["count"] > small["count"]
    assert len(large["results"]) == min(5, large["count"])
    created = [r["created_at"] for r in large["results"]]
    assert created == sorted(created, reverse=True)


def test_a_retried_transition_answers_200_with_the_referral_and_changes_nothing(client_for, world):
    # given a provider whose first accept worked but whose answer was lost
    referral_id = create(client_for(world.officer), world).json()["id"]
    provider = client_for(world.provider)
    url = f"/api/v1/referrals/{referral_id}/transition/"
    first = provider.post(url, {"to": "accepted"}, format="json")
    assert first.status_code == 200, first.content
    # when the phone retries the same move
    retried = provider.post(url, {"to": "accepted"}, format="json")
    # then it gets the current referral, and nothing happened twice
    assert retried.status_code == 200, retried.content
    assert retried.json() == first.json()
    assert [
        e["to_status"] for e in provider.get(f"/api/v1/referrals/{referral_id}/events/").json()
    ] == ["sent", "accepted"]
    assert (
        Notification.objects.filter(referral_id=referral_id, event__to_status="accepted").count()
        == 1
    )


def test_the_same_move_by_someone_else_or_a_different_illegal_move_stays_409(client_for, world):
    from tests.factories import member

    referral_id = create(client_for(world.officer), world).json()["id"]
    url = f"/api/v1/referrals/{referral_id}/transition/"
    assert (
        client_for(world.provider).post(url, {"to": "accepted"}, format="json").status_code == 200
    )
    colleague = member(organization=world.clinic, role="provider", username="provider-2r")
    # a colleague's accept is not a retry of the provider's: the referral was taken
    again = client_for(colleague).post(url, {"to": "accepted"}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "illegal_transition"
    # a move the referral cannot make from where it is stays a conflict for anyone
    declined = client_for(world.provider).post(
        url, {"to": "declined", "reason": "Full"}, format="json"
    )
    assert declined.status_code == 409
    assert Referral.objects.get(pk=referral_id).status == "accepted"
    assert ReferralEvent.objects.filter(referral_id=referral_id).count() == 2


def test_a_referral_to_an_unclassified_service_is_a_400_naming_it(client_for, world):
    # given a service imported without a stage, accepting referrals
    unclassified = ServiceFactory(organization=world.clinic, name="Imported", stage="")
    before = (Referral.objects.count(), AuditEvent.objects.count())

    # when the officer refers someone to it
    response = create(client_for(world.officer), world, to_service=str(unclassified.pk))

    # then it is refused with its own code, and nothing is written
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "service_unclassified"
    assert "to_service" in body["errors"]
    assert (Referral.objects.count(), AuditEvent.objects.count()) == before
