"""Reads of people, each deciding what the requesting user may see (``access``).

Lists never decrypt. Identifying fields are decrypted one person at a time, only for a user
entitled to them now, and every such read is written to the audit trail (field names only).
Coordinators see pseudonyms only, whatever organisation they belong to.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from audit.models import AuditAction, AuditEvent
from audit.selectors import audit_event_payload
from audit.services import audit_record
from core.errors import NotFound
from referral import crypto
from referral.models import Person
from referral.selectors import access
from services_directory.models import Organization, Role

logger = logging.getLogger(__name__)

IDENTIFYING_FIELDS = ("given_name", "family_name", "birth_date", "phone", "notes")
MATCHED_FIELDS = frozenset({"given_name", "family_name", "birth_date"})


def person_data_key(person: Person) -> bytes:
    return crypto.data_key_unwrap(
        person_id=str(person.pk),
        key_id=person.data_key_id,
        wrapped=None if person.wrapped_data_key is None else bytes(person.wrapped_data_key),
    )


def person_identity_decrypt(
    person: Person, *, fields: Iterable[str] = IDENTIFYING_FIELDS
) -> dict[str, Any]:
    """The identifying fields in clear (``fields`` only). For services and selectors only;
    callers decide who may see them (and audit it). Raises ``crypto.Unreadable`` after
    erasure."""
    key = person_data_key(person)
    values: dict[str, Any] = {}
    for field in fields:
        text = crypto.field_decrypt(
            data_key=key,
            person_id=str(person.pk),
            field=field,
            blob=getattr(person, f"{field}_enc"),
        )
        values[field] = (
            date.fromisoformat(text) if field == "birth_date" and text is not None else text
        )
    return values


def _is_coordinator(user) -> bool:
    membership = access.membership_of(user)
    return membership is not None and membership.role == Role.COORDINATOR


def person_list(*, user) -> QuerySet[Person]:
    """The people whose pseudonym this user may see, newest first (no decryption)."""
    visible = Person.objects.filter(access.person_visible_q(user)).values("pk")
    return Person.objects.filter(pk__in=visible).select_related("organization")


def person_get(*, user, person_id: uuid.UUID | str) -> Person:
    """One person this user may see; missing and forbidden are the same 404."""
    person = person_list(user=user).filter(pk=person_id).first()
    if person is None:
        raise NotFound(_("Person not found."))
    return person


def person_identity_fields(*, user, people: Iterable[Person]) -> dict[uuid.UUID, frozenset[str]]:
    """Of these people, which identifying fields this user may read now (none for
    coordinators); a person with no readable field is left out."""
    if _is_coordinator(user):
        return {}
    return access.identity_fields_visible(user, list(people))


def person_identity_visible_ids(*, user, people: Iterable[Person]) -> set[uuid.UUID]:
    """Of these people, those of whose identifying fields this user may read at least one."""
    return set(person_identity_fields(user=user, people=people))


def person_identity(*, user, person: Person) -> dict[str, Any] | None:
    """The identifying fields in clear, or None when this user may not see any of them.

    Only the fields this user may read are decrypted; the others are None, and
    ``disclosed_fields`` names those readable (all five for the recording organisation, the
    union of the covering consents' lists for a receiver). An erased person reads
    ``{"erased": True, ...}`` with every field None. A read that decrypts anything is audited
    (``READ``, the field names shown)."""
    allowed = person_identity_fields(user=user, people=[person]).get(person.pk)
    if not allowed:
        return None
    disclosed = [f for f in IDENTIFYING_FIELDS if f in allowed]
    blank = dict.fromkeys(IDENTIFYING_FIELDS)
    if person.erased_at is not None or person.wrapped_data_key is None:
        return {"erased": True, "disclosed_fields": disclosed, **blank}
    try:
        values = person_identity_decrypt(person, fields=disclosed)
    except crypto.Unreadable:
        logger.warning("identifying fields of person %s are unreadable", person.pk)
        return {"erased": False, "unreadable": True, "disclosed_fields": disclosed, **blank}
    shown = sorted(field for field, value in values.items() if value is not None)
    if shown:
        audit_record(actor=user, action=AuditAction.READ, target=person, data={"fields": shown})
    return {"erased": False, "disclosed_fields": disclosed, **blank, **values}


def _matching_ids(
    *,
    user,
    given_name: str | None,
    family_name: str | None,
    birth_date: date | None,
    exclude: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    values = crypto.blind_index_values(
        given_name=given_name, family_name=family_name, birth_date=birth_date
    )
    if not values or _is_coordinator(user):
        return []
    candidates = list(
        person_list(user=user)
        .filter(blind_index__in=set(values.values()), erased_at__isnull=True)
        .exclude(pk=exclude)
        .order_by("created_at", "id")
    )
    # Only people whose matched fields the user may already read: a match on someone seen by
    # pseudonym only, or under a consent that withholds the family name or birth date, would
    # confirm what the consent does not disclose.
    fields = person_identity_fields(user=user, people=candidates)
    return [p.pk for p in candidates if fields.get(p.pk, frozenset()) >= MATCHED_FIELDS]


def person_possible_duplicates(
    *, user, person: Person, identity: dict[str, Any] | None
) -> list[uuid.UUID] | None:
    """Ids of other people with the same name and birth date (blind index under every key in
    the ring), among those whose identity this user may see. None unless the user's
    organisation recorded the person and sees its identity."""
    membership = access.membership_of(user)
    if (
        membership is None
        or membership.organization_id != person.organization_id
        or identity is None
        or identity.get("erased")
    ):
        return None
    return _matching_ids(
        user=user,
        given_name=identity.get("given_name"),
        family_name=identity.get("family_name"),
        birth_date=identity.get("birth_date"),
        exclude=person.pk,
    )


def person_search(*, user, given_name: str, family_name: str, birth_date: date) -> QuerySet[Person]:
    """Exact match on normalised names and birth date, through the blind index, among the
    people whose identity this user may see (none for coordinators)."""
    ids = _matching_ids(
        user=user, given_name=given_name, family_name=family_name, birth_date=birth_date
    )
    return Person.objects.filter(pk__in=ids).select_related("organization")


def person_reads(*, user, person: Person) -> list[dict[str, Any]]:
    """Who saw this person's identifying fields, newest first: for an admin of the
    organisation that recorded the person (or a superuser), from the audit trail's read
    events of every organisation; everyone else 404. Field names only, never values."""
    membership = access.membership_of(user)
    admin = membership is not None and (
        membership.role == Role.ORG_ADMIN and membership.organization_id == person.organization_id
    )
    if not (admin or user.is_superuser):
        raise NotFound(_("Person not found."))
    events = list(
        AuditEvent.objects.filter(
            target_label=Person._meta.label_lower,
            target_id=str(person.pk),
            action=AuditAction.READ,
        ).order_by("-sequence")[:200]
    )
    users = get_user_model().objects.in_bulk({e.actor_id for e in events if e.actor_id})
    organizations = Organization.objects.in_bulk(
        {uuid.UUID(e.organization_id) for e in events if e.organization_id}
    )
    reads = []
    for event in events:
        actor = users.get(event.actor_id)
        organization = (
            organizations.get(uuid.UUID(event.organization_id)) if (event.organization_id) else None
        )
        payload = audit_event_payload(event) or {}
        reads.append(
            {
                "at": event.time,
                "who": actor.get_username() if actor else None,
                "organization": organization.name if organization else None,
                "fields": payload.get("fields", []) if isinstance(payload, dict) else [],
            }
        )
    return reads
