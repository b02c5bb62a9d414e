"""Who may see what (DESIGN.md, "Who may see what"), as query conditions and predicates.

Every read in ``referral.selectors`` goes through these, so a view never filters by hand:

- a referral: its sender's and receiver's organisations (guardian group grants), and the
  coordinators of the task force it was made in (``Referral.task_force``);
- a person's pseudonym: the organisation that recorded them, receivers of their referrals,
  and the coordinators of a task force they were referred in;
- a person's identifying fields: the organisation that recorded them (all fields), and a
  receiving organisation while an active consent covers it, only the fields those consents
  list (checked at read time, so revocation and expiry take effect at once); never
  coordinators.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db.models import BooleanField, Exists, OuterRef, Q, Subquery
from django.utils import timezone

from core.sql import Select
from referral.models import (
    Consent,
    Contact,
    DisclosedField,
    EmergencyAccess,
    Person,
    PersonGroupObjectPermission,
    Referral,
    ReferralGroupObjectPermission,
)
from referral.permissions import permission_id
from services_directory.models import Membership, Role, TaskForce

ALL_FIELDS = frozenset(DisclosedField.values)


_MEMBERSHIP = Membership._meta.get_field("user").remote_field
# Every API request of a member starts here: one statement written once (core.sql).
_MEMBERSHIP_OF = Select(
    Membership,
    related=["organization"],
    where=lambda column, qn: f"{column('user')} = %s",
    params=[Membership._meta.get_field("user")],
)


def membership_of(user) -> Membership | None:
    """The user's membership with its organisation, read in one query and kept on the user
    (where ``user.membership`` finds it too)."""
    if not getattr(user, "is_authenticated", False):
        return None
    if not _MEMBERSHIP.is_cached(user):
        _MEMBERSHIP.set_cached_value(user, _MEMBERSHIP_OF.one(user.pk))
    return _MEMBERSHIP.get_cached_value(user)


def coordinated_task_force_ids(user) -> set[int]:
    """The task forces this user coordinates (empty for others): a coordinator sees their
    referrals, and the people referred in them, whichever organisations made them."""
    membership = membership_of(user)
    if membership is None or membership.role != Role.COORDINATOR:
        return set()
    cache = getattr(user, "_coordinated_task_force_ids", None)
    if cache is None:
        cache = set(
            TaskForce.objects.filter(organizations=membership.organization_id).values_list(
                "pk", flat=True
            )
        )
        user._coordinated_task_force_ids = cache
    return cache


def referral_grants(user, *, codename: str = "view_referral"):
    """The grant rows of ``codename`` to the user's organisation group (none without one).

    At most one row per referral: (group, permission, content_object) is unique."""
    membership = membership_of(user)
    if membership is None:
        return ReferralGroupObjectPermission.objects.none()
    return ReferralGroupObjectPermission.objects.filter(
        group_id=membership.organization.group_id,
        permission_id=permission_id(Referral, codename),
    )


def referral_visible_q(user, *, codename: str = "view_referral") -> Q:
    """Granted to the user's organisation, or (for ``view_referral``) in a task force the user
    coordinates.

    The grant is an EXISTS probe of the unique (group, permission, content_object) index per
    referral, not ``pk IN (the group's grants)``, so a list page can be read newest first
    along a created_at index and stop after the page. With the IN form SQLite starts from
    every grant of the group, looks each referral up and sorts them all (50 ms at 100,000
    referrals against 2 ms); PostgreSQL plans both forms alike."""
    membership = membership_of(user)
    if membership is None:
        return Q(pk__in=[])
    condition = Q(
        Exists(referral_grants(user, codename=codename).filter(content_object=OuterRef("pk")))
    )
    coordinated = coordinated_task_force_ids(user)
    if coordinated and codename == "view_referral":
        condition |= Q(task_force_id__in=coordinated)
    return condition


def person_visible_q(user) -> Q:
    membership = membership_of(user)
    if membership is None:
        return Q(pk__in=[])
    granted = PersonGroupObjectPermission.objects.filter(
        group_id=membership.organization.group_id,
        permission_id=permission_id(Person, "view_person"),
    ).values("content_object_id")
    condition = Q(pk__in=granted)
    coordinated = coordinated_task_force_ids(user)
    if coordinated:
        # A subquery, not a join: a person with many referrals stays one row (no DISTINCT).
        # Only people referred in the coordinator's task forces: an organisation shared with
        # another task force does not bring that task force's people along.
        referred = Referral.objects.filter(
            task_force_id__in=coordinated, person__isnull=False
        ).values("person_id")
        condition |= Q(pk__in=referred)
    return condition


def _person_grant_sql(column, qn) -> str:
    grants = PersonGroupObjectPermission._meta
    return (
        f"{column('id')} = %s AND {column('id')} IN (SELECT "  # noqa: S608 - names only
        f"{qn(grants.get_field('content_object').column)} FROM {qn(grants.db_table)} WHERE "
        f"{qn(grants.get_field('group').column)} = %s "
        f"AND {qn(grants.get_field('permission').column)} = %s)"
    )


def _first_contact_sql(column, qn) -> str:
    contact = Contact._meta
    occurred = qn(contact.get_field("occurred_at").column)
    return (
        f"SELECT MIN({occurred}) FROM {qn(contact.db_table)} "  # noqa: S608 - names only
        f"WHERE {qn(contact.get_field('person').column)} = {column('id')}"
    )


_GRANTS = PersonGroupObjectPermission._meta
# ``person_visible_q`` for a member who coordinates nothing (the condition its grant part
# is), with the person's first contact: one statement, written once, for every referral made.
_PERSON_GRANTED = Select(
    Person,
    where=_person_grant_sql,
    params=[Person._meta.pk, _GRANTS.get_field("group"), _GRANTS.get_field("permission")],
    extra=[("first_contact_at", _first_contact_sql, Contact._meta.get_field("occurred_at"))],
)


def person_visible_get(user, person_id) -> Person | None:
    """The person, if ``person_visible_q`` lets this user see them, else None; with
    ``first_contact_at``, the time of their earliest contact (None without one), where a
    referral made for them starts its journey."""
    membership = membership_of(user)
    if membership is None:
        return None
    if not coordinated_task_force_ids(user):
        return _PERSON_GRANTED.one(
            person_id, membership.organization.group_id, permission_id(Person, "view_person")
        )
    first_contact = (
        Contact.objects.filter(person=OuterRef("pk"))
        .order_by("occurred_at")
        .values("occurred_at")[:1]
    )
    return (
        Person.objects.filter(person_visible_q(user), pk=person_id)
        .annotate(first_contact_at=Subquery(first_contact))
        .first()
    )


def consent_active(consent: Consent, *, at: datetime) -> bool:
    return (
        consent.revoked_at is None
        and consent.expired_at is None
        and consent.given_at <= at
        and (consent.expires_at is None or consent.expires_at > at)
    )


def consents_covering(
    *, person: Person, organization_id: uuid.UUID, stages: set[str], at: datetime | None = None
) -> list[Consent]:
    """Every active consent of ``person`` that covers disclosure to this organisation or to
    one of these continuum stages, newest first."""
    at = at or timezone.now()
    return [
        consent
        for consent in _CONSENTS_OPEN.all(organization_id, person.pk)
        if consent_active(consent, at=at)
        and (consent.to_organization or stages.intersection(consent.stages or []))
    ]


def _to_organization_sql(column, qn) -> str:
    recipients = Consent.recipients.through._meta
    return (
        f"EXISTS(SELECT 1 FROM {qn(recipients.db_table)} r "  # noqa: S608 - names only
        f"WHERE r.{qn(recipients.get_field('consent').column)} = {column('id')} "
        f"AND r.{qn(recipients.get_field('organization').column)} = %s)"
    )


# A person's consents neither revoked nor expired, newest first, each with
# ``to_organization``: whether the organisation is one of its recipients (an EXISTS probe of
# the recipients' unique index). One statement, written once (``core.sql``): every referral
# create and every read of a person's identity asks it, and building it through the ORM cost
# more than running it.
_CONSENTS_OPEN = Select(
    Consent,
    where=lambda column, qn: (
        f"{column('person')} = %s AND {column('revoked_at')} IS NULL "
        f"AND {column('expired_at')} IS NULL"
    ),
    params=[
        Consent.recipients.through._meta.get_field("organization"),
        Consent._meta.get_field("person"),
    ],
    extra=[("to_organization", _to_organization_sql, BooleanField())],
    order=lambda column, qn: f"{column('given_at')} DESC",
)


def consent_covering(
    *, person: Person, organization_id: uuid.UUID, stage: str | None, at: datetime | None = None
) -> Consent | None:
    """An active consent of ``person`` that covers disclosure to this organisation or to
    this continuum stage, if any (the newest)."""
    covering = consents_covering(
        person=person, organization_id=organization_id, stages={stage} if stage else set(), at=at
    )
    return covering[0] if covering else None


def identity_fields_visible(
    user, people: list[Person], *, at: datetime | None = None
) -> dict[uuid.UUID, frozenset[str]]:
    """Of these people, which identifying fields this user may read now, by person id (a
    person with none is left out).

    The organisation that recorded a person reads every field. A receiving organisation of an
    identified referral reads the union of ``disclosed_fields`` over the active consents that
    cover it (by organisation, or by the stage of a referral it received): a consent listing
    only the given name discloses only the given name."""
    membership = membership_of(user)
    if membership is None or not people:
        return {}
    at = at or timezone.now()
    organization_id = membership.organization_id
    visible: dict[uuid.UUID, frozenset[str]] = {
        p.pk: ALL_FIELDS for p in people if p.organization_id == organization_id
    }
    others = [p for p in people if p.pk not in visible and p.erased_at is None]
    if others:
        # an emergency opens every field, for its period (42 CFR Part 2 §2.51)
        opened = emergency_access_person_ids(user, [p.pk for p in others], at=at)
        visible.update(dict.fromkeys(opened, ALL_FIELDS))
        others = [p for p in others if p.pk not in visible]
    if not others:
        return visible
    received = Referral.objects.filter(
        person__in=others, receiving_organization_id=organization_id, identified=True
    ).values_list("person_id", "stage")
    stages_by_person: dict[uuid.UUID, set[str]] = {}
    for person_id, stage in received:
        stages_by_person.setdefault(person_id, set()).add(stage)
    # The candidate consents of every such person in one query (and one for recipients),
    # checked as ``consents_covering`` checks them: a page of people costs the same.
    candidates: dict[uuid.UUID, list[Consent]] = {}
    for consent in (
        Consent.objects.filter(
            person_id__in=list(stages_by_person), revoked_at__isnull=True, expired_at__isnull=True
        )
        .prefetch_related("recipients")
        .order_by("-given_at")
    ):
        candidates.setdefault(consent.person_id, []).append(consent)
    for person in others:
        stages = stages_by_person.get(person.pk)
        if stages is None:
            continue
        fields = frozenset(
            field
            for consent in candidates.get(person.pk, [])
            if consent_active(consent, at=at)
            and (
                any(o.pk == organization_id for o in consent.recipients.all())
                or stages.intersection(consent.stages or [])
            )
            for field in (consent.disclosed_fields or [])
            if field in ALL_FIELDS
        )
        if fields:
            visible[person.pk] = fields
    return visible


def identity_visible_person_ids(user, people: list[Person], *, at: datetime | None = None) -> set:
    """Of these people, those of whose identifying fields this user may read at least one."""
    return set(identity_fields_visible(user, people, at=at))


def person_identity_visible(user, person: Person, *, at: datetime | None = None) -> bool:
    return person.pk in identity_visible_person_ids(user, [person], at=at)


# --- emergency access (42 CFR Part 2 §2.51) -------------------------------------------------


def emergency_access_person_ids(user, person_ids: list, *, at: datetime) -> set:
    """Of these people, those whose identity this user opened for an emergency
    (``referral.services.emergency``) and whose period has not ended at ``at``."""
    return set(
        EmergencyAccess.objects.filter(
            user=user, person_id__in=person_ids, granted_at__lte=at, expires_at__gt=at
        ).values_list("person_id", flat=True)
    )
