"""Reads of contacts: only the recording organisation sees its contacts.

Lists never decrypt. A detail decrypts the notes for the recording organisation; when the
contact names a person that read is of identifying data and is audited (field names only).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from audit.models import AuditAction
from audit.services import audit_record
from core.errors import NotFound
from referral import crypto
from referral.models import Contact
from referral.selectors.access import membership_of
from referral.selectors.people import person_data_key

logger = logging.getLogger(__name__)


def notes_context(contact_id: uuid.UUID | str) -> str:
    """The associated data a contact's notes are sealed with: they open for that row only."""
    return f"contact|{contact_id}|notes"


@dataclass(frozen=True)
class ContactNotes:
    text: str | None
    erased: bool


def contact_list(
    *,
    user,
    since: datetime | None = None,
    until: datetime | None = None,
    pathway: str | None = None,
    person: uuid.UUID | None = None,
) -> QuerySet[Contact]:
    """The user's organisation's contacts, latest first; ``since`` inclusive, ``until``
    exclusive, on ``occurred_at``."""
    membership = membership_of(user)
    if membership is None:
        return Contact.objects.none()
    contacts = Contact.objects.filter(organization_id=membership.organization_id)
    if since is not None:
        contacts = contacts.filter(occurred_at__gte=since)
    if until is not None:
        contacts = contacts.filter(occurred_at__lt=until)
    if pathway is not None:
        contacts = contacts.filter(pathway=pathway)
    if person is not None:
        contacts = contacts.filter(person_id=person)
    return contacts.order_by("-occurred_at", "id")


def contact_get(*, user, contact_id: uuid.UUID | str) -> Contact:
    """One contact of the user's organisation; missing and another's are the same 404."""
    contact = contact_list(user=user).select_related("person").filter(pk=contact_id).first()
    if contact is None:
        raise NotFound(_("Contact not found."))
    return contact


def contact_notes(*, user, contact: Contact) -> ContactNotes:
    """The contact's notes in clear, for a contact ``contact_get`` gave this user.

    Notes under an erased person's key read as ``ContactNotes(None, erased=True)``. Reading
    the notes of a contact with a person is audited."""
    if contact.notes_enc is None:
        return ContactNotes(text=None, erased=False)
    context = notes_context(contact.pk)
    blob = bytes(contact.notes_enc)
    try:
        if contact.notes_key_id == crypto.PERSON_KEY:
            person = contact.person
            text = crypto.field_decrypt(
                data_key=person_data_key(person),
                person_id=str(person.pk),
                field=context,
                blob=blob,
            )
        else:
            text = crypto.master_decrypt(key_id=contact.notes_key_id, blob=blob, context=context)
    except crypto.Unreadable:
        erased = contact.person is not None and contact.person.wrapped_data_key is None
        if not erased:
            logger.warning("notes of contact %s are unreadable", contact.pk)
        return ContactNotes(text=None, erased=erased)
    if contact.person_id is not None:
        audit_record(
            actor=user, action=AuditAction.READ, target=contact, data={"fields": ["notes"]}
        )
    return ContactNotes(text=text, erased=False)
