"""``/organization/``: the org admin adds a member, changes a role, deactivates; sets weekly
hours with day pickers that ``open_now`` then honours. Everyone else: 404."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from services_directory.models import Membership, Role
from services_directory.selectors import ServiceFilters, service_list
from tests.factories import UserFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(world):
    return member(organization=world.clinic, role=Role.ORG_ADMIN, username="clinic-admin")


def test_an_org_admin_adds_a_member_changes_the_role_and_deactivates(client, world, admin):
    newcomer = UserFactory(username="newcomer", email="new@example.invalid")
    client.force_login(admin)
    response = client.post(
        "/organization/",
        {"action": "add_member", "identifier": "new@example.invalid", "role": "provider"},
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=newcomer)
    assert membership.organization == world.clinic and membership.role == Role.PROVIDER
    client.post(
        "/organization/", {"action": "role", "membership": membership.pk, "role": "volunteer"}
    )
    membership.refresh_from_db()
    assert membership.role == Role.VOLUNTEER
    client.post("/organization/", {"action": "deactivate", "membership": membership.pk})
    newcomer.refresh_from_db()
    assert newcomer.is_active is False
    # someone of another organisation cannot be taken over
    taken = client.post(
        "/organization/",
        {"action": "add_member", "identifier": world.officer.username, "role": "provider"},
    )
    assert taken.status_code == 400 and 'href="#o-identifier"' in taken.content.decode()


def test_hours_set_on_the_page_are_what_open_now_honours(client, world, admin):
    client.force_login(admin)
    client.post(
        "/organization/",
        {
            "action": "hours",
            "service": str(world.treatment.pk),
            "days": ["MO", "Monday"],  # only the weekday codes are kept
            "opens_at": "09:00",
            "closes_at": "17:00",
        },
    )
    schedule = world.treatment.schedules.get()
    assert schedule.byday == "MO"
    monday_noon = datetime(2026, 11, 30, 11, 0, tzinfo=UTC)  # 12:00 in Berlin
    tuesday_noon = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)
    for at, expected in ((monday_noon, True), (tuesday_noon, False)):
        with time_machine.travel(at, tick=False):
            names = [c["name"] for c in service_list(filters=ServiceFilters(open_at=at))]
        assert ("Treatment" in names) is expected
    no_days = client.post(
        "/organization/",
        {"action": "hours", "service": str(world.treatment.pk), "opens_at": "09:00"},
    )
    assert no_days.status_code == 400 and 'href="#o-hours"' in no_days.content.decode()


def test_only_org_admins_see_the_page(client, world):
    for user in (world.provider, world.coordinator, world.officer):
        client.force_login(user)
        assert client.get("/organization/").status_code == 404


def test_services_without_a_stage_are_on_the_org_admins_to_do_list_until_classified(
    client, world, admin
):
    from services_directory.models import Service
    from tests.factories import ServiceFactory

    # given a service of the clinic imported without a stage, and one of another organisation
    imported = ServiceFactory(organization=world.clinic, name="Imported drop-in", stage="")
    ServiceFactory(organization=world.police, name="Not ours", stage="")
    client.force_login(admin)

    # when the org admin opens the page
    page = client.get("/organization/").content.decode()

    # then the service is on the to-do list with a stage to choose, the other is not
    assert "To do: services without a stage" in page
    assert "Stage of Imported drop-in" in page and "Not ours" not in page

    # when no stage is chosen, then the page says so and nothing changes
    refused = client.post("/organization/", {"action": "classify", "service": imported.pk})
    assert refused.status_code == 400
    assert 'href="#o-stage"' in refused.content.decode()
    assert Service.objects.get(pk=imported.pk).stage == ""

    # when a stage is chosen, then it is saved and the to-do list is empty
    saved = client.post(
        "/organization/", {"action": "classify", "service": imported.pk, "stage": "treatment"}
    )
    assert saved.status_code == 302
    assert Service.objects.get(pk=imported.pk).stage == "treatment"
    assert "To do: services without a stage" not in client.get("/organization/").content.decode()
