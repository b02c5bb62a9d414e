"""Flows counted from the live ``ReferralEvent`` and ``Contact`` tables, with GROUP BY
aggregates: for the days the rollup has not finished, and by the nightly rollup itself
(``coordination.rollup``), which groups events the same way."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC

from django.db.models import Case, CharField, Count, DateField, F, Q, QuerySet, Value, When
from django.db.models.functions import TruncMonth

from coordination.flows.histograms import histogram_from_row, histogram_sums
from coordination.flows.periods import day_start
from coordination.flows.steps import (
    ENGAGED,
    FORWARDED_IN,
    SENT,
    TREATMENT,
    FlowCounts,
    _series,
)
from referral.models import Contact, ReferralEvent, ReferralStatus


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


def _any_of(conditions: list[Q]) -> Q:
    combined = Q(pk__in=[])
    for condition in conditions:
        combined |= condition
    return combined


def live_events(
    organization_ids, runs, pathway: str | None = None, *, with_scope: bool = True
) -> QuerySet:
    """Referral events in these day runs touching these organisations (all of them for the
    rollup: ``with_scope=False``)."""
    in_days = _any_of(
        [Q(created_at__gte=day_start(a), created_at__lt=day_start(b)) for a, b in runs]
    )
    # ``to_status IN (all)`` lets the (to_status, created_at) index serve the date range.
    events = ReferralEvent.objects.filter(in_days, to_status__in=ReferralStatus.values)
    if with_scope:
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


def _add_live(counts: FlowCounts, organization_ids, runs, pathway: str | None) -> None:
    events = live_events(organization_ids, runs, pathway)
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
