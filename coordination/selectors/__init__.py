"""Coordination reads. A task force's board, flows and case conferences are for the
coordinators of that task force only: everyone else, coordinators of other task forces
included, gets the same 404 as for a task force that does not exist."""

from __future__ import annotations

import uuid

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from core.errors import NotFound
from core.text import whole_number
from referral.selectors.access import membership_of
from services_directory.models import Role, TaskForce


def coordinated_task_forces(*, user) -> QuerySet[TaskForce]:
    """The task forces this user coordinates: a coordinator's organisation belongs to them."""
    membership = membership_of(user)
    if membership is None or membership.role != Role.COORDINATOR:
        return TaskForce.objects.none()
    return TaskForce.objects.filter(organizations=membership.organization_id)


def coordinated_task_force_get(*, user, task_force_id: int | str | None) -> TaskForce:
    """The task force if this user coordinates it, else 404 (missing and forbidden alike)."""
    pk = whole_number(task_force_id if isinstance(task_force_id, int) else str(task_force_id))
    if pk is None:
        raise NotFound()
    task_force = coordinated_task_forces(user=user).filter(pk=pk).first()
    if task_force is None:
        raise NotFound()
    return task_force


def task_force_organization_ids(*, task_force: TaskForce) -> set[uuid.UUID]:
    return set(
        TaskForce.organizations.through.objects.filter(taskforce_id=task_force.pk).values_list(
            "organization_id", flat=True
        )
    )


def task_force_coordinators(*, task_force: TaskForce) -> QuerySet:
    """The active coordinators of the task force: who may take its board items."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            membership__role=Role.COORDINATOR,
            membership__organization_id__in=task_force_organization_ids(task_force=task_force),
        )
        .order_by("username")
    )
