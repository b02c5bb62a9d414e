"""Flows: counts per pathway, stage and step, timings, suppression of small cells, and who
may see which flows (``GET /api/v1/flows/``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coordination.flows.histograms import bucket_index, histogram_percentile
from coordination.flows.suppression import SUPPRESSED, published_count
from coordination.models import DURATION_BUCKETS
from referral.models import Pathway
from referral.services.referrals import referral_create, referral_transition
from services_directory.models import Role, Stage
from tests.coordination.flows_data import DAY, HOUR, journey, period
from tests.factories import OrganizationFactory, TaskForceFactory, member

URL = "/api/v1/flows/"


def numbers(value, path=""):
    """Every published count in a report, with where it is."""
    skip = ("seconds", "threshold", "rounding_base", "sources", "task_force", "organization")
    if isinstance(value, dict):
        for key, item in value.items():
            if not any(s in key for s in skip):
                yield from numbers(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from numbers(item, f"{path}[{index}]")
    elif isinstance(value, int) and not isinstance(value, bool):
        yield path, value


# --- publishing rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("true", "published"),
    [(0, SUPPRESSED), (1, SUPPRESSED), (4, SUPPRESSED), (5, 5), (7, 5), (8, 10), (12, 10),
     (13, 15), (1002, 1000), (1003, 1005)],
)  # fmt: skip
def test_counts_are_suppressed_under_5_and_rounded_to_5(true, published):
    assert published_count(true) == published


def test_percentile_is_interpolated_within_its_bucket():
    # given: 10 durations, all between 1 and 2 days
    histogram = [0] * (len(DURATION_BUCKETS) + 1)
    histogram[bucket_index(int(1.5 * DAY))] = 10
    # when
    median = histogram_percentile(histogram, 0.5)
    # then: the middle of the bucket (1 day, 2 days]
    assert median == int(1.5 * DAY)
    assert DAY < histogram_percentile(histogram, 0.9) <= 2 * DAY
    # fewer than 5: no percentile
    histogram[bucket_index(int(1.5 * DAY))] = 4
    assert histogram_percentile(histogram, 0.5) is None


def test_percentile_of_the_open_bucket_is_its_lower_bound():
    histogram = [0] * len(DURATION_BUCKETS) + [6]
    assert histogram_percentile(histogram, 0.5) == DURATION_BUCKETS[-1]


# --- suppression cannot be undone ----------------------------------------------------------


def test_small_cell_is_suppressed_and_cannot_be_recovered_from_totals(api_client, flows_world):
    # given
    api_client.force_authenticate(flows_world.coordinator)
    # when
    response = api_client.get(URL, period())
    # then
    assert response.status_code == 200, response.data
    body = response.data
    by_pathway = {row["pathway"]: row for row in body["pathways"]}
    assert by_pathway["naloxone_plus"]["referrals"] == SUPPRESSED
    assert by_pathway["naloxone_plus"]["contacts"] == SUPPRESSED
    assert by_pathway["naloxone_plus"]["accepted"] == SUPPRESSED
    assert by_pathway["officer_intervention"]["referrals"] == 10  # 12, rounded
    assert by_pathway["active_outreach"]["referrals"] == 10  # 8, rounded
    assert body["totals"]["referrals"] == 25  # 23, rounded
    # 23 contacts logged, and the 12 at which the officer_intervention journeys began
    assert body["totals"]["contacts"] == 35

    # no total minus the other published cells gives back the 3, in any breakdown
    def published(cells):
        return [c for c in cells if isinstance(c, int)]

    pathway_referrals = published(r["referrals"] for r in body["pathways"])
    stage_referrals = published(r["referrals"] for r in body["stages"])
    pathway_accepted = published(r["accepted"] for r in body["pathways"])
    stage_accepted = published(r["accepted"] for r in body["stages"])
    pathway_contacts = published(r["contacts"] for r in body["pathways"])
    accepted_total = body["totals"]["accepted"]  # 15 accepted: 12 + 3
    # the fixture's events are two days old: early in a month, that is last month
    events_month = (datetime.now(tz=UTC) - timedelta(days=2)).strftime("%Y-%m")
    (month_of_the_events,) = (m for m in body["monthly"] if m["month"] == events_month)
    assert month_of_the_events["referrals"] == 25
    assert accepted_total == 15
    for total, cells in [
        (body["totals"]["referrals"], pathway_referrals),
        (body["totals"]["referrals"], stage_referrals),
        (accepted_total, pathway_accepted),
        (accepted_total, stage_accepted),
        (body["totals"]["contacts"], pathway_contacts),
        (body["transitions"][0]["count"], pathway_referrals),  # across views
        (month_of_the_events["referrals"], pathway_referrals),
    ]:
        for subset in range(1 << len(cells)):
            rest = sum(c for i, c in enumerate(cells) if subset >> i & 1)
            assert total - rest != 3
    # the reason it holds: every published count is a multiple of 5
    for where, value in numbers(body):
        assert value % 5 == 0, where

    # a treatment stage row mixes 12 and 3 accepted: published rounded, not exact
    treatment = next(r for r in body["stages"] if r["stage"] == Stage.TREATMENT)
    assert treatment["accepted"] == 15


def test_timings_and_headline_time_to_treatment(api_client, flows_world):
    api_client.force_authenticate(flows_world.coordinator)
    body = api_client.get(URL, period()).data
    steps = {(t["from"], t["to"]): t for t in body["transitions"]}
    accepted = steps[("sent", "accepted")]
    # 12 in 2 hours, 3 in 1 hour: the median is within the (1 h, 2 h] bucket
    assert accepted["count"] == 15
    assert HOUR < accepted["median_seconds"] <= 2 * HOUR
    engaged = steps[("accepted", "engaged")]
    assert engaged["count"] == 10
    assert DAY < engaged["median_seconds"] <= 2 * DAY
    # declined after 5 hours, 8 of them
    assert 4 * HOUR < steps[("sent", "declined")]["median_seconds"] <= 8 * HOUR
    # forwarded -> sent had none: suppressed and no timing
    assert steps[("forwarded", "sent")]["count"] == SUPPRESSED
    assert steps[("forwarded", "sent")]["median_seconds"] is None
    # first contact to treatment entry: 3 h + 2 h + 1-2 days
    headline = body["time_to_treatment"]
    assert headline["count"] == 10
    assert DAY < headline["median_seconds"] <= 2 * DAY
    assert headline["median_seconds"] <= headline["p90_seconds"] <= 2 * DAY
    # a group of 3: no percentile
    only_three = api_client.get(URL, {**period(), "pathway": "naloxone_plus"}).data
    three = {(t["from"], t["to"]): t for t in only_three["transitions"]}
    assert three[("sent", "accepted")]["count"] == SUPPRESSED
    assert three[("sent", "accepted")]["median_seconds"] is None
    assert [row["pathway"] for row in only_three["pathways"]] == ["naloxone_plus"]


def test_monthly_series_covers_every_month_of_the_period(api_client, flows_world):
    api_client.force_authenticate(flows_world.coordinator)
    body = api_client.get(URL, {"since": "2024-01-15", "until": "2024-04-01"}).data
    assert [m["month"] for m in body["monthly"]] == ["2024-01", "2024-02", "2024-03"]
    assert all(m["referrals"] == SUPPRESSED for m in body["monthly"])


def test_forwarding_through_the_services_is_counted_to_its_stage(api_client, world):
    # given: police refer to treatment; the clinic accepts, engages and forwards to recovery
    start = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    for n in range(5):
        with time_machine.travel(start + timedelta(minutes=n), tick=False):
            referral, _ = referral_create(
                sender=world.officer, service=world.treatment, pathway="officer_prevention"
            )
        with time_machine.travel(start + timedelta(hours=1, minutes=n), tick=False):
            referral_transition(referral=referral, actor=world.provider, to="accepted")
        with time_machine.travel(start + timedelta(days=1, minutes=n), tick=False):
            referral_transition(referral=referral, actor=world.provider, to="engaged")
        with time_machine.travel(start + timedelta(days=8, minutes=n), tick=False):
            referral_transition(
                referral=referral, actor=world.provider, to="forwarded", forward_to=world.recovery
            )
    api_client.force_authenticate(world.coordinator)
    # when
    body = api_client.get(URL, {"since": "2025-03-01", "until": "2025-04-01"}).data
    # then
    forwarded_to = {row["stage"]: row["count"] for row in body["forwarded_to"]}
    assert forwarded_to[Stage.RECOVERY] == 5
    assert forwarded_to[Stage.TREATMENT] == SUPPRESSED
    steps = {(t["from"], t["to"]): t for t in body["transitions"]}
    assert steps[("engaged", "forwarded")]["count"] == 5
    assert 5 * DAY < steps[("engaged", "forwarded")]["median_seconds"] <= 10 * DAY
    assert body["totals"]["referrals"] == 10  # 5 made + 5 by forwarding
    assert body["totals"]["treatment_entries"] == 5
    assert 3 * HOUR < body["time_to_treatment"]["median_seconds"] <= 2 * DAY
    # the recovery organisation sees the referrals forwarded to it, not the rest
    api_client.force_authenticate(world.recovery_worker)
    own = api_client.get(URL, {"since": "2025-03-01", "until": "2025-04-01"}).data
    assert own["totals"]["referrals"] == 5
    assert own["totals"]["engaged"] == SUPPRESSED


# --- who may see what ----------------------------------------------------------------------


def test_a_provider_sees_only_its_own_organisations_flows(api_client, flows_world):
    w = flows_world
    api_client.force_authenticate(w.recovery_worker)
    before = api_client.get(URL, period()).data
    assert before["organization"]["name"] == "Recovery"
    assert before["task_force"] is None
    assert before["totals"]["referrals"] == 10  # the 8 declined active-outreach referrals
    assert before["totals"]["contacts"] == SUPPRESSED  # contacts were the police's
    # when another organisation's referrals are added
    at = datetime.now(tz=UTC) - timedelta(days=1)
    for n in range(20):
        journey(
            sender=w.police,
            service=w.treatment,
            pathway=Pathway.ACTIVE_OUTREACH,
            at=at + timedelta(minutes=n),
            steps=[("accepted", HOUR)],
        )
    after = api_client.get(URL, period()).data
    # then its numbers do not change
    for key in ("totals", "pathways", "stages", "transitions", "monthly", "time_to_treatment"):
        assert after[key] == before[key], key
    # and the clinic, the receiver, does see them
    api_client.force_authenticate(w.provider)
    assert api_client.get(URL, period()).data["totals"]["accepted"] == 35


def test_a_provider_cannot_ask_for_another_organisation_or_a_task_force(api_client, world):
    api_client.force_authenticate(world.provider)
    assert api_client.get(URL, {"organization": str(world.police.pk)}).status_code == 404
    assert api_client.get(URL, {"organization": str(world.clinic.pk)}).status_code == 200
    response = api_client.get(URL, {"task_force": world.task_force.pk})
    assert response.status_code == 404
    assert response.data == {"detail": "No such task force.", "errors": {}, "code": "not_found"}


def test_coordinator_sees_the_task_force_and_its_organisations_only(api_client, flows_world):
    w = flows_world
    other_task_force = TaskForceFactory(organizations=[w.outsider_org])
    api_client.force_authenticate(w.coordinator)
    whole = api_client.get(URL, {**period(), "task_force": w.task_force.pk})
    assert whole.status_code == 200
    assert whole.data["task_force"]["id"] == w.task_force.pk
    assert whole.data["totals"]["referrals"] == 25
    one = api_client.get(URL, {**period(), "organization": str(w.recovery_org.pk)})
    assert one.status_code == 200
    assert one.data["totals"]["referrals"] == 10
    assert api_client.get(URL, {"task_force": other_task_force.pk}).status_code == 404
    assert api_client.get(URL, {"task_force": 999999}).status_code == 404
    assert api_client.get(URL, {"organization": str(w.outsider_org.pk)}).status_code == 404


def test_a_coordinator_of_several_task_forces_chooses_one(api_client, world):
    TaskForceFactory(organizations=[world.office])
    api_client.force_authenticate(world.coordinator)
    response = api_client.get(URL)
    assert response.status_code == 400
    assert "task_force" in response.data["errors"]
    assert api_client.get(URL, {"task_force": world.task_force.pk}).status_code == 200


def test_a_task_force_coordinator_outside_it_gets_404(api_client, world):
    elsewhere = OrganizationFactory(name="Other office")
    TaskForceFactory(organizations=[elsewhere])
    coordinator = member(organization=elsewhere, role=Role.COORDINATOR, username="coord-x")
    api_client.force_authenticate(coordinator)
    assert api_client.get(URL, {"task_force": world.task_force.pk}).status_code == 404


def test_anonymous_and_memberless_users_get_nothing(api_client, world):
    assert api_client.get(URL).status_code in (401, 403)
    from tests.factories import UserFactory

    api_client.force_authenticate(UserFactory(username="nobody"))
    assert api_client.get(URL).status_code == 404


# --- parameters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"since": "2024-13-01"}, "since"),
        ({"until": "01/02/2024"}, "until"),
        ({"since": "2024-03-01", "until": "2024-03-01"}, "until"),
        ({"since": "2024-03-02", "until": "2024-03-01"}, "until"),
        ({"since": "2015-01-01", "until": "2024-01-01"}, "since"),
        ({"pathway": "teleportation"}, "pathway"),
        ({"task_force": "first"}, "task_force"),
        ({"organization": "not-a-uuid"}, "organization"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(api_client, world, params, field):
    api_client.force_authenticate(world.coordinator)
    response = api_client.get(URL, params)
    assert response.status_code == 400
    assert list(response.data["errors"]) == [field]


def test_five_years_is_allowed(api_client, world):
    api_client.force_authenticate(world.coordinator)
    response = api_client.get(URL, {"since": "2020-01-01", "until": "2025-01-01"})
    assert response.status_code == 200
    assert len(response.data["monthly"]) == 60


def test_query_count_does_not_grow_with_the_data_or_the_period(api_client, flows_world):
    api_client.force_authenticate(flows_world.coordinator)
    with CaptureQueriesContext(connection) as small:
        api_client.get(URL, {"since": "2025-01-01", "until": "2025-01-02"})
    with CaptureQueriesContext(connection) as large:
        api_client.get(URL, period(days_ago=3 * 365))
    assert len(large) <= len(small) + 4
    assert len(large) <= 15


def test_the_schema_documents_suppression(api_client, world):
    api_client.force_authenticate(world.coordinator)
    schema = api_client.get("/api/schema/", {"format": "json"}).data
    description = schema["paths"]["/api/v1/flows/"]["get"]["description"]
    assert "<5" in description and "multiples of 5" in description
    assert "interpolated" in description


def test_today_counts_live(api_client, world):
    api_client.force_authenticate(world.coordinator)
    now = datetime.now(tz=UTC)
    for n in range(6):
        journey(
            sender=world.police,
            service=world.treatment,
            pathway=Pathway.SELF_REFERRAL,
            at=max(
                now - timedelta(minutes=n + 1),
                datetime.combine(now.date(), datetime.min.time(), tzinfo=UTC),
            ),
        )
    today = now.date()
    body = api_client.get(
        URL, {"since": today.isoformat(), "until": (today + timedelta(days=1)).isoformat()}
    ).data
    assert body["totals"]["referrals"] == 5
    assert body["sources"] == {"rolled_up_days": 0, "live_days": 1}
    assert date.fromisoformat(body["since"]) == today
