"""Recording contacts: one outreach or police encounter, logged from a phone.

A phone makes each contact's ``client_uuid`` itself and may upload it many times (a lost
answer, an offline queue synced twice). The first upload creates the contact; an upload with
the same ``client_uuid`` and the same body is a replay and returns that contact; the same
``client_uuid`` with a different body, or one another organisation used, is a conflict that
reveals nothing about the stored contact.

Notes are sealed at rest: under the person's own data key when a person is given (erasing
the person shreds them), else under the master key; either way bound to the contact's id.
Neither the notes nor a plain hash of them is stored: the request fingerprint covers the notes
through a keyed digest, so the stored fingerprint cannot confirm a guessed note.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.keys import keyring
from audit.models import AuditAction
from audit.services import audit_record
from core.errors import Conflict, Forbidden, ValidationFailed
from referral import crypto
from referral.models import Contact, Offer, Pathway, Person
from referral.selectors.access import membership_of, person_visible_q
from referral.selectors.contacts import notes_context
from referral.selectors.people import person_data_key

PLACE_MAX = 120
NOTES_MAX = 4000
# A phone may be offline for a while, but a contact dated further back is a wrong clock or a
# typo, and would distort the flows' "time from first contact" long after the fact.
OCCURRED_AT_MAX_AGE = timedelta(days=30)
# Phones' clocks drift; a little into the future is tolerated, more is a wrong clock.
OCCURRED_AT_MAX_AHEAD = timedelta(minutes=5)
_NOTES_DIGEST_SALT = "continuum.referral.contact.notes"
_OFFER_ORDER = {value: index for index, value in enumerate(Offer.values)}


def _clean_place(place: str | None) -> str:
    place = (place or "").strip()
    if len(place) > PLACE_MAX:
        raise ValidationFailed(
            _("Invalid place."),
            errors={"place": [_("At most %(count)s characters.") % {"count": PLACE_MAX}]},
        )
    return place


def _clean_notes(notes: str | None) -> str | None:
    notes = (notes or "").strip()
    if len(notes) > NOTES_MAX:
        raise ValidationFailed(
            _("Invalid notes."),
            errors={"notes": [_("At most %(count)s characters.") % {"count": NOTES_MAX}]},
        )
    return notes or None


def _clean_offered(offered: Iterable[str]) -> list[str]:
    values = set(offered)
    unknown = sorted(values - set(Offer.values))
    if unknown:
        raise ValidationFailed(
            _("Invalid offered."),
            errors={
                "offered": [
                    _("Unknown: %(unknown)s. Known: %(known)s.")
                    % {"unknown": ", ".join(unknown), "known": ", ".join(Offer.values)}
                ]
            },
        )
    return sorted(values, key=_OFFER_ORDER.__getitem__)


def _clean_pathway(pathway: str) -> str:
    if pathway not in Pathway.values:
        raise ValidationFailed(
            _("Invalid pathway."),
            errors={
                "pathway": [_("Must be one of: %(known)s.") % {"known": ", ".join(Pathway.values)}]
            },
        )
    return pathway


def _check_occurred_at(occurred_at: datetime, *, now: datetime) -> None:
    if occurred_at > now + OCCURRED_AT_MAX_AHEAD:
        raise ValidationFailed(
            _("Invalid occurred_at."),
            errors={"occurred_at": [_("Cannot be more than 5 minutes in the future.")]},
        )
    if occurred_at < now - OCCURRED_AT_MAX_AGE:
        raise ValidationFailed(
            _("Invalid occurred_at."),
            errors={
                "occurred_at": [
                    _("Cannot be more than %(days)s days ago.") % {"days": OCCURRED_AT_MAX_AGE.days}
                ]
            },
        )


def canonical_uuid(value: uuid.UUID | str) -> str:
    return str(uuid.UUID(str(value)))


def contact_fingerprint(
    *,
    client_uuid: uuid.UUID | str,
    occurred_at: datetime,
    place: str | None,
    pathway: str,
    offered: Iterable[str],
    person: uuid.UUID | str | None = None,
    notes: str | None = None,
) -> str:
    """SHA-256 of the contact's canonical body: what makes two uploads "the same contact".

    Equivalent spellings agree (offer order and repeats, surrounding spaces, time zone of
    ``occurred_at``). The notes enter as an HMAC under the keyring's blind-index key (never
    ``SECRET_KEY``), never as text or a plain hash, so the stored fingerprint cannot confirm a
    guessed note. After that key is rotated, re-uploading a contact with notes recorded
    before the rotation answers 409 instead of 200 (nothing is written either way)."""
    notes = (notes or "").strip() or None
    canonical = {
        "client_uuid": canonical_uuid(client_uuid),
        "occurred_at": occurred_at.astimezone(UTC).isoformat(),
        "place": (place or "").strip(),
        "pathway": pathway,
        "offered": sorted(set(offered), key=lambda o: (_OFFER_ORDER.get(o, len(_OFFER_ORDER)), o)),
        "person": None if person is None else canonical_uuid(person),
        "notes": None
        if notes is None
        else hmac.new(
            keyring().blind_index.current_key,
            f"{_NOTES_DIGEST_SALT}|{canonical_uuid(client_uuid)}|{notes}".encode(),
            hashlib.sha256,
        ).hexdigest(),
    }
    body = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def _recording_membership(actor):
    membership = membership_of(actor)
    if membership is None:
        raise Forbidden(_("You are not a member of an organisation."), code="no_membership")
    return membership


def _visible_person(actor, person_id: uuid.UUID | str) -> Person:
    """A person the actor's organisation may see; anything else is the same "unknown"."""
    unknown = ValidationFailed(_("Unknown person."), errors={"person": [_("Unknown person.")]})
    try:
        person_id = uuid.UUID(str(person_id))
    except ValueError as exc:
        raise unknown from exc
    visible = Person.objects.filter(person_visible_q(actor)).values("pk")
    person = Person.objects.filter(pk=person_id, pk__in=visible).first()
    if person is None:
        raise unknown
    return person


def _seal_notes(contact: Contact, notes: str | None) -> None:
    if notes is None:
        contact.notes_enc, contact.notes_key_id = None, ""
        return
    context = notes_context(contact.pk)
    person = contact.person
    if person is not None:
        if person.wrapped_data_key is None:
            raise ValidationFailed(
                _("Invalid notes."),
                errors={"notes": [_("This person's record was erased; notes cannot be kept.")]},
            )
        contact.notes_enc = crypto.field_encrypt(
            data_key=person_data_key(person), person_id=str(person.pk), field=context, value=notes
        )
        contact.notes_key_id = crypto.PERSON_KEY
    else:
        contact.notes_key_id, contact.notes_enc = crypto.master_encrypt(
            value=notes, context=context
        )


def _replayed(existing: Contact, *, organization_id, fingerprint: str) -> tuple[Contact, bool]:
    if existing.organization_id == organization_id and existing.request_fingerprint == fingerprint:
        return existing, False
    # Same message whether another organisation owns it or the body differs: nothing leaks.
    raise Conflict(
        _("This client_uuid was already used for a different contact."),
        errors={"client_uuid": [_("Already used for a different contact.")]},
        code="client_uuid_conflict",
    )


@transaction.atomic
def contact_record(
    *,
    actor,
    client_uuid: uuid.UUID | str,
    occurred_at: datetime,
    place: str | None,
    pathway: str,
    offered: Iterable[str],
    person: uuid.UUID | str | None = None,
    notes: str | None = None,
    fingerprint: str,
) -> tuple[Contact, bool]:
    """Record a contact for the actor's organisation, or recognise a replay of one.

    Returns ``(contact, created)``. ``fingerprint`` is ``contact_fingerprint`` of the upload:
    a stored contact with the same ``client_uuid``, organisation and fingerprint is returned
    with ``created`` False and nothing written; any other use of that ``client_uuid`` is a
    ``Conflict``. ``person`` is the id of a person the actor's organisation may see (else
    ``ValidationFailed`` on ``person``, whether or not it exists). Two concurrent uploads of
    one ``client_uuid`` create one row: the loser falls back to the replay comparison."""
    membership = _recording_membership(actor)
    client_uuid = uuid.UUID(str(client_uuid))
    existing = Contact.objects.filter(client_uuid=client_uuid).first()
    if existing is not None:
        return _replayed(
            existing, organization_id=membership.organization_id, fingerprint=fingerprint
        )
    if timezone.is_naive(occurred_at):
        raise ValidationFailed(
            _("Invalid occurred_at."), errors={"occurred_at": [_("Give a time zone offset.")]}
        )
    _check_occurred_at(occurred_at, now=timezone.now())
    contact = Contact(
        client_uuid=client_uuid,
        organization_id=membership.organization_id,
        recorded_by=actor,
        occurred_at=occurred_at,
        place=_clean_place(place),
        pathway=_clean_pathway(pathway),
        offered=_clean_offered(offered),
        person=None if person is None else _visible_person(actor, person),
        request_fingerprint=fingerprint,
    )
    _seal_notes(contact, _clean_notes(notes))
    try:
        with transaction.atomic():
            contact.save(force_insert=True)
    except IntegrityError:
        existing = Contact.objects.filter(client_uuid=client_uuid).first()
        if existing is None:
            raise
        return _replayed(
            existing, organization_id=membership.organization_id, fingerprint=fingerprint
        )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        target=contact,
        data={
            "fields": sorted(
                ["client_uuid", "occurred_at", "pathway", "offered", "place"]
                + (["person"] if contact.person_id else [])
                + (["notes"] if contact.notes_enc is not None else [])
            ),
            "pathway": contact.pathway,
            "offered": contact.offered,
            "place": contact.place,
        },
        organization_id=membership.organization_id,
    )
    return contact, True
