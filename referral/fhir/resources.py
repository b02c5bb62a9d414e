"""FHIR R4 resources built from Continuum rows: plain dicts, validated by fhir.resources in
the tests. The builders decide nothing about who may see what: callers pass what the reader
may see (``patient_visible``, ``reason``, ...), decided by the selectors.

Every ``reference`` a builder writes is relative (``Task/<id>``) and resolves on this server
(``/fhir/<type>/<id>``) for the reader it was built for, and inside a Bundle whose fullUrls
are absolute on the same base (the FHIR rule for resolving relative references).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from referral.fhir import mapping as m
from referral.models import Consent, Person, Referral, ReferralStatus
from referral.reasons import OUTCOMES, reason_label
from referral.selectors.access import consent_active
from services_directory.models import Location, Organization, Service, ServiceStatus, TaskForce

Resource = dict[str, Any]


def instant(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ref(resource_type: str, pk: Any, display: str | None = None) -> dict[str, str]:
    reference = {"reference": f"{resource_type}/{pk}"}
    if display:
        reference["display"] = display
    return reference


def _coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return coding


def _subject(referral: Referral, *, patient_visible: bool) -> dict[str, Any]:
    """``Task.for`` / ``ServiceRequest.subject``: a reference to the Patient where this reader
    may read it, else the person's id as a logical reference (and the pseudonym); an
    anonymous referral has no person at all."""
    if referral.person_id is None:
        return {"display": "Anonymous"}
    display = referral.person.display_name
    if patient_visible:
        return ref("Patient", referral.person_id, display)
    return {
        "identifier": {"system": m.LOCAL_PERSON, "value": str(referral.person_id)},
        "display": display,
    }


def _meta(profile: str | None, updated: datetime | None, *, labelled: bool = False) -> dict:
    meta: dict[str, Any] = {}
    if profile:
        meta["profile"] = [profile]
    if updated is not None:
        meta["lastUpdated"] = instant(updated)
    if labelled:
        meta["security"] = [dict(label) for label in m.SECURITY_LABELS]
    return meta


def service_request(
    referral: Referral,
    *,
    patient_visible: bool,
    reason: str | None,
    consent_visible: bool,
    parent_visible: bool,
) -> Resource:
    """SDOHCC ServiceRequest: the referral itself."""
    labelled = bool(referral.identified and referral.consent_id)
    resource: Resource = {
        "resourceType": "ServiceRequest",
        "id": str(referral.pk),
        "meta": _meta(m.PROFILE_SERVICE_REQUEST, referral.status_changed_at, labelled=labelled),
        "identifier": [{"system": m.LOCAL_REFERRAL, "value": str(referral.pk)}],
        "status": m.SERVICE_REQUEST_STATUS[referral.status],
        "intent": "order",
        "priority": "urgent" if referral.urgency == "urgent" else "routine",
        "category": [
            {"coding": [dict(m.SDOH_CATEGORY)]},
            {"coding": [dict(m.PATIENT_REFERRAL)]},
        ],
        "code": {
            "coding": [
                dict(m.REFERRAL_TO_SERVICE),
                _coding(m.LOCAL_STAGE, referral.stage, referral.get_stage_display()),
            ],
            "text": referral.addressee,
        },
        "subject": _subject(referral, patient_visible=patient_visible),
        "authoredOn": instant(referral.created_at),
        "requester": ref(
            "Organization", referral.sender_organization_id, referral.sender_organization.name
        ),
        "extension": [{"url": m.EXT_PATHWAY, "valueCode": referral.pathway}],
    }
    if referral.receiving_organization_id:  # none while a referral to a stage is not taken
        resource["performer"] = [
            ref(
                "Organization",
                referral.receiving_organization_id,
                referral.receiving_organization.name,
            ),
            ref("HealthcareService", referral.to_service_id, referral.to_service.name),
        ]
    if reason:
        resource["reasonCode"] = [{"text": reason}]
    if referral.parent_id and parent_visible:
        resource["basedOn"] = [ref("ServiceRequest", referral.parent_id)]
    if consent_visible and referral.consent_id:
        resource["supportingInfo"] = [ref("Consent", referral.consent_id)]
    return resource


def _status_reason(referral: Referral, task_status: str) -> dict[str, Any] | None:
    if task_status not in m.STATUS_REASON_REQUIRED:
        return None
    code = referral.status_reason_code
    label = reason_label(referral.status, code) if code else ""
    if not code or not label:
        # A row from before coded reasons: the status itself is the reason we know.
        return {"text": referral.get_status_display()}
    return {"coding": [_coding(m.reason_system(referral.status), code, label)], "text": label}


def task(
    referral: Referral,
    *,
    patient_visible: bool,
    parent_visible: bool,
    visible_children: list[Any],
) -> Resource:
    """SDOHCC Task For Referral Management: the receiving organisation's work on it."""
    status = m.TASK_STATUS[referral.status]
    labelled = bool(referral.identified and referral.consent_id)
    resource: Resource = {
        "resourceType": "Task",
        "id": str(referral.pk),
        "meta": _meta(m.PROFILE_TASK, referral.status_changed_at, labelled=labelled),
        "identifier": [{"system": m.LOCAL_REFERRAL, "value": str(referral.pk)}],
        "status": status,
        "businessStatus": {
            "coding": [_coding(m.LOCAL_STATUS, referral.status, referral.get_status_display())],
            "text": referral.get_status_display(),
        },
        "intent": "order",
        "priority": "urgent" if referral.urgency == "urgent" else "routine",
        "code": {"coding": [_coding(m.TASK_CODE, "fulfill", "Fulfill the focal request")]},
        "focus": ref("ServiceRequest", referral.pk),
        "for": _subject(referral, patient_visible=patient_visible),
        "authoredOn": instant(referral.created_at),
        "lastModified": instant(referral.status_changed_at),
        "requester": ref(
            "Organization", referral.sender_organization_id, referral.sender_organization.name
        ),
    }
    if referral.receiving_organization_id:
        resource["owner"] = ref(
            "Organization", referral.receiving_organization_id, referral.receiving_organization.name
        )
    elif referral.task_force_id:
        # A referral to a stage not taken yet: the task force that offers it owns it, as the
        # IG's coordination platform owns a Task until a recipient takes the work.
        resource["owner"] = ref(
            "Organization", task_force_id(referral.task_force_id), referral.task_force.name
        )
    if referral.parent_id and parent_visible:
        resource["partOf"] = [ref("Task", referral.parent_id)]
    if referral.status == ReferralStatus.WAITLISTED and referral.expected_start:
        # on hold until the service expects to start: when fulfilment is sought
        resource["restriction"] = {"period": {"start": referral.expected_start.isoformat()}}
    reason = _status_reason(referral, status)
    if reason is not None:
        resource["statusReason"] = reason
    outputs: list[dict[str, Any]] = []
    if referral.outcome:
        outputs.append(
            {
                "type": {"coding": [dict(m.OUTCOME_TYPE)]},
                "valueCodeableConcept": {
                    "coding": [
                        _coding(m.LOCAL_OUTCOME, referral.outcome, OUTCOMES[referral.outcome])
                    ],
                    "text": OUTCOMES[referral.outcome],
                },
            }
        )
        if referral.status_reason_code:
            label = reason_label(referral.status, referral.status_reason_code)
            outputs.append(
                {
                    "type": {"coding": [dict(m.OUTCOME_REASON_TYPE)]},
                    "valueCodeableConcept": {
                        "coding": [
                            _coding(
                                m.reason_system(referral.status),
                                referral.status_reason_code,
                                label,
                            )
                        ],
                        "text": label,
                    },
                }
            )
    if referral.status == ReferralStatus.FORWARDED:
        outputs.extend(
            {
                "type": {"coding": [dict(m.RESULTING_ACTIVITY)]},
                "valueReference": ref("ServiceRequest", child_id),
            }
            for child_id in visible_children
        )
    if outputs:
        resource["output"] = outputs
    return resource


def patient(
    person: Person, identity: dict[str, Any], *, disclosed: bool, notice: str | None
) -> Resource:
    """The person as far as this reader may read them: only the fields ``identity`` holds
    (decrypted and audited by ``person_identity``). ``disclosed``: read under a consent (or
    an emergency) by an organisation other than the one that recorded them, which puts the
    security labels and the re-disclosure notice on it."""
    resource: Resource = {
        "resourceType": "Patient",
        "id": str(person.pk),
        "meta": _meta(None, person.updated_at, labelled=disclosed),
        "identifier": [{"system": m.LOCAL_PERSON, "value": str(person.pk)}],
    }
    name: dict[str, Any] = {}
    if identity.get("family_name"):
        name["family"] = identity["family_name"]
    if identity.get("given_name"):
        name["given"] = [identity["given_name"]]
    if name:
        resource["name"] = [{"use": "official", **name}]
    if identity.get("birth_date"):
        resource["birthDate"] = str(identity["birth_date"])
    if identity.get("phone"):
        resource["telecom"] = [{"system": "phone", "value": identity["phone"]}]
    if disclosed and notice:
        resource["extension"] = [{"url": m.EXT_REDISCLOSURE, "valueString": notice}]
    return resource


def consent(item: Consent, *, patient_visible: bool, disclosed: bool) -> Resource:
    """SDOHCC Consent: what the person agreed may be disclosed, to whom, until when."""
    now = timezone.now()
    provision: dict[str, Any] = {
        "type": "permit",
        "period": {"start": instant(item.given_at)},
        "action": [{"coding": [_coding(m.CONSENT_ACTION, "disclose", "Disclose")]}],
    }
    if item.expires_at:
        provision["period"]["end"] = instant(item.expires_at)
    recipients = list(item.recipients.all())
    if recipients:
        provision["actor"] = [
            {
                "role": {"coding": [_coding(m.PARTICIPATION, "IRCP", "information recipient")]},
                "reference": ref("Organization", organization.pk, organization.name),
            }
            for organization in recipients
        ]
    subject = (
        ref("Patient", item.person_id)
        if patient_visible
        else {"identifier": {"system": m.LOCAL_PERSON, "value": str(item.person_id)}}
    )
    resource: Resource = {
        "resourceType": "Consent",
        "id": str(item.pk),
        "meta": _meta(m.PROFILE_CONSENT, item.revoked_at or item.created_at, labelled=disclosed),
        "status": "active" if consent_active(item, at=now) else "inactive",
        "scope": {"coding": [_coding(m.CONSENT_SCOPE, "patient-privacy", "Privacy Consent")]},
        "category": [{"coding": [_coding(m.ACT_CODE, "IDSCL", "information disclosure")]}],
        "patient": subject,
        "dateTime": instant(item.given_at),
        "organization": [
            ref("Organization", item.disclosing_organization_id, item.disclosing_organization.name)
        ],
        "sourceAttachment": {
            "contentType": "text/plain",
            "title": f"Consent recorded in Continuum ({item.get_method_display()})",
            "creation": instant(item.given_at),
        },
        "policyRule": {"coding": [_coding(m.CONSENT_POLICY, "cfr-part2", "42 CFR Part 2")]},
        "provision": provision,
        "extension": [
            {"url": f"{m.LOCAL}:disclosed-field", "valueCode": field}
            for field in (item.disclosed_fields or [])
        ]
        + [{"url": f"{m.LOCAL}:stage", "valueCode": stage} for stage in (item.stages or [])]
        + [{"url": m.EXT_REDISCLOSURE, "valueString": item.redisclosure_notice}],
    }
    return resource


def organization(item: Organization) -> Resource:
    """From the directory; the id is the one HSDS uses."""
    type_code = m.ORGANIZATION_TYPES.get(item.kind, "other")
    codings = [_coding(m.ORGANIZATION_TYPE, type_code)]
    if item.kind:  # an imported organisation may have no kind yet
        codings.append(_coding(m.LOCAL_ORGANIZATION_KIND, item.kind, item.get_kind_display()))
    resource: Resource = {
        "resourceType": "Organization",
        "id": str(item.pk),
        "meta": _meta(None, item.updated_at),
        "identifier": [{"system": f"{m.LOCAL}:organization", "value": str(item.pk)}],
        "active": True,
        "type": [{"coding": codings}],
        "name": item.name,
    }
    if item.alternate_name:
        resource["alias"] = [item.alternate_name]
    telecom = []
    if item.email:
        telecom.append({"system": "email", "value": item.email})
    if item.website:
        telecom.append({"system": "url", "value": item.website})
    if telecom:
        resource["telecom"] = telecom
    if item.parent_organization_id:
        resource["partOf"] = ref("Organization", item.parent_organization_id)
    return resource


def task_force_id(pk: int) -> str:
    return f"{m.TASK_FORCE_ID_PREFIX}{pk}"


def task_force_organization(item: TaskForce) -> Resource:
    """A task force as the coordinating Organization that owns the Tasks of the referrals it
    offers to a stage until one of its services takes them."""
    resource: Resource = {
        "resourceType": "Organization",
        "id": task_force_id(item.pk),
        "identifier": [{"system": f"{m.LOCAL}:task-force", "value": str(item.pk)}],
        "active": True,
        "type": [
            {
                "coding": [_coding(m.ORGANIZATION_TYPE, "other"), dict(m.COORDINATION_PLATFORM)],
                "text": m.COORDINATION_PLATFORM["display"],
            }
        ],
        "name": item.name,
    }
    if item.area:
        resource["address"] = [{"text": item.area}]
    return resource


def healthcare_service(item: Service, *, location_ids: list[Any]) -> Resource:
    resource: Resource = {
        "resourceType": "HealthcareService",
        "id": str(item.pk),
        "meta": _meta(None, item.updated_at),
        "identifier": [{"system": m.LOCAL_SERVICE, "value": str(item.pk)}],
        "active": item.status == ServiceStatus.ACTIVE,
        "providedBy": ref("Organization", item.organization_id),
        "name": item.name,
        "appointmentRequired": False,
    }
    if item.stage:  # an imported service may be unclassified: no stage yet
        resource["category"] = [
            {
                "coding": [_coding(m.LOCAL_STAGE, item.stage, item.get_stage_display())],
                "text": item.get_stage_display(),
            }
        ]
    if item.description:
        resource["comment"] = item.description
    if location_ids:
        resource["location"] = [ref("Location", pk) for pk in location_ids]
    telecom = []
    if item.email:
        telecom.append({"system": "email", "value": item.email})
    if item.url:
        telecom.append({"system": "url", "value": item.url})
    if telecom:
        resource["telecom"] = telecom
    if item.eligibility_description:
        resource["eligibility"] = [{"comment": item.eligibility_description}]
    return resource


def location(item: Location) -> Resource:
    resource: Resource = {
        "resourceType": "Location",
        "id": str(item.pk),
        "meta": _meta(None, item.updated_at),
        "status": "active",
        "mode": "instance",
        "managingOrganization": ref("Organization", item.organization_id),
        "position": {"latitude": item.latitude, "longitude": item.longitude},
    }
    if item.name:
        resource["name"] = item.name
    if item.alternate_name:
        resource["alias"] = [item.alternate_name]
    if item.description:
        resource["description"] = item.description
    address: dict[str, Any] = {}
    lines = [line for line in (item.address_1, item.address_2) if line]
    if lines:
        address["line"] = lines
    for key, value in (
        ("city", item.city),
        ("state", item.state_province or item.region),
        ("postalCode", item.postal_code),
        ("country", item.country),
    ):
        if value:
            address[key] = value
    if address:
        resource["address"] = address
    return resource


def operation_outcome(
    *, severity: str, code: str, diagnostics: str, detail_code: str, fields: list[str] = ()
) -> Resource:
    issue: dict[str, Any] = {
        "severity": severity,
        "code": code,
        "details": {"coding": [_coding(m.LOCAL_ERROR, detail_code)], "text": diagnostics},
        "diagnostics": diagnostics,
    }
    if fields:
        issue["expression"] = list(fields)
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def entry(base: str, resource: Resource, *, search: bool = False) -> dict[str, Any]:
    item: dict[str, Any] = {
        "fullUrl": f"{base}{resource['resourceType']}/{resource['id']}",
        "resource": resource,
    }
    if search:
        item["search"] = {"mode": "match"}
    return item
