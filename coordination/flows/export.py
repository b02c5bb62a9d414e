"""The flows' CSV export: the published report as one flat table, and the audit record of
an export (DESIGN.md: every export is audited)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from audit.models import AuditAction
from audit.services import audit_record
from coordination.flows.steps import FUNNEL_FIELDS, OUTCOMES


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
