"""Flows along the continuum: how many people were referred, accepted, engaged, completed,
declined, expired, disengaged or forwarded (and to which stage), per pathway and stage, how
long each step took, and the headline time from first contact to treatment entry.

Everything is counted in the database with GROUP BY aggregates, never by looping over rows:
whole UTC days that the nightly rollup has finished (``RollupRun``) are read from the rollup,
whole months of them from ``MonthlyTransitionRollup`` / ``MonthlyContactRollup`` and the other
days from ``DailyTransitionRollup`` / ``DailyContactRollup``; the rest of the period (today, or
days not rolled up yet) from the live ``ReferralEvent`` and ``Contact`` tables. Monthly rows are
the sums of the daily rows, and both paths bucket durations identically, so together they give
exactly the numbers a fully live computation gives. Summing the rollup's histograms is what
costs (one JSON element per bucket per row): a year from monthly rows is about 30 times fewer
rows than from daily rows.

A flow counts the transitions that happened in the period (``since`` inclusive, ``until``
exclusive, UTC days), not a cohort: a referral sent in March and accepted in April adds to
"referrals" in March and to "accepted" in April. A referral made by forwarding enters with the
step ``forwarded -> sent`` (stored with ``from_status="forwarded"`` in the rollup), which tells
to which stage people were forwarded.

Small cells
-----------
Every published count is either the string ``"<5"`` (a true count of 0 to 4) or the true count
rounded to the nearest multiple of 5 (5-7 -> 5, 8-12 -> 10, 13-17 -> 15, ...). Totals are
rounded from their own true values in the same way, never summed from published cells, so
cells need not add up to their total. Because every published number is a multiple of 5, any
sum or difference of published numbers (a total minus the other cells of a breakdown, in one
view or across views, periods, pathways or organisations) is a multiple of 5 too and can never
equal a true count of 1 to 4. Medians and 90th percentiles are published only for groups of at
least 5 (else null). The same rules hold for every user, coordinators included.

Percentiles
-----------
From duration histograms over ``DURATION_BUCKETS`` (upper bounds, seconds; the last bucket is
open): the rank ``q * n`` is located in the cumulative bucket counts and the value is linearly
interpolated within that bucket. The estimate always falls in the same bucket as the true
percentile, so it is accurate to that bucket's width: within a minute under 1 minute, within
15 minutes up to 30 minutes, within an hour up to 2 hours, within 4 hours up to 12 hours, within
a day up to 3 days, within a week up to 3 weeks, within 15 to 30 days up to 3 months, within
90 to 185 days beyond. Past 365 days (the open bucket) the value given is 365 days.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    Count,
    DateField,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, TruncMonth

from audit.models import AuditAction
from audit.services import audit_record
from coordination.models import (
    DURATION_BUCKETS,
    DailyContactRollup,
    DailyTransitionRollup,
    MonthlyContactRollup,
    MonthlyTransitionRollup,
    RollupRun,
)
from referral.models import Contact, Pathway, ReferralEvent, ReferralStatus
from referral.workflow import TRANSITIONS
from services_directory.models import Stage

SMALL_CELL = 5
ROUNDING_BASE = 5
SUPPRESSED = "<5"
BUCKET_COUNT = len(DURATION_BUCKETS) + 1  # the last bucket is open
FORWARDED_IN = "forwarded"  # the from-step of a referral made by forwarding
TREATMENT = Stage.TREATMENT.value
ENGAGED = ReferralStatus.ENGAGED.value
SENT = ReferralStatus.SENT.value

SUPPRESSION_RULE = (
    'Every count is either "<5" (a true count of 0 to 4) or the true count rounded to the '
    "nearest multiple of 5; totals are rounded from their own true values, not summed from "
    "cells. All published numbers are multiples of 5, so no total minus other published cells, "
    "in any view, can give back a count of 1 to 4. Medians and 90th percentiles are given only "
    "for groups of at least 5 (else null)."
)
PERCENTILE_METHOD = (
    "Estimated from duration histograms (bucket upper bounds in seconds: "
    + ", ".join(str(b) for b in DURATION_BUCKETS)
    + ", then open), interpolated linearly within the bucket holding the rank; accurate to "
    "that bucket's width (e.g. a value of 3 to 5 days is within 2 days). Past 365 days the "
    "value given is 365 days."
)

# The steps in the order people move along a referral; the first two are "a referral made".
STEP_ORDER: tuple[tuple[str, str], ...] = (
    ("", SENT),
    (FORWARDED_IN, SENT),
    *TRANSITIONS.keys(),
)
OUTCOMES: tuple[str, ...] = (
    ReferralStatus.ACCEPTED,
    ReferralStatus.ENGAGED,
    ReferralStatus.COMPLETED,
    ReferralStatus.DECLINED,
    ReferralStatus.EXPIRED,
    ReferralStatus.DISENGAGED,
    ReferralStatus.FORWARDED,
    ReferralStatus.WITHDRAWN,
)


# --- publishing ----------------------------------------------------------------------------


def published_count(true_count: int) -> int | str:
    """``"<5"`` for 0 to 4, else the count rounded to the nearest multiple of 5."""
    if true_count < SMALL_CELL:
        return SUPPRESSED
    return ROUNDING_BASE * ((true_count + ROUNDING_BASE // 2) // ROUNDING_BASE)


def histogram_percentile(histogram: Sequence[int], q: float) -> int | None:
    """The ``q`` quantile (0 < q < 1) of a duration histogram, in whole seconds; None for
    groups under ``SMALL_CELL``."""
    total = sum(histogram)
    if total < SMALL_CELL:
        return None
    rank = q * total
    cumulative = 0
    for index, in_bucket in enumerate(histogram):
        if in_bucket and cumulative + in_bucket >= rank:
            lower = 0 if index == 0 else DURATION_BUCKETS[index - 1]
            if index >= len(DURATION_BUCKETS):
                return lower
            upper = DURATION_BUCKETS[index]
            return round(lower + (upper - lower) * (rank - cumulative) / in_bucket)
        cumulative += in_bucket
    return None  # pragma: no cover - the loop always reaches the rank


def bucket_index(seconds: int) -> int:
    for index, upper in enumerate(DURATION_BUCKETS):
        if seconds <= upper:
            return index
    return len(DURATION_BUCKETS)


# --- aggregate expressions -----------------------------------------------------------------


def _bucket_condition(field_name: str, index: int) -> Q:
    condition = Q()
    if index > 0:
        condition &= Q(**{f"{field_name}__gt": DURATION_BUCKETS[index - 1]})
    if index < len(DURATION_BUCKETS):
        condition &= Q(**{f"{field_name}__lte": DURATION_BUCKETS[index]})
    return condition


def histogram_sums(field_name: str, prefix: str, only: Q | None = None) -> dict[str, Sum]:
    """One ``Sum(Case(When(...)))`` per duration bucket: the histogram of ``field_name`` as
    aggregate columns ``<prefix>0 .. <prefix>23`` (NULL durations fall in no bucket)."""
    sums = {}
    for index in range(BUCKET_COUNT):
        condition = _bucket_condition(field_name, index)
        if only is not None:
            condition &= only
        sums[f"{prefix}{index}"] = Sum(
            Case(When(condition, then=Value(1)), default=Value(0)), output_field=BigIntegerField()
        )
    return sums


def rollup_histogram_sums(json_field: str, prefix: str, only: Q | None = None) -> dict[str, Sum]:
    """The same columns summed from rollup rows' JSON histograms, element by element."""
    sums = {}
    for index in range(BUCKET_COUNT):
        element = Cast(KeyTextTransform(str(index), json_field), BigIntegerField())
        value = element if only is None else Case(When(only, then=element), default=None)
        sums[f"{prefix}{index}"] = Sum(value, output_field=BigIntegerField())
    return sums


ROLLUP_CREATION = Q(from_status__in=["", FORWARDED_IN])
# The flows read from rollup rows, built once: a request reads them for each grain, and
# building and comparing these 48 expressions cost as much as the database's work.
ROLLUP_HISTOGRAM_SUMS = {
    # rows of referrals made carry no time in a previous status: skip their JSON
    **rollup_histogram_sums("previous_histogram", "p", ~ROLLUP_CREATION),
    **rollup_histogram_sums(
        "journey_histogram", "j", ROLLUP_CREATION | Q(to_status=ENGAGED, stage=TREATMENT)
    ),
}


def histogram_from_row(row: dict[str, Any], prefix: str) -> list[int]:
    return [int(row.get(f"{prefix}{i}") or 0) for i in range(BUCKET_COUNT)]


def compact_histogram(histogram: Sequence[int]) -> list[int]:
    """Trailing empty buckets dropped (readers treat missing buckets as empty)."""
    values = list(histogram)
    while values and not values[-1]:
        values.pop()
    return values


def from_step_expression() -> Case:
    """The event's from-step, with the creation of a forwarded referral as ``forwarded``."""
    return Case(
        When(Q(from_status="") & Q(referral__parent__isnull=False), then=Value(FORWARDED_IN)),
        default=F("from_status"),
        output_field=CharField(),
    )


def journey_measured() -> Q:
    """Which events' time since the journey began is used: referrals made (time from first
    contact to the referral) and engagements at a treatment service (treatment entry)."""
    return Q(from_status="") | Q(to_status=ENGAGED, referral__stage=TREATMENT)


def transition_groups(events: QuerySet, *, by: Iterable[str] = (), all_journeys=False):
    """Events grouped by pathway, stage, from-step and to-status (and ``by``), with their
    count and duration histograms (``p0..``: time in the previous status; ``j0..``: time since
    the journey began)."""
    journey_only = None if all_journeys else journey_measured()
    return (
        events.annotate(
            pathway=F("referral__pathway"),
            stage=F("referral__stage"),
            from_step=from_step_expression(),
        )
        .values(*by, "pathway", "stage", "from_step", "to_status")
        .annotate(
            count=Count("id"),
            **histogram_sums("seconds_in_previous", "p"),
            **histogram_sums("seconds_since_journey_start", "j", journey_only),
        )
        .order_by()
    )


# --- windows -------------------------------------------------------------------------------


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def utc_today() -> date:
    return datetime.now(tz=UTC).date()


def day_runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Sorted days as half-open runs of consecutive days: ``[(first, last + 1 day), ...]``."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] == day:
            runs[-1] = (runs[-1][0], day + timedelta(days=1))
        else:
            runs.append((day, day + timedelta(days=1)))
    return runs


def next_month(month: date) -> date:
    return (month.replace(day=1) + timedelta(days=32)).replace(day=1)


def whole_months(days: set[date]) -> list[date]:
    """The months (first days) all of whose days are among ``days``."""
    months = {day.replace(day=1) for day in days}
    return sorted(
        month
        for month in months
        if all(month + timedelta(days=n) in days for n in range((next_month(month) - month).days))
    )


def _any_of(conditions: list[Q]) -> Q:
    combined = Q(pk__in=[])
    for condition in conditions:
        combined |= condition
    return combined


# --- the computation -----------------------------------------------------------------------


@dataclass
class StepCell:
    count: int = 0
    previous: list[int] = field(default_factory=lambda: [0] * BUCKET_COUNT)
    journey: list[int] = field(default_factory=lambda: [0] * BUCKET_COUNT)

    def add(self, count: int, previous: Sequence[int], journey: Sequence[int]) -> None:
        self.count += count
        for index, value in enumerate(previous):
            self.previous[index] += value
        for index, value in enumerate(journey):
            self.journey[index] += value


@dataclass
class FlowCounts:
    """True (unpublished) counts; never leaves the server as it is."""

    # (pathway, stage, from_step, to_status) -> cell
    steps: dict[tuple[str, str, str, str], StepCell] = field(
        default_factory=lambda: defaultdict(StepCell)
    )
    contacts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # month (first day) -> {"contacts"|"referrals"|"treatment_entries": n}
    monthly: dict[date, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    rolled_up_days: int = 0
    live_days: int = 0


def flow_counts(
    *,
    organization_ids: Iterable[uuid.UUID],
    since: date,
    until: date,
    pathway: str | None = None,
    task_force_id: int | None = None,
    use_rollup: bool = True,
) -> FlowCounts:
    """The true counts of flows in ``[since, until)``: for a task force (``task_force_id``)
    the referrals made in it and the contacts its organisations logged; else those touching
    these organisations (as sender or receiver of the referral, or as the organisation that
    logged the contact).

    The rollup holds one task force's or one organisation's rows: it is used for a task
    force (``task_force_id``, whose organisations are ``organization_ids``) or for a single
    organisation; any other set of organisations is counted live."""
    organization_ids = list(organization_ids)
    counts = FlowCounts()
    rolled: set[date] = set()
    if task_force_id is not None:
        scope = Q(task_force_id=task_force_id)
    elif len(organization_ids) == 1:
        scope = Q(organization_id=organization_ids[0])
    else:
        use_rollup = False
    if use_rollup:
        rolled = set(
            RollupRun.objects.filter(day__gte=since, day__lt=until).values_list("day", flat=True)
        )
    all_days = {since + timedelta(days=n) for n in range((until - since).days)}
    months = whole_months(rolled)
    month_days = {m + timedelta(days=n) for m in months for n in range((next_month(m) - m).days)}
    live_runs = day_runs(all_days - rolled)
    daily = sorted(rolled - month_days)  # at most a month or two at the edges, usually
    counts.rolled_up_days = len(rolled)
    counts.live_days = len(all_days) - len(rolled)
    if months:
        _add_rollup(
            counts,
            MonthlyTransitionRollup.objects.filter(scope, month__in=months),
            MonthlyContactRollup.objects.filter(month__in=months),
            F("month"),
            organization_ids,
            pathway,
        )
    if daily:
        # a list of days, not ranges: ``day IN (...)`` is an index condition on (scope, day),
        # where OR-ed ranges made PostgreSQL read all of the scope's days and filter them
        _add_rollup(
            counts,
            DailyTransitionRollup.objects.filter(scope, day__in=daily),
            DailyContactRollup.objects.filter(day__in=daily),
            TruncMonth("day"),
            organization_ids,
            pathway,
        )
    if live_runs:
        _add_live(counts, organization_ids, live_runs, pathway, task_force_id)
    return counts


def _add_rollup(
    counts: FlowCounts,
    rows: QuerySet,
    contacts: QuerySet,
    month: F | TruncMonth,
    organization_ids,
    pathway: str | None,
) -> None:
    """Add rollup rows (of one grain, already limited to the scope and the period)."""
    contacts = contacts.filter(organization_id__in=organization_ids)
    if pathway:
        rows = rows.filter(pathway=pathway)
        contacts = contacts.filter(pathway=pathway)
    groups = (
        rows.values_list("pathway", "stage", "from_status", "to_status")
        .annotate(total=Sum("count"), **ROLLUP_HISTOGRAM_SUMS)
        .order_by()
    )
    # each row: the four key fields, the total, then the buckets in ROLLUP_HISTOGRAM_SUMS order
    previous, journey = slice(5, 5 + BUCKET_COUNT), slice(5 + BUCKET_COUNT, None)
    for row in groups:
        counts.steps[row[:4]].add(
            int(row[4]),
            [value or 0 for value in row[previous]],
            [value or 0 for value in row[journey]],
        )
    monthly = (
        rows.filter(Q(to_status=SENT) | Q(to_status=ENGAGED, stage=TREATMENT))
        .annotate(period_month=month)
        .values("period_month", "to_status")
        .annotate(total=Sum("count"))
        .order_by()
    )
    for row in monthly:
        counts.monthly[row["period_month"]][_series(row["to_status"])] += int(row["total"])
    for row in (
        contacts.annotate(period_month=month)
        .values("period_month", "pathway")
        .annotate(total=Sum("count"))
        .order_by()
    ):
        counts.contacts[row["pathway"]] += int(row["total"])
        counts.monthly[row["period_month"]]["contacts"] += int(row["total"])


def live_events(
    organization_ids,
    runs,
    pathway: str | None = None,
    *,
    with_scope: bool = True,
    task_force_id: int | None = None,
) -> QuerySet:
    """Referral events in these day runs of referrals made in this task force, else touching
    these organisations (all of them for the rollup: ``with_scope=False``)."""
    in_days = _any_of(
        [Q(created_at__gte=day_start(a), created_at__lt=day_start(b)) for a, b in runs]
    )
    # ``to_status IN (all)`` lets the (to_status, created_at) index serve the date range.
    events = ReferralEvent.objects.filter(in_days, to_status__in=ReferralStatus.values)
    if with_scope and task_force_id is not None:
        events = events.filter(referral__task_force_id=task_force_id)
    elif with_scope:
        events = events.filter(
            Q(referral__sender_organization_id__in=organization_ids)
            | Q(referral__receiving_organization_id__in=organization_ids)
        )
    if pathway:
        events = events.filter(referral__pathway=pathway)
    return events


def live_contacts(
    organization_ids, runs, pathway: str | None = None, *, with_scope: bool = True
) -> QuerySet:
    in_days = _any_of(
        [Q(occurred_at__gte=day_start(a), occurred_at__lt=day_start(b)) for a, b in runs]
    )
    contacts = Contact.objects.filter(in_days)
    if with_scope:
        contacts = contacts.filter(organization_id__in=organization_ids)
    if pathway:
        contacts = contacts.filter(pathway=pathway)
    return contacts


def _add_live(
    counts: FlowCounts, organization_ids, runs, pathway: str | None, task_force_id=None
) -> None:
    events = live_events(organization_ids, runs, pathway, task_force_id=task_force_id)
    for row in transition_groups(events):
        key = (row["pathway"], row["stage"], row["from_step"], row["to_status"])
        counts.steps[key].add(
            int(row["count"]), histogram_from_row(row, "p"), histogram_from_row(row, "j")
        )
    month = TruncMonth("created_at", output_field=DateField(), tzinfo=UTC)
    monthly = (
        events.filter(Q(to_status=SENT) | Q(to_status=ENGAGED, referral__stage=TREATMENT))
        .annotate(month=month)
        .values("month", "to_status")
        .annotate(total=Count("id"))
        .order_by()
    )
    for row in monthly:
        counts.monthly[row["month"]][_series(row["to_status"])] += int(row["total"])
    for row in (
        live_contacts(organization_ids, runs, pathway)
        .annotate(month=TruncMonth("occurred_at", output_field=DateField(), tzinfo=UTC))
        .values("month", "pathway")
        .annotate(total=Count("id"))
        .order_by()
    ):
        counts.contacts[row["pathway"]] += int(row["total"])
        counts.monthly[row["month"]]["contacts"] += int(row["total"])


def _series(to_status: str) -> str:
    return "referrals" if to_status == SENT else "treatment_entries"


# --- the published report ------------------------------------------------------------------


def _months(since: date, until: date) -> list[date]:
    months = []
    current = since.replace(day=1)
    last = (until - timedelta(days=1)).replace(day=1)
    while current <= last:
        months.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return months


def _timing(histogram: Sequence[int]) -> dict[str, int | None]:
    return {
        "median_seconds": histogram_percentile(histogram, 0.5),
        "p90_seconds": histogram_percentile(histogram, 0.9),
    }


def _outcome_counts(cells: Iterable[tuple[tuple[str, str, str, str], StepCell]]):
    """True counts per step of a group of cells: referrals made, each outcome, and
    treatment entries."""
    totals: dict[str, int] = defaultdict(int)
    for (_, stage, from_step, to_status), cell in cells:
        if to_status == SENT:
            totals["referrals"] += cell.count
            if from_step == FORWARDED_IN:
                totals["forwarded_in"] += cell.count
        else:
            totals[to_status] += cell.count
        if to_status == ENGAGED and stage == TREATMENT:
            totals["treatment_entries"] += cell.count
    return totals


FUNNEL_FIELDS = ("referrals", *OUTCOMES, "treatment_entries")


def flow_report(
    counts: FlowCounts, *, since: date, until: date, pathway: str | None = None
) -> dict[str, Any]:
    """The published report: suppressed and rounded counts, percentiles for groups of 5+."""
    steps = list(counts.steps.items())
    pathways = [pathway] if pathway else list(Pathway.values)
    overall = _outcome_counts(steps)

    pathway_rows = []
    for value in pathways:
        true = _outcome_counts((k, c) for k, c in steps if k[0] == value)
        row: dict[str, Any] = {
            "pathway": value,
            "label": Pathway(value).label,
            "contacts": published_count(counts.contacts.get(value, 0)),
        }
        row.update({name: published_count(true[name]) for name in FUNNEL_FIELDS})
        pathway_rows.append(row)

    stage_rows = []
    for stage in Stage.values:
        true = _outcome_counts((k, c) for k, c in steps if k[1] == stage)
        row = {"stage": stage, "label": Stage(stage).label}
        row.update(
            {name: published_count(true[name]) for name in ("referrals", "forwarded_in", *OUTCOMES)}
        )
        stage_rows.append(row)

    transitions = []
    for from_step, to_status in STEP_ORDER:
        cell = StepCell()
        for key, value in steps:
            if key[2] == from_step and key[3] == to_status:
                cell.add(value.count, value.previous, value.journey)
        creation = to_status == SENT
        transitions.append(
            {
                "from": from_step or "contact",
                "to": to_status,
                "count": published_count(cell.count),
                "measure": "since_journey_start" if creation else "in_previous_status",
                **_timing(cell.journey if creation else cell.previous),
            }
        )

    forwarded_to = [
        {
            "stage": stage,
            "label": Stage(stage).label,
            "count": published_count(
                sum(c.count for k, c in steps if k[1] == stage and k[2] == FORWARDED_IN)
            ),
        }
        for stage in Stage.values
    ]

    treatment = StepCell()
    for key, value in steps:
        if key[1] == TREATMENT and key[3] == ENGAGED:
            treatment.add(value.count, value.previous, value.journey)

    monthly = [
        {
            "month": month.strftime("%Y-%m"),
            "contacts": published_count(counts.monthly.get(month, {}).get("contacts", 0)),
            "referrals": published_count(counts.monthly.get(month, {}).get("referrals", 0)),
            "treatment_entries": published_count(
                counts.monthly.get(month, {}).get("treatment_entries", 0)
            ),
        }
        for month in _months(since, until)
    ]

    totals: dict[str, Any] = {"contacts": published_count(sum(counts.contacts.values()))}
    totals.update({name: published_count(overall[name]) for name in FUNNEL_FIELDS})
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "pathway": pathway,
        "totals": totals,
        "time_to_treatment": {
            "description": "First contact (or first referral) to engagement at a "
            "treatment-stage service.",
            "count": published_count(treatment.count),
            **_timing(treatment.journey),
        },
        "pathways": pathway_rows,
        "stages": stage_rows,
        "transitions": transitions,
        "forwarded_to": forwarded_to,
        "monthly": monthly,
        "suppression": {
            "threshold": SMALL_CELL,
            "rounding_base": ROUNDING_BASE,
            "rule": SUPPRESSION_RULE,
        },
        "percentiles": {"method": PERCENTILE_METHOD},
        "sources": {"rolled_up_days": counts.rolled_up_days, "live_days": counts.live_days},
    }


def flow_table_rows(report: dict[str, Any]) -> list[list[Any]]:
    """The report as one flat table (for CSV): breakdown, key, step, count, timings."""
    rows: list[list[Any]] = []
    for name, value in report["totals"].items():
        rows.append(["total", "all", name, value, "", ""])
    for row in report["pathways"]:
        for name in ("contacts", *FUNNEL_FIELDS):
            rows.append(["pathway", row["pathway"], name, row[name], "", ""])
    for row in report["stages"]:
        for name in ("referrals", "forwarded_in", *OUTCOMES):
            rows.append(["stage", row["stage"], name, row[name], "", ""])
    for row in report["transitions"]:
        rows.append(
            [
                "transition",
                row["from"],
                row["to"],
                row["count"],
                _blank(row["median_seconds"]),
                _blank(row["p90_seconds"]),
            ]
        )
    for row in report["forwarded_to"]:
        rows.append(["forwarded_to", row["stage"], "referrals", row["count"], "", ""])
    headline = report["time_to_treatment"]
    rows.append(
        [
            "time_to_treatment",
            "all",
            "engaged_at_treatment",
            headline["count"],
            _blank(headline["median_seconds"]),
            _blank(headline["p90_seconds"]),
        ]
    )
    for row in report["monthly"]:
        for name in ("contacts", "referrals", "treatment_entries"):
            rows.append(["month", row["month"], name, row[name], "", ""])
    return rows


@transaction.atomic
def flows_export_record(*, user, report: dict[str, Any]) -> None:
    """Audit a flow export (DESIGN.md: every export is audited): who exported which scope
    and period. Counts only, no person, so nothing else is recorded."""
    scope = report.get("task_force") or report.get("organization") or {}
    audit_record(
        actor=user,
        action=AuditAction.EXPORT,
        target=("coordination.flows", str(scope.get("id", ""))),
        data={
            "task_force": (report.get("task_force") or {}).get("id"),
            "organization": (report.get("organization") or {}).get("id"),
            "since": report["since"],
            "until": report["until"],
            "pathway": report["pathway"],
        },
    )


def _blank(value: int | None) -> int | str:
    return "" if value is None else value
