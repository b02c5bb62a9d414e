"""``flow_report``: the published report of true flow counts, with every count suppressed or
rounded (``suppression``) and percentiles only for groups of 5 or more."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from coordination.flows.histograms import PERCENTILE_METHOD, histogram_percentile
from coordination.flows.steps import (
    ENGAGED,
    FORWARDED_IN,
    FUNNEL_FIELDS,
    OUTCOMES,
    SENT,
    STEP_ORDER,
    TREATMENT,
    FlowCounts,
    StepCell,
)
from coordination.flows.suppression import (
    ROUNDING_BASE,
    SMALL_CELL,
    SUPPRESSION_RULE,
    published_count,
)
from referral.models import Pathway
from services_directory.models import Stage


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
