"""Coordination writes: taking and annotating board items, case conferences, their agendas,
minutes and action items. One transaction each, audited inside it.

Everything here is pseudonymous by policy: agenda titles are built from display names,
service names and statuses; no identifying field of a person is ever read or copied in.
Free text (notes, minutes, discussion) is what coordinators type; the audit records which
fields changed, not their text.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import AuditAction
from audit.services import audit_record
from coordination.models import ActionItem, AgendaItem, BoardItemState, BoardRule, CaseConference
from coordination.selectors import task_force_organization_ids
from coordination.selectors.board import PERSON, REFERRAL, board_target_get
from core.errors import ValidationFailed
from referral.models import Person, Referral
from referral.selectors.access import membership_of
from services_directory.models import Role, Service, TaskForce

UNSET: Any = object()


def _organization_id(actor) -> str | None:
    membership = membership_of(actor)
    return None if membership is None else str(membership.organization_id)


def _member_of_task_force(*, user_id: int, task_force: TaskForce, role: str | None = None):
    users = get_user_model().objects.filter(
        pk=user_id,
        is_active=True,
        membership__organization_id__in=task_force_organization_ids(task_force=task_force),
    )
    if role is not None:
        users = users.filter(membership__role=role)
    return users.first()


def _coordinator(*, user_id: int | None, task_force: TaskForce, field: str):
    if user_id is None:
        return None
    user = _member_of_task_force(user_id=user_id, task_force=task_force, role=Role.COORDINATOR)
    if user is None:
        raise ValidationFailed(
            "Only a coordinator of this task force can take a board item.",
            errors={field: ["Not a coordinator of this task force."]},
        )
    return user


@transaction.atomic
def board_item_state_set(
    *,
    actor,
    task_force: TaskForce,
    rule: str,
    target_type: str,
    target_id: str,
    assigned_to: int | None = UNSET,
    note: str = UNSET,
    resolved: bool = UNSET,
) -> tuple[BoardItemState, bool]:
    """Assign, annotate or resolve the board item ``(rule, target)``; only the given fields
    change. The assignee must be a coordinator of the task force. Returns ``(state,
    created)``; setting the same values again changes nothing and writes no audit event."""
    if rule not in BoardRule.values:
        raise ValidationFailed("Unknown rule.", errors={"rule": [f"{rule!r} is not a rule."]})
    target = board_target_get(
        task_force=task_force, rule=rule, target_type=target_type, target_id=target_id
    )
    assignee = (
        UNSET
        if assigned_to is UNSET
        else _coordinator(user_id=assigned_to, task_force=task_force, field="assigned_to")
    )
    key = {
        "task_force": task_force,
        "rule": rule,
        "target_label": target_type,
        "target_id": str(target.pk),
    }
    state = BoardItemState.objects.select_for_update().filter(**key).first()
    created = state is None
    if created:
        try:
            with transaction.atomic():
                state = BoardItemState.objects.create(**key)
        except IntegrityError:  # a concurrent first write won: change its row instead
            state = BoardItemState.objects.select_for_update().get(**key)
            created = False
    changed: list[str] = []
    if assignee is not UNSET and state.assigned_to_id != (assignee.pk if assignee else None):
        state.assigned_to = assignee
        changed.append("assigned_to")
    if note is not UNSET and state.note != (note or "").strip():
        state.note = (note or "").strip()
        changed.append("note")
    if resolved is not UNSET and (state.resolved_at is not None) != bool(resolved):
        state.resolved_at = timezone.now() if resolved else None
        changed.append("resolved_at")
    if changed:
        state.save(update_fields=[*changed, "updated_at"])
    if changed or created:
        audit_record(
            actor=actor,
            action=AuditAction.CREATE if created else AuditAction.UPDATE,
            target=state,
            organization_id=_organization_id(actor),
            data={
                "task_force": task_force.pk,
                "rule": rule,
                "target": f"{target_type}:{target.pk}",
                "changed": changed,
                "assigned_to": state.assigned_to_id,
                "resolved": state.resolved_at is not None,
            },
        )
    return state, created


def _audit_conference(actor, action: str, target, conference: CaseConference, **data) -> None:
    audit_record(
        actor=actor,
        action=action,
        target=target,
        organization_id=_organization_id(actor),
        data={"task_force": conference.task_force_id, "conference": conference.pk, **data},
    )


def _required(value: str, field: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed(f"{field} is required.", errors={field: ["Required."]})
    return value


@transaction.atomic
def conference_create(*, actor, task_force: TaskForce, held_on: date, title: str) -> CaseConference:
    conference = CaseConference.objects.create(
        task_force=task_force,
        held_on=held_on,
        title=_required(title, "title"),
        created_by=actor,
    )
    _audit_conference(actor, AuditAction.CREATE, conference, conference, held_on=str(held_on))
    return conference


@transaction.atomic
def conference_update(
    *,
    actor,
    conference: CaseConference,
    title: str = UNSET,
    held_on: date = UNSET,
    minutes: str = UNSET,
) -> CaseConference:
    """Change the title, date or minutes. Minutes are pseudonymous by policy (display
    names only); they are stored as the coordinator typed them."""
    conference = CaseConference.objects.select_for_update().get(pk=conference.pk)
    changed = []
    if title is not UNSET and conference.title != _required(title, "title"):
        conference.title = _required(title, "title")
        changed.append("title")
    if held_on is not UNSET and conference.held_on != held_on:
        conference.held_on = held_on
        changed.append("held_on")
    if minutes is not UNSET and conference.minutes != (minutes or ""):
        conference.minutes = minutes or ""
        changed.append("minutes")
    if changed:
        conference.save(update_fields=[*changed, "updated_at"])
        _audit_conference(actor, AuditAction.UPDATE, conference, conference, changed=changed)
    return conference


def _board_title(rule: str, target: Referral | Person | Service) -> str:
    label = BoardRule(rule).label
    if isinstance(target, Service):
        return f"{label}: {target.name} ({target.organization.name})"
    if isinstance(target, Person):
        return f"{label}: {target.display_name}"
    who = target.person.display_name if target.person_id is not None else "Anonymous"
    return (
        f"{label}: {who}, {target.sender_organization.name} to {target.addressee} "
        f"({target.get_status_display().lower()})"
    )


@transaction.atomic
def agenda_item_add(
    *,
    actor,
    conference: CaseConference,
    title: str = "",
    discussion: str = "",
    rule: str = "",
    target_type: str = "",
    target_id: str = "",
) -> AgendaItem:
    """Add an item by hand (``title``) or from a board item (``rule`` and target); a board
    item's title is made from pseudonyms and statuses only, unless a title is given."""
    referral = person = None
    if rule or target_type or target_id:
        target = board_target_get(
            task_force=conference.task_force,
            rule=rule,
            target_type=target_type,
            target_id=target_id,
        )
        if target_type == REFERRAL:
            referral = target
            person = target.person if target.person_id is not None else None
        elif target_type == PERSON:
            person = target
        title = (title or "").strip() or _board_title(rule, target)
    position = (
        AgendaItem.objects.filter(conference=conference)
        .order_by("-position")
        .values_list("position", flat=True)
        .first()
    )
    item = AgendaItem.objects.create(
        conference=conference,
        position=0 if position is None else position + 1,
        title=_required(title, "title")[:300],
        rule=rule,
        referral=referral,
        person=person,
        discussion=(discussion or "").strip(),
    )
    _audit_conference(
        actor,
        AuditAction.CREATE,
        item,
        conference,
        rule=rule,
        board_item=f"{target_type}:{target_id}" if rule else None,
    )
    return item


@transaction.atomic
def agenda_item_update(
    *,
    actor,
    item: AgendaItem,
    title: str = UNSET,
    discussion: str = UNSET,
    position: int = UNSET,
) -> AgendaItem:
    item = AgendaItem.objects.select_for_update().get(pk=item.pk)
    changed = []
    if title is not UNSET and item.title != _required(title, "title"):
        item.title = _required(title, "title")[:300]
        changed.append("title")
    if discussion is not UNSET and item.discussion != (discussion or ""):
        item.discussion = discussion or ""
        changed.append("discussion")
    if position is not UNSET and item.position != position:
        item.position = position
        changed.append("position")
    if changed:
        item.save(update_fields=changed)
        _audit_conference(actor, AuditAction.UPDATE, item, item.conference, changed=changed)
    return item


@transaction.atomic
def action_item_add(
    *,
    actor,
    conference: CaseConference,
    description: str,
    owner_id: int | None,
    due_on: date | None = None,
    agenda_item: AgendaItem | None = None,
) -> ActionItem:
    """An action with an owner (an active member of an organisation of the task force: a
    provider can own "call back" as well as a coordinator) and an optional due date."""
    owner = None
    if owner_id is not None:
        owner = _member_of_task_force(user_id=owner_id, task_force=conference.task_force)
        if owner is None:
            raise ValidationFailed(
                "The owner must be a member of the task force.",
                errors={"owner": ["Not a member of an organisation of this task force."]},
            )
    if agenda_item is not None and agenda_item.conference_id != conference.pk:
        raise ValidationFailed("Unknown agenda item.", errors={"agenda_item": ["Unknown."]})
    action = ActionItem.objects.create(
        conference=conference,
        agenda_item=agenda_item,
        description=_required(description, "description")[:500],
        owner=owner,
        due_on=due_on,
    )
    _audit_conference(
        actor,
        AuditAction.CREATE,
        action,
        conference,
        owner=owner.pk if owner else None,
        due_on=str(due_on) if due_on else None,
    )
    return action


@transaction.atomic
def action_item_complete(*, actor, action: ActionItem, done: bool = True) -> ActionItem:
    """Mark an action done (or open again). Retry-safe: completing a done action keeps
    its first completion time."""
    action = ActionItem.objects.select_for_update().get(pk=action.pk)
    if (action.done_at is not None) == done:
        return action
    action.done_at = timezone.now() if done else None
    action.save(update_fields=["done_at"])
    conference = CaseConference.objects.get(pk=action.conference_id)
    _audit_conference(actor, AuditAction.UPDATE, action, conference, done=done)
    return action


@transaction.atomic
def conference_agenda_export(*, actor, conference: CaseConference, fmt: str = "html") -> None:
    """Record that a coordinator exported the agenda (the page itself is rendered by the
    view from ``conference_get``)."""
    _audit_conference(actor, AuditAction.EXPORT, conference, conference, format=fmt)
