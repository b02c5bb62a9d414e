"""The nightly flow rollup: per UTC day, referral transitions per pathway, stage and step with
their duration histograms, for each task force (the referrals made in it)
and each organisation (referrals it sent or received), and contacts per organisation and
pathway. A task force's rows count the organisations it has when the rollup runs.
The flows API reads these for the days in ``RollupRun`` and live
data for the rest, so the dashboard stays fast over years of data.

Whole months are kept too (``MonthlyTransitionRollup``, ``MonthlyContactRollup``): the sums of
their daily rows, rewritten in the same transaction whenever a day of the month is rolled up
and the month's days are then all rolled up, so a month's rows always match its daily rows.
The API reads a month from them only when all its days have a ``RollupRun``.

Idempotent: rolling a day up again replaces its rows, and its month's rows (one transaction per
block of days). Only whole past days are rolled up; today always stays live. Each night the last
``TRAILING_DAYS`` days are rolled up again, so contacts uploaded late from phones that were
offline are counted; a contact synced later than that needs ``flows_rollup(since=..., until=...)``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, timedelta

from celery import shared_task
from django.db import transaction
from django.db.models import Count, F, Max, Min, Q, Sum
from django.db.models.functions import TruncDate, TruncMonth

from coordination.flows.histograms import (
    compact_histogram,
    histogram_from_row,
    rollup_histogram_sums,
)
from coordination.flows.live import live_contacts, live_events, transition_groups
from coordination.flows.periods import next_month, utc_today, whole_months
from coordination.flows.steps import StepCell
from coordination.models import (
    DailyContactRollup,
    DailyTransitionRollup,
    MonthlyContactRollup,
    MonthlyTransitionRollup,
    RollupRun,
)
from referral.models import Contact, ReferralEvent

TRAILING_DAYS = 7
BLOCK_DAYS = 31
SCOPE_AND_STEP = (
    "task_force_id", "organization_id", "pathway", "stage", "from_status", "to_status",
)  # fmt: skip


def flows_rollup(*, since: date, until: date) -> int:
    """Roll up the whole UTC days in ``[since, until)``; days from today on are left to the
    live queries. Returns the number of days rolled up."""
    until = min(until, utc_today())
    start = since
    rolled = 0
    while start < until:
        end = min(start + timedelta(days=BLOCK_DAYS), until)
        _rollup_block(start, end)
        rolled += (end - start).days
        start = end
    return rolled


@transaction.atomic
def _rollup_block(since: date, until: date) -> None:
    DailyTransitionRollup.objects.filter(day__gte=since, day__lt=until).delete()
    DailyContactRollup.objects.filter(day__gte=since, day__lt=until).delete()
    RollupRun.objects.filter(day__gte=since, day__lt=until).delete()

    events = live_events(None, [(since, until)], with_scope=False).annotate(
        day=TruncDate("created_at", tzinfo=UTC)
    )
    rows: dict[tuple, StepCell] = defaultdict(StepCell)

    def add(groups, scope_field: str, scope_of) -> None:
        for row in groups.iterator():
            key = (row["day"], scope_field, scope_of(row), row["pathway"], row["stage"],
                   row["from_step"], row["to_status"])  # fmt: skip
            rows[key].add(row["count"], histogram_from_row(row, "p"), histogram_from_row(row, "j"))

    # each organisation: the referrals it sent, and those it received from another
    sender, receiver = "referral__sender_organization_id", "referral__receiving_organization_id"
    add(transition_groups(events, by=("day", sender), all_journeys=True), "organization_id",
        lambda row: row[sender])  # fmt: skip
    add(
        transition_groups(
            # a referral to a stage not taken yet has no receiver to count it for
            events.exclude(**{receiver: F(sender)}).exclude(**{f"{receiver}__isnull": True}),
            by=("day", receiver),
            all_journeys=True,
        ),
        "organization_id",
        lambda row: row[receiver],
    )
    # each task force: the referrals made in it (``Referral.task_force``), once
    task_force = "referral__task_force_id"
    add(
        transition_groups(events.exclude(**{f"{task_force}__isnull": True}),
                          by=("day", task_force), all_journeys=True),
        "task_force_id",
        lambda row: row[task_force],
    )  # fmt: skip
    DailyTransitionRollup.objects.bulk_create(
        (
            DailyTransitionRollup(
                day=day,
                **{scope_field: scope_id},
                pathway=pathway,
                stage=stage,
                from_status=from_step,
                to_status=to_status,
                count=cell.count,
                previous_histogram=compact_histogram(cell.previous),
                journey_histogram=compact_histogram(cell.journey),
            )
            for (
                day,
                scope_field,
                scope_id,
                pathway,
                stage,
                from_step,
                to_status,
            ), cell in rows.items()
        ),
        batch_size=1000,
    )
    contacts = (
        live_contacts(None, [(since, until)], with_scope=False)
        .annotate(day=TruncDate("occurred_at", tzinfo=UTC))
        .values("day", "organization_id", "pathway")
        .annotate(total=Count("id"))
        .order_by()
    )
    DailyContactRollup.objects.bulk_create(
        (
            DailyContactRollup(
                day=row["day"],
                organization_id=row["organization_id"],
                pathway=row["pathway"],
                count=row["total"],
            )
            for row in contacts.iterator()
        ),
        batch_size=1000,
    )
    RollupRun.objects.bulk_create(
        RollupRun(day=since + timedelta(days=n)) for n in range((until - since).days)
    )
    _rollup_months(since, until)


def _rollup_months(since: date, until: date) -> None:
    """Rewrite the monthly rows of the months that ``[since, until)`` touches, from their daily
    rows, for each month all of whose days are rolled up (else drop them)."""
    first, end = since.replace(day=1), next_month(until - timedelta(days=1))
    MonthlyTransitionRollup.objects.filter(month__gte=first, month__lt=end).delete()
    MonthlyContactRollup.objects.filter(month__gte=first, month__lt=end).delete()
    rolled = set(
        RollupRun.objects.filter(day__gte=first, day__lt=end).values_list("day", flat=True)
    )
    months = whole_months(rolled)
    if not months:
        return
    in_months = _any_month(months)
    transitions = (
        DailyTransitionRollup.objects.filter(in_months)
        .annotate(month=TruncMonth("day"))
        .values("month", *SCOPE_AND_STEP)
        .annotate(
            total=Sum("count"),
            **rollup_histogram_sums("previous_histogram", "p"),
            **rollup_histogram_sums("journey_histogram", "j"),
        )
        .order_by()
    )
    MonthlyTransitionRollup.objects.bulk_create(
        (
            MonthlyTransitionRollup(
                month=row["month"],
                task_force_id=row["task_force_id"],
                organization_id=row["organization_id"],
                pathway=row["pathway"],
                stage=row["stage"],
                from_status=row["from_status"],
                to_status=row["to_status"],
                count=row["total"],
                previous_histogram=compact_histogram(histogram_from_row(row, "p")),
                journey_histogram=compact_histogram(histogram_from_row(row, "j")),
            )
            for row in transitions.iterator()
        ),
        batch_size=1000,
    )
    contacts = (
        DailyContactRollup.objects.filter(in_months)
        .annotate(month=TruncMonth("day"))
        .values("month", "organization_id", "pathway")
        .annotate(total=Sum("count"))
        .order_by()
    )
    MonthlyContactRollup.objects.bulk_create(
        (
            MonthlyContactRollup(
                month=row["month"],
                organization_id=row["organization_id"],
                pathway=row["pathway"],
                count=row["total"],
            )
            for row in contacts.iterator()
        ),
        batch_size=1000,
    )


def _any_month(months: list[date]) -> Q:
    condition = Q(pk__in=[])
    for month in months:
        condition |= Q(day__gte=month, day__lt=next_month(month))
    return condition


def days_to_roll_up(*, today: date | None = None, trailing: int = TRAILING_DAYS):
    """``(since, until)`` for tonight: from the day after the last rolled-up day (or the
    first day with data, on the first run), and always the last ``trailing`` days."""
    today = today or utc_today()
    last = RollupRun.objects.aggregate(last=Max("day"))["last"]
    since = today - timedelta(days=trailing)
    if last is None:
        firsts = [
            ReferralEvent.objects.aggregate(first=Min("created_at"))["first"],
            Contact.objects.aggregate(first=Min("occurred_at"))["first"],
        ]
        known = [first.astimezone(UTC).date() for first in firsts if first is not None]
        if known:
            since = min(since, *known)
    else:
        since = min(since, last + timedelta(days=1))
    return since, today


@shared_task(name="coordination.flows_rollup_nightly", ignore_result=True)
def flows_rollup_nightly(trailing_days: int = TRAILING_DAYS) -> int:
    """Nightly (beat, UTC): roll up every finished day not rolled up yet, and again the last
    few days."""
    since, until = days_to_roll_up(trailing=trailing_days)
    return flows_rollup(since=since, until=until)
