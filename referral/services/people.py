"""Recording, changing and erasing people.

Identifying fields never touch a column, a log line or an audit payload in plain text: each is
sealed under the person's own data key (``referral.crypto``) and audit payloads carry field
names only. Erasure destroys the wrapped data key (crypto-shredding): every ciphertext of the
person, in this table or elsewhere, becomes unreadable at once while the rows stay.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import AuditAction
from audit.services import audit_record
from core.errors import Conflict, Forbidden, ValidationFailed
from core.idempotency import idempotency_answers_shred
from referral import crypto
from referral.models import Person, PersonGroupObjectPermission
from referral.permissions import permission_id, person_grant_owner
from referral.selectors.access import membership_of
from referral.selectors.people import (
    IDENTIFYING_FIELDS,
    person_data_key,
    person_identity_decrypt,
)
from services_directory.models import Membership, Role

PERSON_FIELDS = frozenset({"display_name", *IDENTIFYING_FIELDS})
DISPLAY_NAME_MAX = 80
ERASED_DISPLAY_NAME = "[erased]"
MAX_LENGTHS = {"given_name": 150, "family_name": 150, "phone": 40, "notes": 4000}


def _actor_membership(actor) -> Membership:
    membership = membership_of(actor)
    if membership is None:
        raise Forbidden(_("You are not a member of an organisation."), code="no_membership")
    return membership


def person_change_check(*, actor, person: Person) -> Membership:
    """The actor's organisation recorded the person (holds ``change_person``) and the actor is
    not a coordinator: coordinators work with pseudonyms only and never record identity."""
    membership = _actor_membership(actor)
    if membership.role == Role.COORDINATOR:
        raise Forbidden(
            _("Coordinators work with pseudonyms only and cannot change a person's record."),
            code="coordinator_pseudonym_only",
        )
    allowed = PersonGroupObjectPermission.objects.filter(
        group_id=membership.organization.group_id,
        permission_id=permission_id(Person, "change_person"),
        content_object=person,
    ).exists()
    if not allowed:
        raise Forbidden(
            _("Only the organisation that recorded this person may change the record."),
            code="not_person_owner",
        )
    return membership


def _clean_text(field: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationFailed(
            _("Invalid %(field)s.") % {"field": field}, errors={field: [_("Must be text.")]}
        )
    value = value.strip()
    limit = MAX_LENGTHS.get(field)
    if limit is not None and len(value) > limit:
        raise ValidationFailed(
            _("Invalid %(field)s.") % {"field": field},
            errors={field: [_("At most %(count)s characters.") % {"count": limit}]},
        )
    return value or None


def _clean_birth_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError as exc:
            raise ValidationFailed(
                _("Invalid birth_date."), errors={"birth_date": [_("Must be a date, YYYY-MM-DD.")]}
            ) from exc
    if not isinstance(value, date):
        raise ValidationFailed(
            _("Invalid birth_date."), errors={"birth_date": [_("Must be a date, YYYY-MM-DD.")]}
        )
    if value > timezone.localdate():
        raise ValidationFailed(
            _("Invalid birth_date."), errors={"birth_date": [_("Cannot be in the future.")]}
        )
    return value


def _clean_display_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(
            _("Invalid display_name."),
            errors={"display_name": [_("A street name or initials is required.")]},
        )
    value = value.strip()
    if len(value) > DISPLAY_NAME_MAX:
        raise ValidationFailed(
            _("Invalid display_name."),
            errors={
                "display_name": [_("At most %(count)s characters.") % {"count": DISPLAY_NAME_MAX}]
            },
        )
    return value


def _clean_identity(values: Mapping[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for field, value in values.items():
        if field == "birth_date":
            cleaned[field] = _clean_birth_date(value)
        else:
            cleaned[field] = _clean_text(field, value)
    return cleaned


def _as_text(field: str, value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if field == "birth_date" else value


def _seal_identity(person: Person, key: bytes, values: Mapping[str, Any]) -> None:
    for field, value in values.items():
        setattr(
            person,
            f"{field}_enc",
            crypto.field_encrypt(
                data_key=key, person_id=str(person.pk), field=field, value=_as_text(field, value)
            ),
        )


def _set_blind_index(person: Person, identity: Mapping[str, Any]) -> None:
    person.blind_index, person.blind_index_key_id = crypto.blind_index_current(
        given_name=identity.get("given_name"),
        family_name=identity.get("family_name"),
        birth_date=identity.get("birth_date"),
    )


@transaction.atomic
def person_create(
    *,
    actor,
    display_name: str,
    given_name: str | None = None,
    family_name: str | None = None,
    birth_date: date | str | None = None,
    phone: str | None = None,
    notes: str | None = None,
) -> Person:
    """Record a person for the actor's organisation, which becomes its owner (view, change and
    identity permissions for its group). Only the pseudonym is required."""
    membership = _actor_membership(actor)
    if membership.role == Role.COORDINATOR:
        raise Forbidden(
            _("Coordinators work with pseudonyms only and do not record people."),
            code="coordinator_pseudonym_only",
        )
    identity = _clean_identity(
        {
            "given_name": given_name,
            "family_name": family_name,
            "birth_date": birth_date,
            "phone": phone,
            "notes": notes,
        }
    )
    person = Person(
        display_name=_clean_display_name(display_name),
        organization=membership.organization,
        created_by=actor,
    )
    key, wrapped = crypto.data_key_new(person_id=str(person.pk))
    person.wrapped_data_key, person.data_key_id = wrapped.wrapped, wrapped.key_id
    _seal_identity(person, key, identity)
    _set_blind_index(person, identity)
    person.save(force_insert=True)
    person_grant_owner(person=person)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        target=person,
        data={"fields": ["display_name", *sorted(f for f, v in identity.items() if v is not None)]},
    )
    return person


@transaction.atomic
def person_update(*, actor, person: Person, data: Mapping[str, Any]) -> Person:
    """Change the pseudonym and/or identifying fields (``None`` or ``""`` clears one).

    Only changed fields are re-encrypted; the blind index is recomputed from the result. The
    audit event names the changed fields, never their values. An erased person cannot be
    given identifying data again (409)."""
    unknown = set(data) - PERSON_FIELDS
    if unknown:
        raise ValidationFailed(
            _("Unknown fields."), errors={name: ["Unknown field."] for name in sorted(unknown)}
        )
    person_change_check(actor=actor, person=person)
    person = Person.objects.select_for_update().get(pk=person.pk)
    if person.erased_at is not None:
        raise Conflict(_("This person's record was erased."), code="person_erased")
    changed: list[str] = []
    if "display_name" in data:
        display_name = _clean_display_name(data["display_name"])
        if display_name != person.display_name:
            person.display_name = display_name
            changed.append("display_name")
    wanted = _clean_identity({f: data[f] for f in IDENTIFYING_FIELDS if f in data})
    if wanted:
        if person.wrapped_data_key is None:
            key, wrapped = crypto.data_key_new(person_id=str(person.pk))
            person.wrapped_data_key, person.data_key_id = wrapped.wrapped, wrapped.key_id
            current = dict.fromkeys(IDENTIFYING_FIELDS)
        else:
            key, current = person_data_key(person), person_identity_decrypt(person)
        identity_changes = {f: v for f, v in wanted.items() if current[f] != v}
        if identity_changes:
            _seal_identity(person, key, identity_changes)
            _set_blind_index(person, {**current, **identity_changes})
            changed.extend(sorted(identity_changes))
    if changed:
        person.save()
        audit_record(
            actor=actor, action=AuditAction.UPDATE, target=person, data={"fields": changed}
        )
    return person


@transaction.atomic
def person_erase(*, actor, person: Person) -> Person:
    """Erase a person by destroying their data key (crypto-shredding).

    Every ciphertext sealed under that key (identifying fields, notes of their contacts and
    referrals, referral and event reasons, stored idempotent answers about them) is
    unreadable from now on, and those stored answers are dropped too; the pseudonym is
    replaced and the blind index cleared; the row, its dates, consents and referrals stay for
    the flows. ``actor`` None is the system (``manage.py erase_person``); a user must belong
    to the owner organisation. Erasing an erased person changes nothing and records nothing."""
    if actor is not None:
        person_change_check(actor=actor, person=person)
    person = Person.objects.select_for_update().get(pk=person.pk)
    if person.erased_at is not None:
        return person
    erased = [f for f in IDENTIFYING_FIELDS if getattr(person, f"{f}_enc") is not None]
    person.wrapped_data_key = None
    person.data_key_id = ""
    for field in IDENTIFYING_FIELDS:
        setattr(person, f"{field}_enc", None)
    person.blind_index = ""
    person.blind_index_key_id = ""
    person.display_name = ERASED_DISPLAY_NAME
    person.erased_at = timezone.now()
    person.save()
    idempotency_answers_shred(subject=person.pk)
    audit_record(
        actor=actor,
        action=AuditAction.ERASE,
        target=person,
        data={"fields": ["display_name", *erased], "data_key_destroyed": True},
        organization_id=None if actor is not None else person.organization_id,
    )
    return person
