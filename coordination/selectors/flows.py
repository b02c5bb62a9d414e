"""Who may see which flows (DESIGN.md, "Who may see what": flows and counts).

A coordinator sees the whole task force they coordinate (a task force their organisation
belongs to), or one of its organisations; every other member sees only flows their own
organisation took part in, as sender or receiver of the referral or as the organisation that
logged the contact. Asking for a task force one does not coordinate, or for another
organisation, is a 404, the same as asking for one that does not exist. Small cells are
suppressed for everyone (``coordination.flows``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from coordination.flows.counts import flow_counts
from coordination.flows.report import flow_report
from coordination.metrics import metrics_compute
from core.errors import NotFound, ValidationFailed
from referral.selectors.access import membership_of
from services_directory.models import Organization, Role, TaskForce


@dataclass(frozen=True)
class FlowScope:
    organization_ids: frozenset[uuid.UUID]
    task_force: TaskForce | None  # set when a coordinator looks at (part of) a task force
    organization: Organization | None  # set when the flows are one organisation's
    coordinated: tuple[TaskForce, ...] = ()  # the task forces the user may choose from
    organizations: tuple[Organization, ...] = ()  # the organisations the user may choose from

    def describe(self) -> dict[str, Any]:
        return {
            "task_force": (
                {"id": self.task_force.pk, "name": self.task_force.name}
                if self.task_force
                else None
            ),
            "organization": (
                {"id": str(self.organization.pk), "name": self.organization.name}
                if self.organization
                else None
            ),
        }


def flow_scope_get(
    *, user, task_force_id: int | None = None, organization_id: uuid.UUID | None = None
) -> FlowScope:
    membership = membership_of(user)
    if membership is None:
        raise NotFound("You are not a member of an organisation.")
    own = membership.organization
    if membership.role != Role.COORDINATOR:
        if task_force_id is not None:
            raise NotFound("No such task force.")
        if organization_id is not None and organization_id != own.pk:
            raise NotFound("No such organisation.")
        return FlowScope(organization_ids=frozenset({own.pk}), task_force=None, organization=own)

    coordinated = tuple(TaskForce.objects.filter(organizations=own).order_by("name", "pk"))
    if task_force_id is not None:
        task_force = next((tf for tf in coordinated if tf.pk == task_force_id), None)
        if task_force is None:
            raise NotFound("No such task force.")
    elif len(coordinated) == 1:
        task_force = coordinated[0]
    elif not coordinated:
        task_force = None
    else:
        raise ValidationFailed(
            "You coordinate several task forces; choose one.",
            errors={"task_force": ["Required: you coordinate several task forces."]},
        )
    if task_force is None:
        if organization_id is not None and organization_id != own.pk:
            raise NotFound("No such organisation.")
        return FlowScope(organization_ids=frozenset({own.pk}), task_force=None, organization=own)
    members = {o.pk: o for o in task_force.organizations.order_by("name", "pk")}
    if organization_id is not None:
        organization = members.get(organization_id)
        if organization is None:
            raise NotFound("No such organisation.")
        return FlowScope(
            organization_ids=frozenset({organization.pk}),
            task_force=task_force,
            organization=organization,
            coordinated=coordinated,
            organizations=tuple(members.values()),
        )
    return FlowScope(
        organization_ids=frozenset(members),
        task_force=task_force,
        organization=None,
        coordinated=coordinated,
        organizations=tuple(members.values()),
    )


def flow_report_get(
    *,
    user,
    since: date,
    until: date,
    pathway: str | None = None,
    task_force_id: int | None = None,
    organization_id: uuid.UUID | None = None,
    use_rollup: bool = True,
) -> tuple[FlowScope, dict[str, Any]]:
    """The published flows this user may see for ``[since, until)``."""
    scope = flow_scope_get(user=user, task_force_id=task_force_id, organization_id=organization_id)
    counts = flow_counts(
        organization_ids=scope.organization_ids,
        since=since,
        until=until,
        pathway=pathway,
        task_force_id=scope.task_force.pk if scope.task_force and not scope.organization else None,
        use_rollup=use_rollup,
    )
    report = flow_report(counts, since=since, until=until, pathway=pathway)
    return scope, {**scope.describe(), **report}


def metrics_get(
    *,
    user,
    since: date,
    until: date,
    pathway: str | None = None,
    task_force_id: int | None = None,
    organization_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> tuple[FlowScope, dict[str, Any]]:
    """The published outcome metrics (``coordination.metrics``) this user may see, for the
    same scopes as the flows."""
    scope = flow_scope_get(user=user, task_force_id=task_force_id, organization_id=organization_id)
    metrics = metrics_compute(
        organization_ids=scope.organization_ids,
        task_force_id=scope.task_force.pk if scope.task_force and not scope.organization else None,
        since=since,
        until=until,
        pathway=pathway,
        now=now or timezone.now(),
    )
    return scope, {**scope.describe(), **metrics}
