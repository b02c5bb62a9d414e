"""``hsds_import``: HSDS 3.0 JSON upserted into the directory by HSDS id.

Its rules, chosen so that export -> import is exact and a second import of the same data
writes nothing:

- A record's scalar fields are its whole state: an optional field left out means empty.
- A collection given in a record (``phones``, ``languages``, ``schedules``, ``locations``,
  ``service_at_locations``, ``addresses``) replaces what is stored for that parent; a
  collection left out leaves the stored one alone. Exports always write every collection.
- Continuum's fields travel as attributes of the Continuum taxonomy (older exports: a
  ``continuum`` object). One missing keeps the stored value; for a new row the
  import's default applies (``default_kind``, ``default_stage``, ``time_zone``).
- A service with no Continuum stage takes one a taxonomy term of the record maps to
  (``taxonomy.STAGE_TERMS`` and the ``CONTINUUM_HSDS_STAGE_TERMS`` setting), else the
  default stage, else it is imported *unclassified* (blank stage): listed in the directory,
  not offered for referrals, on its organisation's and coordinators' to-do list. An
  organisation with no kind and no default keeps a blank kind.
- ``last_modified`` of a service is kept as its ``updated_at``; without one, a service
  whose record wrote anything (nested parts included) is modified now.
- Records are committed in batches of ``IMPORT_BATCH``; a dry run is one transaction,
  rolled back.
- Rows are written only when a value differs, so unchanged rows keep their ``updated_at``.
- Each top-level record is imported in its own savepoint: a bad record is reported with its
  kind, id and reason and rolled back; the others still import.
- A bad *nested location* (e.g. latitude 100 in the HSDS examples) is reported as a
  ``location`` error with its own id and skipped (with its service-at-location link) in its
  own savepoint; the record that nests it imports without it and a stored copy of it is
  kept. Locations are entities of their own, shared between records, so one bad address
  should not drop a whole organisation or service. A bad phone, language or schedule fails
  the record that holds it: those are parts of the record.
- Phones, languages, schedules and service-at-locations belong to one parent. HSDS feeds
  (the specification's own examples among them) reuse one id under several parents; the
  first parent keeps the id, each further parent gets a stable id derived from
  (parent, HSDS id) with uuid5, so re-imports find the same rows again.
- Parent organisations are linked after all records are read, so file order does not
  matter; an unknown ``parent_organization_id`` is a warning and leaves no parent.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from audit.models import AuditAction
from audit.services import audit_record
from services_directory.hsds.mapping import HSDS_NAMESPACE
from services_directory.hsds.reading import hsds_read
from services_directory.hsds.validation import (
    RECORD_ERRORS,
    RecordError,
    _coordinate,
    _date,
    _datetime,
    _extension,
    _list,
    _optional_uuid,
    _reason,
    _record_id,
    _text,
    _time,
    _uuid,
    _whole_number,
)
from services_directory.models import (
    Language,
    Location,
    LocationType,
    Organization,
    Phone,
    Schedule,
    Service,
    ServiceAtLocation,
    ServiceStatus,
)
from services_directory.services import opening_hours_rebuild, organization_create

RECORD_KINDS = ("organization", "location", "service")
# Records committed together (see ``hsds_import``).
IMPORT_BATCH = 100
# "Read the stored row yourself" (None already means "there is none").
_LOOK_UP = object()


@dataclass
class ImportReport:
    """What an import did. ``created``/``updated``/``unchanged`` count top-level records; a
    record is updated when it or anything nested in it was written or deleted."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[str, str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str, str]] = field(default_factory=list)
    # Services imported without a stage: listed, not offered for referrals, to classify.
    unclassified: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        text = (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{len(self.errors)} failed"
        )
        if self.unclassified:
            text += f"; {len(self.unclassified)} service(s) unclassified (no stage)"
        if self.dry_run:
            text = f"dry run, nothing written: would be {text}"
        return text


class _Importer:
    """One import run. Tracks whether the current record wrote anything, and which
    services' opening hours need rebuilding."""

    def __init__(self, *, default_kind: str | None, default_stage: str | None, time_zone: str):
        self.default_kind = default_kind
        self.default_stage = default_stage
        self.time_zone = time_zone
        self.report = ImportReport()
        self.changed = False
        self.rebuild: set[uuid.UUID] = set()
        self.parents: dict[uuid.UUID, uuid.UUID | None] = {}
        self.record_parents: dict[uuid.UUID, uuid.UUID | None] = {}
        self.outcomes: dict[uuid.UUID, str] = {}
        self.record_unclassified = False
        self.pending_rebuild: set[uuid.UUID] = set()
        # Rows this record created, and the collections it filled (``_first_fill``).
        self.fresh: set[uuid.UUID] = set()
        self.filled: set[tuple[str, uuid.UUID]] = set()

    # -- bookkeeping

    def error(self, kind: str, record_id: str, reason: str) -> None:
        entry = (kind, record_id, reason)
        if entry not in self.report.errors:
            self.report.errors.append(entry)

    def _write(self, instance: models.Model, *, create: bool) -> None:
        # Field checks only. The primary key was just looked up; the one unique constraint
        # (a service once per location) is made way for before the write; foreign keys are
        # ids this import checked or wrote itself (checking each again was a query per row).
        foreign_keys = [f.name for f in instance._meta.fields if f.is_relation]
        instance.full_clean(exclude=foreign_keys, validate_unique=False, validate_constraints=False)
        instance.save(force_insert=create)
        self.changed = True

    def _upsert(
        self,
        model: type[models.Model],
        pk: uuid.UUID,
        values: dict[str, Any],
        *,
        instance: models.Model | None | object = _LOOK_UP,
    ) -> bool:
        """Create the row or change the fields that differ; True when created. ``instance``
        is the stored row (or None) when the caller has already read it."""
        if instance is _LOOK_UP:
            instance = model._default_manager.filter(pk=pk).first()
        if instance is None:
            self._write(model(pk=pk, **values), create=True)
            self.fresh.add(pk)
            return True
        instance = cast(models.Model, instance)
        differs = False
        for name, value in values.items():
            if getattr(instance, name) != value:
                setattr(instance, name, value)
                differs = True
        if differs:
            self._write(instance, create=False)
        return False

    def _delete(self, queryset: QuerySet) -> None:
        count, _ = queryset.delete()
        if count:
            self.changed = True

    def _first_fill(self, collection: str, owner_id: uuid.UUID) -> bool:
        """True when ``owner_id`` was created by this record and this is the first time its
        ``collection`` is filled: nothing can be stored under it yet, so the delete of what
        the record leaves out is skipped (it was most of an import's queries)."""
        key = (collection, owner_id)
        first = owner_id in self.fresh and key not in self.filled
        self.filled.add(key)
        return first

    # -- top level

    def run(self, kind: str, record: dict[str, Any]) -> None:
        record_id = _record_id(record)
        self.changed = False
        self.rebuild = set()
        self.record_parents = {}
        self.record_unclassified = False
        self.fresh = set()
        self.filled = set()
        try:
            with transaction.atomic():
                handler = {
                    "organization": self.organization,
                    "location": self.location,
                    "service": self.service,
                }[kind]
                pk, created = handler(record, where=kind)
                if created or self.changed:
                    # In the record's own savepoint: the audit event stands or falls with it.
                    audit_record(
                        actor=None,
                        action=AuditAction.IMPORT,
                        target=(f"services_directory.{kind}", pk),
                        data={"source": "hsds", "created": created},
                    )
        except RECORD_ERRORS as exc:
            self.error(kind, record_id, _reason(exc))
            return
        self.parents.update(self.record_parents)
        # Opening hours are derived: rebuilt once for the whole import, not per record.
        self.pending_rebuild.update(self.rebuild)
        if self.record_unclassified:
            self.report.unclassified.append(str(pk))
        outcome = "created" if created else "updated" if self.changed else "unchanged"
        self.outcomes[pk] = outcome
        setattr(self.report, outcome, getattr(self.report, outcome) + 1)

    def rebuild_pending(self) -> None:
        """The opening hours of the services the records so far changed, once for all."""
        if self.pending_rebuild:
            opening_hours_rebuild(service_ids=sorted(self.pending_rebuild, key=str))
            self.pending_rebuild = set()

    def link_parents(self) -> None:
        """Parent organisations, once every organisation of the import exists."""
        for organization_id, parent_id in self.parents.items():
            if parent_id is not None and not Organization.objects.filter(pk=parent_id).exists():
                self.report.warnings.append(
                    (
                        "organization",
                        str(organization_id),
                        f"parent_organization_id {parent_id} is not in the directory; "
                        "imported without a parent",
                    )
                )
                parent_id = None
            organization = Organization.objects.filter(pk=organization_id).first()
            if organization is None or organization.parent_organization_id == parent_id:
                continue
            organization.parent_organization_id = parent_id
            organization.save(update_fields=["parent_organization", "updated_at"])
            if self.outcomes.get(organization_id) == "unchanged":
                self.outcomes[organization_id] = "updated"
                self.report.unchanged -= 1
                self.report.updated += 1

    # -- organisations

    def organization(self, record: dict[str, Any], *, where: str) -> tuple[uuid.UUID, bool]:
        pk = _uuid(record.get("id"), f"{where}.id")
        extension = _extension(record, where)
        values: dict[str, Any] = {
            "name": _text(record, "name", where, required=True),
            "description": _text(record, "description", where, required=True),
            "year_incorporated": _whole_number(
                record.get("year_incorporated"), f"{where}.year_incorporated", high=32767
            ),
        }
        for name in ("alternate_name", "email", "website", "legal_status", "uri"):
            values[name] = _text(record, name, where)
        existing = Organization.objects.filter(pk=pk).first()
        # A feed that does not say leaves the kind blank, for the organisation to set.
        values["kind"] = (
            extension.get("kind") or (existing and existing.kind) or self.default_kind or ""
        )
        parent_id = _optional_uuid(record, "parent_organization_id", where)
        self.record_parents[pk] = parent_id
        if existing is None:
            if parent_id is not None and Organization.objects.filter(pk=parent_id).exists():
                values["parent_organization_id"] = parent_id
            organization_create(id=pk, **values)
            self.fresh.add(pk)
            self.changed = True
            created = True
        else:
            created = self._upsert(Organization, pk, values, instance=existing)
        phones = _list(record, "phones", where)
        if phones is not None:
            self.phones_replace(owner="organization", owner_id=pk, items=phones, where=where)
        locations = _list(record, "locations", where)
        if locations is not None:
            kept = self.locations_nested(locations, organization_id=pk, where=where)
            if self._first_fill("locations", pk):
                return pk, created
            gone = Location.objects.filter(organization_id=pk).exclude(pk__in=kept)
            self.rebuild.update(
                ServiceAtLocation.objects.filter(location__in=gone).values_list(
                    "service_id", flat=True
                )
            )
            self._delete(gone)
        return pk, created

    # -- locations

    def locations_nested(
        self, items: list[dict], *, organization_id: uuid.UUID | None, where: str
    ) -> set[uuid.UUID]:
        """Upsert nested locations, each in its own savepoint; a bad one is reported under
        its own id and its stored copy (if any) is kept."""
        kept: set[uuid.UUID] = set()
        for index, item in enumerate(items):
            with contextlib.suppress(RecordError):  # a missing id is reported below
                kept.add(_uuid(item.get("id"), f"{where}.locations[{index}].id"))
            changed = self.changed
            try:
                with transaction.atomic():
                    self.location(item, where="location", organization_id=organization_id)
            except RECORD_ERRORS as exc:
                self.changed = changed
                self.error("location", _record_id(item), _reason(exc))
        return kept

    def location(
        self,
        record: dict[str, Any],
        *,
        where: str,
        organization_id: uuid.UUID | None = None,
    ) -> tuple[uuid.UUID, bool]:
        pk = _uuid(record.get("id"), f"{where}.id")
        extension = _extension(record, where)
        existing = Location.objects.filter(pk=pk).first()
        given_organization = _optional_uuid(record, "organization_id", where)
        if given_organization is not None:
            if not Organization.objects.filter(pk=given_organization).exists():
                raise RecordError(f"{where}.organization_id: {given_organization} is not known")
            organization_id = given_organization
        elif existing is not None and existing.organization_id is not None:
            organization_id = existing.organization_id
        location_type = record.get("location_type") or LocationType.PHYSICAL
        latitude = _coordinate(record.get("latitude"), f"{where}.latitude", 90)
        longitude = _coordinate(record.get("longitude"), f"{where}.longitude", 180)
        if (latitude is None) != (longitude is None):
            raise RecordError(f"{where}: give both latitude and longitude, or neither")
        values: dict[str, Any] = {
            "organization_id": organization_id,
            "location_type": location_type,
            "latitude": latitude,
            "longitude": longitude,
            "time_zone": extension.get("time_zone")
            or (existing and existing.time_zone)
            or self.time_zone,
        }
        for name in ("name", "alternate_name", "description", "transportation", "url"):
            values[name] = _text(record, name, where)
        addresses = _list(record, "addresses", where)
        address_fields = (
            "address_1",
            "address_2",
            "city",
            "region",
            "state_province",
            "postal_code",
            "country",
        )
        if addresses is not None:
            address = addresses[0] if addresses else {}
            for name in address_fields:
                values[name] = _text(address, name, f"{where}.addresses[0]")
        time_zone_before = existing.time_zone if existing else None
        place_before = (existing.latitude, existing.longitude) if existing else None
        created = self._upsert(Location, pk, values, instance=existing)
        changed = self.changed
        self.changed = False
        languages = _list(record, "languages", where)
        if languages is not None:
            self.languages_replace(owner="location", owner_id=pk, items=languages, where=where)
        phones = _list(record, "phones", where)
        if phones is not None:
            self.phones_replace(owner="location", owner_id=pk, items=phones, where=where)
        schedules = _list(record, "schedules", where)
        if schedules is not None:
            self.schedules_replace(owner="location", owner_id=pk, items=schedules, where=where)
        moved = (values.get("latitude"), values.get("longitude")) != place_before
        # A location this record created has no services yet (they are rebuilt as they
        # are placed there).
        if not created and (
            (schedules is not None and self.changed)
            or values["time_zone"] != time_zone_before
            or moved
        ):
            self.rebuild.update(
                ServiceAtLocation.objects.filter(location_id=pk).values_list(
                    "service_id", flat=True
                )
            )
        self.changed = self.changed or changed
        return pk, created

    # -- services

    def service(self, record: dict[str, Any], *, where: str) -> tuple[uuid.UUID, bool]:
        pk = _uuid(record.get("id"), f"{where}.id")
        extension = _extension(record, where)
        existing = Service.objects.filter(pk=pk).first()
        status = record.get("status")
        if status not in ServiceStatus.values:
            raise RecordError(
                f"{where}.status: {status!r} is not one of {', '.join(ServiceStatus.values)}"
            )
        # Continuum's own stage, else the stored one, else one a taxonomy term maps to, else
        # the import's default; else unclassified (blank), for the organisation to classify.
        stage = (
            extension.get("stage")
            or (existing and existing.stage)
            or extension.get("mapped_stage")
            or self.default_stage
            or ""
        )
        given_last_modified = _datetime(record.get("last_modified"), f"{where}.last_modified")
        # The nested organisation last: a record failing its own checks writes nothing.
        nested = record.get("organization")
        if nested is not None:
            if not isinstance(nested, dict):
                raise RecordError(f"{where}.organization: must be an object")
            organization_id, _ = self.organization(nested, where=f"{where}.organization")
        elif record.get("organization_id") is not None:
            organization_id = _uuid(record["organization_id"], f"{where}.organization_id")
            if not Organization.objects.filter(pk=organization_id).exists():
                raise RecordError(f"{where}.organization_id: {organization_id} is not known")
        elif existing is not None:
            organization_id = existing.organization_id
        else:
            raise RecordError(f"{where}: no organization and no organization_id")
        values: dict[str, Any] = {
            "organization_id": organization_id,
            "name": _text(record, "name", where, required=True),
            "status": status,
            "stage": stage,
            "minimum_age": _whole_number(record.get("minimum_age"), f"{where}.minimum_age"),
            "maximum_age": _whole_number(record.get("maximum_age"), f"{where}.maximum_age"),
        }
        for name in (
            "alternate_name",
            "description",
            "url",
            "email",
            "interpretation_services",
            "application_process",
            "fees_description",
            "eligibility_description",
            "alert",
            "wait_time",
        ):
            values[name] = _text(record, name, where)
        if "accepting_referrals" in extension:
            if not isinstance(extension["accepting_referrals"], bool):
                raise RecordError(f"{where}.accepting_referrals: must be true or false")
            values["accepting_referrals"] = extension["accepting_referrals"]
        if "capacity_available" in extension:
            values["capacity_available"] = _whole_number(
                extension["capacity_available"], f"{where}.capacity_available"
            )
        if "referral_sla_hours" in extension:
            values["referral_sla_hours"] = _whole_number(
                extension["referral_sla_hours"], f"{where}.referral_sla_hours"
            )
        changed = self.changed
        self.changed = False
        created = self._upsert(Service, pk, values, instance=existing)
        phones = _list(record, "phones", where)
        if phones is not None:
            self.phones_replace(owner="service", owner_id=pk, items=phones, where=where)
        languages = _list(record, "languages", where)
        if languages is not None:
            self.languages_replace(owner="service", owner_id=pk, items=languages, where=where)
        schedules = _list(record, "schedules", where)
        if schedules is not None:
            self.schedules_replace(owner="service", owner_id=pk, items=schedules, where=where)
        places = _list(record, "service_at_locations", where)
        if places is not None:
            self.service_at_locations_replace(
                service_id=pk, organization_id=organization_id, items=places, where=where
            )
        if self.changed:
            self.rebuild.add(pk)
            # last_modified is the service's or anything nested in it: the feed's own when it
            # says, else now (a nested change does not save the service row).
            Service.objects.filter(pk=pk).update(updated_at=given_last_modified or timezone.now())
        self.record_unclassified = not stage
        self.changed = self.changed or changed
        return pk, created

    def service_at_locations_replace(
        self,
        *,
        service_id: uuid.UUID,
        organization_id: uuid.UUID,
        items: list[dict],
        where: str,
    ) -> None:
        kept: set[uuid.UUID] = set()
        placed: set[uuid.UUID] = set()
        first_fill = self._first_fill("service_at_locations", service_id)
        for index, item in enumerate(items):
            here = f"{where}.service_at_locations[{index}]"
            hsds_id = _uuid(item.get("id"), f"{here}.id")
            pk, stored = self._row_id(ServiceAtLocation, hsds_id, {"service_id": service_id})
            if pk in kept:
                raise RecordError(f"{here}.id: {hsds_id} is given twice")
            kept.add(pk)
            nested = item.get("location")
            if isinstance(nested, dict):
                location_id = _uuid(nested.get("id"), f"{here}.location.id")
                changed = self.changed
                try:
                    with transaction.atomic():
                        self.location(nested, where="location", organization_id=organization_id)
                except RECORD_ERRORS as exc:
                    # Skip this place (keep a stored copy of it); report the location.
                    self.changed = changed
                    self.error("location", _record_id(nested), _reason(exc))
                    continue
            elif nested is not None:
                raise RecordError(f"{here}.location: must be an object")
            else:
                location_id = _uuid(item.get("location_id"), f"{here}.location_id")
                if not Location.objects.filter(pk=location_id).exists():
                    raise RecordError(f"{here}.location_id: {location_id} is not known")
            # One place per (service, location): an older row under another id gives way.
            if not first_fill or location_id in placed:
                self._delete(
                    ServiceAtLocation.objects.filter(
                        service_id=service_id, location_id=location_id
                    ).exclude(pk=pk)
                )
            placed.add(location_id)
            self._upsert(
                ServiceAtLocation,
                pk,
                {
                    "service_id": service_id,
                    "location_id": location_id,
                    "description": _text(item, "description", here),
                },
                instance=stored,
            )
            phones = _list(item, "phones", here)
            if phones is not None:
                self.phones_replace(
                    owner="service_at_location", owner_id=pk, items=phones, where=here
                )
            schedules = _list(item, "schedules", here)
            if schedules is not None:
                self.schedules_replace(
                    owner="service_at_location", owner_id=pk, items=schedules, where=here
                )
        if not first_fill:
            self._delete(
                ServiceAtLocation.objects.filter(service_id=service_id).exclude(pk__in=kept)
            )

    # -- parts of a record: phones, languages, schedules

    def _row_id(
        self,
        model: type[models.Model],
        hsds_id: uuid.UUID,
        owner: dict[str, Any],
        stored_rows: dict[uuid.UUID, models.Model] | None = None,
    ) -> tuple[uuid.UUID, models.Model | None | object]:
        """The HSDS id, unless another parent already holds a row with it: then a stable id
        derived from this parent and the HSDS id (feeds reuse ids across parents). With the
        stored row under that id (None: there is none; ``_LOOK_UP``: not read).
        ``stored_rows``: the rows under the ids of the whole collection, read at once."""
        if stored_rows is not None:
            stored = stored_rows.get(hsds_id)
        else:
            stored = model._default_manager.filter(pk=hsds_id).first()
        if stored is None or all(getattr(stored, k) == v for k, v in owner.items()):
            return hsds_id, stored
        parent = ",".join(f"{k}={v}" for k, v in sorted(owner.items()))
        derived = uuid.uuid5(HSDS_NAMESPACE, f"{model._meta.model_name}:{parent}:{hsds_id}")
        return derived, _LOOK_UP

    def _parts_replace(
        self,
        model: type[models.Model],
        owner_fields: tuple[str, ...],
        *,
        owner: str,
        owner_id: uuid.UUID,
        items: list[dict],
        where: str,
        build: Callable[[dict, str], dict[str, Any]],
        after: Callable[[uuid.UUID, dict, str], None] | None = None,
    ) -> None:
        owner_values = {
            f"{name}_id": (owner_id if name == owner else None) for name in owner_fields
        }
        kept: set[uuid.UUID] = set()
        name = model._meta.verbose_name_plural.replace(" ", "_")
        first_fill = self._first_fill(name, owner_id)
        hsds_ids = [
            _uuid(item.get("id"), f"{where}.{name}[{index}].id") for index, item in enumerate(items)
        ]
        # One read for the whole collection; a row written in it is not read again (ids given
        # twice are refused below).
        stored_rows = {row.pk: row for row in model._default_manager.filter(pk__in=hsds_ids)}
        for index, (item, hsds_id) in enumerate(zip(items, hsds_ids, strict=True)):
            here = f"{where}.{name}[{index}]"
            pk, stored = self._row_id(model, hsds_id, owner_values, stored_rows)
            if pk in kept:
                raise RecordError(f"{here}.id: {hsds_id} is given twice")
            kept.add(pk)
            self._upsert(model, pk, {**owner_values, **build(item, here)}, instance=stored)
            if after is not None:
                after(pk, item, here)
        if not first_fill:
            self._delete(
                model._default_manager.filter(**{f"{owner}_id": owner_id}).exclude(pk__in=kept)
            )

    def phones_replace(self, *, owner: str, owner_id: uuid.UUID, items: list[dict], where: str):
        def build(item: dict, here: str) -> dict[str, Any]:
            extension = item.get("extension")
            if extension is None:
                extension = _extension(item, here).get("extension") or ""
            elif isinstance(extension, int | float) and not isinstance(extension, bool):
                extension = str(_whole_number(extension, f"{here}.extension", high=10**15))
            elif not isinstance(extension, str):
                raise RecordError(f"{here}.extension: must be a number")
            return {
                "number": _text(item, "number", here, required=True),
                "extension": extension,
                "type": _text(item, "type", here),
                "description": _text(item, "description", here),
            }

        def after(pk: uuid.UUID, item: dict, here: str) -> None:
            languages = _list(item, "languages", here)
            if languages is not None:
                self.languages_replace(owner="phone", owner_id=pk, items=languages, where=here)

        self._parts_replace(
            Phone,
            ("organization", "service", "location", "service_at_location"),
            owner=owner,
            owner_id=owner_id,
            items=items,
            where=where,
            build=build,
            after=after,
        )

    def languages_replace(self, *, owner: str, owner_id: uuid.UUID, items: list[dict], where: str):
        def build(item: dict, here: str) -> dict[str, Any]:
            values = {
                "name": _text(item, "name", here),
                "code": _text(item, "code", here).lower(),
                "note": _text(item, "note", here),
            }
            if not values["name"] and not values["code"]:
                raise RecordError(f"{here}: a language needs a name or a code")
            return values

        self._parts_replace(
            Language,
            ("service", "location", "phone"),
            owner=owner,
            owner_id=owner_id,
            items=items,
            where=where,
            build=build,
        )

    def schedules_replace(self, *, owner: str, owner_id: uuid.UUID, items: list[dict], where: str):
        def build(item: dict, here: str) -> dict[str, Any]:
            # RRULE parts we do not model (interval, byweekno, bymonthday, count, until, ...)
            # are ignored, and so never exported.
            freq = item.get("freq") or "WEEKLY"
            if freq not in ("WEEKLY", "MONTHLY"):
                raise RecordError(f"{here}.freq: {freq!r} is not WEEKLY or MONTHLY")
            values = {
                "freq": freq,
                "byday": _text(item, "byday", here).replace(" ", "").upper(),
                "opens_at": _time(item.get("opens_at"), f"{here}.opens_at"),
                "closes_at": _time(item.get("closes_at"), f"{here}.closes_at"),
                "valid_from": _date(item.get("valid_from"), f"{here}.valid_from"),
                "valid_to": _date(item.get("valid_to"), f"{here}.valid_to"),
                "description": _text(item, "description", here),
                "notes": _text(item, "notes", here),
            }
            if (
                values["valid_from"]
                and values["valid_to"]
                and values["valid_to"] < values["valid_from"]
            ):
                raise RecordError(f"{here}.valid_to: must not be before valid_from")
            return values

        self._parts_replace(
            Schedule,
            ("service", "location", "service_at_location"),
            owner=owner,
            owner_id=owner_id,
            items=items,
            where=where,
            build=build,
        )


def hsds_import(
    *,
    path: str | Path,
    default_kind: str | None = None,
    default_stage: str | None = None,
    time_zone: str | None = None,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import HSDS JSON from a file or a folder (see the module docstring for the rules).

    Runs as the system: rows are written directly, without organisation-admin checks.
    Organisations first, then standalone locations, then services, so references resolve.
    ``dry_run`` runs the whole import and rolls it back: the report says what would happen
    and nothing (rows, audit events, outbox messages) is kept. ``progress(done, total)`` is
    called after each top-level record.
    """
    importer = _Importer(
        default_kind=default_kind,
        default_stage=default_stage,
        time_zone=time_zone or settings.TIME_ZONE,
    )
    records: dict[str, list[dict]] = {kind: [] for kind in RECORD_KINDS}
    for kind, record, problem in hsds_read(Path(path)):
        if problem is not None:
            importer.error(kind, record, problem)
        elif kind not in records:
            importer.error(kind, _record_id(record), f"unknown record kind {kind!r}")
        else:
            records[kind].append(record)
    work = [(kind, record) for kind in RECORD_KINDS for record in records[kind]]
    # A dry run is one transaction, rolled back. A real import commits a batch at a time:
    # far fewer commits than one per record (most of SQLite's cost), without holding the
    # database (and the audit chain's head) for the whole import.
    with transaction.atomic() if dry_run else contextlib.nullcontext():
        for start in range(0, len(work), IMPORT_BATCH):
            with transaction.atomic():
                batch = work[start : start + IMPORT_BATCH]
                for done, (kind, record) in enumerate(batch, start=start + 1):
                    importer.run(kind, record)
                    if progress is not None:
                        progress(done, len(work))
                importer.rebuild_pending()
        with transaction.atomic():
            importer.link_parents()
        if dry_run:
            importer.report.dry_run = True
            transaction.set_rollback(True)
    return importer.report
