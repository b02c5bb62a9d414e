"""Reads behind /fhir/: which referrals, people, consents and directory rows a reader may
see, and the facts the resource builders need about them (decided here, in batches, so that
a search page costs the same few queries whatever its size).

Visibility is the API's: ``referral_visible_q`` for referrals, ``person_identity`` for
identity (decrypts only the fields a consent discloses, and audits the read),
``consent_get`` for consents. Missing and forbidden are the same 404.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, QuerySet

from core.errors import NotFound
from referral.fhir import mapping as m
from referral.fhir import resources as build
from referral.models import REDISCLOSURE_NOTICE, Consent, FhirSubscription, Person, Referral
from referral.selectors import referrals as referral_selectors
from referral.selectors.access import membership_of, referral_visible_q
from referral.selectors.consents import consent_get
from referral.selectors.people import person_get, person_identity, person_identity_fields
from services_directory.models import Location, Organization, Service, TaskForce


@dataclass(frozen=True)
class TaskFilters:
    """The search parameters of Task and ServiceRequest, parsed (``views``)."""

    referral_statuses: tuple[str, ...] = ()
    owner: uuid.UUID | None = None
    owner_task_force: int | None = None  # Organization/task-force-<pk>: its open offers
    requester: uuid.UUID | None = None
    updated_after: datetime | None = None  # inclusive bounds on meta.lastUpdated
    updated_before: datetime | None = None
    ids: tuple[uuid.UUID, ...] = ()


def _reader_organization_id(user) -> uuid.UUID | None:
    membership = membership_of(user)
    return membership.organization_id if membership else None


def referral_search(*, user, filters: TaskFilters) -> QuerySet[Referral]:
    """The referrals this reader may see that match, most recently changed first."""
    lookups: dict[str, Any] = {}
    if filters.referral_statuses:
        lookups["status__in"] = filters.referral_statuses
    if filters.owner:
        lookups["receiving_organization_id"] = filters.owner
    if filters.owner_task_force is not None:
        lookups["task_force_id"] = filters.owner_task_force
        lookups["receiving_organization__isnull"] = True
    if filters.requester:
        lookups["sender_organization_id"] = filters.requester
    if filters.updated_after:
        lookups["status_changed_at__gte"] = filters.updated_after
    if filters.updated_before:
        lookups["status_changed_at__lte"] = filters.updated_before
    if filters.ids:
        lookups["pk__in"] = filters.ids
    return (
        Referral.objects.filter(referral_visible_q(user), **lookups)
        .select_related(
            "to_service", "sender_organization", "receiving_organization", "person", "task_force"
        )
        .order_by("-status_changed_at", "-id")
    )


@dataclass
class ReferralFacts:
    """What one reader may see around each referral, for the builders."""

    patient_visible: set[uuid.UUID]
    visible_ids: set[uuid.UUID]
    children: dict[uuid.UUID, list[uuid.UUID]]
    reader_organization_id: uuid.UUID | None


def referral_facts(*, user, referrals: list[Referral]) -> ReferralFacts:
    """In three queries for any number of referrals: whose identity the reader may read
    (no decryption), which parents and children of forwards the reader may see."""
    people = [r.person for r in referrals if r.person_id is not None]
    identity = person_identity_fields(user=user, people=people)
    patient_visible = {
        person.pk for person in people if person.pk in identity and person.erased_at is None
    }
    related = {r.parent_id for r in referrals if r.parent_id}
    children: dict[uuid.UUID, list[uuid.UUID]] = {}
    forwarded = [r.pk for r in referrals if r.status == "forwarded"]
    if forwarded:
        for child_id, parent_id in Referral.objects.filter(
            referral_visible_q(user), parent_id__in=forwarded
        ).values_list("pk", "parent_id"):
            children.setdefault(parent_id, []).append(child_id)
    visible_ids = {r.pk for r in referrals}
    if related - visible_ids:
        visible_ids |= set(
            Referral.objects.filter(
                referral_visible_q(user), pk__in=related - visible_ids
            ).values_list("pk", flat=True)
        )
    return ReferralFacts(
        patient_visible=patient_visible,
        visible_ids=visible_ids,
        children=children,
        reader_organization_id=_reader_organization_id(user),
    )


def _consent_visible(referral: Referral, facts: ReferralFacts) -> bool:
    """The referral's consent is one ``consent_get`` shows this reader: the receiver's (it
    covers them) or the recording organisation's."""
    org = facts.reader_organization_id
    if org is None or not referral.consent_id:
        return False
    return org == referral.receiving_organization_id or (
        referral.person is not None and org == referral.person.organization_id
    )


def task_resource(referral: Referral, facts: ReferralFacts) -> dict[str, Any]:
    return build.task(
        referral,
        patient_visible=referral.person_id in facts.patient_visible,
        parent_visible=referral.parent_id in facts.visible_ids,
        visible_children=facts.children.get(referral.pk, []),
    )


def service_request_resource(*, user, referral: Referral, facts: ReferralFacts) -> dict[str, Any]:
    return build.service_request(
        referral,
        patient_visible=referral.person_id in facts.patient_visible,
        reason=referral_selectors.referral_reason(user=user, referral=referral),
        consent_visible=_consent_visible(referral, facts),
        parent_visible=referral.parent_id in facts.visible_ids,
    )


def referral_read(
    *, user, referral_id: uuid.UUID | str, for_update: bool = False
) -> tuple[Referral, ReferralFacts]:
    """The referral and what this reader may see around it; ``for_update`` (a Task PUT or
    PATCH) answers a candidate whose offer ended 409, as the REST transition does."""
    read = (
        referral_selectors.referral_for_transition
        if for_update
        else referral_selectors.referral_get
    )
    referral = read(user=user, referral_id=_uuid(referral_id))
    return referral, referral_facts(user=user, referrals=[referral])


def _uuid(value: uuid.UUID | str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise NotFound() from None


def patient_read(*, user, person_id: uuid.UUID | str) -> dict[str, Any]:
    """The Patient with only the fields a consent discloses to this reader (all of them for
    the organisation that recorded the person); 404 when it may read none, and after
    erasure. The read is audited by ``person_identity`` like every identity read."""
    person = person_get(user=user, person_id=_uuid(person_id))
    identity = person_identity(user=user, person=person)
    if not identity or identity.get("erased") or identity.get("unreadable"):
        raise NotFound()
    org = _reader_organization_id(user)
    disclosed = org != person.organization_id
    notice = None
    if disclosed:
        covering = (
            Consent.objects.filter(person=person, referrals__receiving_organization_id=org)
            .values_list("redisclosure_notice", flat=True)
            .first()
        )
        notice = covering or REDISCLOSURE_NOTICE
    return build.patient(person, identity, disclosed=disclosed, notice=notice)


def patient_visible(*, user, person: Person) -> bool:
    """Whether ``Patient/<id>`` answers this reader (no decryption, no audit)."""
    if person.erased_at is not None:
        return False
    return person.pk in person_identity_fields(user=user, people=[person])


def consent_read(*, user, consent_id: uuid.UUID | str) -> dict[str, Any]:
    item = consent_get(user=user, consent_id=_uuid(consent_id))
    item = (
        Consent.objects.select_related("person", "disclosing_organization")
        .prefetch_related("recipients")
        .get(pk=item.pk)
    )
    org = _reader_organization_id(user)
    return build.consent(
        item,
        patient_visible=patient_visible(user=user, person=item.person),
        disclosed=org != item.person.organization_id,
    )


def task_force_visible(*, user, task_force_id: int) -> bool:
    """Whether ``Organization/task-force-<pk>`` answers this reader: a member of one of the
    task force's organisations (its coordinators included)."""
    org = _reader_organization_id(user)
    return (
        org is not None and TaskForce.objects.filter(pk=task_force_id, organizations=org).exists()
    )


def task_force_pk(organization_id: str) -> int | None:
    """The task force an ``Organization`` id ``task-force-<pk>`` names, else None."""
    rest = str(organization_id).removeprefix(m.TASK_FORCE_ID_PREFIX)
    if rest == str(organization_id) or not rest.isdigit() or rest != str(int(rest)):
        return None
    return int(rest)


def organization_read(*, user, organization_id: uuid.UUID | str) -> dict[str, Any]:
    """A directory organisation (public, as in HSDS), or a task force as the coordinating
    Organization that owns open referrals' Tasks: only for its members, else 404."""
    wanted = task_force_pk(str(organization_id))
    if wanted is not None:
        item = TaskForce.objects.filter(pk=wanted).first()
        if item is None or not task_force_visible(user=user, task_force_id=item.pk):
            raise NotFound()
        return build.task_force_organization(item)
    item = Organization.objects.filter(pk=_uuid(organization_id)).first()
    if item is None:
        raise NotFound()
    return build.organization(item)


def healthcare_service_read(*, service_id: uuid.UUID | str) -> dict[str, Any]:
    item = (
        Service.objects.filter(pk=_uuid(service_id))
        .prefetch_related(Prefetch("locations", queryset=Location.objects.only("pk")))
        .first()
    )
    if item is None:
        raise NotFound()
    return build.healthcare_service(item, location_ids=[loc.pk for loc in item.locations.all()])


def location_read(*, location_id: uuid.UUID | str) -> dict[str, Any]:
    item = Location.objects.filter(pk=_uuid(location_id)).first()
    if item is None:
        raise NotFound()
    return build.location(item)


def subscription_list(*, user) -> QuerySet[FhirSubscription]:
    org = _reader_organization_id(user)
    return FhirSubscription.objects.filter(organization_id=org).order_by("-created_at", "id")


def subscription_get(*, user, subscription_id: uuid.UUID | str) -> FhirSubscription:
    item = subscription_list(user=user).filter(pk=_uuid(subscription_id)).first()
    if item is None:
        raise NotFound()
    return item


def referral_bundle(*, user, referral: Referral, base: str) -> dict[str, Any]:
    """One referral as a collection Bundle: its ServiceRequest and Task first, then every
    resource they reference that this reader may read (the Patient, decrypted and audited,
    only when a consent lets it; the organisations, the service, the consent), so that every
    reference resolves inside the Bundle."""
    facts = referral_facts(user=user, referrals=[referral])
    resources = [
        service_request_resource(user=user, referral=referral, facts=facts),
        task_resource(referral, facts),
    ]
    labelled = False
    if referral.person_id in facts.patient_visible:
        try:
            resources.append(patient_read(user=user, person_id=referral.person_id))
            labelled = "security" in resources[-1]["meta"]
        except NotFound:
            pass
    organizations = Organization.objects.filter(
        pk__in={referral.sender_organization_id, referral.receiving_organization_id}
    ).order_by("name")
    resources.extend(build.organization(item) for item in organizations)
    if referral.receiving_organization_id is None and referral.task_force_id:
        # the Task's owner until a service takes it (its members read the bundle)
        resources.append(build.task_force_organization(referral.task_force))
    if referral.to_service_id:  # a referral to a stage names no service until taken
        resources.append(healthcare_service_read(service_id=referral.to_service_id))
    if _consent_visible(referral, facts):
        resources.append(consent_read(user=user, consent_id=referral.consent_id))
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": build.instant(referral.status_changed_at),
        "entry": [build.entry(base, resource) for resource in resources],
    }
    if labelled:
        bundle["meta"] = {"security": [dict(label) for label in m.SECURITY_LABELS]}
    return bundle
