"""Flows summed from the nightly rollup's rows (daily or monthly), element by element of
their duration histograms."""

from __future__ import annotations

from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from coordination.flows.histograms import BUCKET_COUNT, rollup_histogram_sums
from coordination.flows.steps import (
    ENGAGED,
    FORWARDED_IN,
    SENT,
    TREATMENT,
    FlowCounts,
    _series,
)

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
