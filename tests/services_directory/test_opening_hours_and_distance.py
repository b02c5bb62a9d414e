"""``open_now`` across midnight, the week's end, time zones and DST; ``near`` ordering."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from services_directory.selectors import ServiceFilters, service_is_open, service_list
from services_directory.services import WeeklyHours, schedule_set_replace
from tests.factories import LocationFactory, OrganizationFactory, ServiceFactory

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")


def weekly(byday: str, opens: str, closes: str, **kwargs) -> WeeklyHours:
    return WeeklyHours(
        byday=byday,
        opens_at=time.fromisoformat(opens),
        closes_at=time.fromisoformat(closes),
        **kwargs,
    )


def open_ids(at: datetime) -> set:
    return {s["id"] for s in service_list(filters=ServiceFilters(open_at=at))}


def local(year, month, day, hour, minute=0, tz=BERLIN) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz)


def test_weekday_hours_open_and_close_on_the_minute():
    # given a service open Monday to Friday 09:00-17:00 in Berlin (2026-11-23 is a Monday)
    place = LocationFactory(time_zone="Europe/Berlin")
    service = ServiceFactory(
        organization=place.organization,
        locations=[place],
        schedules=[weekly("MO,TU,WE,TH,FR", "09:00", "17:00")],
    )
    # then
    assert service.pk not in open_ids(local(2026, 11, 23, 8, 59))
    assert service.pk in open_ids(local(2026, 11, 23, 9, 0))
    assert service.pk in open_ids(local(2026, 11, 23, 16, 59))
    assert service.pk not in open_ids(local(2026, 11, 23, 17, 0))
    assert service.pk not in open_ids(local(2026, 11, 28, 10, 0))  # Saturday


def test_hours_past_midnight_belong_to_the_day_they_start():
    # given a night service, Friday 22:00 to 03:00 (2026-11-27 is a Friday)
    place = LocationFactory()
    service = ServiceFactory(
        organization=place.organization,
        locations=[place],
        schedules=[weekly("FR", "22:00", "03:00")],
    )
    # then it is open late Friday and early Saturday, not early Friday
    assert service.pk not in open_ids(local(2026, 11, 27, 21, 59))
    assert service.pk in open_ids(local(2026, 11, 27, 23, 30))
    assert service.pk in open_ids(local(2026, 11, 28, 2, 59))
    assert service.pk not in open_ids(local(2026, 11, 28, 3, 0))
    assert service.pk not in open_ids(local(2026, 11, 27, 2, 0))


def test_sunday_night_hours_run_into_monday_across_the_week_end():
    # given Sunday 22:00 to 02:00 (2026-11-29 is a Sunday)
    place = LocationFactory()
    service = ServiceFactory(
        organization=place.organization,
        locations=[place],
        schedules=[weekly("SU", "22:00", "02:00")],
    )
    # then Monday 01:00 is still Sunday's night
    assert service.pk in open_ids(local(2026, 11, 29, 23, 0))
    assert service.pk in open_ids(local(2026, 11, 30, 1, 0))
    assert service.pk not in open_ids(local(2026, 11, 30, 2, 0))
    assert service.pk not in open_ids(local(2026, 11, 29, 1, 0))


def test_equal_opening_and_closing_times_mean_around_the_clock():
    place = LocationFactory()
    service = ServiceFactory(
        organization=place.organization,
        locations=[place],
        schedules=[weekly("WE", "00:00", "00:00")],
    )
    assert service.pk in open_ids(local(2026, 11, 25, 0, 0))
    assert service.pk in open_ids(local(2026, 11, 25, 23, 59))
    assert service.pk not in open_ids(local(2026, 11, 26, 0, 0))


def test_each_location_is_judged_in_its_own_time_zone():
    # given the same 09:00-17:00 hours in New York and in Tokyo
    org = OrganizationFactory()
    new_york = LocationFactory(organization=org, time_zone="America/New_York")
    tokyo = LocationFactory(organization=org, time_zone="Asia/Tokyo")
    hours = [weekly("MO,TU,WE,TH,FR", "09:00", "17:00")]
    in_new_york = ServiceFactory(organization=org, locations=[new_york], schedules=hours)
    in_tokyo = ServiceFactory(organization=org, locations=[tokyo], schedules=hours)
    # when it is Tuesday 15:00 UTC: 10:00 in New York, 00:00 Wednesday in Tokyo
    at = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    # then
    assert open_ids(at) == {in_new_york.pk}
    # and at Wednesday 01:00 UTC: 20:00 Tuesday in New York, 10:00 Wednesday in Tokyo
    assert open_ids(datetime(2026, 11, 25, 1, 0, tzinfo=UTC)) == {in_tokyo.pk}


def test_daylight_saving_time_moves_the_utc_hour():
    # given 09:00-17:00 in Berlin: 08:00 UTC in winter (CET), 07:00 UTC in summer (CEST)
    place = LocationFactory(time_zone="Europe/Berlin")
    service = ServiceFactory(
        organization=place.organization,
        locations=[place],
        schedules=[weekly("MO,TU,WE,TH,FR", "09:00", "17:00")],
    )
    # then 07:30 UTC is open on a July Wednesday and closed on a January Wednesday
    assert service.pk in open_ids(datetime(2026, 7, 15, 7, 30, tzinfo=UTC))
    assert service.pk not in open_ids(datetime(2026, 1, 14, 7, 30, tzinfo=UTC))
    # and the night the clocks go forward (2026-03-29, Sunday) follows local time
    night = ServiceFactory(
        organization=place.organization,
        locations=[place],
        schedules=[weekly("SA", "22:00", "06:00")],
    )
    assert night.pk in open_ids(datetime(2026, 3, 29, 3, 30, tzinfo=UTC))  # 05:30 CEST
    assert night.pk not in open_ids(datetime(2026, 3, 29, 4, 30, tzinfo=UTC))  # 06:30 CEST


def test_service_at_location_hours_override_service_hours_which_override_location_hours():
    org = OrganizationFactory()
    place = LocationFactory(organization=org, schedules=[weekly("MO", "08:00", "10:00")])
    # a service without hours of its own follows its location's
    follows_location = ServiceFactory(organization=org, locations=[place])
    # a service with its own hours uses them
    own_hours = ServiceFactory(
        organization=org, locations=[place], schedules=[weekly("MO", "12:00", "14:00")]
    )
    # a service-at-location's own hours win over the service's
    overridden = ServiceFactory(
        organization=org, locations=[place], schedules=[weekly("MO", "12:00", "14:00")]
    )
    schedule_set_replace(
        owner=overridden.service_at_locations.get(), schedules=[weekly("MO", "18:00", "19:00")]
    )
    monday = 23
    assert open_ids(local(2026, 11, monday, 9)) == {follows_location.pk}
    assert open_ids(local(2026, 11, monday, 13)) == {own_hours.pk}
    assert open_ids(local(2026, 11, monday, 18, 30)) == {overridden.pk}


def test_hours_outside_their_validity_dates_do_not_count():
    place = LocationFactory()
    service = ServiceFactory(
        organization=place.organization,
        locations=[place],
        schedules=[
            weekly(
                "MO", "09:00", "17:00", valid_from=date(2026, 12, 1), valid_to=date(2026, 12, 31)
            )
        ],
    )
    assert not service_is_open(service=service, at=local(2026, 11, 30, 10))
    assert service_is_open(service=service, at=local(2026, 12, 7, 10))
    assert not service_is_open(service=service, at=local(2027, 1, 4, 10))


def test_changing_a_locations_time_zone_moves_its_opening_hours():
    from services_directory.services import location_update

    place = LocationFactory(time_zone="Europe/Berlin")
    service = ServiceFactory(
        organization=place.organization,
        locations=[place],
        schedules=[weekly("TU", "09:00", "10:00")],
    )
    at = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)  # 09:30 Berlin, 08:30 London
    assert service.pk in open_ids(at)
    location_update(actor=None, location=place, data={"time_zone": "Europe/London"})
    assert service.pk not in open_ids(at)


def test_a_service_with_no_hours_is_never_open_now():
    place = LocationFactory()
    ServiceFactory(organization=place.organization, locations=[place])
    assert open_ids(local(2026, 11, 24, 12)) == set()


def haversine_km(a, b) -> float:
    (lat1, lon1), (lat2, lon2) = (map(math.radians, p) for p in (a, b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def test_near_orders_by_great_circle_distance_to_the_nearest_location():
    # given services in Berlin, Potsdam, Hamburg; one with two locations; one with none
    org = OrganizationFactory()
    berlin = LocationFactory(organization=org, latitude=52.5200, longitude=13.4050)
    potsdam = LocationFactory(organization=org, latitude=52.3906, longitude=13.0645)
    hamburg = LocationFactory(organization=org, latitude=53.5511, longitude=9.9937)
    munich = LocationFactory(organization=org, latitude=48.1351, longitude=11.5820)
    in_hamburg = ServiceFactory(organization=org, locations=[hamburg], name="A hamburg")
    in_potsdam = ServiceFactory(organization=org, locations=[potsdam], name="B potsdam")
    two_places = ServiceFactory(organization=org, locations=[munich, berlin], name="C two")
    nowhere = ServiceFactory(organization=org, name="D virtual")
    point = (52.50, 13.40)
    # when
    results = list(service_list(filters=ServiceFilters(near=point)))
    # then nearest first, the service without a location last
    assert [s["id"] for s in results] == [two_places.pk, in_potsdam.pk, in_hamburg.pk, nowhere.pk]

    assert results[0]["distance_km"] == pytest.approx(
        haversine_km(point, (52.52, 13.405)), abs=0.01
    )
    assert results[2]["distance_km"] == pytest.approx(
        haversine_km(point, (53.5511, 9.9937)), abs=0.01
    )
    assert results[3]["distance_km"] is None


def test_near_is_right_across_the_antimeridian():
    org = OrganizationFactory()
    fiji_east = LocationFactory(
        organization=org, latitude=-17.0, longitude=-179.9, time_zone="Pacific/Fiji"
    )
    far_west = LocationFactory(
        organization=org, latitude=-17.0, longitude=170.0, time_zone="Pacific/Fiji"
    )
    near = ServiceFactory(organization=org, locations=[fiji_east])
    far = ServiceFactory(organization=org, locations=[far_west])
    results = list(service_list(filters=ServiceFilters(near=(-17.0, 179.9))))
    assert [s["id"] for s in results] == [near.pk, far.pk]


def test_near_with_open_now_measures_to_the_nearest_open_location():
    org = OrganizationFactory()
    close_but_closed = LocationFactory(
        organization=org,
        latitude=52.52,
        longitude=13.405,
        schedules=[weekly("MO", "08:00", "09:00")],
    )
    far_but_open = LocationFactory(
        organization=org, latitude=53.55, longitude=9.99, schedules=[weekly("MO", "10:00", "20:00")]
    )
    service = ServiceFactory(organization=org, locations=[close_but_closed, far_but_open])
    at = local(2026, 11, 23, 12)
    with time_machine.travel(at, tick=False):
        results = list(service_list(filters=ServiceFilters(near=(52.52, 13.405), open_at=at)))

    assert [s["id"] for s in results] == [service.pk]
    assert results[0]["distance_km"] == pytest.approx(
        haversine_km((52.52, 13.405), (53.55, 9.99)), abs=0.01
    )


def test_moving_a_location_moves_its_open_now_distance():
    from services_directory.services import location_update

    place = LocationFactory(
        latitude=52.52, longitude=13.405, schedules=[weekly("MO", "08:00", "20:00")]
    )
    ServiceFactory(organization=place.organization, locations=[place])
    at = local(2026, 11, 23, 12)
    near = (52.52, 13.405)
    [before] = service_list(filters=ServiceFilters(near=near, open_at=at))
    assert before["distance_km"] == pytest.approx(0, abs=0.01)
    location_update(actor=None, location=place, data={"latitude": 53.55, "longitude": 9.99})
    [after] = service_list(filters=ServiceFilters(near=near, open_at=at))
    assert after["distance_km"] == pytest.approx(haversine_km(near, (53.55, 9.99)), abs=0.01)
