"""FHIR R4 at /fhir/: every resource validates against R4 (fhir.resources), carries what its
SDOHCC profile requires, and every reference in it resolves, inside the Bundle or by GET on
the server, for each reader. Task moves go through the referral service (events, audit,
409 as OperationOutcome); Patient reads disclose only consented fields and are audited."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from audit.models import AuditEvent
from audit.selectors import audit_event_payload
from referral.fhir import mapping
from referral.models import Referral, ReferralEvent, ReferralStatus
from referral.services.referrals import referral_create_for_stage, referral_transition
from services_directory.models import OrganizationKind, Role, Stage
from tests.factories import (
    LocationFactory,
    OrganizationFactory,
    ServiceFactory,
    TaskForceFactory,
    consent_create_for,
    member,
    person_create_for,
    referral_sent,
)

FHIR = "application/fhir+json"
BASE = "http://testserver/fhir/"


def validate(resource: dict):
    """The resource parsed by fhir.resources (R4B, structurally R4 for these types)."""
    return get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def references(value, found=None) -> list[str]:
    found = [] if found is None else found
    if isinstance(value, dict):
        if isinstance(value.get("reference"), str):
            found.append(value["reference"])
        for item in value.values():
            references(item, found)
    elif isinstance(value, list):
        for item in value:
            references(item, found)
    return found


def assert_profile(resource: dict) -> None:
    """The elements each SDOHCC profile makes required (1..1 or 1..*), and its rules."""
    kind = resource["resourceType"]
    if kind == "Task":
        assert resource["meta"]["profile"] == [mapping.PROFILE_TASK]
        for element in ("status", "intent", "code", "focus", "for", "authoredOn", "requester"):
            assert element in resource, element
        assert resource["owner"]["reference"].startswith("Organization/")
        assert resource["intent"] == "order"
        assert resource["code"]["coding"][0] == {
            "system": "http://hl7.org/fhir/CodeSystem/task-code",
            "code": "fulfill",
            "display": "Fulfill the focal request",
        }
        assert resource["focus"]["reference"] == f"ServiceRequest/{resource['id']}"
        # statusReason exactly for rejected, on-hold, cancelled and failed
        assert ("statusReason" in resource) == (
            resource["status"] in {"rejected", "on-hold", "cancelled", "failed"}
        )
        assert resource["status"] not in ("ready", "received")
    elif kind == "ServiceRequest":
        assert resource["meta"]["profile"] == [mapping.PROFILE_SERVICE_REQUEST]
        for element in ("status", "intent", "category", "code", "subject", "requester"):
            assert element in resource, element
        codings = resource["code"]["coding"]
        assert codings[0]["system"] == "http://snomed.info/sct"
        assert codings[1]["system"] == mapping.LOCAL_STAGE
        assert resource["category"][0]["coding"][0]["system"] == mapping.SDOHCC_CODES
    elif kind == "Consent":
        assert resource["meta"]["profile"] == [mapping.PROFILE_CONSENT]
        for element in ("status", "scope", "category", "patient", "dateTime", "provision"):
            assert element in resource, element
        assert "sourceAttachment" in resource or "sourceReference" in resource
        assert resource["scope"]["coding"][0]["code"] == "patient-privacy"


@pytest.fixture
def referrals(world):
    """A referral in every Continuum state, identified under a consent, plus an anonymous
    one and a forward with its child."""
    person = person_create_for(
        world.officer,
        display_name="Blue",
        given_name="Jan",
        family_name="Kowalski",
        birth_date="1990-04-01",
        phone="+351 900 000 000",
    )
    consent_create_for(world.officer, person, recipients=[world.clinic, world.recovery_org])

    def made(*steps, service=None, sender=None, who=None):
        referral = referral_sent(
            person, sender=sender or world.officer, service=service or world.treatment
        )
        for to, extra in steps:
            actor = who if to == "withdrawn" else (None if to == "expired" else world.provider)
            if to == "withdrawn":
                actor = world.officer
            referral = referral_transition(referral=referral, actor=actor, to=to, **extra)
        return referral

    made_ = {
        "sent": made(),
        "accepted": made(("accepted", {})),
        "engaged": made(("accepted", {}), ("engaged", {})),
        "waitlisted": made(
            ("accepted", {}),
            ("waitlisted", {"expected_start": timezone.now().date() + timedelta(days=7)}),
        ),
        "completed": made(
            ("accepted", {}), ("engaged", {}), ("completed", {"outcome": "successful"})
        ),
        "not_successful": made(
            ("accepted", {}),
            ("engaged", {}),
            (
                "completed",
                {"outcome": "not_successful", "reason_code": "client_refused_services"},
            ),
        ),
        "declined": made(("declined", {"reason_code": "no_capacity"})),
        "withdrawn": made(("withdrawn", {"reason_code": "client_declined"})),
        "expired": made(("expired", {})),
        "disengaged": made(
            ("accepted", {}), ("engaged", {}), ("disengaged", {"reason_code": "lost_contact"})
        ),
        "anonymous": referral_sent(None, sender=world.officer, service=world.treatment),
    }
    forwarded = made(("accepted", {}))
    made_["forwarded"] = referral_transition(
        referral=forwarded, actor=world.provider, to="forwarded", forward_to=world.recovery
    )
    made_["child"] = made_["forwarded"].children.get()
    made_["person"] = person
    return made_


@pytest.fixture
def stage_referrals(world, referrals):
    """Two referrals addressed to the treatment stage (``to_stage``), of the person the
    consent covers: one still offered, one the clinic took."""

    def opened():
        referral, _ = referral_create_for_stage(
            sender=world.officer,
            stage=Stage.TREATMENT,
            pathway="officer_intervention",
            person=referrals["person"],
        )
        return referral

    offered = opened()
    claimed = referral_transition(referral=opened(), actor=world.provider, to="accepted")
    return {"offered": offered, "claimed": claimed}


def test_every_continuum_state_has_a_task_status_and_docs_say_so():
    """docs/fhir.md's table names every state with the Task status the code gives it."""
    doc = (Path(settings.BASE_DIR) / "docs" / "fhir.md").read_text()
    for state in ReferralStatus.values:
        assert state in mapping.TASK_STATUS, state
        row = re.search(rf"^\| `{state}` \| `([a-z-]+)` \|", doc, re.MULTILINE)
        assert row is not None, state
        assert row.group(1) == mapping.TASK_STATUS[state], state
        assert mapping.TASK_STATUS[state] in mapping.TASK_STATUSES


@pytest.mark.parametrize("reader", ["provider", "officer", "coordinator", "recovery_worker"])
def test_every_resource_validates_meets_its_profile_and_every_reference_resolves(
    client_for, world, referrals, stage_referrals, reader
):
    client = client_for(getattr(world, reader))
    seen = 0
    for kind in ("Task", "ServiceRequest"):
        response = client.get(f"/fhir/{kind}", {"_count": 100}, HTTP_ACCEPT=FHIR)
        assert response.status_code == 200
        assert response["Content-Type"].startswith(FHIR)
        bundle = response.json()
        validate(bundle)
        assert bundle["total"] == len(bundle["entry"]) > 0
        for entry in bundle["entry"]:
            resource = entry["resource"]
            assert entry["fullUrl"] == f"{BASE}{kind}/{resource['id']}"
            validate(resource)
            assert_profile(resource)
            seen += 1
            for reference in references(resource):
                target = client.get(f"/fhir/{reference}", HTTP_ACCEPT=FHIR)
                assert target.status_code == 200, (reader, kind, reference)
                validate(target.json())
                assert_profile(target.json())
    assert seen
    # a referral to a stage, before the claim (owned by the task force) and after it
    for name in ("offered", "claimed"):
        referral_id = str(stage_referrals[name].pk)
        response = client.get("/fhir/Task", {"_id": referral_id}, HTTP_ACCEPT=FHIR)
        found = [entry["resource"] for entry in response.json()["entry"]]
        if reader == "recovery_worker":  # Recovery runs no treatment: never offered it
            assert found == [], name
            continue
        assert [task["id"] for task in found] == [referral_id], (reader, name)
        owner = found[0]["owner"]["reference"]
        if name == "offered":
            assert owner == f"Organization/task-force-{world.task_force.pk}"
        else:
            assert owner == f"Organization/{world.clinic.pk}"
        for kind in ("Task", "ServiceRequest"):
            resource = client.get(f"/fhir/{kind}/{referral_id}", HTTP_ACCEPT=FHIR).json()
            validate(resource)
            assert_profile(resource)
            for reference in references(resource):
                target = client.get(f"/fhir/{reference}", HTTP_ACCEPT=FHIR)
                assert target.status_code == 200, (reader, name, kind, reference)
                validate(target.json())
                assert_profile(target.json())


def test_the_task_statuses_follow_the_mapping_with_reasons_outputs_and_forwarding(
    client_for, world, referrals
):
    client = client_for(world.provider)

    def task(name):
        return client.get(f"/fhir/Task/{referrals[name].pk}").json()

    assert {name: task(name)["status"] for name in referrals if name != "person"} == {
        "sent": "requested",
        "accepted": "accepted",
        "engaged": "in-progress",
        "waitlisted": "on-hold",
        "completed": "completed",
        "not_successful": "completed",
        "declined": "rejected",
        "withdrawn": "cancelled",
        "expired": "failed",
        "disengaged": "failed",
        "anonymous": "requested",
        "forwarded": "completed",
        "child": "requested",
    }
    declined = task("declined")["statusReason"]
    assert declined["coding"][0] == {
        "system": "urn:continuum:reason-code:declined",
        "code": "no_capacity",
        "display": "No capacity",
    }
    assert task("expired")["statusReason"]["coding"][0]["code"] == "no_answer_within_sla"
    waiting = task("waitlisted")
    assert waiting["statusReason"] == {"text": "Waiting for a place"}
    assert waiting["restriction"] == {
        "period": {"start": referrals["waitlisted"].expected_start.isoformat()}
    }
    outputs = task("not_successful")["output"]
    assert [o["valueCodeableConcept"]["coding"][0]["code"] for o in outputs] == [
        "not_successful",
        "client_refused_services",
    ]
    forwarded, child = (
        task("forwarded"),
        client_for(world.recovery_worker).get(f"/fhir/Task/{referrals['child'].pk}").json(),
    )
    assert forwarded["businessStatus"]["coding"][0]["code"] == "forwarded"
    assert forwarded["output"][0]["valueReference"] == {
        "reference": f"ServiceRequest/{referrals['child'].pk}"
    }
    assert task("child")["partOf"] == [{"reference": f"Task/{referrals['forwarded'].pk}"}]
    # the recovery service does not see the clinic's referral: no reference it cannot follow
    assert "partOf" not in child
    request = client.get(f"/fhir/ServiceRequest/{referrals['child'].pk}").json()
    assert request["basedOn"] == [{"reference": f"ServiceRequest/{referrals['forwarded'].pk}"}]
    assert request["priority"] == "routine"
    assert task("anonymous")["for"] == {"display": "Anonymous"}
    # an identified referral under a consent is labelled; an anonymous one is not
    assert {label["code"] for label in task("sent")["meta"]["security"]} == {
        "R",
        "42CFRPart2",
        "NORDSCLCD",
    }
    assert task("sent")["for"] == {
        "reference": f"Patient/{referrals['person'].pk}",
        "display": "Blue",
    }
    assert "security" not in task("anonymous")["meta"]
    coordinator_view = client_for(world.coordinator).get(f"/fhir/Task/{referrals['sent'].pk}")
    assert coordinator_view.json()["for"] == {
        "identifier": {"system": "urn:continuum:person", "value": str(referrals["person"].pk)},
        "display": "Blue",
    }


@pytest.mark.parametrize("reader", ["provider", "officer", "coordinator"])
def test_the_export_bundle_resolves_every_reference_inside_or_on_the_server(
    client_for, world, referrals, reader
):
    client = client_for(getattr(world, reader))
    response = client.get(f"/api/v1/referrals/{referrals['declined'].pk}/fhir/", HTTP_ACCEPT=FHIR)
    assert response.status_code == 200
    assert response["Content-Type"].startswith(FHIR)
    bundle = response.json()
    validate(bundle)
    full_urls = {entry["fullUrl"] for entry in bundle["entry"]}
    assert len(full_urls) == len(bundle["entry"])
    for entry in bundle["entry"]:
        validate(entry["resource"])
        assert_profile(entry["resource"])
        for reference in references(entry["resource"]):
            if f"{BASE}{reference}" in full_urls:
                continue
            assert client.get(f"/fhir/{reference}").status_code == 200, reference
    kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert kinds[:2] == ["ServiceRequest", "Task"]
    if reader == "coordinator":
        assert "Patient" not in kinds and "Consent" not in kinds
    else:
        assert "Patient" in kinds and "Consent" in kinds


def test_a_consented_patient_read_shows_the_consented_fields_labels_and_notice_and_is_audited(
    client_for, world, referrals
):
    person = referrals["person"]
    before = AuditEvent.objects.filter(action="read", target_id=str(person.pk)).count()

    response = client_for(world.provider).get(f"/fhir/Patient/{person.pk}")

    assert response.status_code == 200
    patient = response.json()
    validate(patient)
    assert patient["name"] == [{"use": "official", "family": "Kowalski", "given": ["Jan"]}]
    assert patient["birthDate"] == "1990-04-01"
    assert {label["code"] for label in patient["meta"]["security"]} == {
        "R",
        "42CFRPart2",
        "NORDSCLCD",
    }
    assert "42 CFR part 2" in patient["extension"][0]["valueString"]
    reads = AuditEvent.objects.filter(action="read", target_id=str(person.pk))
    assert reads.count() == before + 1
    assert audit_event_payload(reads.order_by("-sequence").first())["fields"] == [
        "birth_date",
        "family_name",
        "given_name",
        "phone",
    ]
    # the recording organisation reads its own record: no disclosure, no labels
    own = client_for(world.officer).get(f"/fhir/Patient/{person.pk}").json()
    assert "security" not in own["meta"]


def test_a_consent_of_the_given_name_only_discloses_the_given_name_only(client_for, world):
    person = person_create_for(
        world.officer, display_name="Amira", given_name="Amira", family_name="Haddad"
    )
    consent_create_for(
        world.officer, person, recipients=[world.clinic], disclosed_fields=["given_name"]
    )
    referral_sent(person, sender=world.officer, service=world.treatment)

    patient = client_for(world.provider).get(f"/fhir/Patient/{person.pk}").json()

    assert patient["name"] == [{"use": "official", "given": ["Amira"]}]
    assert "Haddad" not in str(patient)


@pytest.mark.parametrize("reader", ["coordinator", "outsider", "recovery_worker"])
def test_a_patient_without_consented_fields_is_a_404_operation_outcome(client_for, world, reader):
    person = person_create_for(world.officer, display_name="Grey", given_name="Ola")
    referral_sent(person, sender=world.officer, service=world.treatment)  # anonymous: no consent
    before = AuditEvent.objects.filter(action="read").count()

    response = client_for(getattr(world, reader)).get(f"/fhir/Patient/{person.pk}")

    assert response.status_code == 404
    outcome = response.json()
    validate(outcome)
    assert outcome["issue"][0]["code"] == "not-found"
    assert AuditEvent.objects.filter(action="read").count() == before
    assert client_for(world.provider).get(f"/fhir/Patient/{person.pk}").status_code == 404


def test_put_and_patch_move_the_task_through_the_transition_service(client_for, world, referrals):
    referral = referrals["sent"]
    provider = client_for(world.provider)
    task = provider.get(f"/fhir/Task/{referral.pk}").json()

    response = provider.put(
        f"/fhir/Task/{referral.pk}",
        {**task, "status": "accepted"},
        format="json",
        HTTP_ACCEPT=FHIR,
    )
    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    response = provider.generic(
        "PATCH",
        f"/fhir/Task/{referral.pk}",
        '[{"op": "replace", "path": "/status", "value": "in-progress"}]',
        content_type="application/json-patch+json",
    )
    assert response.json()["status"] == "in-progress"
    response = provider.generic(
        "PATCH",
        f"/fhir/Task/{referral.pk}",
        (
            '{"status": "failed", "statusReason": {"coding": [{"system": '
            '"urn:continuum:reason-code:disengaged", "code": "moved_away"}]}}'
        ),
        content_type=FHIR,
    )
    assert response.status_code == 200
    assert response.json()["statusReason"]["text"] == "Moved away"

    events = list(ReferralEvent.objects.filter(referral=referral).order_by("id"))
    assert [(e.to_status, e.actor_id, e.reason_code) for e in events[1:]] == [
        ("accepted", world.provider.pk, ""),
        ("engaged", world.provider.pk, ""),
        ("disengaged", world.provider.pk, "moved_away"),
    ]
    audited = AuditEvent.objects.filter(action="transition", target_id=str(referral.pk))
    assert [audit_event_payload(e)["to"] for e in audited.order_by("sequence")] == [
        "accepted",
        "engaged",
        "disengaged",
    ]


@pytest.mark.parametrize(
    ("who", "name", "body", "status", "issue", "field"),
    [
        ("provider", "completed", {"status": "accepted"}, 409, "business-rule", "status"),
        ("officer", "sent", {"status": "accepted"}, 409, "business-rule", "status"),
        ("provider", "sent", {"status": "draft"}, 409, "business-rule", "status"),
        ("provider", "sent", {"status": "rejected"}, 400, "invalid", "statusReason"),
        ("provider", "sent", {"status": "received"}, 400, "invalid", "status"),
        ("provider", "engaged", {"status": "completed"}, 400, "invalid", "output"),
        ("outsider", "sent", {"status": "accepted"}, 404, "not-found", None),
        ("coordinator", "sent", {"status": "accepted"}, 404, "not-found", None),
    ],
)
def test_a_move_the_rules_refuse_is_an_operation_outcome_and_changes_nothing(
    client_for, world, referrals, who, name, body, status, issue, field
):
    referral = referrals[name]
    events = ReferralEvent.objects.filter(referral=referral).count()

    response = client_for(getattr(world, who)).patch(
        f"/fhir/Task/{referral.pk}", body, format="json"
    )

    assert response.status_code == status
    assert response["Content-Type"].startswith(FHIR)
    outcome = response.json()
    validate(outcome)
    assert outcome["issue"][0]["code"] == issue
    if field:
        assert field in outcome["issue"][0]["expression"]
    assert ReferralEvent.objects.filter(referral=referral).count() == events
    referral.refresh_from_db()
    assert referral.status == name if name != "completed" else referral.status == "completed"


def test_search_by_status_owner_requester_and_last_updated(client_for, world, referrals):
    client = client_for(world.provider)

    def ids(**params):
        bundle = client.get("/fhir/Task", params).json()
        return {entry["resource"]["id"] for entry in bundle["entry"]}

    # the child of the forward too: the clinic sent it
    assert ids(status="requested") == {
        str(referrals[name].pk) for name in ("sent", "anonymous", "child")
    }
    assert ids(status="failed,cancelled") == {
        str(referrals[name].pk) for name in ("expired", "disengaged", "withdrawn")
    }
    clinic_tasks = ids(owner=f"Organization/{world.clinic.pk}")
    assert str(referrals["child"].pk) not in clinic_tasks
    assert ids(requester=str(world.clinic.pk)) == {str(referrals["child"].pk)}
    later = referrals["child"].status_changed_at.isoformat()
    assert ids(_lastUpdated=f"ge{later}") == {str(referrals["child"].pk)}
    assert ids(_lastUpdated=f"lt{later}") == clinic_tasks - {str(referrals["child"].pk)}
    requests = client.get("/fhir/ServiceRequest", {"status": "revoked"}).json()
    assert {e["resource"]["status"] for e in requests["entry"]} == {"revoked"}
    page = client.get("/fhir/Task", {"_count": 2}).json()
    assert len(page["entry"]) == 2 and page["total"] > 2
    assert [link["relation"] for link in page["link"]] == ["self", "next"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"status": "nonsense"}, "status"),
        ({"owner": "Patient/1"}, "owner"),
        ({"_lastUpdated": "yesterday"}, "_lastUpdated"),
        ({"_count": "-1"}, "_count"),
    ],
)
def test_bad_search_parameters_are_a_400_operation_outcome(client_for, world, params, field):
    response = client_for(world.provider).get("/fhir/Task", params)
    assert response.status_code == 400
    outcome = response.json()
    validate(outcome)
    assert outcome["issue"][0]["expression"] == [field]


def test_metadata_errors_and_content_types(api_client, client_for, world):
    metadata = api_client.get("/fhir/metadata", HTTP_ACCEPT=FHIR)
    assert metadata.status_code == 200
    assert metadata["Content-Type"].startswith(FHIR)
    statement = validate(metadata.json())
    assert {r.type for r in statement.rest[0].resource} >= {
        "Task",
        "ServiceRequest",
        "Patient",
        "Consent",
        "Organization",
        "HealthcareService",
        "Location",
        "Subscription",
    }
    anonymous = api_client.get("/fhir/Task")
    assert anonymous.status_code == 401
    assert validate(anonymous.json()).issue[0].code == "login"
    client = client_for(world.provider)
    missing = client.get("/fhir/Nothing/here")
    assert (missing.status_code, missing["Content-Type"]) == (404, FHIR)
    assert validate(missing.json()).issue[0].code == "not-found"
    assert client.get("/fhir/Task/not-a-uuid").status_code == 404
    assert client.get("/fhir/Task", HTTP_ACCEPT="application/xml").status_code == 406
    plain = client.get("/fhir/Task", HTTP_ACCEPT="application/json")
    assert plain["Content-Type"].startswith("application/json")
    wrong_type = client.post("/fhir/Subscription", "x=1", content_type="text/plain")
    assert wrong_type.status_code == 415
    assert validate(wrong_type.json()).issue[0].code == "not-supported"


def test_directory_resources_share_their_ids_with_the_directory_and_hsds(client_for, world):
    client = client_for(world.officer)
    location = LocationFactory(organization=world.clinic, name="Main site", city="Lisbon")
    unclassified = ServiceFactory(organization=world.clinic, name="Imported", stage="")
    service = client.get(f"/fhir/HealthcareService/{world.treatment.pk}").json()
    validate(service)
    for kind, pk, hsds in (
        ("HealthcareService", world.treatment.pk, "services"),
        ("HealthcareService", unclassified.pk, "services"),
        ("Organization", world.clinic.pk, "organizations"),
        ("Location", location.pk, None),
    ):
        resource = client.get(f"/fhir/{kind}/{pk}").json()
        validate(resource)
        assert resource["id"] == str(pk)
        if hsds:
            assert client.get(f"/api/v1/hsds/{hsds}/{pk}/").json()["id"] == str(pk)
    assert "category" not in client.get(f"/fhir/HealthcareService/{unclassified.pk}").json()
    assert service["providedBy"] == {"reference": f"Organization/{world.clinic.pk}"}
    organization = client.get(f"/fhir/Organization/{world.clinic.pk}").json()
    validate(organization)
    assert organization["name"] == "Clinic"
    for location in service.get("location", []):
        assert client.get(f"/fhir/{location['reference']}").status_code == 200


@pytest.mark.parametrize("kind", ["Task", "ServiceRequest"])
def test_a_search_page_costs_the_same_queries_whatever_its_size(client_for, world, kind):
    def refer(count):
        for number in range(count):
            person = person_create_for(world.officer, display_name=f"P{number}", given_name="A")
            consent_create_for(world.officer, person, recipients=[world.clinic])
            referral_sent(person, sender=world.officer, service=world.treatment)

    client = client_for(world.provider)
    refer(2)
    client.get(f"/fhir/{kind}")  # warm: the token's first use writes
    with CaptureQueriesContext(connection) as small:
        assert len(client.get(f"/fhir/{kind}").json()["entry"]) == 2
    refer(6)
    with CaptureQueriesContext(connection) as large:
        assert len(client.get(f"/fhir/{kind}").json()["entry"]) == 8
    assert len(large) == len(small)


def test_on_hold_puts_the_referral_on_the_waiting_list_with_its_expected_start(
    client_for, world, referrals
):
    referral = referrals["accepted"]
    provider = client_for(world.provider)
    start = (timezone.now().date() + timedelta(days=10)).isoformat()

    missing = provider.patch(f"/fhir/Task/{referral.pk}", {"status": "on-hold"}, format="json")
    assert missing.status_code == 400
    assert missing.json()["issue"][0]["expression"] == ["restriction.period.start"]
    held = provider.patch(
        f"/fhir/Task/{referral.pk}",
        {"status": "on-hold", "restriction": {"period": {"start": start}}},
        format="json",
    )
    assert held.status_code == 200
    assert held.json()["status"] == "on-hold"
    assert held.json()["restriction"] == {"period": {"start": start}}
    # the restriction the Task now carries is not an expected start for the next move
    engaged = provider.patch(f"/fhir/Task/{referral.pk}", {"status": "in-progress"}, format="json")
    assert engaged.json()["status"] == "in-progress"
    assert [e.to_status for e in ReferralEvent.objects.filter(referral=referral)] == [
        "sent",
        "accepted",
        "waitlisted",
        "engaged",
    ]


def test_an_open_referral_task_is_owned_by_its_task_force_until_a_service_takes_it(
    client_for, world
):
    """Offered to the clinic and to Recovery's Detox, the Task's owner is the task force as
    a coordinating Organization (its members read it, nobody else); each candidate finds it,
    without the person's identity; once Recovery takes it the clinic loses it and the owner
    is Recovery."""
    ServiceFactory(organization=world.recovery_org, name="Detox", stage=Stage.TREATMENT)
    far_org = OrganizationFactory(name="Far away", kind=OrganizationKind.TREATMENT)
    TaskForceFactory(organizations=[far_org])
    far_worker = member(organization=far_org, role=Role.PROVIDER, username="far-fhir")
    # consented to both candidates: identity crosses to the one that takes it, at the claim
    person = person_create_for(world.officer, display_name="Green", given_name="Ada")
    consent_create_for(world.officer, person, recipients=[world.clinic, world.recovery_org])
    referral, _ = referral_create_for_stage(
        sender=world.officer,
        stage=Stage.TREATMENT,
        pathway="officer_intervention",
        person=person,
    )
    hub = f"Organization/task-force-{world.task_force.pk}"
    for user in (world.provider, world.recovery_worker):
        client = client_for(user)
        found = client.get("/fhir/Task", {"status": "requested"}, HTTP_ACCEPT=FHIR).json()
        tasks = {e["resource"]["id"]: e["resource"] for e in found["entry"]}
        task = tasks[str(referral.pk)]
        assert task["owner"]["reference"] == hub
        assert task["owner"]["display"] == world.task_force.name
        # the pseudonym only: no Patient to read before the claim
        assert "reference" not in task["for"]
        assert client.get(f"/fhir/Patient/{referral.person_id}").status_code == 404
        request = client.get(f"/fhir/ServiceRequest/{referral.pk}", HTTP_ACCEPT=FHIR).json()
        assert "performer" not in request and "reference" not in request["subject"]
        assert "reasonCode" not in request
        organization = client.get(f"/fhir/{hub}", HTTP_ACCEPT=FHIR)
        assert organization.status_code == 200
        body = organization.json()
        validate(body)
        assert (body["name"], body["active"]) == (world.task_force.name, True)
        assert body["type"][0]["coding"][1] == mapping.COORDINATION_PLATFORM
        owned = client.get("/fhir/Task", {"owner": hub}, HTTP_ACCEPT=FHIR).json()
        assert [e["resource"]["id"] for e in owned["entry"]] == [str(referral.pk)]
        # the export Bundle holds the task force, so the owner resolves inside it
        bundle = client.get(f"/api/v1/referrals/{referral.pk}/fhir/", HTTP_ACCEPT=FHIR).json()
        validate(bundle)
        full_urls = {entry["fullUrl"] for entry in bundle["entry"]}
        assert f"{BASE}{hub}" in full_urls
        assert "Patient" not in {entry["resource"]["resourceType"] for entry in bundle["entry"]}
        for entry in bundle["entry"]:
            validate(entry["resource"])
            assert_profile(entry["resource"])
            for reference in references(entry["resource"]):
                assert f"{BASE}{reference}" in full_urls, reference
    for user in (world.outsider, far_worker):
        client = client_for(user)
        assert client.get(f"/fhir/{hub}").status_code == 404
        assert client.get(f"/fhir/Task/{referral.pk}").status_code == 404
    for bad in ("task-force-0", "task-force-01", "task-force-x", f"task-force-{hub}"):
        assert client_for(world.provider).get(f"/fhir/Organization/{bad}").status_code == 404
    # when Recovery takes it
    taken = client_for(world.recovery_worker).put(
        f"/fhir/Task/{referral.pk}",
        {
            **client_for(world.recovery_worker).get(f"/fhir/Task/{referral.pk}").json(),
            "status": "accepted",
        },
        content_type=FHIR,
    )
    assert taken.status_code == 200, taken.content
    assert taken.json()["owner"]["reference"] == f"Organization/{world.recovery_org.pk}"
    assert Referral.objects.get(pk=referral.pk).receiving_organization == world.recovery_org
    clinic = client_for(world.provider)
    found = clinic.get("/fhir/Task", {"_id": str(referral.pk)}, HTTP_ACCEPT=FHIR).json()
    assert found.get("entry", []) == []
    assert clinic.get(f"/fhir/Task/{referral.pk}").status_code == 404
    assert clinic.get("/fhir/Task", {"owner": hub}).json().get("entry", []) == []
    patient = client_for(world.recovery_worker).get(f"/fhir/Patient/{person.pk}")
    assert patient.status_code == 200 and patient.json()["name"][0]["given"] == ["Ada"]
    assert clinic.get(f"/fhir/Patient/{person.pk}").status_code == 404


def test_the_export_is_json_unless_fhir_is_asked_for(client_for, world, referrals):
    client = client_for(world.officer)
    url = f"/api/v1/referrals/{referrals['declined'].pk}/fhir/"
    plain = client.get(url)
    assert plain.status_code == 200
    assert plain["Content-Type"].startswith("application/json")
    fhir = client.get(url, HTTP_ACCEPT=FHIR)
    assert fhir["Content-Type"].startswith(FHIR)
    assert fhir.json() == plain.json()
