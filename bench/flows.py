"""Flows over years of data: ``GET /api/v1/flows/`` for one year, for a coordinator of a task
force of 40 organisations, with the nightly rollup (whole past days from the rollup, today
live) against a naive fully live aggregation over the same events, both through the full API
stack and measured in this run.

    .venv/bin/python bench/flows.py            # 1,000,000 referral events over 3 years
    .venv/bin/python bench/flows.py --quick    # small, seconds (CI)
    .venv/bin/python bench/flows.py --keep     # keep the built database, reuse it next time

The metrics case rolls the outcome metrics up (``coordination.metrics_rollup``), checks that
their true counts and medians with the rollup equal those counted fully live, and times
``GET /api/v1/metrics/`` for the same year both ways, printing the p95s and their ratio.
On PostgreSQL it runs VACUUM ANALYZE first, as autovacuum would after a bulk load (the exact
medians are read by index-only scans, which need the visibility map).

Target: p95 under 300 ms on PostgreSQL (``DATABASE_URL=postgres://...``). The quick size is a
smoke test: at ~18 events a day the rollup has about one row per event and cannot pay off; at
the full size (~900 events a day) a task force's day is a few hundred rows, and so is a whole
month's (``MonthlyTransitionRollup``). A year ending today is twelve whole months; a second
period, with nearly a month of daily rows at each edge, is the slow case of the monthly rows.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

from _setup import bench_database, percentile

DAY = 86400
KINDS = (
    ["police"] * 8
    + ["red_cross"] * 6
    + ["municipality"] * 4
    + ["treatment"] * 10
    + ["harm_reduction"] * 6
    + ["health"] * 2
    + ["ngo"] * 2
    + ["social"] * 2
)
STAGE_OF = {
    "treatment": "treatment",
    "harm_reduction": "harm_reduction",
    "health": "screening",
    "ngo": "recovery",
    "social": "social_support",
}
PATHWAYS = {
    "police": ["officer_prevention", "officer_intervention", "naloxone_plus"],
    "red_cross": ["active_outreach", "naloxone_plus", "self_referral"],
    "municipality": ["community_response", "self_referral", "active_outreach"],
}
NEXT_STAGE = {"screening": "treatment", "harm_reduction": "treatment", "treatment": "recovery"}


def _lognormal(rng: random.Random, median_seconds: float, sigma: float = 1.0) -> int:
    return max(30, int(rng.lognormvariate(math.log(median_seconds), sigma)))


def build(*, events_target: int, contacts_target: int, years: int = 3, seed: int = 5):
    """Organisations, services, a task force, a coordinator; then referrals with realistic
    step timings (log-normal), forwarding chains and contacts, bulk-inserted."""
    from django.contrib.auth import get_user_model

    from referral.models import Contact, Referral, ReferralEvent
    from services_directory import services as directory
    from services_directory.models import Service

    rng = random.Random(seed)
    organizations = [
        directory.organization_create(name=f"Org {n:02d}", kind=kind, description="bench")
        for n, kind in enumerate(KINDS)
    ]
    task_force = directory.task_force_create(
        name="Bench task force", area="Bench", time_zone="Europe/Lisbon",
        organizations=organizations,
    )  # fmt: skip
    services_by_stage: dict[str, list] = {}
    rows = []
    for organization in organizations:
        stage = STAGE_OF.get(organization.kind)
        if stage is None:
            continue
        for n in range(2):
            service = Service(
                organization=organization,
                name=f"{organization.name} service {n}",
                description="bench",
                stage=stage,
            )
            rows.append(service)
            services_by_stage.setdefault(stage, []).append(service)
    Service.objects.bulk_create(rows)
    senders = [o for o in organizations if o.kind in PATHWAYS]
    # a few busy senders and services, many quiet ones
    sender_weights = [1 / (i + 1) ** 0.7 for i in range(len(senders))]
    user = get_user_model().objects.create_user("bench-coordinator", password="bench-pw-1")  # noqa: S106
    directory.membership_set(user=user, organization=senders[-1], role="coordinator")

    now = datetime.now(tz=UTC)
    start = now - timedelta(days=365 * years)
    span = (now - start).total_seconds()
    referrals: list = []
    events: list = []

    def refer(*, sender, service, pathway, at, journey_start, parent=None):
        referral = Referral(
            id=uuid.UUID(int=rng.getrandbits(128)),
            sender_organization=sender,
            to_service=service,
            receiving_organization=service.organization,
            task_force=task_force,
            stage=service.stage,
            pathway=pathway,
            status="sent",
            status_changed_at=at,
            sla_due_at=at + timedelta(hours=72),
            journey_started_at=journey_start,
            parent=parent,
            created_at=at,  # kept by _flush (the field is auto_now_add)
        )
        referrals.append(referral)
        since_start = int((at - journey_start).total_seconds())
        events.append(
            ReferralEvent(
                referral=referral, from_status="", to_status="sent", created_at=at,
                seconds_since_journey_start=since_start,
            )
        )  # fmt: skip
        status, when, last_coded = "sent", at, ("", "")
        for to, median, sigma, chance in _path(rng):
            if rng.random() > chance:
                break
            seconds = 72 * 3600 if to == "expired" else _lognormal(rng, median, sigma)
            nxt = when + timedelta(seconds=seconds)
            if nxt > now:
                break
            outcome, code = _coded(rng, to)
            events.append(
                ReferralEvent(
                    referral=referral, from_status=status, to_status=to, created_at=nxt,
                    seconds_in_previous=seconds, reason_code=code, outcome=outcome,
                    seconds_since_journey_start=int((nxt - journey_start).total_seconds()),
                )
            )  # fmt: skip
            _measure(referral, status, to, outcome, seconds, nxt, journey_start)
            last_coded = (outcome, code)
            status, when = to, nxt
            if to == "forwarded":
                next_stage = NEXT_STAGE.get(service.stage, "social_support")
                refer(
                    sender=service.organization,
                    service=rng.choice(services_by_stage[next_stage]),
                    pathway=pathway,
                    at=nxt,
                    journey_start=journey_start,
                    parent=referral,
                )
                break
        referral.status, referral.status_changed_at = status, when
        referral.outcome, referral.status_reason_code = last_coded

    contact_rows = []
    while len(events) < events_target:
        sender = rng.choices(senders, sender_weights)[0]
        pathway = rng.choice(PATHWAYS[sender.kind])
        stage = rng.choices(
            ["harm_reduction", "treatment", "screening", "social_support"], [4, 4, 2, 1]
        )[0]
        service = rng.choice(services_by_stage[stage])
        at = start + timedelta(seconds=span * rng.random() ** 0.8)  # growing over the years
        journey_start = at - timedelta(seconds=_lognormal(rng, 2 * DAY, 1.5))
        refer(sender=sender, service=service, pathway=pathway, at=at, journey_start=journey_start)
        if len(contact_rows) < contacts_target:
            contact_rows.append(
                Contact(
                    client_uuid=uuid.UUID(int=rng.getrandbits(128)),
                    organization=sender,
                    occurred_at=journey_start,
                    pathway=pathway,
                    request_fingerprint="bench",
                )
            )
    # in time order, as a live system writes them (a period's rows lie together on disk)
    referrals.sort(key=lambda r: r.created_at)
    events.sort(key=lambda e: e.created_at)
    contact_rows.sort(key=lambda c: c.occurred_at)
    _flush(referrals, events, contact_rows)
    return task_force, user


def _measure(referral, status, to, outcome, seconds, at, journey_start) -> None:
    """What ``referral_transition`` keeps on the referral for the outcome metrics."""
    if to == "accepted":
        referral.accepted_after_seconds = seconds
    if status == "waitlisted":
        referral.waitlisted_seconds = seconds
    if to == "engaged":
        referral.engaged_at = at
        referral.engaged_after_journey_seconds = int((at - journey_start).total_seconds())
    if referral.engaged_at and (
        to == "disengaged" or (to == "completed" and outcome == "not_successful")
    ):
        referral.left_care_after_seconds = int((at - referral.engaged_at).total_seconds())


def _coded(rng: random.Random, to: str) -> tuple[str, str]:
    """The outcome and coded reason a step carries (``referral.reasons``)."""
    if to == "completed":
        return ("successful", "") if rng.random() < 0.7 else ("not_successful", "other")
    return "", {"declined": "no_capacity", "disengaged": "lost_contact", "withdrawn": "other",
                "expired": "no_answer_within_sla"}.get(to, "")  # fmt: skip


def _path(rng: random.Random):
    """Each step: (to, median seconds, spread, chance it happens)."""
    first = rng.random()
    if first < 0.12:
        yield ("declined", 6 * 3600, 1.0, 1.0)
        return
    if first < 0.19:
        yield ("expired", 0, 0, 1.0)
        return
    if first < 0.21:
        yield ("withdrawn", 12 * 3600, 1.0, 1.0)
        return
    yield ("accepted", 5 * 3600, 1.2, 0.97)
    second = rng.random()
    if second < 0.08:
        yield ("forwarded", 3 * DAY, 1.0, 1.0)
        return
    if second < 0.11:
        yield ("withdrawn", 2 * DAY, 1.0, 1.0)
        return
    if rng.random() < 0.15:  # no place yet: the waiting list first
        yield ("waitlisted", 3600, 1.0, 1.0)
        yield ("engaged", 12 * DAY, 0.8, 0.8)
    else:
        yield ("engaged", 2 * DAY, 1.0, 0.85)
    third = rng.random()
    if third < 0.5:
        yield ("completed", 40 * DAY, 0.8, 1.0)
    elif third < 0.85:
        yield ("disengaged", 20 * DAY, 1.0, 1.0)
    else:
        yield ("forwarded", 30 * DAY, 0.8, 1.0)


def _flush(referrals: list, events: list, contacts: list) -> None:
    from referral.models import Contact, Referral, ReferralEvent

    # parents first: a forwarded child refers to a parent of the same or an earlier batch;
    # each made at its own time, not at the time of the build (the metrics' cohorts)
    made = Referral._meta.get_field("created_at")
    made.auto_now_add = False
    try:
        Referral.objects.bulk_create(referrals, batch_size=5000)
    finally:
        made.auto_now_add = True
    ReferralEvent.objects.bulk_create(events, batch_size=5000)
    Contact.objects.bulk_create(contacts, batch_size=5000)
    referrals.clear()
    events.clear()
    contacts.clear()


def measure(
    client, params: dict, rounds: int, url: str = "/api/v1/flows/"
) -> tuple[list[float], dict]:
    samples, body = [], {}
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(url, params)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
        body = response.json()
    return samples, body


@contextmanager
def kept_database():
    """The bench database kept between runs (``--keep``): created and migrated the first time,
    reused (and migrated forward) after, never dropped. For profiling at the full size without
    building a million events each time."""
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True)
    yield connection


def build_or_reuse(*, events_target: int, contacts_target: int):
    """The task force and coordinator of a kept database, or a newly built world."""
    from django.contrib.auth import get_user_model

    from services_directory.models import TaskForce

    user = get_user_model().objects.filter(username="bench-coordinator").first()
    if user is not None:
        return TaskForce.objects.get(name="Bench task force"), user
    return build(events_target=events_target, contacts_target=contacts_target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI")
    parser.add_argument(
        "--keep", action="store_true", help="keep the database and reuse it on the next run"
    )
    parser.add_argument(
        "--metrics-only",
        action="store_true",
        help="only the metrics case (with --keep: a database whose flows are rolled up already)",
    )
    args = parser.parse_args()
    events, contacts, rounds = (20_000, 5_000, 10) if args.quick else (1_000_000, 150_000, 30)

    with kept_database() if args.keep else bench_database() as connection:
        from django.db import connection as db
        from rest_framework.test import APIClient

        from coordination.metrics import metrics_true
        from coordination.metrics_rollup import metrics_rollup
        from coordination.models import (
            DailyTransitionRollup,
            MetricsRollup,
            MetricsRollupRun,
            MonthlyTransitionRollup,
            RollupRun,
        )
        from coordination.rollup import flows_rollup
        from coordination.selectors.flows import flow_scope_get
        from referral.models import ReferralEvent

        started = time.perf_counter()
        task_force, user = build_or_reuse(events_target=events, contacts_target=contacts)
        if db.vendor == "postgresql":
            with db.cursor() as cursor:
                cursor.execute("ANALYZE")
        built = time.perf_counter() - started
        total_events = ReferralEvent.objects.count()

        today = datetime.now(tz=UTC).date()
        client = APIClient()
        client.force_authenticate(user)
        params = {
            "task_force": task_force.pk,
            "since": (today - timedelta(days=365)).isoformat(),
            "until": (today + timedelta(days=1)).isoformat(),
        }
        # the worst case for the monthly rows: a year with almost a month of days at each edge
        edges = {
            "task_force": task_force.pk,
            "since": (today - timedelta(days=365)).replace(day=2).isoformat(),
            "until": (today.replace(day=1) - timedelta(days=1)).isoformat(),
        }
        if not args.metrics_only:
            started = time.perf_counter()
            first = ReferralEvent.objects.order_by("created_at").first().created_at.date()
            days = flows_rollup(since=first, until=today)
            rolled_in = time.perf_counter() - started
            if db.vendor == "postgresql":
                with db.cursor() as cursor:
                    cursor.execute("ANALYZE")
            rollup_rows = DailyTransitionRollup.objects.count()
            monthly_rows = MonthlyTransitionRollup.objects.count()

            measure(client, params, 2)  # warm up
            rollup_ms, with_rollup = measure(client, params, rounds)
            assert with_rollup["sources"]["live_days"] == 1, with_rollup["sources"]
            edges_ms, edges_rollup = measure(client, edges, rounds)
            assert edges_rollup["sources"]["live_days"] == 0, edges_rollup["sources"]
            runs = list(RollupRun.objects.values_list("day", flat=True))
            RollupRun.objects.all().delete()  # the API now aggregates every day live
            measure(client, params, 2)
            live_ms, live = measure(client, params, rounds)
            assert live["sources"]["rolled_up_days"] == 0
            _, edges_live = measure(client, edges, 1)
            RollupRun.objects.bulk_create(RollupRun(day=d) for d in runs)
            for report in (with_rollup, live, edges_rollup, edges_live):
                report.pop("sources")
            same = with_rollup == live and edges_rollup == edges_live

        # the metrics: their rollup, then the API with it and fully live (no rollup run)
        started = time.perf_counter()
        metrics_days = metrics_rollup()
        metrics_rolled_in = time.perf_counter() - started
        metrics_rows = MetricsRollup.objects.count()
        if db.vendor == "postgresql":
            # as autovacuum does after a bulk load: index-only scans need the visibility map
            with db.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        run = MetricsRollupRun.objects.get()
        scope = flow_scope_get(user=user, task_force_id=task_force.pk)
        period = {
            "organization_ids": scope.organization_ids,
            "task_force_id": task_force.pk,
            "since": date.fromisoformat(params["since"]),
            "until": date.fromisoformat(params["until"]),
            "now": datetime.now(tz=UTC),
        }
        metrics_same = metrics_true(**period) == metrics_true(**period, use_rollup=False)
        # request by request in turn, with the rollup and without it (no run: every referral
        # counted live), so that the machine's noise falls on both
        metrics_ms, metrics_live_ms = [], []
        for n in range(rounds + 1):
            took, metrics = measure(client, params, 1, "/api/v1/metrics/")
            assert metrics["totals"]["referrals"] != "<5", metrics["totals"]
            MetricsRollupRun.objects.all().delete()
            took_live, _ = measure(client, params, 1, "/api/v1/metrics/")
            MetricsRollupRun.objects.create(until=run.until)
            if n:  # the first of each is a warm-up
                metrics_ms += took
                metrics_live_ms += took_live

        if not args.metrics_only:
            p50, p95 = percentile(rollup_ms, 50), percentile(rollup_ms, 95)
            l50, l95 = percentile(live_ms, 50), percentile(live_ms, 95)
            print(
                f"flows bench on {connection.vendor}: {total_events:,} referral events over 3 "
                f"years, 40 organisations (built in {built:.1f}s); rollup of {days} days into "
                f"{rollup_rows:,} daily and {monthly_rows:,} monthly rows in {rolled_in:.1f}s; "
                f"one year, {rounds} requests each"
            )
            print(f"with rollup (today live): p50={p50:.1f} ms p95={p95:.1f} ms")
            print(
                f"with rollup, {edges['since']} to {edges['until']} (nearly a month at each edge, "
                f"from daily rows): p50={percentile(edges_ms, 50):.1f} ms "
                f"p95={percentile(edges_ms, 95):.1f} ms"
            )
            print(f"naive live aggregation:   p50={l50:.1f} ms p95={l95:.1f} ms")
            print(
                f"ratio live/rollup p50={l50 / p50:.2f} p95={l95 / p95:.2f}; same published "
                f"numbers: {same} (target p95 < 300 ms on PostgreSQL)"
            )
        m50, m95 = percentile(metrics_ms, 50), percentile(metrics_ms, 95)
        ml50, ml95 = percentile(metrics_live_ms, 50), percentile(metrics_live_ms, 95)
        print(
            f"metrics rollup: {metrics_days} days into {metrics_rows:,} rows in "
            f"{metrics_rolled_in:.1f}s (cutoff {run.until})"
        )
        print(
            f"metrics (GET /api/v1/metrics/, the same year, every metric per pathway) with "
            f"the rollup: p50={m50:.1f} ms p95={m95:.1f} ms; fully live: p50={ml50:.1f} ms "
            f"p95={ml95:.1f} ms; ratio live/rollup p50={ml50 / m50:.2f} p95={ml95 / m95:.2f}; "
            f"same true counts and medians: {metrics_same}; within the flows budget "
            f"(p95 < 300 ms): {m95 < 300}"
        )
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if not args.metrics_only and not same:
            raise SystemExit("rollup and live answers differ")
        if not metrics_same:
            raise SystemExit("the metrics with and without their rollup differ")


if __name__ == "__main__":
    main()
