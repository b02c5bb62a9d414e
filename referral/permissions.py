"""Object-permission grants, made by services when a person is recorded or a referral is
made. Grants go to organisation groups through guardian's direct foreign-key models, so
they are deleted with their objects and checked with one indexed join."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.db.models import Model

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


def _grant(link_model, model, obj, grants: list[tuple[int, tuple[str, ...]]]) -> None:
    """One INSERT for every (group, codenames) pair given."""
    link_model.objects.bulk_create(
        [
            link_model(
                group_id=group_id, permission_id=permission_id(model, code), content_object=obj
            )
            for group_id, codenames in grants
            for code in codenames
        ],
        ignore_conflicts=True,
    )


def person_grant_owner(*, person: Person) -> None:
    _grant(
        PersonGroupObjectPermission, Person, person, [(person.organization.group_id, PERSON_OWNER)]
    )


def referral_grant(*, referral: Referral) -> None:
    """The sender's organisation sees status and dates; the receiver's works the referral and
    sees the person's pseudonym (identity only under consent, decided at read time)."""
    _grant(
        ReferralGroupObjectPermission,
        Referral,
        referral,
        [
            (referral.sender_organization.group_id, REFERRAL_SENDER),
            (referral.receiving_organization.group_id, REFERRAL_RECEIVER),
        ],
    )
    if referral.person_id:
        _grant(
            PersonGroupObjectPermission,
            Person,
            referral.person,
            [(referral.receiving_organization.group_id, PERSON_RECEIVER)],
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
    )


def referral_offers_withdraw(*, referral: Referral, keep) -> None:
    """The offers of a referral addressed to a stage end (taken by ``keep``, or closed
    before anyone took it): every other candidate's grants and offer rows go, so those
    organisations stop seeing it at once."""
    from referral.models import Notification, ReferralOffer

    offered = ReferralOffer.objects.filter(referral=referral)
    others = offered.exclude(organization_id=getattr(keep, "pk", None)) if keep else offered
    groups = set(others.values_list("organization__group_id", flat=True))
    groups.discard(referral.sender_organization.group_id)
    if keep is not None:
        groups.discard(keep.group_id)
    ReferralGroupObjectPermission.objects.filter(
        content_object=referral, group_id__in=groups
    ).delete()
    # their notices of the offer go too: a notice would name the service that took it
    Notification.objects.filter(referral=referral, organization__group_id__in=groups).delete()
    offered.delete()
