"""``GET /api/v1/metrics/``: every metric computed by hand on a small known data set, on a
frozen clock; the small-cell rule on each; who may read which scope."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine

from coordination.metrics import TOTAL, metrics_true
from coordination.metrics_rollup import metrics_rollup, metrics_rollup_nightly
from coordination.models import MetricsRollup, MetricsRollupRun
from coordination.selectors.flows import flow_scope_get, metrics_get
from referral.services.contacts import contact_fingerprint, contact_record
from referral.services.referrals import referral_create, referral_transition
from tests.factories import person_create_for

NOW = datetime(2025, 10, 1, 12, 0, tzinfo=UTC)
JUNE_5 = datetime(2025, 6, 5, 10, 0, tzinfo=UTC)  # referrals made; their contacts at 08:00
H, D = timedelta(hours=1), timedelta(days=1)
JUNE = {"since": "2025-06-01", "until": "2025-07-01"}


def _contact(user, *, at, pathway="officer_intervention", person=None):
    fields = {
        "client_uuid": uuid.uuid4(),
        "occurred_at": at,
        "place": "",
        "pathway": pathway,
        "offered": [],
        "person": person,
    }
    with time_machine.travel(at, tick=False):
        contact, _ = contact_record(actor=user, fingerprint=contact_fingerprint(**fields), **fields)
    return contact


def _refer(world, *, service, at, pathway="officer_intervention", contact=None):
    with time_machine.travel(at, tick=False):
        referral, _ = referral_create(
            sender=world.officer, service=service, pathway=pathway, contact=contact
        )
    return referral


def _steps(referral, actor, at, steps):
    """Each ``(to, time after the previous step, extra fields)`` on a clock set to it."""
    for to, after, fields in steps:
        at = at + after
        with time_machine.travel(at, tick=False):
            referral_transition(referral=referral, actor=actor, to=to, **fields)


WAIT = {"expected_start": date(2025, 6, 15)}


@pytest.fixture
def known(world):
    """12 officer-intervention referrals to treatment on 5 June, each from a contact 2 h
    before; 2 active-outreach referrals to recovery; 10 people contacted in June, 5 of them
    twice; a referral and a contact in July (outside the period)."""
    p, o = world.provider, world.officer
    referrals = [
        _refer(world, service=world.treatment, at=JUNE_5, contact=_contact(o, at=JUNE_5 - 2 * H))
        for _ in range(12)
    ]
    r = referrals  # r[0]..r[11] are r1..r12 below
    accept = [("accepted", (n + 1) * H, {}) for n in range(10)]  # r1..r10: after 1..10 h
    for n in range(10):
        _steps(r[n], p, JUNE_5, [accept[n]])
    after_accept = {n: JUNE_5 + (n + 1) * H for n in range(10)}
    # r1..r5: engaged 1 h after accepting (the same day, 4..8 h after the contact)
    ok, not_ok = {"outcome": "successful"}, {"outcome": "not_successful"}
    _steps(r[0], p, after_accept[0], [("engaged", H, {}), ("completed", 40 * D, ok)])
    _steps(r[1], p, after_accept[1], [("engaged", H, {}), ("completed", 40 * D, ok)])
    lost = {"reason_code": "lost_contact"}
    _steps(r[2], p, after_accept[2], [("engaged", H, {}), ("disengaged", 20 * D, lost)])
    refused = {**not_ok, "reason_code": "client_refused_services"}
    _steps(r[3], p, after_accept[3], [("engaged", H, {}), ("completed", 60 * D, refused)])
    _steps(r[4], p, after_accept[4], [("engaged", H, {})])
    # r6..r10: on the waiting list 1 h after accepting
    waitlisted = ("waitlisted", H, WAIT)
    _steps(
        r[5],
        p,
        after_accept[5],
        [waitlisted, ("engaged", 10 * D, {}), ("disengaged", 10 * D, lost)],
    )
    _steps(r[6], p, after_accept[6], [waitlisted, ("engaged", 10 * D, {})])
    _steps(r[7], p, after_accept[7], [waitlisted, ("engaged", 10 * D, {})])
    moved = {"reason_code": "moved_away"}
    _steps(r[8], p, after_accept[8], [waitlisted, ("disengaged", 20 * D, moved)])
    _steps(r[9], p, after_accept[9], [waitlisted])
    with time_machine.travel(after_accept[9] + H + 5 * D, tick=False):
        referral_transition(referral=r[9], actor=o, to="withdrawn", reason_code="client_declined")
    # r11, r12: declined
    _steps(r[10], p, JUNE_5, [("declined", 2 * H, {"reason_code": "no_capacity"})])
    _steps(r[11], p, JUNE_5, [("declined", 2 * H, {"reason_code": "not_eligible"})])
    for _ in range(2):
        outreach = _refer(world, service=world.recovery, at=JUNE_5, pathway="active_outreach")
        _steps(outreach, world.recovery_worker, JUNE_5, [("accepted", H, {})])
    for n in range(10):
        person = person_create_for(o, display_name=f"P{n}")
        _contact(o, at=JUNE_5 + n * H, person=person.pk)
        if n < 5:
            _contact(o, at=JUNE_5 + 2 * D, person=person.pk)
    july = datetime(2025, 7, 2, 10, 0, tzinfo=UTC)
    _steps(_refer(world, service=world.treatment, at=july), p, july, [("accepted", H, {})])
    _contact(o, at=july)
    world.referrals_on_june_5 = referrals
    return world


def _share(share, count, of):
    return {"share": share, "count": count, "of": of}


@time_machine.travel(NOW, tick=False)
def test_every_metric_by_hand(client_for, known):
    response = client_for(known.coordinator).get("/api/v1/metrics/", JUNE)
    assert response.status_code == 200, response.content
    body = response.json()
    rows = {row["pathway"]: row for row in body["pathways"]}
    oi = rows["officer_intervention"]
    # 12 + 15 contacts (12 before the referrals, 10 people, 5 of them again) -> 25
    assert oi["contacts"] == 25
    assert oi["referrals"] == 10  # 12, rounded
    # 10 of 12 accepted: published 10 of 10
    assert oi["referral_acceptance_rate"] == _share(1.0, 10, 10)
    # accepted after 1..10 h: the median of ten is (5 + 6) / 2
    assert oi["median_hours_to_accept"] == 5.5
    # r1..r5 entered treatment the same day as the contact (so within 72 h): 5 of 12
    assert oi["treatment_entry_same_day_share"] == _share(0.5, 5, 10)
    assert oi["treatment_entry_within_72h_share"] == _share(0.5, 5, 10)
    # r1..r8 within 14 days (r6..r8 after 10 days on the list): 8 of 12 -> 10 of 10
    assert oi["treatment_initiation_14d_share"] == _share(1.0, 10, 10)
    # of those, not lost within 34 days of entry: r1, r2, r4, r5, r7, r8 (6) -> 5 of 10
    assert oi["treatment_engagement_34d_share"] == _share(0.5, 5, 10)
    # of 8 engaged: retained at 30 days r1, r2, r4, r5, r7, r8 (6); at 90 days not r4 (5)
    assert oi["retention_30d_share"] == _share(0.5, 5, 10)
    assert oi["retention_90d_share"] == _share(0.5, 5, 10)
    assert oi["unsuccessful_reasons"] == {
        "completed": {"client_refused_services": "<5"},
        "disengaged": {"lost_contact": "<5", "moved_away": "<5"},
    }
    assert oi["decline_reasons"] == {"no_capacity": "<5", "not_eligible": "<5"}
    # 10 people contacted, 5 again: 5 of 10
    assert oi["repeat_contact_share"] == _share(0.5, 5, 10)
    # left the list after 10, 10, 10, 20 (moved away) and 5 days (withdrawn): median 10
    assert oi["median_days_waitlisted"] == 10.0

    # two active-outreach referrals: everything small is suppressed
    ao = rows["active_outreach"]
    assert ao["referrals"] == "<5"
    assert ao["referral_acceptance_rate"] == _share(None, "<5", "<5")
    assert ao["median_hours_to_accept"] is None
    assert ao["contacts"] == "<5"
    # a pathway with nothing at all
    assert rows["self_referral"]["referrals"] == "<5"
    assert rows["self_referral"]["treatment_initiation_14d_share"] == _share(None, "<5", "<5")

    # totals are rounded from their own true values: 14 referrals, 12 accepted
    totals = body["totals"]
    assert totals["referrals"] == 15
    assert totals["referral_acceptance_rate"] == _share(0.667, 10, 15)
    # accepted after 1, 1 (outreach) and 1..10 h: (4 + 5) / 2
    assert totals["median_hours_to_accept"] == 4.5
    assert totals["contacts"] == 25
    assert totals["treatment_engagement_34d_share"] == _share(0.5, 5, 10)
    assert totals["repeat_contact_share"] == _share(0.5, 5, 10)
    assert totals["median_days_waitlisted"] == 10.0


@time_machine.travel(NOW, tick=False)
def test_every_published_count_is_suppressed_or_a_multiple_of_five(client_for, known):
    body = client_for(known.coordinator).get("/api/v1/metrics/", JUNE).json()

    def counts(value):
        if isinstance(value, dict):
            for key, inner in value.items():
                if key != "share":
                    yield from counts(inner)
        elif isinstance(value, int) and not isinstance(value, bool) or value == "<5":
            yield value

    for row in [body["totals"], *body["pathways"]]:
        for name in ("contacts", "referrals", "referral_acceptance_rate", "retention_90d_share",
                     "unsuccessful_reasons", "decline_reasons", "repeat_contact_share",
                     "treatment_entry_same_day_share", "treatment_entry_within_72h_share",
                     "treatment_initiation_14d_share", "treatment_engagement_34d_share",
                     "retention_30d_share"):  # fmt: skip
            for value in counts(row[name]):
                assert value == "<5" or value % 5 == 0, (row.get("pathway"), name, value)


def test_a_share_waits_for_its_window(known):
    # on 10 June the 14-day window of the 5 June referrals has not passed: no denominator
    _, early = metrics_get(
        user=known.coordinator,
        since=date(2025, 6, 1),
        until=date(2025, 7, 1),
        now=datetime(2025, 6, 10, 12, tzinfo=UTC),
    )
    oi = next(r for r in early["pathways"] if r["pathway"] == "officer_intervention")
    assert oi["treatment_initiation_14d_share"] == _share(None, "<5", "<5")
    assert oi["treatment_entry_same_day_share"] == _share(0.5, 5, 10)


@time_machine.travel(NOW, tick=False)
def test_the_same_readers_as_the_flows(client_for, known):
    provider = client_for(known.provider).get("/api/v1/metrics/", JUNE)
    assert provider.status_code == 200
    assert provider.json()["organization"]["name"] == "Clinic"
    assert provider.json()["totals"]["referrals"] == 10  # the clinic's 12 (and July's not)
    other = {**JUNE, "task_force": known.task_force.pk}
    assert client_for(known.provider).get("/api/v1/metrics/", other).status_code == 404
    assert client_for(known.outsider).get("/api/v1/metrics/", other).status_code == 404
    one = client_for(known.coordinator).get(
        "/api/v1/metrics/", {**JUNE, "pathway": "officer_intervention"}
    )
    assert [row["pathway"] for row in one.json()["pathways"]] == ["officer_intervention"]
    assert one.json()["totals"]["referrals"] == 10
    bad = client_for(known.coordinator).get("/api/v1/metrics/", {"since": "June"})
    assert bad.status_code == 400 and "since" in bad.json()["errors"]


# --- the rollup ----------------------------------------------------------------------------


def _scopes(world):
    """The task force (a coordinator's), one organisation (the clinic, a provider's), and the
    task force on one pathway, as ``metrics_true`` takes them."""
    coordinator = flow_scope_get(user=world.coordinator)
    clinic = flow_scope_get(user=world.provider)
    task_force = {
        "organization_ids": coordinator.organization_ids,
        "task_force_id": coordinator.task_force.pk,
    }
    return [
        task_force,
        {"organization_ids": clinic.organization_ids, "task_force_id": None},
        {**task_force, "pathway": "officer_intervention"},
    ]


def _rolled_and_live(world, now):
    """Every scope's true counts and medians for June and July, with the rollup and without."""
    for scope in _scopes(world):
        period = {"since": date(2025, 6, 1), "until": date(2025, 8, 1), "now": now, **scope}
        yield metrics_true(**period), metrics_true(**period, use_rollup=False)


def _settled_on_june_5(world) -> int:
    rows = MetricsRollup.objects.filter(task_force=world.task_force, day=date(2025, 6, 5))
    return sum(row.referrals for row in rows)


@pytest.mark.parametrize(
    "cutoff", [date(2025, 6, 6), date(2025, 7, 25), date(2025, 9, 10), date(2025, 10, 1)]
)
def test_the_rollup_counts_exactly_what_the_live_count_does(known, cutoff):
    with time_machine.travel(datetime.combine(cutoff, time(1), tzinfo=UTC), tick=False):
        assert metrics_rollup() > 0
    assert MetricsRollupRun.objects.get().until == cutoff
    for now in (datetime.combine(cutoff, time(9), tzinfo=UTC), NOW + 200 * D):
        for rolled, live in _rolled_and_live(known, now):
            assert rolled == live
            assert rolled["counts"][TOTAL]["referrals"] > 0


def test_the_rollup_holds_the_settled_and_rolls_a_day_again_when_more_settle(known):
    # by 25 July four have settled, 48 days from their journeys' start: r9-r12, closed and
    # never engaged; those engaged wait for 90 days from it, the open ones for their end
    with time_machine.travel(datetime(2025, 7, 25, 1, tzinfo=UTC), tick=False):
        metrics_rollup()
    assert _settled_on_june_5(known) == 4
    # by 1 October nine of the fourteen have: r1-r4, r6 (engaged 90 days before), r9, r10,
    # r11, r12 (never engaged); r5, r7, r8 are still in treatment, the outreach two accepted
    with time_machine.travel(datetime(2025, 10, 1, 1, tzinfo=UTC), tick=False):
        days = metrics_rollup()
    assert days >= 1  # the days since 25 July, and 5 June again
    assert _settled_on_june_5(known) == 9
    # the same cutoff again changes nothing
    with time_machine.travel(datetime(2025, 10, 1, 2, tzinfo=UTC), tick=False):
        assert metrics_rollup() == 0
    # r5 completes after the cutoff: counted live until it settles, then rolled up with its day
    r5 = known.referrals_on_june_5[4]
    with time_machine.travel(datetime(2025, 10, 1, 10, tzinfo=UTC), tick=False):
        referral_transition(
            referral=r5, actor=known.provider, to="completed", outcome="not_successful",
            reason_code="client_refused_services",
        )  # fmt: skip
    for rolled, live in _rolled_and_live(known, datetime(2025, 10, 1, 12, tzinfo=UTC)):
        assert rolled == live
    with time_machine.travel(datetime(2025, 10, 2, 1, tzinfo=UTC), tick=False):
        assert metrics_rollup() == 2  # 1 October, new, and 5 June again
    assert _settled_on_june_5(known) == 10
    for rolled, live in _rolled_and_live(known, datetime(2025, 10, 2, 12, tzinfo=UTC)):
        assert rolled == live


@time_machine.travel(NOW, tick=False)
def test_the_api_answers_the_same_from_the_rollup(client_for, known):
    before = client_for(known.coordinator).get("/api/v1/metrics/", JUNE).json()
    metrics_rollup()
    assert MetricsRollup.objects.exists()
    after = client_for(known.coordinator).get("/api/v1/metrics/", JUNE).json()
    assert after == before


def test_the_metrics_rollup_runs_nightly():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["metrics-rollup-nightly"]
    assert entry["task"] == "coordination.metrics_rollup_nightly"
    assert metrics_rollup_nightly.name == entry["task"]
