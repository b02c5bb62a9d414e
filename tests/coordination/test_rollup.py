"""The nightly flow rollup: per-day aggregates that, with live data for the rest, give the
same flows as a fully live computation; idempotent; scheduled nightly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from coordination import rollup
from coordination.flows import flow_counts, flow_report
from coordination.models import (
    DURATION_BUCKETS,
    DailyContactRollup,
    DailyTransitionRollup,
    RollupRun,
)
from referral.models import Pathway
from tests.coordination.flows_data import contacts, journey

DAY = 86400
HOUR = 3600


def today():
    return datetime.now(tz=UTC).date()


@pytest.fixture
def history(world):
    """Twelve days of referrals and contacts, today included, with varied timings and a
    forwarding chain."""
    midnight = datetime.combine(today(), datetime.min.time(), tzinfo=UTC)
    for day in range(12):
        base = midnight - timedelta(days=day)
        for n in range(day % 4 + 3):
            parent = journey(
                sender=world.police,
                service=world.treatment,
                pathway=[Pathway.OFFICER_INTERVENTION, Pathway.NALOXONE_PLUS][n % 2],
                at=base + timedelta(minutes=5 * n),
                steps=[("accepted", (n + 1) * 600), ("engaged", n * 7200 + 30)],
                journey_seconds=n * 5000,
            )
            if n % 3 == 0:
                journey(
                    sender=world.clinic,
                    service=world.recovery,
                    pathway=parent.pathway,
                    at=base + timedelta(minutes=5 * n + 1),
                    steps=[("declined", 40000 + n)],
                    journey_seconds=n * 5000 + 9000,
                    parent=parent,
                )
        # the clinic refers to its own service: counted once for it and for the task force
        journey(
            sender=world.clinic,
            service=world.treatment,
            pathway=Pathway.SELF_REFERRAL,
            at=base + timedelta(hours=3),
            steps=[("accepted", 900)],
        )
        contacts(organization=world.police, pathway=Pathway.NALOXONE_PLUS, at=base, n=day % 3 + 1)
    return world


def organisations(w):
    return [o.pk for o in w.task_force.organizations.all()]


def assert_same(live, mixed):
    assert dict(mixed.steps) == dict(live.steps)
    assert dict(mixed.contacts) == dict(live.contacts)
    assert {m: dict(v) for m, v in mixed.monthly.items()} == {
        m: dict(v) for m, v in live.monthly.items()
    }


def test_rollup_and_live_give_the_numbers_of_a_fully_live_computation(history):
    # given: some past days rolled up, with a gap, today never
    rollup.flows_rollup(since=today() - timedelta(days=10), until=today() - timedelta(days=6))
    rollup.flows_rollup(since=today() - timedelta(days=4), until=today() + timedelta(days=3))
    since, until = today() - timedelta(days=11), today() + timedelta(days=1)
    ids = organisations(history)
    # when
    tf = history.task_force.pk
    live = flow_counts(organization_ids=ids, since=since, until=until, use_rollup=False)
    mixed = flow_counts(organization_ids=ids, task_force_id=tf, since=since, until=until)
    # then
    assert (mixed.rolled_up_days, mixed.live_days) == (8, 4)
    assert (live.rolled_up_days, live.live_days) == (0, 12)
    assert_same(live, mixed)
    live_report = flow_report(live, since=since, until=until)
    mixed_report = flow_report(mixed, since=since, until=until)
    live_report.pop("sources"), mixed_report.pop("sources")
    assert mixed_report == live_report  # counts and percentiles (same buckets)
    assert any(t["median_seconds"] for t in live_report["transitions"])
    # one organisation and one pathway
    for kwargs in (
        {"organization_ids": [history.recovery_org.pk]},
        {"organization_ids": [history.police.pk]},
        {"organization_ids": [history.clinic.pk]},  # sends (forwards) and receives
        {"organization_ids": ids, "task_force_id": tf, "pathway": Pathway.NALOXONE_PLUS},
    ):
        assert_same(
            flow_counts(since=since, until=until, use_rollup=False, **kwargs),
            flow_counts(since=since, until=until, **kwargs),
        )


def test_percentiles_from_the_rollup_are_within_the_bucket_of_the_exact_value(history):
    from referral.models import ReferralEvent

    rollup.flows_rollup(since=today() - timedelta(days=20), until=today())
    counts = flow_counts(
        organization_ids=organisations(history),
        task_force_id=history.task_force.pk,
        since=today() - timedelta(days=11),
        until=today(),
    )
    report = flow_report(counts, since=today() - timedelta(days=11), until=today())
    step = next(t for t in report["transitions"] if (t["from"], t["to"]) == ("sent", "accepted"))
    exact = sorted(
        ReferralEvent.objects.filter(
            to_status="accepted",
            created_at__lt=datetime.combine(today(), datetime.min.time(), tzinfo=UTC),
        ).values_list("seconds_in_previous", flat=True)
    )
    true_median = exact[(len(exact) - 1) // 2]
    from coordination.flows import bucket_index

    assert bucket_index(step["median_seconds"]) in {
        bucket_index(true_median),
        bucket_index(exact[len(exact) // 2]),
    }


def test_rolling_a_day_up_again_replaces_its_rows(history):
    day = today() - timedelta(days=2)
    rollup.flows_rollup(since=day, until=day + timedelta(days=1))
    rows = list(DailyTransitionRollup.objects.filter(day=day).values_list("count", flat=True))
    assert sum(rows) > 0
    # when: rolled up again, unchanged
    rollup.flows_rollup(since=day, until=day + timedelta(days=1))
    # then: the same rows, not twice
    again = list(DailyTransitionRollup.objects.filter(day=day).values_list("count", flat=True))
    assert sorted(again) == sorted(rows)
    assert RollupRun.objects.filter(day=day).count() == 1
    # and a late contact for that day is counted after a re-run
    before = sum(DailyContactRollup.objects.filter(day=day).values_list("count", flat=True))
    contacts(
        organization=history.police,
        pathway=Pathway.SELF_REFERRAL,
        at=datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=20),
        n=2,
    )
    rollup.flows_rollup(since=day, until=day + timedelta(days=1))
    after = sum(DailyContactRollup.objects.filter(day=day).values_list("count", flat=True))
    assert after == before + 2


def test_today_is_never_rolled_up(history):
    assert rollup.flows_rollup(since=today() - timedelta(days=1), until=today() + timedelta(5)) == 1
    assert not RollupRun.objects.filter(day__gte=today()).exists()
    assert not DailyTransitionRollup.objects.filter(day__gte=today()).exists()


def test_the_nightly_task_backfills_then_rolls_up_the_trailing_days(history):
    # first night: everything since the first data, up to yesterday
    assert rollup.days_to_roll_up() == (today() - timedelta(days=11), today())
    rollup.flows_rollup_nightly.delay()
    assert RollupRun.objects.count() == 11
    # later nights: the trailing days again, from the last one rolled up at most
    assert rollup.days_to_roll_up() == (today() - timedelta(days=rollup.TRAILING_DAYS), today())
    RollupRun.objects.filter(day__gte=today() - timedelta(days=9)).delete()
    assert rollup.days_to_roll_up()[0] == today() - timedelta(days=9)


def test_an_empty_database_rolls_up_the_trailing_days(db):
    assert rollup.flows_rollup_nightly.delay().get() == rollup.TRAILING_DAYS
    assert not DailyTransitionRollup.objects.exists()


def test_the_rollup_is_loaded_by_workers_and_scheduled_nightly():
    from celery.schedules import crontab

    from config.celery import app

    assert "coordination.rollup" in settings.CELERY_IMPORTS
    entry = settings.CELERY_BEAT_SCHEDULE["flows-rollup-nightly"]
    assert entry["task"] == "coordination.flows_rollup_nightly"
    assert isinstance(entry["schedule"], crontab)
    app.loader.import_default_modules()
    assert "coordination.flows_rollup_nightly" in app.tasks


def test_rollup_rows_carry_histograms_and_forwarding(history):
    rollup.flows_rollup(since=today() - timedelta(days=3), until=today())
    forwarded = DailyTransitionRollup.objects.filter(from_status="forwarded", to_status="sent")
    assert forwarded.exists()
    assert all(row.stage == "recovery" for row in forwarded)
    declined = DailyTransitionRollup.objects.filter(to_status="declined").first()
    assert sum(declined.previous_histogram) == declined.count
    assert len(declined.previous_histogram) <= len(DURATION_BUCKETS) + 1
