"""A real FHIR client library (fhirpy) against a live server: it reads a Task, searches,
and moves the referral to accepted and on to completed through /fhir/; the referral's
events and the audit trail show each step, as if made through the API."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.task import Task
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import OperationOutcome

from audit.models import AuditEvent
from audit.selectors import audit_event_payload
from referral.models import ReferralEvent
from tests.factories import api_client_for, referral_sent


@pytest.fixture
def fhir_client(live_server, world):
    token = api_client_for(world.provider).token
    return SyncFHIRClient(f"{live_server.url}/fhir", authorization=f"Token {token}")


def test_a_fhir_client_reads_searches_and_moves_a_task_to_accepted_and_completed(
    fhir_client, world
):
    referral = referral_sent(None, sender=world.officer, service=world.treatment)

    task = fhir_client.reference("Task", str(referral.pk)).to_resource()
    assert task["status"] == "requested"
    Task.model_validate(task.serialize())
    found = (
        fhir_client.resources("Task")
        .search(status="requested", owner=f"Organization/{world.clinic.pk}")
        .fetch()
    )
    assert [t.id for t in found] == [str(referral.pk)]

    task["status"] = "accepted"
    task.save()  # PUT
    assert task["status"] == "accepted"
    fhir_client.patch("Task", str(referral.pk), status="in-progress")
    done = fhir_client.patch(
        "Task",
        str(referral.pk),
        status="completed",
        output=[
            {
                "type": {"coding": [{"system": "urn:continuum", "code": "outcome"}]},
                "valueCodeableConcept": {
                    "coding": [{"system": "urn:continuum:outcome", "code": "successful"}]
                },
            }
        ],
    )
    assert done["status"] == "completed"
    assert done["output"][0]["valueCodeableConcept"]["coding"][0]["code"] == "successful"
    with pytest.raises(OperationOutcome) as refused:
        fhir_client.patch("Task", str(referral.pk), status="accepted")
    assert "cannot become" in str(refused.value)

    events = ReferralEvent.objects.filter(referral=referral).order_by("id")
    assert [(e.to_status, e.actor_id) for e in events] == [
        ("sent", world.officer.pk),
        ("accepted", world.provider.pk),
        ("engaged", world.provider.pk),
        ("completed", world.provider.pk),
    ]
    assert events.last().outcome == "successful"
    trail = AuditEvent.objects.filter(action="transition", target_id=str(referral.pk))
    assert [
        (audit_event_payload(e)["to"], e.actor_username) for e in trail.order_by("sequence")
    ] == [
        ("accepted", world.provider.username),
        ("engaged", world.provider.username),
        ("completed", world.provider.username),
    ]
