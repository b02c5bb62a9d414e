"""``/directory/``: the same search as ``GET /api/v1/services/``, as cards with hours,
address, phone and a map link; choosing a service starts a referral."""

from __future__ import annotations

from datetime import time

import pytest

from services_directory.models import Stage
from services_directory.services import WeeklyHours
from tests.factories import LocationFactory, ServiceFactory, member

pytestmark = pytest.mark.django_db

ALWAYS = [WeeklyHours(byday="MO,TU,WE,TH,FR,SA,SU", opens_at=time(0, 0), closes_at=time(0, 0))]


@pytest.fixture
def directory(world):
    place = LocationFactory(
        organization=world.clinic,
        name="Harbour clinic",
        address_1="Rua do Cais 1",
        city="Lisboa",
        latitude=38.7,
        longitude=-9.14,
        time_zone="Europe/Lisbon",
        schedules=ALWAYS,
    )
    open_service = ServiceFactory(
        organization=world.clinic,
        name="Open door",
        stage=Stage.HARM_REDUCTION,
        locations=[place],
        languages=["pt", "ar"],
        phones=[{"number": "+351 21 000 0000"}],
    )
    shut = ServiceFactory(organization=world.clinic, name="Never open", stage=Stage.HARM_REDUCTION)
    return open_service, shut


def test_open_now_at_a_stage_in_a_language(client, world, directory):
    open_service, shut = directory
    client.force_login(world.officer)
    page = client.get(
        "/directory/", {"stage": "harm_reduction", "open_now": "true", "language": "ar"}
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "Open door" in html and "Never open" not in html
    assert "Rua do Cais 1, Lisboa" in html
    assert "Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday 00:00–00:00" in html
    assert 'href="tel:+351 21 000 0000"' in html
    assert "https://www.openstreetmap.org/?mlat=38.7&amp;mlon=-9.14" in html
    assert f'href="/referrals/new/?service={open_service.pk}"' in html


def test_near_orders_nearest_first_and_a_bad_point_is_400_linked_to_its_field(
    client, world, directory
):
    far = LocationFactory(organization=world.clinic, name="Far", latitude=52.5, longitude=13.4)
    ServiceFactory(organization=world.clinic, name="Far away", locations=[far])
    client.force_login(world.officer)
    page = client.get("/directory/", {"near": "38.71,-9.14"})
    names = [card["name"] for card in page.context["cards"]]
    assert names.index("Open door") < names.index("Far away")
    bad = client.get("/directory/", {"near": "lisbon"})
    assert bad.status_code == 400
    assert 'href="#d-near"' in bad.content.decode()


def test_staff_set_their_own_service_capacity_and_others_get_404(client, world):
    client.force_login(world.provider)
    response = client.post(
        f"/services/{world.treatment.pk}/capacity/",
        {"accepting_referrals": "true", "capacity_available": "3"},
    )
    assert response.status_code == 302
    world.treatment.refresh_from_db()
    assert world.treatment.capacity_available == 3 and world.treatment.accepting_referrals
    client.post(f"/services/{world.treatment.pk}/capacity/", {"capacity_available": ""})
    world.treatment.refresh_from_db()
    assert world.treatment.accepting_referrals is False
    assert world.treatment.capacity_available is None
    # someone of another organisation, or a volunteer of this one: 404, nothing changes
    client.force_login(world.outsider)
    assert client.post(f"/services/{world.treatment.pk}/capacity/", {}).status_code == 404
    volunteer = member(organization=world.clinic, role="volunteer")
    client.force_login(volunteer)
    assert client.post(f"/services/{world.treatment.pk}/capacity/", {}).status_code == 404
