"""The nightly flow rollup: per-day aggregates that, with live data for the rest, give the
same flows as a fully live computation; idempotent; scheduled nightly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from coordination import rollup
from coordination.flows.counts import flow_counts
from coordination.flows.report import flow_report
from coordination.models import (
    DURATION_BUCKETS,
    DailyContactRollup,
    DailyTransitionRollup,
    MonthlyContactRollup,
    MonthlyTransitionRollup,
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
    from coordination.flows.histograms import bucket_index

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
    # first night: everything since the first data (the contact that began the oldest
    # journey, the night before its referral), up to yesterday
    assert rollup.days_to_roll_up() == (today() - timedelta(days=12), today())
    rollup.flows_rollup_nightly.delay()
    assert RollupRun.objects.count() == 12
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


# --- whole months ----------------------------------------------------------------------------


def month_start(day):
    return day.replace(day=1)


def previous_month(month):
    return month_start(month - timedelta(days=1))


@pytest.fixture
def months_history(world):
    """Referrals and contacts over the last three months and this one, on every fourth day and
    on both sides of each month boundary (the last minute of a month, the first of the next),
    with steps that cross into the next month."""
    midnight = datetime.combine(today(), datetime.min.time(), tzinfo=UTC)
    first = previous_month(previous_month(previous_month(month_start(today()))))
    moments = [midnight - timedelta(days=n, hours=-9) for n in range(0, (today() - first).days, 4)]
    month = first
    while month <= today():
        start = datetime.combine(month, datetime.min.time(), tzinfo=UTC)
        moments += [start - timedelta(minutes=1), start + timedelta(seconds=30)]
        month = (month + timedelta(days=32)).replace(day=1)
    for n, at in enumerate(sorted(m for m in moments if m < datetime.now(tz=UTC))):
        parent = journey(
            sender=world.police,
            service=world.treatment,
            pathway=[Pathway.OFFICER_INTERVENTION, Pathway.NALOXONE_PLUS][n % 2],
            at=at,
            steps=[("accepted", (n % 5 + 1) * 3000), ("engaged", n * 9000 + 60)],
            journey_seconds=n * 4000,
        )
        if n % 3 == 0:
            journey(
                sender=world.clinic,
                service=world.recovery,
                pathway=parent.pathway,
                at=at + timedelta(minutes=1),
                steps=[("declined", 30000 + n)],
                journey_seconds=n * 4000 + 600,
                parent=parent,
            )
        contacts(organization=world.police, pathway=Pathway.NALOXONE_PLUS, at=at, n=n % 3 + 1)
    return world


def whole_months_before_this_one():
    """The three months before this one (first days), oldest first."""
    last = previous_month(month_start(today()))
    return [previous_month(previous_month(last)), previous_month(last), last]


def periods():
    """Whole months with today live; edges of daily rows on both sides; one whole month."""
    months = whole_months_before_this_one()
    return [
        (months[0], today() + timedelta(days=1)),
        (months[0] + timedelta(days=9), months[2] + timedelta(days=12)),
        (months[1], months[2]),
        (months[0] - timedelta(days=3), today()),
    ]


def kinds_of_scope(w):
    ids = organisations(w)
    return [
        {"organization_ids": ids, "task_force_id": w.task_force.pk},
        {"organization_ids": ids, "task_force_id": w.task_force.pk, "pathway": "naloxone_plus"},
        {"organization_ids": [w.police.pk]},
        {"organization_ids": [w.clinic.pk]},  # sends (forwards) and receives
    ]


def assert_rollup_gives_the_live_numbers(w):
    for since, until in periods():
        for kwargs in kinds_of_scope(w):
            live = flow_counts(since=since, until=until, use_rollup=False, **kwargs)
            mixed = flow_counts(since=since, until=until, **kwargs)
            assert_same(live, mixed)
            assert live.steps
            live_report = flow_report(live, since=since, until=until)
            mixed_report = flow_report(mixed, since=since, until=until)
            live_report.pop("sources"), mixed_report.pop("sources")
            assert mixed_report == live_report


def test_whole_months_are_read_from_monthly_rows_that_sum_the_daily_rows(months_history):
    # given: everything rolled up
    months = whole_months_before_this_one()
    rollup.flows_rollup(since=months[0] - timedelta(days=40), until=today())
    assert set(MonthlyTransitionRollup.objects.values_list("month", flat=True)) >= set(months)
    assert not MonthlyTransitionRollup.objects.filter(month=month_start(today())).exists()
    assert_rollup_gives_the_live_numbers(months_history)
    # when: the daily rows of the whole months are gone (only a test would do this)
    DailyTransitionRollup.objects.filter(day__gte=months[0], day__lt=month_start(today())).delete()
    DailyContactRollup.objects.filter(day__gte=months[0], day__lt=month_start(today())).delete()
    # then: the whole months are still counted, from their monthly rows alone
    period = {"since": months[0], "until": month_start(today())}
    for kwargs in kinds_of_scope(months_history):
        live = flow_counts(**period, use_rollup=False, **kwargs)
        assert live.steps
        assert_same(live, flow_counts(**period, **kwargs))


def test_a_month_is_rolled_up_only_once_all_its_days_are(months_history):
    month = whole_months_before_this_one()[1]
    middle = month + timedelta(days=14)
    rollup.flows_rollup(since=month, until=middle)
    assert not MonthlyTransitionRollup.objects.filter(month=month).exists()
    assert not MonthlyContactRollup.objects.filter(month=month).exists()
    rollup.flows_rollup(since=middle, until=month + timedelta(days=40))
    assert MonthlyTransitionRollup.objects.filter(month=month).exists()
    assert MonthlyContactRollup.objects.filter(month=month).exists()
    assert_rollup_gives_the_live_numbers(months_history)


def test_rolling_a_day_up_again_rewrites_its_months_rows(months_history):
    months = whole_months_before_this_one()
    rollup.flows_rollup(since=months[0], until=today())
    rows = MonthlyTransitionRollup.objects.count()
    # when: rolled up again, unchanged: the same rows, not twice
    rollup.flows_rollup(since=months[0], until=today())
    assert MonthlyTransitionRollup.objects.count() == rows
    # when: a referral and contacts of a day in a whole month arrive late, declined in the
    # next month, and those days are rolled up again (as a manual re-run would)
    late = datetime.combine(months[1], datetime.min.time(), tzinfo=UTC) + timedelta(days=5)
    declined = late + timedelta(days=30)
    journey(
        sender=months_history.police,
        service=months_history.recovery,
        pathway=Pathway.SELF_REFERRAL,
        at=late,
        steps=[("declined", 30 * DAY)],
    )
    contacts(organization=months_history.police, pathway=Pathway.SELF_REFERRAL, at=late, n=2)
    # then: while those days have no run, their months are not read from their stale rows
    RollupRun.objects.filter(day__in=[late.date(), declined.date()]).delete()
    assert_rollup_gives_the_live_numbers(months_history)
    # and once rolled up again, the months' rows count the late referral
    for day in (late.date(), declined.date()):
        rollup.flows_rollup(since=day, until=day + timedelta(days=1))
    assert MonthlyTransitionRollup.objects.filter(
        month=months[2], pathway=Pathway.SELF_REFERRAL, to_status="declined"
    ).exists()
    assert_rollup_gives_the_live_numbers(months_history)
