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
