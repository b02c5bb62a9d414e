"""Emergency accesses for review by org admins: those their organisation's providers opened
and those to people their organisation recorded. Superusers see every one."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from referral.models import EmergencyAccess
from referral.selectors.access import membership_of
from services_directory.models import Role


def emergency_access_review_list(*, user) -> QuerySet[EmergencyAccess]:
    accesses = EmergencyAccess.objects.select_related(
        "user", "organization", "person", "referral"
    ).order_by("-granted_at", "id")
    if user.is_superuser:
        return accesses
    membership = membership_of(user)
    if membership is None or membership.role != Role.ORG_ADMIN:
        return accesses.none()
    return accesses.filter(
        Q(organization_id=membership.organization_id)
        | Q(person__organization_id=membership.organization_id)
    )
