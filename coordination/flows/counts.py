"""``flow_counts``: the true counts of the flows of a scope in a period.

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
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, timedelta

from django.db.models import F, Q
from django.db.models.functions import TruncMonth

from coordination.flows.live import _add_live
from coordination.flows.periods import day_runs, next_month, whole_months
from coordination.flows.rollup_read import _add_rollup
from coordination.flows.steps import FlowCounts
from coordination.models import (
    DailyContactRollup,
    DailyTransitionRollup,
    MonthlyContactRollup,
    MonthlyTransitionRollup,
    RollupRun,
)


def flow_counts(
    *,
    organization_ids: Iterable[uuid.UUID],
    since: date,
    until: date,
    pathway: str | None = None,
    task_force_id: int | None = None,
    use_rollup: bool = True,
) -> FlowCounts:
    """The true counts of flows touching these organisations (as sender or receiver of the
    referral, or as the organisation that logged the contact) in ``[since, until)``.

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
        _add_live(counts, organization_ids, live_runs, pathway)
    return counts
