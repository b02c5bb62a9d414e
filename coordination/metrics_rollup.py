"""The nightly metrics rollup: per UTC day (the day referrals were made), scope and pathway,
the outcome metrics' counts of the referrals that had settled by the cutoff
(``coordination.metrics.settled``), and their coded reasons (``MetricsRollup``,
``MetricsReasonRollup``). ``GET /api/v1/metrics/`` sums these rows and counts only the
other referrals live, which over a year of a busy task force is a small part of the cohort.

The rows of every rolled-up day hold for one cutoff, midnight UTC of ``MetricsRollupRun.until``.
Moving it on to tonight, a run rolls up the new days and rolls up again each older day on which
a referral was made that has settled since the last cutoff (a referral settles once: a final
status and its windows over, after which nothing about it changes). Everything in one
transaction, so a request sees the rows of one cutoff or the next, never a mix. A task force's
rows are the referrals made in it; an organisation's, those it sent or received (counted once).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, timedelta

from celery import shared_task
from django.db import transaction
from django.db.models import F, Min, Q
from django.db.models.functions import TruncDate

from coordination.flows.periods import day_runs, day_start, utc_today
from coordination.metrics import cohort_counts, settled
from coordination.models import MetricsReasonRollup, MetricsRollup, MetricsRollupRun
from referral.models import Referral

BLOCK_DAYS = 31
SENDER, RECEIVER = "sender_organization_id", "receiving_organization_id"


def metrics_rollup(*, until: date | None = None) -> int:
    """Move the rollup's cutoff on to midnight UTC of ``until`` (default: today; never later),
    rolling up every day that needs it. Returns the number of days rolled up."""
    until = min(until or utc_today(), utc_today())
    with transaction.atomic():
        run = MetricsRollupRun.objects.select_for_update().first()
        if run is not None and run.until >= until:
            return 0  # the rows hold already (a cutoff never moves back)
        cutoff = day_start(until)
        if run is None:
            first = Referral.objects.aggregate(first=Min("created_at"))["first"]
            start = until if first is None else min(first.astimezone(UTC).date(), until)
            days = [start + timedelta(days=n) for n in range((until - start).days)]
        else:
            before = day_start(run.until)
            # made before the old cutoff, settled since: their days' rows change
            changed = (
                Referral.objects.filter(created_at__lt=before)
                .filter(settled(cutoff))
                .exclude(settled(before))
                .annotate(day=TruncDate("created_at", tzinfo=UTC))
                .values_list("day", flat=True)
                .distinct()
            )
            new = [run.until + timedelta(days=n) for n in range((until - run.until).days)]
            days = sorted(set(changed) | set(new))
        for first_day, end in day_runs(days):
            start = first_day
            while start < end:
                block_end = min(start + timedelta(days=BLOCK_DAYS), end)
                _rollup_block(start, block_end, cutoff)
                start = block_end
        MetricsRollupRun.objects.all().delete()
        MetricsRollupRun.objects.create(until=until)
    return len(days)


def _rollup_block(since: date, until: date, cutoff) -> None:
    days = Q(day__gte=since, day__lt=until)
    MetricsRollup.objects.filter(days).delete()
    MetricsReasonRollup.objects.filter(days).delete()
    referrals = Referral.objects.filter(
        created_at__gte=day_start(since), created_at__lt=day_start(until)
    ).filter(settled(cutoff))
    by_day = referrals.annotate(day=TruncDate("created_at", tzinfo=UTC))
    task_force = by_day.exclude(task_force_id__isnull=True)
    # an organisation's referrals: those it sent, and those it received from another
    received = by_day.exclude(**{RECEIVER: F(SENDER)}).exclude(**{f"{RECEIVER}__isnull": True})

    counts: dict[tuple, dict[str, int]] = {}
    reasons: dict[tuple, int] = defaultdict(int)
    for queryset, field, scope in (
        (task_force, "task_force_id", "task_force_id"),
        (by_day, SENDER, "organization_id"),
        (received, RECEIVER, "organization_id"),
    ):
        scope_counts, scope_reasons = cohort_counts(queryset, cutoff, by=("day", field, "pathway"))
        for (day, scope_id, pathway), values in scope_counts.items():
            key = (day, scope, scope_id, pathway)
            if key in counts:  # an organisation's sent and received rows
                values = {name: counts[key][name] + n for name, n in values.items()}
            counts[key] = values
        for (day, scope_id, pathway, status, code), n in scope_reasons.items():
            reasons[(day, scope, scope_id, pathway, status, code)] += n
    MetricsRollup.objects.bulk_create(
        (
            MetricsRollup(day=day, **{scope: scope_id}, pathway=pathway, **values)
            for (day, scope, scope_id, pathway), values in counts.items()
        ),
        batch_size=1000,
    )
    MetricsReasonRollup.objects.bulk_create(
        (
            MetricsReasonRollup(
                day=day, **{scope: scope_id}, pathway=pathway, status=status, code=code, count=n
            )
            for (day, scope, scope_id, pathway, status, code), n in reasons.items()
        ),
        batch_size=1000,
    )


@shared_task(name="coordination.metrics_rollup_nightly", ignore_result=True)
def metrics_rollup_nightly() -> int:
    """Nightly (beat, UTC): move the metrics rollup on to today."""
    return metrics_rollup()
