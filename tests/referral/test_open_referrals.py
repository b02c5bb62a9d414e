"""Referrals addressed to a stage (``to_stage``): offered to every service of that stage in
the task force that accepts referrals and has a place; the first to accept takes it, the
others get 409 and stop seeing it; identity crosses only at the claim, under consent;
unclaimed, it expires after the shortest SLA to the board."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from coordination.expiry import referral_expire
from coordination.selectors.board import board_get
from referral.models import Referral, ReferralEvent, ReferralOffer
from services_directory.models import OrganizationKind, Role, Stage
from tests.factories import (
    OrganizationFactory,
    ServiceFactory,
    TaskForceFactory,
    consent_create_for,
    member,
    person_create_for,
)

IDENTITY = {"given_name": "Zebulon", "family_name": "Quarrington"}


@pytest.fixture
def stage_world(world):
    """Three treatment providers with a place in the task force (the clinic's Treatment with
    a 48 h SLA, Detox at the recovery organisation with 24 h, a third with 72 h), one full,
    one not accepting, and one in another task force."""
    w = world
    w.detox = ServiceFactory(
        organization=w.recovery_org, name="Detox", stage=Stage.TREATMENT, referral_sla_hours=24
    )
    w.third_org = OrganizationFactory(name="Third", kind=OrganizationKind.TREATMENT)
    w.task_force.organizations.add(w.third_org)
    w.third = ServiceFactory(
        organization=w.third_org, name="Third clinic", stage=Stage.TREATMENT, referral_sla_hours=72
    )
    w.third_worker = member(organization=w.third_org, role=Role.PROVIDER, username="third-t")
    ServiceFactory(
        organization=w.third_org, name="Full", stage=Stage.TREATMENT, capacity_available=0
    )
    ServiceFactory(
        organization=w.third_org, name="Shut", stage=Stage.TREATMENT, accepting_referrals=False
    )
    far_org = OrganizationFactory(name="Far away", kind=OrganizationKind.TREATMENT)
    TaskForceFactory(organizations=[far_org])
    w.far_worker = member(organization=far_org, role=Role.PROVIDER, username="far-t")
    ServiceFactory(organization=far_org, name="Far clinic", stage=Stage.TREATMENT)
    return w


def _open(client, **fields):
    return client.post(
        "/api/v1/referrals/",
        {"to_stage": "treatment", "pathway": "officer_intervention", **fields},
        format="json",
    )


def _listed(client) -> set[str]:
    return {r["id"] for r in client.get("/api/v1/referrals/").json()["results"]}


def _accept(client, referral_id, **fields):
    return client.post(
        f"/api/v1/referrals/{referral_id}/transition/",
        {"to": "accepted", **fields},
        format="json",
    )


def test_offered_to_every_treatment_service_with_a_place(client_for, stage_world):
    w = stage_world
    made = _open(client_for(w.officer))
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["to_stage"], body["to_service"], body["receiving_organization"]) == (
        "treatment",
        None,
        None,
    )
    referral = Referral.objects.get(pk=body["id"])
    offered = set(
        ReferralOffer.objects.filter(referral=referral).values_list("service__name", flat=True)
    )
    assert offered == {"Treatment", "Detox", "Third clinic"}
    # the shortest SLA among them (Detox, 24 h)
    assert referral.sla_due_at - referral.status_changed_at == timedelta(hours=24)
    for user in (w.provider, w.recovery_worker, w.third_worker):
        client = client_for(user)
        assert body["id"] in _listed(client)
        received = client.get("/api/v1/referrals/", {"direction": "received"}).json()
        assert [r["id"] for r in received["results"]] == [body["id"]]
        assert received["count"] == 1
        seen = client.get(f"/api/v1/referrals/{body['id']}/").json()
        assert seen["allowed_transitions"] == ["accepted"]
    for user in (w.far_worker, w.outsider):
        assert client_for(user).get(f"/api/v1/referrals/{body['id']}/").status_code == 404


def test_the_first_to_accept_takes_it_and_the_others_stop_seeing_it(
    client, client_for, stage_world
):
    w = stage_world
    referral_id = _open(client_for(w.officer)).json()["id"]
    # when Detox's provider accepts
    taken = _accept(client_for(w.recovery_worker), referral_id)
    # then it is theirs
    assert taken.status_code == 200, taken.content
    assert taken.json()["to_service"]["name"] == "Detox"
    assert taken.json()["receiving_organization"]["name"] == "Recovery"
    assert not ReferralOffer.objects.filter(referral_id=referral_id).exists()
    # the others from now on see nothing of it
    # a late accept by another candidate: 409, taken, and not a word more of the referral
    late = _accept(client_for(w.provider), referral_id)
    assert late.status_code == 409, late.content
    assert late.json() == {
        "detail": "Another service has already taken this referral.",
        "code": "referral_taken",
        "errors": {},
    }
    assert Referral.objects.get(pk=referral_id).receiving_organization == w.recovery_org
    assert ReferralEvent.objects.filter(referral_id=referral_id).count() == 2
    # to an organisation never offered it, it is still nothing at all
    for user in (w.far_worker, w.outsider):
        assert _accept(client_for(user), referral_id).status_code == 404
    # through FHIR too: a Task PATCH to accepted is a 409 OperationOutcome
    fhir = client_for(w.provider).patch(
        f"/fhir/Task/{referral_id}", {"status": "accepted"}, format="json"
    )
    assert fhir.status_code == 409 and fhir.json()["resourceType"] == "OperationOutcome"
    # on the page, the candidate is sent back to their inbox, told why
    client.force_login(w.third_worker)
    page = client.post(f"/referrals/{referral_id}/transition/", {"to": "accepted"}, follow=True)
    assert page.redirect_chain == [("/referrals/?direction=received", 302)]
    assert "Another service has already taken this referral." in page.content.decode()
    assert ReferralEvent.objects.filter(referral_id=referral_id).count() == 2
    for user in (w.provider, w.third_worker):
        other = client_for(user)
        assert referral_id not in _listed(other)
        assert other.get("/api/v1/referrals/", {"direction": "received"}).json()["count"] == 0
        notices = other.get("/api/v1/notifications/").json()["results"]
        assert [n for n in notices if n["referral"] == referral_id] == []
        assert other.get(f"/api/v1/referrals/{referral_id}/").status_code == 404
        assert other.get(f"/api/v1/referrals/{referral_id}/events/").status_code == 404
        client.force_login(user)
        assert client.get(f"/referrals/{referral_id}/").status_code == 404
    # the sender learns who took it
    assert (
        client_for(w.officer)
        .get(f"/api/v1/referrals/{referral_id}/")
        .json()["receiving_organization"]["name"]
        == "Recovery"
    )


def test_identity_crosses_only_at_the_claim_and_only_under_consent(client_for, stage_world):
    w = stage_world
    named = person_create_for(w.officer, display_name="Z.", **IDENTITY)
    consent_create_for(w.officer, named, stages=[Stage.TREATMENT])
    unnamed = person_create_for(w.officer, display_name="Q.", **IDENTITY)
    officer = client_for(w.officer)
    with_consent = _open(officer, person=str(named.pk)).json()
    without = _open(officer, person=str(unnamed.pk)).json()
    assert (with_consent["identified"], without["identified"]) == (False, False)
    # before the claim, a candidate reads no identity of the person
    provider = client_for(w.provider)
    person_before = provider.get(f"/api/v1/people/{named.pk}/")
    assert person_before.status_code == 404 or person_before.json().get("identity") is None
    # after it, the claimer reads the identity under the consent covering the stage only
    assert _accept(provider, with_consent["id"]).json()["identified"] is True
    assert _accept(provider, without["id"]).json()["identified"] is False
    assert provider.get(f"/api/v1/people/{named.pk}/").json()["identity"]["given_name"] == (
        "Zebulon"
    )
    assert (provider.get(f"/api/v1/people/{unnamed.pk}/").json().get("identity") or {}).get(
        "given_name"
    ) is None


def test_several_of_your_services_offered_say_which_takes_it(client_for, stage_world):
    w = stage_world
    second = ServiceFactory(organization=w.clinic, name="Clinic night", stage=Stage.TREATMENT)
    referral_id = _open(client_for(w.officer)).json()["id"]
    provider = client_for(w.provider)
    unclear = _accept(provider, referral_id)
    assert unclear.status_code == 400 and "to_service" in unclear.json()["errors"]
    taken = _accept(provider, referral_id, to_service=str(second.pk))
    assert taken.status_code == 200
    assert taken.json()["to_service"]["name"] == "Clinic night"


def test_a_candidate_only_takes_it(client_for, stage_world):
    referral_id = _open(client_for(stage_world.officer)).json()["id"]
    declined = client_for(stage_world.provider).post(
        f"/api/v1/referrals/{referral_id}/transition/",
        {"to": "declined", "reason_code": "no_capacity"},
        format="json",
    )
    assert declined.status_code == 409


def test_bad_requests_name_their_field(client_for, stage_world):
    w = stage_world
    officer = client_for(w.officer)
    both = _open(officer, to_service=str(w.treatment.pk))
    assert both.status_code == 400 and "to_stage" in both.json()["errors"]
    neither = officer.post("/api/v1/referrals/", {"pathway": "officer_intervention"}, format="json")
    assert neither.status_code == 400 and "to_service" in neither.json()["errors"]
    nobody = _open(officer, to_stage="social_support")
    assert nobody.status_code == 409 and "to_stage" in nobody.json()["errors"]
    # a sender in two task forces says which
    TaskForceFactory(organizations=[w.police])
    unclear = _open(officer)
    assert unclear.status_code == 400 and "task_force" in unclear.json()["errors"]
    assert _open(officer, task_force=w.task_force.pk).status_code == 201


def test_unclaimed_it_expires_after_the_shortest_sla_to_the_board(client_for, stage_world):
    w = stage_world
    referral_id = _open(client_for(w.officer)).json()["id"]
    later = timezone.now() + timedelta(hours=25)
    with time_machine.travel(later, tick=False):
        assert referral_expire(referral_id=referral_id) is True
        board = board_get(user=w.coordinator, task_force_id=w.task_force.pk, rule="past_sla")
    assert [item.target_id for item in board.items] == [referral_id]
    # the candidates no longer see it; the sender does, expired
    assert referral_id not in _listed(client_for(w.provider))
    late = _accept(client_for(w.provider), referral_id)
    assert (late.status_code, late.json()["code"]) == (409, "offer_closed")
    assert client_for(w.officer).get(f"/api/v1/referrals/{referral_id}/").json()["status"] == (
        "expired"
    )


@pytest.mark.parametrize("ends", ["taken", "expired"])
def test_a_sender_offered_its_own_referral_receives_it_only_while_offered(
    client_for, stage_world, ends
):
    # given: the clinic refers to the treatment stage, its own Treatment among the candidates
    w = stage_world
    clinic = client_for(w.provider)
    made = _open(clinic)
    assert made.status_code == 201, made.content
    referral_id = made.json()["id"]
    received = clinic.get("/api/v1/referrals/", {"direction": "received"}).json()
    assert [r["id"] for r in received["results"]] == [referral_id] and received["count"] == 1
    # when another candidate takes it, or nobody does before it expires
    if ends == "taken":
        assert _accept(client_for(w.recovery_worker), referral_id).status_code == 200
    else:
        with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
            assert referral_expire(referral_id=referral_id) is True
    # then the clinic still sees what it sent, and receives nothing
    assert referral_id in _listed(clinic)
    for params in ({"direction": "received"}, {"direction": "received", "status": "sent"}):
        received = clinic.get("/api/v1/referrals/", params).json()
        assert (received["results"], received["count"]) == ([], 0)


@pytest.mark.django_db(transaction=True)
def test_a_race_to_take_it_gives_exactly_one_receiver(client_for, stage_world, postgres_only):
    w = stage_world
    referral_id = _open(client_for(w.officer)).json()["id"]
    clients = [client_for(u) for u in (w.provider, w.recovery_worker, w.third_worker)]
    barrier = threading.Barrier(len(clients))
    answers: list[int] = []
    codes: list[str] = []

    def take(client):
        try:
            barrier.wait()
            answer = _accept(client, referral_id)
            answers.append(answer.status_code)
            if answer.status_code == 409:
                codes.append(answer.json()["code"])
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # whichever side of the winner's commit a loser lands on (waiting for the row lock, or
    # after its grants went), it hears 409, taken
    assert sorted(answers) == [200, 409, 409]
    assert codes == ["referral_taken", "referral_taken"]
    referral = Referral.objects.get(pk=referral_id)
    assert ReferralEvent.objects.filter(referral=referral, to_status="accepted").count() == 1
    assert not ReferralOffer.objects.filter(referral=referral).exists()
    losers = [c for c in clients if c.get(f"/api/v1/referrals/{referral_id}/").status_code == 404]
    assert len(losers) == 2


def test_the_new_referral_page_offers_a_stage_and_a_candidate_takes_it_there(client, stage_world):
    w = stage_world
    client.force_login(w.officer)
    form = client.get("/referrals/new/")
    assert "Any Treatment service with a place" in form.content.decode()
    sent = client.post(
        "/referrals/new/",
        {
            "client_uuid": str(form.context["client_uuid"]),
            "to_service": "stage:treatment",
            "pathway": "officer_intervention",
            "urgency": "routine",
        },
    )
    assert sent.status_code == 302, sent.content.decode()[:2000]
    referral = Referral.objects.get(to_stage=True)
    client.force_login(w.third_worker)
    page = client.get(f"/referrals/{referral.pk}/").content.decode()
    assert "not taken yet" in page and ">Accept</button>" in page
    taken = client.post(f"/referrals/{referral.pk}/transition/", {"to": "accepted"})
    assert taken.status_code == 302
    referral.refresh_from_db()
    assert referral.to_service == w.third and referral.receiving_organization == w.third_org
