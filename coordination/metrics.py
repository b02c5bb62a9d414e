"""The outcome metrics deflection programmes are judged by (``GET /api/v1/metrics/``), each
for a scope and period and per pathway, defined in ``docs/metrics.md``.

Everything is counted in the database. The counts read the measures the transitions keep on
each referral (``accepted_after_seconds``, ``engaged_at``, ...) of the referrals made in the
period (a cohort): those that had *settled* by the nightly rollup's cutoff come summed from
its rows (``MetricsRollup``, written by ``coordination.metrics_rollup``), the others are
counted live in one GROUP BY pass. A settled referral is one whose every contribution is
final (a final status, and every window a metric waits for over), so its rollup row holds for
any later request. Medians are exact: the middle rows of the cohort read in value order
(index only for a task force); the contacts' figures are a GROUP BY per person. Nothing loops
over rows in Python.

Published numbers follow the flows' small-cell rule (``coordination.flows.suppression``):
every count is ``"<5"`` or rounded to a multiple of 5; a share is computed from its published
numerator and denominator (so it says nothing the counts do not), and is null when either is
suppressed; a median needs a group of at least 5.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils.translation import gettext, gettext_lazy

from audit.models import AuditAction
from audit.services import audit_record
from coordination.flows.periods import day_start
from coordination.flows.suppression import SMALL_CELL, SUPPRESSION_RULE, published_count
from coordination.models import MetricsReasonRollup, MetricsRollup, MetricsRollupRun
from referral.models import Contact, Pathway, Referral, ReferralStatus
from referral.reasons import NOT_SUCCESSFUL
from referral.workflow import CLOSED
from services_directory.models import Stage

HOUR, DAY = 3600, 86400
TREATMENT = Stage.TREATMENT.value
S = ReferralStatus
# HEDIS IET: initiation within 14 days of the index episode, engagement within 34 days of
# initiation; 14 + 34 days must have passed for a referral to count in the engagement share.
INITIATION_DAYS, ENGAGEMENT_DAYS = 14, 34
RETENTION_DAYS = (30, 90)
TOTAL = "all"
# What ``_referral_counts`` counts (the columns of ``MetricsRollup``).
COUNTS = (
    "referrals", "accepted", "waited",
    "t_same_day", "e_same_day", "t_72h", "e_72h", "t_14d", "e_14d", "t_34d", "e_34d",
    "engaged_30d", "retained_30d", "engaged_90d", "retained_90d",
)  # fmt: skip
# The longest windows a referral's counts wait for: from the journey start (IET engagement),
# and from engagement (retention).
JOURNEY_WINDOW = timedelta(days=INITIATION_DAYS + ENGAGEMENT_DAYS)
ENGAGED_WINDOW = timedelta(days=max(RETENTION_DAYS))

SHARES = (
    "referral_acceptance_rate",
    "treatment_entry_same_day_share",
    "treatment_entry_within_72h_share",
    "treatment_initiation_14d_share",
    "treatment_engagement_34d_share",
    "retention_30d_share",
    "retention_90d_share",
    "repeat_contact_share",
)
MEDIANS = ("median_hours_to_accept", "median_days_waitlisted")
METRICS = (
    "contacts",
    "referrals",
    *SHARES[:5],
    "median_hours_to_accept",
    *SHARES[5:7],
    "unsuccessful_reasons",
    "decline_reasons",
    "repeat_contact_share",
    "median_days_waitlisted",
)


def cohort(
    *,
    organization_ids: Iterable[uuid.UUID],
    task_force_id: int | None,
    since: date,
    until: date,
    pathway: str | None,
) -> QuerySet[Referral]:
    """The referrals made in ``[since, until)`` in the scope: those made in the task force,
    else those an organisation of ``organization_ids`` sent or received."""
    referrals = Referral.objects.filter(
        created_at__gte=day_start(since), created_at__lt=day_start(until)
    )
    if task_force_id is not None:
        referrals = referrals.filter(task_force_id=task_force_id)
    else:
        ids = list(organization_ids)
        referrals = referrals.filter(
            Q(sender_organization_id__in=ids) | Q(receiving_organization_id__in=ids)
        )
    if pathway:
        referrals = referrals.filter(pathway=pathway)
    return referrals


def _stayed(days: int) -> Q:
    """Did not leave care (lost to follow-up, or completed without success) within ``days``
    of engaging."""
    return Q(left_care_after_seconds__isnull=True) | Q(left_care_after_seconds__gt=days * DAY)


def settled(cutoff: datetime) -> Q:
    """The referrals whose contribution to every metric was final at ``cutoff``: a final
    status reached by then (no move leads out of it), the journey begun ``JOURNEY_WINDOW``
    before, any engagement ``ENGAGED_WINDOW`` before. Once true, true for ever."""
    return (
        Q(status__in=CLOSED, status_changed_at__lte=cutoff)
        & Q(journey_started_at__lte=cutoff - JOURNEY_WINDOW)
        & (Q(engaged_at__isnull=True) | Q(engaged_at__lte=cutoff - ENGAGED_WINDOW))
    )


def _referral_counts(
    referrals: QuerySet[Referral], now: datetime, by: tuple[str, ...] = ("pathway",)
) -> QuerySet:
    """Per ``by`` (the pathway), in one pass over the cohort: referrals made and accepted,
    and those that left a waiting list; the treatment referrals whose windows have passed
    (``t_*``) and those meeting each (``e_*``); the engagements whose retention windows have
    passed and those retained. The rows' keys are ``by`` and ``COUNTS``."""
    treatment = Q(stage=TREATMENT)
    today = day_start(now.date())
    entered = Q(engaged_after_journey_seconds__isnull=False)

    def begun(delta: timedelta) -> Q:
        return treatment & Q(journey_started_at__lte=now - delta)

    same_day = treatment & Q(journey_started_at__lt=today)
    initiated = entered & Q(engaged_after_journey_seconds__lte=INITIATION_DAYS * DAY)
    window_34 = begun(JOURNEY_WINDOW)
    counts: dict[str, Any] = {
        "referrals": Count("id"),
        "accepted": Count("id", filter=Q(accepted_after_seconds__isnull=False)),
        "waited": Count("id", filter=Q(waitlisted_seconds__isnull=False)),
        "t_same_day": Count("id", filter=same_day),
        "e_same_day": Count("id", filter=same_day & entered & Q(entry_day=F("journey_day"))),
        "t_72h": Count("id", filter=begun(timedelta(hours=72))),
        "e_72h": Count(
            "id",
            filter=begun(timedelta(hours=72))
            & entered
            & Q(engaged_after_journey_seconds__lte=72 * HOUR),
        ),
        "t_14d": Count("id", filter=begun(timedelta(days=INITIATION_DAYS))),
        "e_14d": Count("id", filter=begun(timedelta(days=INITIATION_DAYS)) & initiated),
        "t_34d": Count("id", filter=window_34),
        "e_34d": Count("id", filter=window_34 & initiated & _stayed(ENGAGEMENT_DAYS)),
    }
    for days in RETENTION_DAYS:
        passed = Q(engaged_at__lte=now - timedelta(days=days))
        counts[f"engaged_{days}d"] = Count("id", filter=passed)
        counts[f"retained_{days}d"] = Count("id", filter=passed & _stayed(days))
    return (
        referrals.annotate(
            entry_day=TruncDate("engaged_at", tzinfo=UTC),
            journey_day=TruncDate("journey_started_at", tzinfo=UTC),
        )
        .values(*by)
        .annotate(**counts)
        .order_by()
    )


def _gives_a_reason(status: str, outcome: str) -> bool:
    """Declines, losses to follow-up and unsuccessful completions: the coded reasons the
    metrics count. Each is a final status, so the referral's own latest code is the one."""
    return status in (S.DECLINED, S.DISENGAGED) or (
        status == S.COMPLETED and outcome == NOT_SUCCESSFUL
    )


def cohort_counts(
    referrals: QuerySet[Referral], now: datetime, by: tuple[str, ...] = ("pathway",)
) -> tuple[dict[tuple, dict[str, int]], dict[tuple, int]]:
    """The ``COUNTS`` per ``by`` and the coded reasons per ``by``, status and code, from one
    GROUP BY pass over the referrals (grouped by status, outcome and code as well, a few
    dozen groups per ``by``, then added up here)."""
    counts: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    reasons: dict[tuple, int] = defaultdict(int)
    groups = _referral_counts(referrals, now, by=(*by, "status", "outcome", "status_reason_code"))
    for row in groups:
        key = tuple(row[field] for field in by)
        for name in COUNTS:
            counts[key][name] += row[name]
        if _gives_a_reason(row["status"], row["outcome"]):
            reasons[(*key, row["status"], row["status_reason_code"])] += row["referrals"]
    return counts, reasons


def _medians(
    referrals: QuerySet[Referral], field: str, sizes: dict[str, int]
) -> dict[str, float | None]:
    """Exact medians of ``field`` per pathway and overall (``TOTAL``): the middle one or two
    values of the cohort in value order, read in the database (off a partial index on
    ``(task_force, [pathway,] field, created_at)`` for a task force, index only, stopped after
    the middle). ``sizes`` are the numbers of non-null values (from the counts); groups under
    ``SMALL_CELL`` get None and cost no query."""
    with_value = referrals.filter(**{f"{field}__isnull": False})
    medians: dict[str, float | None] = {}
    for key, n in sizes.items():
        if n < SMALL_CELL:
            medians[key] = None
            continue
        group = with_value if key == TOTAL else with_value.filter(pathway=key)
        low = (n + 1) // 2 - 1  # the 0-based rank of the lower middle value
        values = list(group.order_by(field).values_list(field, flat=True)[low : low + 2 - n % 2])
        medians[key] = sum(values) / len(values)
    return medians


def _contact_counts(
    contacts: QuerySet[Contact],
) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Per pathway and overall: contacts, people contacted, and people contacted again; one
    statement over the contacts grouped per pathway and person (no lookup per contact)."""
    grouped = contacts.values("pathway", "person_id").annotate(n=Count("id")).order_by()
    sql, params = grouped.query.sql_with_params()
    # ``everywhere``: the person's contacts on every pathway, for the overall repeat share.
    # The inner SQL is the ORM's, its values bound as parameters: nothing of the request is
    # pasted into the statement.
    statement = f"""
        WITH per_person AS (
            SELECT pathway, person_id, n, SUM(n) OVER (PARTITION BY person_id) AS everywhere
            FROM ({sql}) grouped
        )
        SELECT pathway, SUM(n), COUNT(person_id),
               SUM(CASE WHEN person_id IS NOT NULL AND n > 1 THEN 1 ELSE 0 END)
        FROM per_person GROUP BY pathway
        UNION ALL
        SELECT NULL, 0, COUNT(DISTINCT person_id),
               COUNT(DISTINCT CASE WHEN everywhere > 1 THEN person_id END)
        FROM per_person
    """  # noqa: S608
    per_pathway: dict[str, dict[str, int]] = {}
    overall = {"people": 0, "repeat": 0}
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        for pathway, total, people, repeat in cursor.fetchall():
            if pathway is None:
                overall = {"people": int(people or 0), "repeat": int(repeat or 0)}
            else:
                per_pathway[pathway] = {
                    "contacts": int(total), "people": int(people), "repeat": int(repeat),
                }  # fmt: skip
    return per_pathway, overall


def _share(numerator: int, denominator: int) -> dict[str, Any]:
    top, bottom = published_count(numerator), published_count(denominator)
    share = None
    if isinstance(top, int) and isinstance(bottom, int) and bottom:
        share = round(top / bottom, 3)
    return {"share": share, "count": top, "of": bottom}


def _reasons(counts: dict[tuple[str, str], int], status: str) -> dict[str, int | str]:
    return {code: published_count(n) for (st, code), n in sorted(counts.items()) if st == status}


def _published(
    true: dict[str, int],
    reasons: dict[tuple[str, str], int],
    accept_median: float | None,
    wait_median: float | None,
) -> dict[str, Any]:
    g = defaultdict(int, true)
    return {
        "contacts": published_count(g["contacts"]),
        "referrals": published_count(g["referrals"]),
        "referral_acceptance_rate": _share(g["accepted"], g["referrals"]),
        "median_hours_to_accept": None if accept_median is None else round(accept_median / HOUR, 1),
        "treatment_entry_same_day_share": _share(g["e_same_day"], g["t_same_day"]),
        "treatment_entry_within_72h_share": _share(g["e_72h"], g["t_72h"]),
        "treatment_initiation_14d_share": _share(g["e_14d"], g["t_14d"]),
        "treatment_engagement_34d_share": _share(g["e_34d"], g["t_34d"]),
        "retention_30d_share": _share(g["retained_30d"], g["engaged_30d"]),
        "retention_90d_share": _share(g["retained_90d"], g["engaged_90d"]),
        "unsuccessful_reasons": {
            "completed": _reasons(reasons, S.COMPLETED),
            "disengaged": _reasons(reasons, S.DISENGAGED),
        },
        "decline_reasons": _reasons(reasons, S.DECLINED),
        "repeat_contact_share": _share(g["repeat"], g["people"]),
        "median_days_waitlisted": None if wait_median is None else round(wait_median / DAY, 1),
    }


def _rolled_up(
    referrals: QuerySet[Referral],
    *,
    organization_ids: list[uuid.UUID],
    task_force_id: int | None,
    since: date,
    until: date,
    pathway: str | None,
) -> tuple[QuerySet[Referral], list[dict], list[dict]]:
    """The cohort's referrals to count live, and the rollup's count and reason rows for the
    rest: those made on a rolled-up day that had settled by the rollup's cutoff."""
    run = MetricsRollupRun.objects.first()
    if run is None or since >= run.until:
        return referrals, [], []
    if task_force_id is not None:
        scope = Q(task_force_id=task_force_id)
    elif len(organization_ids) == 1:  # the rollup keeps one organisation's rows, not sets
        scope = Q(organization_id=organization_ids[0])
    else:
        return referrals, [], []
    rows = Q(day__gte=since, day__lt=min(until, run.until)) & scope
    if pathway:
        rows &= Q(pathway=pathway)
    cutoff = day_start(run.until)
    live = referrals.exclude(Q(created_at__lt=cutoff) & settled(cutoff))
    counts = list(
        MetricsRollup.objects.filter(rows)
        .values("pathway")
        .annotate(**{name: Sum(name) for name in COUNTS})
        .order_by()
    )
    reasons = list(
        MetricsReasonRollup.objects.filter(rows)
        .values("pathway", "status", status_reason_code=F("code"))
        .annotate(n=Sum("count"))
        .order_by()
    )
    return live, counts, reasons


def metrics_true(
    *,
    organization_ids: Iterable[uuid.UUID],
    task_force_id: int | None,
    since: date,
    until: date,
    pathway: str | None = None,
    now: datetime,
    use_rollup: bool = True,
) -> dict[str, Any]:
    """The true (unpublished) counts and medians of a scope for ``[since, until)``: per
    pathway and overall (``counts``), the coded reasons (``reasons``), the medians in seconds
    (``accept``, ``waited``). ``use_rollup=False`` counts every referral live (the same
    numbers: the benchmark's baseline and the tests' check of the rollup)."""
    organization_ids = list(organization_ids)
    referrals = cohort(
        organization_ids=organization_ids,
        task_force_id=task_force_id,
        since=since,
        until=until,
        pathway=pathway,
    )
    live, rolled_counts, rolled_reasons = referrals, [], []
    if use_rollup:
        live, rolled_counts, rolled_reasons = _rolled_up(
            referrals,
            organization_ids=organization_ids,
            task_force_id=task_force_id,
            since=since,
            until=until,
            pathway=pathway,
        )
    contacts = Contact.objects.filter(
        organization_id__in=organization_ids,
        occurred_at__gte=day_start(since),
        occurred_at__lt=day_start(until),
    )
    if pathway:
        contacts = contacts.filter(pathway=pathway)
    true: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    live_counts, live_reasons = cohort_counts(live, now)
    for row in [*rolled_counts, *({"pathway": key[0], **row} for key, row in live_counts.items())]:
        key = row.pop("pathway")
        for name, value in row.items():
            true[key][name] += int(value or 0)
    per_pathway_contacts, overall_contacts = _contact_counts(contacts)
    for key, row in per_pathway_contacts.items():
        for name, value in row.items():
            true[key][name] += int(value)
    reasons: dict[str, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    for row in rolled_reasons:
        reasons[row["pathway"]][(row["status"], row["status_reason_code"])] += int(row["n"])
    for (key, status, code), n in live_reasons.items():
        reasons[key][(status, code)] += n

    overall: dict[str, int] = defaultdict(int)
    for row in true.values():
        for name, value in row.items():
            if name not in ("people", "repeat"):
                overall[name] += value
    overall.update(overall_contacts)
    overall_reasons: dict[tuple[str, str], int] = defaultdict(int)
    for counts in reasons.values():
        for key, n in counts.items():
            overall_reasons[key] += n

    def sizes(count: str) -> dict[str, int]:
        return {TOTAL: overall[count]} | {key: row[count] for key, row in true.items()}

    return {
        "counts": {TOTAL: dict(overall)} | {key: dict(row) for key, row in true.items()},
        "reasons": {TOTAL: dict(overall_reasons)} | {k: dict(v) for k, v in reasons.items()},
        "accept": _medians(referrals, "accepted_after_seconds", sizes("accepted")),
        "waited": _medians(referrals, "waitlisted_seconds", sizes("waited")),
    }


def metrics_compute(
    *,
    organization_ids: Iterable[uuid.UUID],
    task_force_id: int | None,
    since: date,
    until: date,
    pathway: str | None = None,
    now: datetime,
    use_rollup: bool = True,
) -> dict[str, Any]:
    """The published metrics of a scope for ``[since, until)``, overall and per pathway."""
    found = metrics_true(
        organization_ids=organization_ids,
        task_force_id=task_force_id,
        since=since,
        until=until,
        pathway=pathway,
        now=now,
        use_rollup=use_rollup,
    )
    counts, reasons = found["counts"], found["reasons"]
    accept, waited = found["accept"], found["waited"]
    pathways = [pathway] if pathway else list(Pathway.values)
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "pathway": pathway,
        "as_of": now.isoformat(),
        "totals": _published(counts[TOTAL], reasons[TOTAL], accept.get(TOTAL), waited.get(TOTAL)),
        "pathways": [
            {
                "pathway": value,
                "label": Pathway(value).label,
                **_published(
                    counts.get(value, {}),
                    reasons.get(value, {}),
                    accept.get(value),
                    waited.get(value),
                ),
            }
            for value in pathways
        ],
        "suppression": {"rule": SUPPRESSION_RULE, "shares": SHARE_RULE},
        "definitions": "docs/metrics.md",
    }


SHARE_RULE = (
    "A share is its published count divided by its published denominator (both rounded as "
    'counts are), null when either is "<5"; a share counts only referrals whose window has '
    "passed at the time of the request. Medians need a group of at least 5 (else null)."
)


# --- what the pages show -----------------------------------------------------------------

HEADLINE = (
    "referral_acceptance_rate",
    "treatment_entry_within_72h_share",
    "treatment_initiation_14d_share",
    "treatment_engagement_34d_share",
    "retention_90d_share",
)
LABELS = {
    "contacts": gettext_lazy("Contacts"),
    "referrals": gettext_lazy("Referrals"),
    "referral_acceptance_rate": gettext_lazy("Referrals accepted"),
    "median_hours_to_accept": gettext_lazy("Hours to accept (median)"),
    "treatment_entry_same_day_share": gettext_lazy("Into treatment the same day"),
    "treatment_entry_within_72h_share": gettext_lazy("Into treatment within 72 hours"),
    "treatment_initiation_14d_share": gettext_lazy("Started treatment within 14 days"),
    "treatment_engagement_34d_share": gettext_lazy("Stayed in treatment 34 days on"),
    "retention_30d_share": gettext_lazy("Still in care after 30 days"),
    "retention_90d_share": gettext_lazy("Still in care after 90 days"),
    "unsuccessful_reasons": gettext_lazy("Why care ended without success"),
    "decline_reasons": gettext_lazy("Why referrals were declined"),
    "repeat_contact_share": gettext_lazy("People met more than once"),
    "median_days_waitlisted": gettext_lazy("Days on a waiting list (median)"),
}
DEFINITIONS = {
    "contacts": gettext_lazy("Contacts logged in the period."),
    "referrals": gettext_lazy("Referrals made in the period. The other figures follow them."),
    "referral_acceptance_rate": gettext_lazy(
        "Of the referrals made, those a service accepted (PTACC, LEAD)."
    ),
    "median_hours_to_accept": gettext_lazy(
        "Middle value of the hours from sending a referral to its acceptance."
    ),
    "treatment_entry_same_day_share": gettext_lazy(
        "Of referrals to treatment, those where the person started treatment on the day of "
        "the first contact (ANGEL, post-overdose outreach)."
    ),
    "treatment_entry_within_72h_share": gettext_lazy(
        "Of referrals to treatment made at least 72 hours ago, those where the person "
        "started treatment within 72 hours of the first contact."
    ),
    "treatment_initiation_14d_share": gettext_lazy(
        "Of referrals to treatment made at least 14 days ago, those where the person started "
        "treatment within 14 days (HEDIS IET initiation)."
    ),
    "treatment_engagement_34d_share": gettext_lazy(
        "Of referrals to treatment made at least 48 days ago, those where the person started "
        "within 14 days and did not drop out in the 34 days after (HEDIS IET engagement)."
    ),
    "retention_30d_share": gettext_lazy(
        "Of the people who engaged at least 30 days ago, those still in care, done "
        "successfully or passed to the next service 30 days later."
    ),
    "retention_90d_share": gettext_lazy("The same, 90 days after engaging."),
    "unsuccessful_reasons": gettext_lazy(
        "The coded reasons of completions without success and of people lost to follow-up."
    ),
    "decline_reasons": gettext_lazy("The coded reasons services gave for declining."),
    "repeat_contact_share": gettext_lazy(
        "Of the people (not anonymous contacts) met in the period, those met more than once."
    ),
    "median_days_waitlisted": gettext_lazy(
        "Middle value of the days people spent on a waiting list before leaving it."
    ),
}


def metric_text(value: Any) -> str:
    """How a published metric reads on a page: a share as a percentage with its counts,
    a suppressed number as "fewer than 5", nothing to show as a dash."""
    if isinstance(value, dict) and "share" in value:
        if value["share"] is None:
            return gettext("– (%(count)s of %(of)s)") % {
                "count": _count_text(value["count"]),
                "of": _count_text(value["of"]),
            }
        return gettext("%(percent)s%% (%(count)s of %(of)s)") % {
            "percent": round(100 * value["share"]),
            "count": value["count"],
            "of": value["of"],
        }
    if value is None:
        return "–"
    return _count_text(value)


def _count_text(value: Any) -> str:
    return gettext("fewer than 5") if value == "<5" else str(value)


def metrics_table_rows(metrics: dict[str, Any]) -> list[list[Any]]:
    """The published metrics as one flat table (CSV): pathway, metric, value, count, of."""
    rows: list[list[Any]] = []
    for key, row in [(TOTAL, metrics["totals"])] + [(r["pathway"], r) for r in metrics["pathways"]]:
        for name in METRICS:
            value = row[name]
            if isinstance(value, dict) and "share" in value:
                rows.append([key, name, value["share"], value["count"], value["of"]])
            elif name == "unsuccessful_reasons":
                for status, codes in value.items():
                    rows += [[key, f"{name}:{status}:{c}", "", n, ""] for c, n in codes.items()]
            elif name == "decline_reasons":
                rows += [[key, f"{name}:{c}", "", n, ""] for c, n in value.items()]
            elif name in MEDIANS:
                rows.append([key, name, "" if value is None else value, "", ""])
            else:
                rows.append([key, name, "", value, ""])
    return rows


def metrics_export_record(*, user, metrics: dict[str, Any]) -> None:
    """Audit an export of the metrics (every export is audited): who, which scope, which
    period. Counts only, no person."""
    scope = metrics.get("task_force") or metrics.get("organization") or {}
    audit_record(
        actor=user,
        action=AuditAction.EXPORT,
        target=("coordination.metrics", str(scope.get("id", ""))),
        data={
            "task_force": (metrics.get("task_force") or {}).get("id"),
            "organization": (metrics.get("organization") or {}).get("id"),
            "since": metrics["since"],
            "until": metrics["until"],
            "pathway": metrics["pathway"],
        },
    )
