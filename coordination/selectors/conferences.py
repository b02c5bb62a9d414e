"""Case-conference reads: for coordinators of the conference's task force only (else 404)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from coordination.models import ActionItem, AgendaItem, CaseConference
from coordination.selectors import coordinated_task_force_get, coordinated_task_forces
from core.errors import NotFound
from referral.models import Person

# Agenda items show the person's pseudonym and the referral's status; identifying fields
# are never loaded.
_PERSON_FIELDS = ("pk", "display_name")


def conference_list(*, user, task_force_id) -> QuerySet[CaseConference]:
    task_force = coordinated_task_force_get(user=user, task_force_id=task_force_id)
    return (
        CaseConference.objects.filter(task_force=task_force)
        .select_related("task_force", "created_by")
        .order_by("-held_on", "-id")
    )


def conference_get(*, user, conference_id: int) -> CaseConference:
    """The conference with its agenda and action items, or 404 alike for missing and
    forbidden."""
    conference = (
        CaseConference.objects.filter(
            pk=conference_id, task_force__in=coordinated_task_forces(user=user)
        )
        .select_related("task_force", "created_by")
        .prefetch_related(
            Prefetch(
                "agenda_items",
                queryset=AgendaItem.objects.select_related(
                    "referral__to_service", "referral__receiving_organization"
                )
                .prefetch_related(Prefetch("person", queryset=Person.objects.only(*_PERSON_FIELDS)))
                .defer("referral__reason_enc")
                .order_by("position", "id"),
            ),
            Prefetch(
                "action_items",
                queryset=ActionItem.objects.select_related("owner", "agenda_item").order_by(
                    "due_on", "id"
                ),
            ),
        )
        .first()
    )
    if conference is None:
        raise NotFound()
    return conference


def agenda_item_get(*, conference: CaseConference, item_id: int) -> AgendaItem:
    item = AgendaItem.objects.filter(conference=conference, pk=item_id).first()
    if item is None:
        raise NotFound()
    return item


def action_item_get(*, conference: CaseConference, action_id: int) -> ActionItem:
    action = ActionItem.objects.filter(conference=conference, pk=action_id).first()
    if action is None:
        raise NotFound()
    return action
