"""A referral as a FHIR R4 (R4B-compatible) Bundle: a ServiceRequest and its Task, following
the SDOH Clinical Care referral-management pattern (Task statuses requested, accepted,
rejected, in-progress, completed, cancelled, failed).

The person appears as a contained Patient with identifying data only when the reader may
see it (the caller decides and audits); otherwise the subject is the pseudonym alone.
"""

from __future__ import annotations

from typing import Any

from referral.models import Referral, ReferralStatus
from referral.reasons import OUTCOMES, reason_label

TASK_STATUS = {
    ReferralStatus.SENT: "requested",
    ReferralStatus.ACCEPTED: "accepted",
    ReferralStatus.WAITLISTED: "on-hold",  # accepted, waiting for a place
    ReferralStatus.ENGAGED: "in-progress",
    ReferralStatus.COMPLETED: "completed",
    ReferralStatus.FORWARDED: "completed",
    ReferralStatus.DECLINED: "rejected",
    ReferralStatus.EXPIRED: "failed",
    ReferralStatus.WITHDRAWN: "cancelled",
    ReferralStatus.DISENGAGED: "failed",
}
SERVICE_REQUEST_STATUS = {
    ReferralStatus.SENT: "active",
    ReferralStatus.ACCEPTED: "active",
    ReferralStatus.WAITLISTED: "active",
    ReferralStatus.ENGAGED: "active",
    ReferralStatus.COMPLETED: "completed",
    ReferralStatus.FORWARDED: "completed",
    ReferralStatus.DECLINED: "revoked",
    ReferralStatus.EXPIRED: "revoked",
    ReferralStatus.WITHDRAWN: "revoked",
    ReferralStatus.DISENGAGED: "revoked",
}
SYSTEM = "urn:continuum"
SDOH_CATEGORY = {
    "system": "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes",
    "code": "sdoh-category-unspecified",
    "display": "SDOH Category Unspecified",
}


def _instant(value) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def referral_bundle(
    referral: Referral,
    *,
    identity: dict[str, Any] | None,
    reason: str | None,
) -> dict[str, Any]:
    """The Bundle. ``identity`` holds decrypted fields the reader may see, or None;
    ``reason`` the referral's own reason where the reader may see it, or None. The Task's
    ``statusReason`` carries the coded reason and its label, never a note."""
    request_id, task_id = f"sr-{referral.pk}", f"task-{referral.pk}"
    subject: dict[str, Any]
    contained: list[dict[str, Any]] = []
    if referral.person_id is None:
        subject = {"display": "Anonymous"}
    elif identity:
        patient: dict[str, Any] = {
            "resourceType": "Patient",
            "id": "patient",
            "identifier": [{"system": f"{SYSTEM}:person", "value": str(referral.person_id)}],
        }
        names = {k: identity.get(k) for k in ("given_name", "family_name")}
        if names["given_name"] or names["family_name"]:
            name: dict[str, Any] = {"use": "official"}
            if names["family_name"]:
                name["family"] = names["family_name"]
            if names["given_name"]:
                name["given"] = [names["given_name"]]
            patient["name"] = [name]
        if identity.get("birth_date"):
            patient["birthDate"] = str(identity["birth_date"])
        if identity.get("phone"):
            patient["telecom"] = [{"system": "phone", "value": identity["phone"]}]
        contained.append(patient)
        subject = {"reference": "#patient", "display": referral.person.display_name}
    else:
        subject = {
            "identifier": {"system": f"{SYSTEM}:person", "value": str(referral.person_id)},
            "display": referral.person.display_name,
        }

    service_request: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": request_id,
        "identifier": [{"system": f"{SYSTEM}:referral", "value": str(referral.pk)}],
        "status": SERVICE_REQUEST_STATUS[referral.status],
        "intent": "order",
        "priority": "urgent" if referral.urgency == "urgent" else "routine",
        "category": [{"coding": [SDOH_CATEGORY], "text": referral.get_stage_display()}],
        "code": {
            "coding": [
                {"system": f"{SYSTEM}:service", "code": str(referral.to_service_id)},
            ],
            "text": referral.addressee,
        },
        "subject": subject,
        "authoredOn": _instant(referral.created_at),
        "requester": {"display": referral.sender_organization.name},
        "performer": [{"display": referral.receiver_name}],
        "extension": [
            {
                "url": f"{SYSTEM}:pathway",
                "valueCode": referral.pathway,
            }
        ],
    }
    if contained:
        service_request["contained"] = contained
    if reason:
        service_request["reasonCode"] = [{"text": reason}]
    if referral.parent_id:
        service_request["basedOn"] = [
            {"identifier": {"system": f"{SYSTEM}:referral", "value": str(referral.parent_id)}}
        ]

    task: dict[str, Any] = {
        "resourceType": "Task",
        "id": task_id,
        "status": TASK_STATUS[referral.status],
        "businessStatus": {"text": referral.get_status_display()},
        "intent": "order",
        "priority": service_request["priority"],
        "code": {
            "coding": [{"system": "http://hl7.org/fhir/CodeSystem/task-code", "code": "fulfill"}]
        },
        "focus": {"reference": f"ServiceRequest/{request_id}"},
        "for": {k: v for k, v in subject.items() if k != "reference"} or {"display": "Anonymous"},
        "authoredOn": _instant(referral.created_at),
        "lastModified": _instant(referral.status_changed_at),
        "requester": {"display": referral.sender_organization.name},
        "owner": {"display": referral.receiver_name},
    }
    if referral.status_reason_code:
        label = reason_label(referral.status, referral.status_reason_code)
        task["statusReason"] = {
            "coding": [
                {
                    "system": f"{SYSTEM}:reason-code:{referral.status}",
                    "code": referral.status_reason_code,
                    "display": label,
                }
            ],
            "text": label,
        }
    if referral.outcome:
        task["output"] = [
            {
                "type": {"text": "outcome"},
                "valueCodeableConcept": {
                    "coding": [
                        {
                            "system": f"{SYSTEM}:outcome",
                            "code": referral.outcome,
                            "display": OUTCOMES[referral.outcome],
                        }
                    ]
                },
            }
        ]

    base = "urn:uuid:"
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": _instant(referral.status_changed_at),
        "entry": [
            {"fullUrl": f"{base}{referral.pk}", "resource": service_request},
            {"fullUrl": f"{base}{_task_uuid(referral)}", "resource": task},
        ],
    }


def _task_uuid(referral: Referral) -> str:
    import uuid

    return str(uuid.uuid5(referral.pk, "task"))
