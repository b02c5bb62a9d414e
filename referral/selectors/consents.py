"""Reads of consents.

The organisation that recorded the person sees all of the person's consents. Another
organisation that may see the person sees the consents that name it as a recipient or cover a
stage of a referral it received for the person: what it may receive, with the redisclosure
notice. Everyone else, coordinators included unless their organisation recorded the person,
sees none; a consent outside that is a 404 like a missing one.
"""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core.errors import NotFound
from referral.models import Consent, Person, Referral
from referral.selectors import access
from referral.selectors.people import IDENTIFYING_FIELDS, person_get


def _consents_of(person: Person) -> QuerySet[Consent]:
    return (
        Consent.objects.filter(person=person)
        .select_related("person", "disclosing_organization")
        .prefetch_related("recipients")
    )


def _visible_to(user, person: Person, consents: list[Consent]) -> list[Consent]:
    membership = access.membership_of(user)
    if membership is None:
        return []
    organization_id = membership.organization_id
    if person.organization_id == organization_id:
        return consents
    received_stages = set(
        Referral.objects.filter(
            person=person, receiving_organization_id=organization_id
        ).values_list("stage", flat=True)
    )
    return [
        c
        for c in consents
        if any(o.pk == organization_id for o in c.recipients.all())
        or received_stages.intersection(c.stages or [])
    ]


def consent_list(*, user, person: Person) -> list[Consent]:
    """The consents of a person this user may see, newest first (404 for a hidden person)."""
    person = person_get(user=user, person_id=person.pk)
    return _visible_to(user, person, list(_consents_of(person)))


def consent_get(*, user, consent_id: uuid.UUID | str) -> Consent:
    """One consent this user may see; missing and forbidden are the same 404."""
    consent = Consent.objects.filter(pk=consent_id).select_related("person").first()
    if consent is not None:
        try:
            person = person_get(user=user, person_id=consent.person_id)
        except NotFound:
            person = None
        if person is not None:
            visible = _visible_to(user, person, list(_consents_of(person).filter(pk=consent.pk)))
            if visible:
                return visible[0]
    raise NotFound(_("Consent not found."))


def referral_disclosure(*, user, person: Person | None, service) -> str:
    """How a referral of ``person`` to ``service`` by ``user`` would travel, by the rule
    ``referral_create`` applies: ``"named"`` (the receiver recorded the person, or an active
    consent covers it or the service's stage), ``"anonymous"`` (nobody, or nothing
    identifying to disclose) or ``"needs_consent"`` (identifying data and no consent covering
    the receiver: send anonymous or record consent first)."""
    if person is None or person.erased_at is not None:
        return "anonymous"
    has_identity = any(getattr(person, f"{f}_enc") is not None for f in IDENTIFYING_FIELDS)
    if not has_identity:
        return "anonymous"
    if service.organization_id == person.organization_id:
        return "named"
    covering = access.consent_covering(
        person=person, organization_id=service.organization_id, stage=service.stage
    )
    return "named" if covering is not None else "needs_consent"
