"""Writes to the task force's network and directory.

Each function is one transaction. Changes that touch opening hours rebuild the derived
``OpeningHours`` rows for the affected services inside the same transaction, so that
``open_now`` never sees a half-written week.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from audit.models import AuditAction
from audit.services import audit_record
from core.errors import Forbidden, ValidationFailed
from services_directory.models import (
    Language,
    Location,
    Membership,
    OpeningHours,
    Organization,
    Phone,
    Role,
    Schedule,
    Service,
    ServiceAtLocation,
    TaskForce,
)

SERVICE_FIELDS = frozenset(
    {
        "name",
        "alternate_name",
        "description",
        "url",
        "email",
        "status",
        "interpretation_services",
        "application_process",
        "fees_description",
        "eligibility_description",
        "minimum_age",
        "maximum_age",
        "alert",
        "wait_time",
        "stated_wait_days",
        "stage",
        "accepting_referrals",
        "capacity_available",
        "referral_sla_hours",
    }
)
LOCATION_FIELDS = frozenset(
    {
        "location_type",
        "name",
        "alternate_name",
        "description",
        "transportation",
        "url",
        "latitude",
        "longitude",
        "time_zone",
        "address_1",
        "address_2",
        "city",
        "region",
        "state_province",
        "postal_code",
        "country",
    }
)


@dataclass(frozen=True)
class WeeklyHours:
    """One line of opening hours: these days, from ``opens_at`` to ``closes_at``."""

    byday: str
    opens_at: time
    closes_at: time
    description: str = ""
    valid_from: date | None = None
    valid_to: date | None = None


# --- permissions --------------------------------------------------------------------------


def organization_admin_check(*, actor, organization_id: uuid.UUID | None) -> None:
    """Org admins edit their own organisation's directory entries; superusers any.

    ``actor=None`` is the system itself (management commands such as ``seed_demo`` and
    ``import_hsds``); the API always passes the signed-in user."""
    if actor is None or actor.is_superuser:
        return
    membership = getattr(actor, "membership", None)
    if (
        membership is None
        or membership.role != Role.ORG_ADMIN
        or membership.organization_id != organization_id
    ):
        raise Forbidden(
            "Only an admin of the organisation that offers it may change this entry.",
            code="not_org_admin",
        )


def _audit_change(actor, target, organization_id, changed: dict[str, Any]) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=target,
        organization_id=str(organization_id) if organization_id else None,
        data=changed,
    )


def _full_clean(instance, *, exclude: Iterable[str] = ()) -> None:
    # Model validation (choices, validators) in one place; Django's ValidationError is
    # rendered as a 400 naming the field by the API's exception handler.
    instance.full_clean(exclude=list(exclude), validate_unique=True)


def _assign(instance, data: dict[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    unknown = set(data) - allowed
    if unknown:
        raise ValidationFailed(
            "Unknown fields.", errors={name: ["Unknown field."] for name in sorted(unknown)}
        )
    changed = {}
    for name, value in data.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed[name] = value
    return changed


# --- organisations, task forces, members ---------------------------------------------------


@transaction.atomic
def organization_create(
    *,
    name: str,
    kind: str,
    description: str,
    id: uuid.UUID | None = None,
    actor=None,
    **fields: Any,
) -> Organization:
    """An organisation and its own auth group (object permissions are granted to groups)."""
    organization_id = id or uuid.uuid4()
    group, _ = Group.objects.get_or_create(name=f"org:{organization_id}")
    organization = Organization(
        id=organization_id, name=name, kind=kind, description=description, group=group, **fields
    )
    _full_clean(organization)
    organization.save(force_insert=True)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        target=organization,
        organization_id=str(organization.pk),
        data={"name": name, "kind": kind},
    )
    return organization


@transaction.atomic
def organization_update(
    *, organization: Organization, data: dict[str, Any], actor=None
) -> Organization:
    allowed = frozenset(
        {
            "name",
            "alternate_name",
            "description",
            "kind",
            "email",
            "website",
            "year_incorporated",
            "legal_status",
            "uri",
            "parent_organization_id",
        }
    )
    if changed := _assign(organization, data, allowed):
        _full_clean(organization)
        organization.save()
        _audit_change(actor, organization, organization.pk, changed)
    return organization


@transaction.atomic
def task_force_create(
    *,
    name: str,
    area: str,
    time_zone: str,
    organizations: Sequence[Organization] = (),
    actor=None,
) -> TaskForce:
    task_force = TaskForce(name=name, area=area, time_zone=time_zone)
    _full_clean(task_force)
    task_force.save()
    task_force.organizations.set(organizations)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        target=task_force,
        data={
            "name": name,
            "time_zone": time_zone,
            "organizations": sorted(str(o.pk) for o in organizations),
        },
    )
    return task_force


@transaction.atomic
def membership_set(*, user, organization: Organization, role: str, actor=None) -> Membership:
    """Place a user in an organisation with a role (replacing an earlier place)."""
    membership = Membership.objects.filter(user=user).select_for_update().first()
    before = None
    if membership is None:
        membership = Membership(user=user, organization=organization, role=role)
    else:
        before = {"organization": str(membership.organization_id), "role": membership.role}
        if membership.organization_id != organization.id:
            user.groups.remove(membership.organization.group)
        membership.organization, membership.role = organization, role
    _full_clean(membership, exclude=["user"])
    membership.save()
    user.groups.add(organization.group)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if before is None else AuditAction.UPDATE,
        target=membership,
        organization_id=str(organization.pk),
        data={
            "user": user.pk,
            "organization": str(organization.pk),
            "role": role,
            "before": before,
        },
    )
    return membership


def default_time_zone(organization: Organization | None) -> str:
    if organization is not None:
        task_force = organization.task_forces.order_by("id").first()
        if task_force is not None:
            return task_force.time_zone
    return settings.TIME_ZONE


# --- services ------------------------------------------------------------------------------


@transaction.atomic
def service_create(
    *,
    actor,
    organization: Organization,
    data: dict[str, Any],
    location_ids: Sequence[uuid.UUID] | None = None,
    languages: Sequence[str] | None = None,
    phones: Sequence[dict[str, str]] | None = None,
    schedules: Sequence[WeeklyHours] | None = None,
    id: uuid.UUID | None = None,
) -> Service:
    organization_admin_check(actor=actor, organization_id=organization.id)
    service = Service(id=id or uuid.uuid4(), organization=organization)
    _assign(service, data, SERVICE_FIELDS)
    _full_clean(service)
    service.save(force_insert=True)
    related = _service_related_replace(
        service=service,
        location_ids=location_ids,
        languages=languages,
        phones=phones,
        schedules=schedules,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        target=service,
        organization_id=str(organization.pk),
        data={**data, "related": related},
    )
    return service


@transaction.atomic
def service_update(
    *,
    actor,
    service: Service,
    data: dict[str, Any],
    location_ids: Sequence[uuid.UUID] | None = None,
    languages: Sequence[str] | None = None,
    phones: Sequence[dict[str, str]] | None = None,
    schedules: Sequence[WeeklyHours] | None = None,
) -> Service:
    """Change a service. Related lists given (not None) replace the stored ones whole, so
    that a retried request leaves the same state."""
    organization_admin_check(actor=actor, organization_id=service.organization_id)
    service = Service.objects.select_for_update().get(pk=service.pk)
    if changed := _assign(service, data, SERVICE_FIELDS):
        _full_clean(service)
        service.save()
        if "stage" in changed:
            OpeningHours.objects.filter(service=service).update(stage=service.stage)
    related = _service_related_replace(
        service=service,
        location_ids=location_ids,
        languages=languages,
        phones=phones,
        schedules=schedules,
    )
    if changed or related:
        _audit_change(actor, service, service.organization_id, {**changed, "related": related})
    return service


@transaction.atomic
def service_capacity_set(
    *, actor, service: Service, accepting_referrals: bool, capacity_available: int | None
) -> Service:
    """Whether the service takes referrals now and how many free places it has: set by its
    own staff (providers and org admins of the organisation that offers it), who know it
    best and change it daily. Audited like any change of the directory."""
    membership = getattr(actor, "membership", None)
    allowed = actor is not None and (
        actor.is_superuser
        or (
            membership is not None
            and membership.organization_id == service.organization_id
            and membership.role in (Role.PROVIDER, Role.ORG_ADMIN)
        )
    )
    if not allowed:
        raise Forbidden(
            "Only the staff of the organisation that offers it may change this service.",
            code="not_service_staff",
        )
    if capacity_available is not None and capacity_available < 0:
        raise ValidationFailed(
            "Invalid capacity.", errors={"capacity_available": ["Zero or more."]}
        )
    service = Service.objects.select_for_update().get(pk=service.pk)
    changed = _assign(
        service,
        {"accepting_referrals": accepting_referrals, "capacity_available": capacity_available},
        frozenset({"accepting_referrals", "capacity_available"}),
    )
    if changed:
        _full_clean(service)
        service.save(update_fields=[*changed, "updated_at"])
        _audit_change(actor, service, service.organization_id, changed)
    return service


def _service_related_replace(
    *,
    service: Service,
    location_ids: Sequence[uuid.UUID] | None,
    languages: Sequence[str] | None,
    phones: Sequence[dict[str, str]] | None,
    schedules: Sequence[WeeklyHours] | None,
) -> list[str]:
    """Replace the related lists given; returns the names of those replaced."""
    hours_changed = False
    if location_ids is not None:
        wanted = set(location_ids)
        found = set(
            Location.objects.filter(
                pk__in=wanted, organization_id=service.organization_id
            ).values_list("pk", flat=True)
        )
        if missing := wanted - found:
            raise ValidationFailed(
                "Unknown location.",
                errors={
                    "location_ids": [
                        f"{pk} is not a location of this organisation." for pk in sorted(missing)
                    ]
                },
            )
        service.service_at_locations.exclude(location_id__in=wanted).delete()
        present = set(service.service_at_locations.values_list("location_id", flat=True))
        ServiceAtLocation.objects.bulk_create(
            ServiceAtLocation(service=service, location_id=pk) for pk in wanted - present
        )
        hours_changed = True
    if languages is not None:
        language_set_replace(service=service, codes=languages)
    if phones is not None:
        service.phones.all().delete()
        Phone.objects.bulk_create(
            Phone(
                service=service,
                number=p["number"],
                type=p.get("type", ""),
                extension=p.get("extension", ""),
                description=p.get("description", ""),
            )
            for p in phones
        )
    if schedules is not None:
        schedule_set_replace(owner=service, schedules=schedules, rebuild=False)
        hours_changed = True
    if hours_changed:
        opening_hours_rebuild(service_ids=[service.pk])
    given = {
        "location_ids": location_ids,
        "languages": languages,
        "phones": phones,
        "schedules": schedules,
    }
    return sorted(name for name, value in given.items() if value is not None)


def language_set_replace(*, service: Service, codes: Sequence[str]) -> None:
    service.languages.all().delete()
    Language.objects.bulk_create(
        Language(service=service, code=code.lower(), name=LANGUAGE_NAMES.get(code.lower(), ""))
        for code in dict.fromkeys(codes)
    )


# --- locations -----------------------------------------------------------------------------


@transaction.atomic
def location_create(
    *,
    actor,
    organization: Organization,
    data: dict[str, Any],
    schedules: Sequence[WeeklyHours] | None = None,
    id: uuid.UUID | None = None,
) -> Location:
    organization_admin_check(actor=actor, organization_id=organization.id)
    location = Location(id=id or uuid.uuid4(), organization=organization)
    data = {"time_zone": default_time_zone(organization), **data}
    _assign(location, data, LOCATION_FIELDS)
    _location_check(location)
    location.save(force_insert=True)
    if schedules is not None:
        schedule_set_replace(owner=location, schedules=schedules)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        target=location,
        organization_id=str(organization.pk),
        data={**data, "schedules": schedules is not None},
    )
    return location


@transaction.atomic
def location_update(
    *,
    actor,
    location: Location,
    data: dict[str, Any],
    schedules: Sequence[WeeklyHours] | None = None,
) -> Location:
    organization_admin_check(actor=actor, organization_id=location.organization_id)
    location = Location.objects.select_for_update().get(pk=location.pk)
    changed = _assign(location, data, LOCATION_FIELDS)
    if changed:
        _location_check(location)
        location.save()
    if schedules is not None:
        schedule_set_replace(owner=location, schedules=schedules)
    elif {"time_zone", "latitude", "longitude"} & set(changed):
        opening_hours_rebuild(
            service_ids=list(location.services.values_list("pk", flat=True)),
        )
    if changed or schedules is not None:
        _audit_change(
            actor,
            location,
            location.organization_id,
            {**changed, "schedules": schedules is not None},
        )
    return location


def _location_check(location: Location) -> None:
    if (location.latitude is None) != (location.longitude is None):
        raise ValidationFailed(
            "Latitude and longitude go together.",
            errors={
                "latitude" if location.latitude is None else "longitude": [
                    "Give both latitude and longitude, or neither."
                ]
            },
        )
    _full_clean(location)


# --- schedules and opening hours ------------------------------------------------------------


def schedule_set_replace(
    *,
    owner: Service | Location | ServiceAtLocation,
    schedules: Sequence[WeeklyHours],
    rebuild: bool = True,
) -> list[Schedule]:
    """Replace the weekly opening hours of a service, a location or a service at a location."""
    field = {
        Service: "service",
        Location: "location",
        ServiceAtLocation: "service_at_location",
    }[type(owner)]
    Schedule.objects.filter(**{field: owner}).delete()
    rows = []
    for index, hours in enumerate(schedules):
        schedule = Schedule(
            **{field: owner},
            freq="WEEKLY",
            byday=hours.byday,
            opens_at=hours.opens_at,
            closes_at=hours.closes_at,
            description=hours.description,
            valid_from=hours.valid_from,
            valid_to=hours.valid_to,
        )
        if not schedule.days():
            raise ValidationFailed(
                "Opening hours need days.",
                errors={f"schedules[{index}].byday": ["Use MO,TU,WE,TH,FR,SA,SU."]},
            )
        rows.append(schedule)
    Schedule.objects.bulk_create(rows)
    if rebuild:
        opening_hours_rebuild(service_ids=_services_of(owner))
    return rows


def _services_of(owner: Service | Location | ServiceAtLocation) -> list[uuid.UUID]:
    if isinstance(owner, Service):
        return [owner.pk]
    if isinstance(owner, ServiceAtLocation):
        return [owner.service_id]
    return list(owner.service_at_locations.values_list("service_id", flat=True))


def opening_hours_rebuild(*, service_ids: Iterable[uuid.UUID]) -> int:
    """Recompute the derived opening hours of these services.

    The hours of a service at a location are, the first that has any: the schedules of that
    service-at-location, else the service's, else the location's. A service with schedules
    but no location keeps them in its organisation's task-force time zone.
    """
    service_ids = list(service_ids)
    # Chunks keep every IN (...) list under SQLite's parameter and expression-depth limits.
    return sum(
        _opening_hours_rebuild_chunk(service_ids[start : start + REBUILD_CHUNK])
        for start in range(0, len(service_ids), REBUILD_CHUNK)
    )


REBUILD_CHUNK = 250


def _opening_hours_rebuild_chunk(service_ids: list[uuid.UUID]) -> int:
    OpeningHours.objects.filter(service_id__in=service_ids).delete()
    services = (
        Service.objects.filter(pk__in=service_ids)
        .select_related("organization")
        .prefetch_related(
            "schedules",
            "service_at_locations__schedules",
            "service_at_locations__location__schedules",
        )
    )
    rows: list[OpeningHours] = []
    time_zones: dict[uuid.UUID, str] = {}
    for service in services:
        own = list(service.schedules.all())
        places = list(service.service_at_locations.all())
        if not places and own:
            if service.organization_id not in time_zones:
                time_zones[service.organization_id] = default_time_zone(service.organization)
            rows.extend(_hours_rows(service, None, time_zones[service.organization_id], own))
        for place in places:
            chosen = list(place.schedules.all()) or own or list(place.location.schedules.all())
            rows.extend(_hours_rows(service, place.location, place.location.time_zone, chosen))
    OpeningHours.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def _hours_rows(
    service: Service, location: Location | None, time_zone: str, schedules: list[Schedule]
) -> list[OpeningHours]:
    return [
        OpeningHours(
            service=service,
            location=location,
            time_zone=time_zone,
            stage=service.stage,
            unit_x=location.unit_x if location else None,
            unit_y=location.unit_y if location else None,
            unit_z=location.unit_z if location else None,
            opens_minute=opens,
            closes_minute=closes,
            valid_from=schedule.valid_from,
            valid_to=schedule.valid_to,
        )
        for schedule in schedules
        for opens, closes in schedule.weekly_intervals()
    ]


# A small table of the languages a task force is likely to list, for display names.
LANGUAGE_NAMES = {
    "ar": "Arabic",
    "de": "German",
    "en": "English",
    "es": "Spanish",
    "fa": "Persian",
    "fr": "French",
    "it": "Italian",
    "nl": "Dutch",
    "pl": "Polish",
    "ps": "Pashto",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "so": "Somali",
    "ti": "Tigrinya",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "ur": "Urdu",
}


# --- the org admin's own organisation -------------------------------------------------------


@transaction.atomic
def member_add(*, actor, organization: Organization, identifier: str, role: str) -> Membership:
    """An org admin adds an existing account (by username or email) to their organisation
    with a role; an account that belongs to another organisation is refused."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    organization_admin_check(actor=actor, organization_id=organization.pk)
    if role not in Role.values:
        raise ValidationFailed("Unknown role.", errors={"role": ["Choose a role."]})
    identifier = (identifier or "").strip()
    users = list(
        get_user_model().objects.filter(Q(username=identifier) | Q(email__iexact=identifier))[:2]
    )
    if not identifier or len(users) != 1:
        raise ValidationFailed(
            "No such account.",
            errors={"identifier": ["No account has this username or email (or several do)."]},
        )
    user = users[0]
    current = Membership.objects.filter(user=user).first()
    if current is not None and current.organization_id != organization.pk:
        raise ValidationFailed(
            "A member of another organisation.",
            errors={"identifier": ["This account belongs to another organisation."]},
        )
    return membership_set(user=user, organization=organization, role=role, actor=actor)


@transaction.atomic
def member_role_change(*, actor, membership: Membership, role: str) -> Membership:
    organization_admin_check(actor=actor, organization_id=membership.organization_id)
    if role not in Role.values:
        raise ValidationFailed("Unknown role.", errors={"role": ["Choose a role."]})
    return membership_set(
        user=membership.user, organization=membership.organization, role=role, actor=actor
    )
