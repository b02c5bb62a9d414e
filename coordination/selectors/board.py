"""The task-force board: what needs a human now, computed from rules over live data.

Each rule is one query (the near-SLA rule refines its few candidates in Python); nothing
loops over all referrals. Items are pseudonymous: a person appears by display name only and
no identifying field is ever read (they are deferred, so not even loaded).

The rules, exactly (``now`` is the time of the request; "the task force's referrals" are those
whose sender or receiving organisation belongs to the task force):

``past_sla``
    A referral still ``sent`` with ``sla_due_at <= now`` (the sweep has not expired it yet),
    or a referral that became ``expired`` within the last ``EXPIRED_LOOKBACK`` (30 days).
``near_sla``
    A referral still ``sent`` whose SLA falls due within the smaller of a quarter of its SLA
    window (``sla_due_at - sent time``) and ``NEAR_SLA_CAP`` (12 h): ``now < sla_due_at`` and
    ``sla_due_at - now <= min(window / 4, 12 h)``. A 48 h SLA warns 12 h ahead, an urgent 4 h
    one 1 h ahead, a week-long one 12 h ahead.
``declined_no_follow_up``
    A referral declined between ``DECLINE_LOOKBACK`` (30 days) and 72 h ago for which no
    follow-up referral was made after the decline: one for the same person, one made from it
    (``parent``), or, for an anonymous referral, one from the same contact. The sender has
    72 h to re-refer before a coordinator is needed; a later follow-up clears the item.
``stalled``
    A person whose latest referral in the task force (by last status change) is neither
    completed nor waiting for an answer or already on the board for another rule (i.e. it is
    accepted, engaged, disengaged, withdrawn or forwarded) and last changed between
    ``STALLED_LOOKBACK`` (90 days) and ``STALLED_AFTER`` (14 days) ago. An anonymous referral
    in those states counts as its own person (target: the referral).
``no_capacity``
    A service of a task-force organisation, active or temporarily closed, with
    ``capacity_available == 0`` or not accepting referrals.
``long_wait``
    A referral ``waitlisted`` for longer than its service's stated wait
    (``Service.stated_wait_days``), or ``LONG_WAIT_DEFAULT`` (14 days) when the service states
    none: ``status_changed_at <= now - wait``. Due when that wait ran out.
``unclassified``
    A service of a task-force organisation without a stage (imported from an HSDS feed that
    named none): listed in the directory, not offered for referrals until its organisation
    gives it one. Since the service was created.
``emergency_access``
    A referral of the task force through which a provider opened the person's identity
    without consent (42 CFR Part 2 §2.51) within ``EMERGENCY_LOOKBACK`` (30 days); one item
    per referral, since its latest access, so a new access brings a resolved item back.

An item a coordinator resolved (``BoardItemState.resolved_at``) stays off the board until its
target changes again (``resolved_at`` earlier than the item's ``since``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from coordination.models import BoardItemState, BoardRule
from coordination.selectors import (
    coordinated_task_force_get,
    coordinated_task_forces,
)
from core.errors import NotFound, ValidationFailed
from referral.models import EmergencyAccess, Person, Referral, ReferralStatus
from services_directory.models import Service, ServiceStatus, TaskForce
from services_directory.selectors import services_unclassified

NEAR_SLA_SHARE = 0.25
NEAR_SLA_CAP = timedelta(hours=12)
EXPIRED_LOOKBACK = timedelta(days=30)
DECLINE_FOLLOW_UP_WINDOW = timedelta(hours=72)
DECLINE_LOOKBACK = timedelta(days=30)
STALLED_AFTER = timedelta(days=14)
STALLED_LOOKBACK = timedelta(days=90)
EMERGENCY_LOOKBACK = timedelta(days=30)
LONG_WAIT_DEFAULT = timedelta(days=14)
STALLED_STATUSES = (
    ReferralStatus.ACCEPTED,
    ReferralStatus.ENGAGED,
    ReferralStatus.DISENGAGED,
    ReferralStatus.WITHDRAWN,
    ReferralStatus.FORWARDED,
)
# Most items shown per rule; the board says when a rule has more.
RULE_LIMIT = 500

REFERRAL, PERSON, SERVICE = "referral", "person", "service"
TARGET_TYPES = (REFERRAL, PERSON, SERVICE)
RULE_TARGETS: dict[str, tuple[str, ...]] = {
    BoardRule.PAST_SLA: (REFERRAL,),
    BoardRule.NEAR_SLA: (REFERRAL,),
    BoardRule.DECLINED_NO_FOLLOW_UP: (REFERRAL,),
    BoardRule.STALLED: (PERSON, REFERRAL),
    BoardRule.NO_CAPACITY: (SERVICE,),
    BoardRule.EMERGENCY_ACCESS: (REFERRAL,),
    BoardRule.LONG_WAIT: (REFERRAL,),
    BoardRule.UNCLASSIFIED: (SERVICE,),
}
ANONYMOUS = "Anonymous"
# Never loaded for the board: coordinators see pseudonyms only.
_IDENTIFYING = tuple(
    f"person__{name}_enc" for name in ("given_name", "family_name", "birth_date", "phone", "notes")
) + ("person__wrapped_data_key", "person__blind_index")


@dataclass
class BoardItem:
    rule: str
    target_type: str
    target_id: str
    display_name: str
    since: datetime
    due_at: datetime | None = None
    status: str = ""
    referral: Referral | None = None
    service: Service | None = None
    state: BoardItemState | None = None
    links: dict[str, str | None] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.rule, self.target_type, self.target_id)

    @property
    def anchor(self) -> str:
        """The item's fragment id on the board page."""
        return f"item-{self.rule}-{self.target_type}-{self.target_id}"


@dataclass
class Board:
    task_force: TaskForce
    generated_at: datetime
    items: list[BoardItem]
    counts: dict[str, int]
    truncated: dict[str, bool]


def _referral_links(referral: Referral) -> dict[str, str | None]:
    links: dict[str, str | None] = {
        "api": reverse("referral-detail", kwargs={"referral_id": referral.pk}),
        "web": None,  # the item on the board page, set by board_get
    }
    if referral.person_id is not None:
        links["person_api"] = reverse("person-detail", kwargs={"person_id": referral.person_id})
    return links


def _service_links(service: Service) -> dict[str, str | None]:
    return {
        "api": reverse("service-detail", kwargs={"service_id": service.pk}),
        "web": reverse("admin:services_directory_service_change", args=[service.pk]),
    }


def _display_name(referral: Referral) -> str:
    return referral.person.display_name if referral.person_id is not None else ANONYMOUS


def task_force_referrals(*, task_force: TaskForce) -> QuerySet[Referral]:
    """The referrals made in this task force; not those of another task force that shares
    one of its organisations."""
    return Referral.objects.filter(task_force=task_force)


def _for_board(referrals: QuerySet[Referral]) -> QuerySet[Referral]:
    return referrals.select_related(
        "person", "to_service", "sender_organization", "receiving_organization"
    ).defer(*_IDENTIFYING)


def _referral_item(rule: str, referral: Referral, *, since, due_at=None) -> BoardItem:
    return BoardItem(
        rule=rule,
        target_type=REFERRAL,
        target_id=str(referral.pk),
        display_name=_display_name(referral),
        since=since,
        due_at=due_at,
        status=referral.status,
        referral=referral,
        links=_referral_links(referral),
    )


def _past_sla(referrals: QuerySet[Referral], now: datetime) -> list[BoardItem]:
    rows = _for_board(
        referrals.filter(
            Q(status=ReferralStatus.SENT, sla_due_at__lte=now)
            | Q(status=ReferralStatus.EXPIRED, status_changed_at__gte=now - EXPIRED_LOOKBACK)
        )
    ).order_by("sla_due_at", "id")[:RULE_LIMIT]
    return [
        _referral_item(BoardRule.PAST_SLA, r, since=r.sla_due_at, due_at=r.sla_due_at) for r in rows
    ]


def _near_sla(referrals: QuerySet[Referral], now: datetime) -> list[BoardItem]:
    # The cap bounds the candidates in the database; the share of each referral's own
    # window is then checked on those few rows.
    candidates = _for_board(
        referrals.filter(
            status=ReferralStatus.SENT, sla_due_at__gt=now, sla_due_at__lte=now + NEAR_SLA_CAP
        )
    ).order_by("sla_due_at", "id")
    items = []
    for r in candidates:
        window = r.sla_due_at - r.status_changed_at
        if r.sla_due_at - now <= window * NEAR_SLA_SHARE:
            warn_from = r.sla_due_at - min(window * NEAR_SLA_SHARE, NEAR_SLA_CAP)
            items.append(
                _referral_item(BoardRule.NEAR_SLA, r, since=warn_from, due_at=r.sla_due_at)
            )
            if len(items) > RULE_LIMIT:
                break
    return items


def _declined_no_follow_up(referrals: QuerySet[Referral], now: datetime) -> list[BoardItem]:
    follow_up = Referral.objects.filter(created_at__gt=OuterRef("status_changed_at")).filter(
        Q(parent_id=OuterRef("pk"))
        | Q(person_id=OuterRef("person_id"))
        | Q(contact_id=OuterRef("contact_id"))
    )
    rows = (
        _for_board(
            referrals.filter(
                status=ReferralStatus.DECLINED,
                status_changed_at__gte=now - DECLINE_LOOKBACK,
                status_changed_at__lte=now - DECLINE_FOLLOW_UP_WINDOW,
            )
        )
        .filter(~Exists(follow_up))
        .order_by("status_changed_at", "id")[:RULE_LIMIT]
    )
    return [
        _referral_item(
            BoardRule.DECLINED_NO_FOLLOW_UP,
            r,
            since=r.status_changed_at,
            due_at=r.status_changed_at + DECLINE_FOLLOW_UP_WINDOW,
        )
        for r in rows
    ]


def _stalled(referrals: QuerySet[Referral], now: datetime) -> list[BoardItem]:
    window = Q(
        status__in=STALLED_STATUSES,
        status_changed_at__lte=now - STALLED_AFTER,
        status_changed_at__gte=now - STALLED_LOOKBACK,
    )
    # The person's latest referral in the task force: none changed later (ties: made later).
    newer = referrals.filter(person_id=OuterRef("person_id")).filter(
        Q(status_changed_at__gt=OuterRef("status_changed_at"))
        | Q(status_changed_at=OuterRef("status_changed_at"), created_at__gt=OuterRef("created_at"))
    )
    latest_of_people = (
        _for_board(referrals.filter(window, person__isnull=False))
        .filter(~Exists(newer))
        .order_by("status_changed_at", "id")[:RULE_LIMIT]
    )
    items = []
    for r in latest_of_people:
        links = _referral_links(r)
        links["api"] = links.pop("person_api")
        links["referral_api"] = reverse("referral-detail", kwargs={"referral_id": r.pk})
        items.append(
            BoardItem(
                rule=BoardRule.STALLED,
                target_type=PERSON,
                target_id=str(r.person_id),
                display_name=r.person.display_name,
                since=r.status_changed_at,
                due_at=r.status_changed_at + STALLED_AFTER,
                status=r.status,
                referral=r,
                links=links,
            )
        )
    anonymous = _for_board(referrals.filter(window, person__isnull=True)).order_by(
        "status_changed_at", "id"
    )[:RULE_LIMIT]
    items += [
        _referral_item(
            BoardRule.STALLED,
            r,
            since=r.status_changed_at,
            due_at=r.status_changed_at + STALLED_AFTER,
        )
        for r in anonymous
    ]
    items.sort(key=lambda item: (item.since, item.target_id))
    return items


def _emergency_access(referrals: QuerySet[Referral], now: datetime) -> list[BoardItem]:
    recent = EmergencyAccess.objects.filter(
        referral=OuterRef("pk"), granted_at__gte=now - EMERGENCY_LOOKBACK, granted_at__lte=now
    )
    rows = (
        _for_board(referrals.filter(Exists(recent)))
        .annotate(emergency_at=Subquery(recent.order_by("-granted_at").values("granted_at")[:1]))
        .order_by("-emergency_at", "id")[:RULE_LIMIT]
    )
    return [_referral_item(BoardRule.EMERGENCY_ACCESS, r, since=r.emergency_at) for r in rows]


def _long_wait(referrals: QuerySet[Referral], now: datetime) -> list[BoardItem]:
    # In the database: the stated wait as an interval needs per-backend SQL, so each
    # service's threshold is a condition of its own (a task force has a few dozen services).
    stated = dict(
        Service.objects.filter(
            pk__in=referrals.filter(status=ReferralStatus.WAITLISTED).values("to_service_id"),
            stated_wait_days__isnull=False,
        ).values_list("pk", "stated_wait_days")
    )
    over = Q(
        to_service__stated_wait_days__isnull=True, status_changed_at__lte=now - LONG_WAIT_DEFAULT
    )
    for service_id, days in stated.items():
        over |= Q(to_service_id=service_id, status_changed_at__lte=now - timedelta(days=days))
    rows = _for_board(referrals.filter(over, status=ReferralStatus.WAITLISTED)).order_by(
        "status_changed_at", "id"
    )[:RULE_LIMIT]
    items = []
    for r in rows:
        wait = r.to_service.stated_wait_days if r.to_service_id else None
        due = r.status_changed_at + (LONG_WAIT_DEFAULT if wait is None else timedelta(days=wait))
        items.append(_referral_item(BoardRule.LONG_WAIT, r, since=due, due_at=due))
    return items


def _no_capacity(task_force: TaskForce) -> list[BoardItem]:
    services = (
        Service.objects.filter(
            organization__task_forces=task_force,
            status__in=[ServiceStatus.ACTIVE, ServiceStatus.TEMPORARILY_CLOSED],
        )
        .filter(Q(capacity_available=0) | Q(accepting_referrals=False))
        .select_related("organization")
        .order_by("name", "id")[:RULE_LIMIT]
    )
    return [
        BoardItem(
            rule=BoardRule.NO_CAPACITY,
            target_type=SERVICE,
            target_id=str(s.pk),
            display_name=s.name,
            since=s.updated_at,
            status="not_accepting" if not s.accepting_referrals else "no_capacity",
            service=s,
            links=_service_links(s),
        )
        for s in services
    ]


def _unclassified(task_force: TaskForce) -> list[BoardItem]:
    return [
        BoardItem(
            rule=BoardRule.UNCLASSIFIED,
            target_type=SERVICE,
            target_id=str(s.pk),
            display_name=s.name,
            since=s.created_at,
            status="unclassified",
            service=s,
            links=_service_links(s),
        )
        for s in services_unclassified(task_force=task_force)[:RULE_LIMIT]
    ]


def board_get(
    *,
    user,
    task_force_id,
    rule: str | None = None,
    include_resolved: bool = False,
    now: datetime | None = None,
) -> Board:
    """The board of a task force this user coordinates (else 404), most pressing first
    within each rule, with each item's assignment and note."""
    task_force = coordinated_task_force_get(user=user, task_force_id=task_force_id)
    now = now or timezone.now()
    referrals = task_force_referrals(task_force=task_force)
    computed: dict[str, list[BoardItem]] = {}
    rules = [rule] if rule else list(BoardRule.values)
    for name in rules:
        if name == BoardRule.PAST_SLA:
            computed[name] = _past_sla(referrals, now)
        elif name == BoardRule.NEAR_SLA:
            computed[name] = _near_sla(referrals, now)
        elif name == BoardRule.DECLINED_NO_FOLLOW_UP:
            computed[name] = _declined_no_follow_up(referrals, now)
        elif name == BoardRule.STALLED:
            computed[name] = _stalled(referrals, now)
        elif name == BoardRule.NO_CAPACITY:
            computed[name] = _no_capacity(task_force)
        elif name == BoardRule.EMERGENCY_ACCESS:
            computed[name] = _emergency_access(referrals, now)
        elif name == BoardRule.LONG_WAIT:
            computed[name] = _long_wait(referrals, now)
        elif name == BoardRule.UNCLASSIFIED:
            computed[name] = _unclassified(task_force)
    states = {
        (s.rule, s.target_label, s.target_id): s
        for s in BoardItemState.objects.filter(task_force=task_force, rule__in=rules)
        .select_related("assigned_to")
        .order_by("pk")
    }
    items: list[BoardItem] = []
    counts: dict[str, int] = {}
    truncated: dict[str, bool] = {}
    for name in rules:
        visible = []
        for item in computed[name][:RULE_LIMIT]:
            item.state = states.get(item.key)
            resolved = item.state is not None and item.state.resolved_at is not None
            if resolved and item.state.resolved_at >= item.since and not include_resolved:
                continue
            visible.append(item)
        for item in visible:
            # where a coordinator acts on the item: assign, annotate, resolve
            board_link = f"{reverse('coordination-board')}?task_force={task_force.pk}#{item.anchor}"
            item.links["board"] = board_link
            if item.links.get("web") is None:
                item.links["web"] = board_link
        counts[name] = len(visible)
        truncated[name] = len(computed[name]) >= RULE_LIMIT
        items += visible
    return Board(
        task_force=task_force, generated_at=now, items=items, counts=counts, truncated=truncated
    )


def board_target_get(
    *, task_force: TaskForce, rule: str, target_type: str, target_id: str
) -> Referral | Person | Service:
    """The target of a board item if it belongs to this task force, else a 400 that does not
    say whether it exists elsewhere."""
    if target_type not in RULE_TARGETS.get(rule, ()):
        raise ValidationFailed(
            f"A {rule} item targets a {' or '.join(RULE_TARGETS.get(rule, ()))}.",
            errors={"target_type": [f"Not a target of {rule}."]},
        )
    try:
        pk = uuid.UUID(str(target_id))
    except ValueError:
        pk = None
    target: Referral | Person | Service | None = None
    if pk is not None:
        referrals = task_force_referrals(task_force=task_force)
        if target_type == REFERRAL:
            target = _for_board(referrals.filter(pk=pk)).first()
        elif target_type == PERSON:
            target = (
                Person.objects.filter(pk=pk, pk__in=referrals.values("person_id"))
                .only("pk", "display_name", "organization_id")
                .first()
            )
        else:
            target = (
                Service.objects.filter(pk=pk, organization__task_forces=task_force)
                .select_related("organization")
                .first()
            )
    if target is None:
        raise ValidationFailed(
            "Unknown target.", errors={"target_id": [f"No such {target_type} in this task force."]}
        )
    return target


def board_item_state_get(*, user, state_id: int) -> BoardItemState:
    """A board item's state, for coordinators of its task force only (else 404)."""
    state = (
        BoardItemState.objects.filter(
            pk=state_id, task_force__in=coordinated_task_forces(user=user)
        )
        .select_related("task_force", "assigned_to")
        .first()
    )
    if state is None:
        raise NotFound()
    return state
