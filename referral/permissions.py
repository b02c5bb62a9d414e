"""Object-permission grants, made by services when a person is recorded or a referral is
made. Grants go to organisation groups through guardian's direct foreign-key models, so
they are deleted with their objects and checked with one indexed join."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.db import connections, router
from django.db.models import Model
from django.db.models.constants import OnConflict

from referral.models import (
    Person,
    PersonGroupObjectPermission,
    Referral,
    ReferralGroupObjectPermission,
)

PERSON_OWNER = ("view_person", "change_person", "view_person_identity")
PERSON_RECEIVER = ("view_person",)
REFERRAL_SENDER = ("view_referral",)
REFERRAL_RECEIVER = ("view_referral", "view_referral_notes", "transition_referral")
# An organisation a referral to a stage is offered to, until one takes it: it sees the
# referral (pseudonym, status, dates) and may accept it; no notes, no person grant.
REFERRAL_CANDIDATE = ("view_referral", "transition_referral")

_permission_ids: dict[tuple[str, str], int] = {}


def permission_id(model: type[Model], codename: str) -> int:
    key = (model._meta.label_lower, codename)
    if key not in _permission_ids:
        _permission_ids[key] = Permission.objects.get(
            content_type__app_label=model._meta.app_label, codename=codename
        ).pk
    return _permission_ids[key]


def permission_cache_clear(**kwargs) -> None:
    _permission_ids.clear()


def _grant(
    link_model,
    model,
    obj,
    grants: list[tuple[int, tuple[str, ...]]],
    *,
    new_object: bool = False,
    **columns,
) -> None:
    """One plain INSERT for every (group, codenames) pair given, with ``columns`` on each row.

    Written as SQL rather than ``bulk_create``: a referral's grants are part of every create,
    and building the statement through the ORM cost more than running it. On an object made
    in this transaction (``new_object``) no row can exist yet; otherwise rows already there
    are left as they are."""
    # A referral within one organisation grants it view_referral as sender and receiver: once.
    pairs = dict.fromkeys(
        (group_id, permission_id(model, code))
        for group_id, codenames in grants
        for code in codenames
    )
    rows = [
        {"group": group_id, "permission": permission, "content_object": obj.pk} | columns
        for group_id, permission in pairs
    ]
    if not rows:
        return
    connection = connections[router.db_for_write(link_model)]
    fields = [link_model._meta.get_field(name) for name in rows[0]]
    on_conflict = None if new_object else OnConflict.IGNORE
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = " ".join(
        [
            connection.ops.insert_statement(on_conflict=on_conflict),
            connection.ops.quote_name(link_model._meta.db_table),
            "(" + ", ".join(connection.ops.quote_name(f.column) for f in fields) + ")",
            "VALUES",
            ", ".join([placeholders] * len(rows)),
            connection.ops.on_conflict_suffix_sql(fields, on_conflict, None, None) or "",
        ]
    )
    params = [
        field.get_db_prep_save(row[field.name], connection) for row in rows for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def person_grant_owner(*, person: Person) -> None:
    _grant(
        PersonGroupObjectPermission,
        Person,
        person,
        [(person.organization.group_id, PERSON_OWNER)],
        new_object=True,
    )


def referral_grant(*, referral: Referral, new_referral: bool = False) -> None:
    """The sender's organisation sees status and dates; the receiver's works the referral and
    sees the person's pseudonym (identity only under consent, decided at read time).

    Each grant row carries the referral's ``created_at`` and ``status``: an organisation's
    list is read newest first along its grant rows
    (``referral.selectors.referrals.referral_list``)."""
    _grant(
        ReferralGroupObjectPermission,
        Referral,
        referral,
        [
            (referral.sender_organization.group_id, REFERRAL_SENDER),
            (referral.receiving_organization.group_id, REFERRAL_RECEIVER),
        ],
        new_object=new_referral,
        referral_created_at=referral.created_at,
        referral_status=referral.status,
    )
    if referral.person_id:
        _grant(
            PersonGroupObjectPermission,
            Person,
            referral.person,
            [(referral.receiving_organization.group_id, PERSON_RECEIVER)],
        )


def referral_grants_follow(*, referral: Referral) -> None:
    """The referral's grant rows take its new status (``referral_transition`` calls this in
    its transaction), so that a list by status stays one index range."""
    ReferralGroupObjectPermission.objects.filter(content_object_id=referral.pk).update(
        referral_status=referral.status
    )


def referral_offer_grant(*, referral: Referral, organizations) -> None:
    """A referral addressed to a stage: the sender sees it, each organisation it is offered
    to sees it and may take it. These grant rows are what makes it appear in their lists."""
    _grant(
        ReferralGroupObjectPermission,
        Referral,
        referral,
        [(referral.sender_organization.group_id, REFERRAL_SENDER)]
        + [(organization.group_id, REFERRAL_CANDIDATE) for organization in organizations],
        referral_created_at=referral.created_at,
        referral_status=referral.status,
    )


def referral_offers_withdraw(*, referral: Referral, keep) -> None:
    """The offers of a referral addressed to a stage end (taken by ``keep``, or closed
    before anyone took it): every other candidate's grants and offer rows go, so those
    organisations stop seeing it at once."""
    from django.utils import timezone

    from referral.models import EndedOffer, Notification, ReferralOffer

    offered = ReferralOffer.objects.filter(referral=referral)
    others = offered.exclude(organization_id=getattr(keep, "pk", None)) if keep else offered
    # each candidate that loses it keeps one fact: it ended (taken or closed), for a late
    # accept's 409; the sender, which still sees its referral, needs none
    losers = set(others.values_list("organization_id", flat=True))
    losers.discard(referral.sender_organization_id)
    now = timezone.now()
    EndedOffer.objects.bulk_create(
        [
            EndedOffer(referral=referral, organization_id=o, taken=keep is not None, ended_at=now)
            for o in losers
        ],
        ignore_conflicts=True,
    )
    groups = set(others.values_list("organization__group_id", flat=True))
    sender_group = referral.sender_organization.group_id
    # the sender keeps its own grant (view_referral), but, offered it as well, no longer its
    # candidate's: a received list is read along the transition_referral grants
    sender_offered = sender_group in groups
    groups.discard(sender_group)
    if keep is not None:
        groups.discard(keep.group_id)
        sender_offered = sender_offered and keep.group_id != sender_group
    ReferralGroupObjectPermission.objects.filter(
        content_object=referral, group_id__in=groups
    ).delete()
    if sender_offered:
        ReferralGroupObjectPermission.objects.filter(
            content_object=referral,
            group_id=sender_group,
            permission_id=permission_id(Referral, "transition_referral"),
        ).delete()
    # their notices of the offer go too: a notice would name the service that took it
    Notification.objects.filter(referral=referral, organization__group_id__in=groups).delete()
    offered.delete()
