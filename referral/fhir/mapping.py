"""How Continuum's referral words map onto FHIR R4 and the HL7 SDOH Clinical Care IG
(SDOHCC): the Task and ServiceRequest status tables, profiles, code systems and codes.

One place, read by the resource builders, the Task update service and docs/fhir.md (whose
mapping table a test compares with ``TASK_STATUS``). A Continuum state that has no entry here
cannot be shown as a Task: the test over every ``ReferralStatus`` fails first.
"""

from __future__ import annotations

from referral.models import ReferralStatus as S

IG = "http://hl7.org/fhir/us/sdoh-clinicalcare"
PROFILE_SERVICE_REQUEST = f"{IG}/StructureDefinition/SDOHCC-ServiceRequest"
PROFILE_TASK = f"{IG}/StructureDefinition/SDOHCC-TaskForReferralManagement"
PROFILE_CONSENT = f"{IG}/StructureDefinition/SDOHCC-Consent"
SDOHCC_CODES = f"{IG}/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"
BACKPORT = "http://hl7.org/fhir/uv/subscriptions-backport"
PROFILE_SUBSCRIPTION = f"{BACKPORT}/StructureDefinition/backport-subscription"
PROFILE_NOTIFICATION = f"{BACKPORT}/StructureDefinition/backport-subscription-notification-r4"
PROFILE_STATUS = f"{BACKPORT}/StructureDefinition/backport-subscription-status-r4"
EXT_PAYLOAD_CONTENT = f"{BACKPORT}/StructureDefinition/backport-payload-content"
EXT_FILTER_CRITERIA = f"{BACKPORT}/StructureDefinition/backport-filter-criteria"
# Our one subscription topic: a referral Task was made or changed status.
TOPIC = "urn:continuum:fhir:SubscriptionTopic:referral-task"

SNOMED = "http://snomed.info/sct"
TASK_CODE = "http://hl7.org/fhir/CodeSystem/task-code"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_POLICY = "http://terminology.hl7.org/CodeSystem/consentpolicycodes"
CONSENT_ACTION = "http://terminology.hl7.org/CodeSystem/consentaction"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
ORGANIZATION_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"

# Local code systems: the second coding beside a standard one, or the only one where no
# standard code fits (our reason codes, our outcomes).
LOCAL = "urn:continuum"
LOCAL_REFERRAL = f"{LOCAL}:referral"
LOCAL_PERSON = f"{LOCAL}:person"
LOCAL_SERVICE = f"{LOCAL}:service"
LOCAL_STAGE = f"{LOCAL}:stage"
LOCAL_STATUS = f"{LOCAL}:referral-status"
LOCAL_OUTCOME = f"{LOCAL}:outcome"
LOCAL_ORGANIZATION_KIND = f"{LOCAL}:organization-kind"
# A task force as the coordinating Organization (the IG's coordination platform) that owns
# an open referral's Task until a service takes it: ``task-force-<pk>``, which no directory
# id (a UUID) can be.
TASK_FORCE_ID_PREFIX = "task-force-"
COORDINATION_PLATFORM = {
    "system": LOCAL_ORGANIZATION_KIND,
    "code": "coordination_platform",
    "display": "Coordination platform (task force)",
}
LOCAL_ERROR = f"{LOCAL}:error-code"
EXT_PATHWAY = f"{LOCAL}:pathway"
EXT_REDISCLOSURE = f"{LOCAL}:redisclosure-notice"


def reason_system(status: str) -> str:
    """The code system of the coded reasons of one transition (``referral.reasons``)."""
    return f"{LOCAL}:reason-code:{status}"


# Continuum state -> Task.status (SDOHCC ValueSet Referral Task Status). See docs/fhir.md
# for the IG rule each line follows.
TASK_STATUS: dict[str, str] = {
    S.SENT: "requested",
    S.ACCEPTED: "accepted",
    S.WAITLISTED: "on-hold",  # accepted, paused until a place is free
    S.ENGAGED: "in-progress",
    S.COMPLETED: "completed",
    S.FORWARDED: "completed",
    S.DECLINED: "rejected",
    S.EXPIRED: "failed",
    S.WITHDRAWN: "cancelled",
    S.DISENGAGED: "failed",
}

SERVICE_REQUEST_STATUS: dict[str, str] = {
    S.SENT: "active",
    S.ACCEPTED: "active",
    S.WAITLISTED: "active",  # the request stands while the person waits; the Task is on hold
    S.ENGAGED: "active",
    S.COMPLETED: "completed",
    S.FORWARDED: "completed",
    S.DECLINED: "revoked",
    S.EXPIRED: "revoked",
    S.WITHDRAWN: "revoked",
    S.DISENGAGED: "revoked",
}

# SDOHCC Task status rule (as its sibling IGs state it, pa-taskrm-1): statusReason is
# present for these statuses and only for these.
STATUS_REASON_REQUIRED = frozenset({"rejected", "on-hold", "cancelled", "failed"})

# What a Task.status written by a partner asks for (PATCH/PUT). ``completed`` is a
# completion (a forward needs the next service: the API does that); ``requested`` and the
# codes the IG's value set leaves out (``ready``, ``received``) are no move at all.
TASK_STATUS_TO_TRANSITION: dict[str, str] = {
    "accepted": S.ACCEPTED,
    "rejected": S.DECLINED,
    "in-progress": S.ENGAGED,
    "completed": S.COMPLETED,
    "failed": S.DISENGAGED,
    "cancelled": S.WITHDRAWN,
    "on-hold": S.WAITLISTED,  # with the expected start as Task.restriction.period.start
}
TASK_STATUSES = (
    "draft",
    "requested",
    "received",
    "accepted",
    "rejected",
    "ready",
    "cancelled",
    "in-progress",
    "on-hold",
    "failed",
    "completed",
    "entered-in-error",
)


def referral_statuses_for_task(task_status: str) -> list[str]:
    """The Continuum states shown as this Task.status (for search)."""
    return [state for state, code in TASK_STATUS.items() if code == task_status]


def referral_statuses_for_service_request(request_status: str) -> list[str]:
    return [state for state, code in SERVICE_REQUEST_STATUS.items() if code == request_status]


# ServiceRequest.code: SNOMED CT "Referral to service" (the procedure of referring), with
# the Continuum stage as the local second coding; ServiceRequest.category: the SDOHCC
# category (no Gravity domain covers substance use, hence "unspecified") and SNOMED CT
# "Patient referral".
REFERRAL_TO_SERVICE = {"system": SNOMED, "code": "306206005", "display": "Referral to service"}
PATIENT_REFERRAL = {"system": SNOMED, "code": "3457005", "display": "Patient referral"}
SDOH_CATEGORY = {
    "system": SDOHCC_CODES,
    "code": "sdoh-category-unspecified",
    "display": "SDOH Category Unspecified",
}
# Task.output type of the SDOHCC Task (its "resulting activity" slice), and ours for the
# completion's outcome.
RESULTING_ACTIVITY = {
    "system": SDOHCC_CODES,
    "code": "resulting-activity",
    "display": "Resulting Activity",
}
OUTCOME_TYPE = {"system": LOCAL, "code": "outcome", "display": "Outcome"}
OUTCOME_REASON_TYPE = {"system": LOCAL, "code": "outcome-reason", "display": "Outcome reason"}

# OrganizationKind -> organization-type (anything else is "other").
ORGANIZATION_TYPES = {
    "treatment": "prov",
    "health": "prov",
    "harm_reduction": "prov",
    "police": "govt",
    "municipality": "govt",
    "social": "govt",
    "ngo": "cg",
    "red_cross": "cg",
}

# Consented disclosures: restricted, 42 CFR Part 2, no redisclosure without consent.
SECURITY_LABELS = [
    {"system": CONFIDENTIALITY, "code": "R", "display": "restricted"},
    {"system": ACT_CODE, "code": "42CFRPart2", "display": "42 CFR Part2"},
    {
        "system": ACT_CODE,
        "code": "NORDSCLCD",
        "display": "no redisclosure without consent directive",
    },
]
