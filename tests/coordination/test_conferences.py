"""Case conferences: agendas from the board or by hand, minutes, action items and the
printable agenda; coordinators of the task force only, pseudonymous throughout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from audit.models import AuditEvent
from coordination.models import ActionItem, CaseConference
from referral.services.referrals import referral_create
from services_directory.models import OrganizationKind, Role
from tests.factories import (
    OrganizationFactory,
    ServiceFactory,
    TaskForceFactory,
    member,
    person_create_for,
)

IDENTITY = {
    "given_name": "Zebulon",
    "family_name": "Quarrington",
    "birth_date": "1979-04-13",
    "phone": "+4915799999",
    "notes": "Sleeps behind the Hauptbahnhof",
}


@pytest.fixture
def conference(world):
    return CaseConference.objects.create(
        task_force=world.task_force,
        held_on=datetime(2025, 7, 1, tzinfo=UTC).date(),
        title="July case conference",
        created_by=world.coordinator,
    )


@pytest.fixture
def other_coordinator(world):
    office = OrganizationFactory(name="Other office", kind=OrganizationKind.MUNICIPALITY)
    TaskForceFactory(organizations=[office, world.outsider_org])
    return member(organization=office, role=Role.COORDINATOR, username="coord-other")


def _overdue_referral_of_identified_person(world):
    person = person_create_for(world.officer, display_name="JD", **IDENTITY)
    with time_machine.travel(datetime.now(tz=UTC) - timedelta(days=3), tick=False):
        referral, _ = referral_create(
            sender=world.officer,
            service=world.treatment,
            pathway="officer_intervention",
            person=person,
            reason="Zebulon Quarrington asked for a bed",
        )
    return person, referral


def _audit(target) -> list[str]:
    return list(
        AuditEvent.objects.filter(
            target_label=target._meta.label_lower, target_id=str(target.pk)
        ).values_list("action", flat=True)
    )


@pytest.mark.django_db
def test_a_coordinator_creates_and_lists_conferences_of_the_task_force(world, api_client):
    api_client.force_authenticate(world.coordinator)

    created = api_client.post(
        "/api/v1/conferences/",
        {"task_force": world.task_force.pk, "held_on": "2025-07-01", "title": "July"},
        format="json",
    )

    assert created.status_code == 201, created.content
    body = created.json()
    assert body["title"] == "July"
    assert body["agenda_items"] == [] and body["action_items"] == []
    assert body["agenda_html"] == f"/api/v1/conferences/{body['id']}/agenda.html"
    listed = api_client.get("/api/v1/conferences/", {"task_force": world.task_force.pk})
    assert [c["id"] for c in listed.json()["results"]] == [body["id"]]
    assert _audit(CaseConference.objects.get()) == ["create"]


@pytest.mark.django_db
def test_everyone_but_the_task_forces_coordinators_gets_404(
    world, api_client, conference, other_coordinator
):
    base = f"/api/v1/conferences/{conference.pk}"
    for user in (world.officer, world.provider, world.outsider, other_coordinator):
        api_client.force_authenticate(user)
        assert api_client.get(base + "/").status_code == 404
        assert api_client.get(base + "/agenda.html").status_code == 404
        assert api_client.patch(base + "/", {"minutes": "x"}, format="json").status_code == 404
        assert (
            api_client.post(base + "/agenda-items/", {"title": "x"}, format="json").status_code
            == 404
        )
        assert (
            api_client.post(base + "/actions/", {"description": "x"}, format="json").status_code
            == 404
        )
        listed = api_client.get("/api/v1/conferences/", {"task_force": world.task_force.pk})
        assert listed.status_code == 404
        created = api_client.post(
            "/api/v1/conferences/",
            {"task_force": world.task_force.pk, "held_on": "2025-07-01", "title": "Mine"},
            format="json",
        )
        assert created.status_code == 404
    assert CaseConference.objects.count() == 1
    conference.refresh_from_db()
    assert conference.minutes == ""


@pytest.mark.django_db
def test_agenda_items_come_from_the_board_or_by_hand_pseudonymously(world, api_client, conference):
    person, referral = _overdue_referral_of_identified_person(world)
    api_client.force_authenticate(world.coordinator)
    url = f"/api/v1/conferences/{conference.pk}/agenda-items/"

    from_board = api_client.post(
        url,
        {"rule": "past_sla", "target_type": "referral", "target_id": str(referral.pk)},
        format="json",
    )
    by_hand = api_client.post(
        url, {"title": "Naloxone stock at the shelter", "discussion": "Low."}, format="json"
    )

    assert from_board.status_code == 201, from_board.content
    item = from_board.json()
    assert item["title"].startswith("Referral past its SLA: JD, Police to Treatment")
    assert item["person"] == {"id": str(person.pk), "display_name": "JD"}
    assert item["referral"] == {"id": str(referral.pk), "status": "sent"}
    assert item["position"] == 0
    assert by_hand.status_code == 201
    assert by_hand.json()["position"] == 1
    assert by_hand.json()["person"] is None
    detail = api_client.get(f"/api/v1/conferences/{conference.pk}/")
    text = detail.content.decode()
    assert [i["id"] for i in detail.json()["agenda_items"]] == [item["id"], by_hand.json()["id"]]
    for value in IDENTITY.values():
        assert value not in text
    assert "Zebulon" not in text  # the referral's reason is never copied in


@pytest.mark.django_db
def test_a_board_item_outside_the_task_force_or_half_given_is_refused(
    world, api_client, conference
):
    api_client.force_authenticate(world.coordinator)
    url = f"/api/v1/conferences/{conference.pk}/agenda-items/"
    # a referral made in another task force (every referral belongs to one)
    TaskForceFactory(name="Elsewhere", organizations=[world.outsider_org])
    elsewhere = member(organization=world.outsider_org, role=Role.PROVIDER, username="ew")
    service = ServiceFactory(organization=world.outsider_org, stage="treatment")
    other_tf_referral, _ = referral_create(
        sender=elsewhere, service=service, pathway="self_referral"
    )
    response = api_client.post(
        url,
        {"rule": "past_sla", "target_type": "referral", "target_id": str(other_tf_referral.pk)},
        format="json",
    )
    assert response.status_code == 400
    assert "target_id" in response.json()["errors"]
    half = api_client.post(url, {"rule": "past_sla"}, format="json")
    assert half.status_code == 400
    assert set(half.json()["errors"]) == {"target_type", "target_id"}
    empty = api_client.post(url, {}, format="json")
    assert empty.status_code == 400


@pytest.mark.django_db
def test_minutes_and_discussion_are_patched_and_audited(world, api_client, conference):
    api_client.force_authenticate(world.coordinator)
    item = api_client.post(
        f"/api/v1/conferences/{conference.pk}/agenda-items/", {"title": "JD"}, format="json"
    ).json()

    patched = api_client.patch(
        f"/api/v1/conferences/{conference.pk}/",
        {"minutes": "JD: clinic will call back.\nKit: no news."},
        format="json",
    )
    discussed = api_client.patch(
        f"/api/v1/conferences/{conference.pk}/agenda-items/{item['id']}/",
        {"discussion": "Bed expected on Friday."},
        format="json",
    )

    assert patched.status_code == 200
    assert patched.json()["minutes"] == "JD: clinic will call back.\nKit: no news."
    assert discussed.status_code == 200
    assert discussed.json()["discussion"] == "Bed expected on Friday."
    assert _audit(conference) == ["update"]
    # the same minutes again change nothing and write no second event
    api_client.patch(
        f"/api/v1/conferences/{conference.pk}/",
        {"minutes": "JD: clinic will call back.\nKit: no news."},
        format="json",
    )
    assert _audit(conference) == ["update"]


@pytest.mark.django_db
def test_action_items_have_an_owner_and_due_date_and_are_completed_once(
    world, api_client, conference, other_coordinator
):
    api_client.force_authenticate(world.coordinator)
    url = f"/api/v1/conferences/{conference.pk}/actions/"

    added = api_client.post(
        url,
        {"description": "Call JD's key worker", "owner": world.provider.pk, "due_on": "2025-07-04"},
        format="json",
    )
    not_a_member = api_client.post(
        url, {"description": "x", "owner": other_coordinator.pk}, format="json"
    )

    assert added.status_code == 201, added.content
    action = added.json()
    assert action["owner"] == {"id": world.provider.pk, "username": "provider-t"}
    assert action["due_on"] == "2025-07-04"
    assert action["done_at"] is None
    assert not_a_member.status_code == 400
    assert "owner" in not_a_member.json()["errors"]
    done = api_client.post(f"{url}{action['id']}/complete/", {}, format="json")
    again = api_client.post(f"{url}{action['id']}/complete/", {}, format="json")
    assert done.status_code == 200
    assert done.json()["done_at"] is not None
    assert again.json()["done_at"] == done.json()["done_at"]
    assert _audit(ActionItem.objects.get()) == ["create", "update"]
    reopened = api_client.post(f"{url}{action['id']}/complete/", {"done": False}, format="json")
    assert reopened.json()["done_at"] is None


@pytest.mark.django_db
def test_the_printable_agenda_has_display_names_and_no_identifying_data(
    world, api_client, conference
):
    # given an agenda with a board item for an identified person, minutes and an action
    person, referral = _overdue_referral_of_identified_person(world)
    api_client.force_authenticate(world.coordinator)
    base = f"/api/v1/conferences/{conference.pk}"
    item = api_client.post(
        base + "/agenda-items/",
        {"rule": "past_sla", "target_type": "referral", "target_id": str(referral.pk)},
        format="json",
    ).json()
    api_client.post(
        base + "/agenda-items/",
        {"rule": "stalled", "target_type": "person", "target_id": str(person.pk)},
        format="json",
    )
    api_client.patch(base + "/", {"minutes": "Discussed JD; clinic to confirm."}, format="json")
    api_client.post(
        base + "/actions/",
        {"description": "Confirm a bed", "owner": world.provider.pk, "agenda_item": item["id"]},
        format="json",
    )

    # when the coordinator exports it
    response = api_client.get(base + "/agenda.html")

    # then it is a printable page with pseudonyms only, and the export is audited
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "July case conference" in html
    assert "Person: JD" in html
    assert "Referral past its SLA" in html
    assert "Discussed JD; clinic to confirm." in html
    assert "Confirm a bed" in html and "provider-t" in html
    # the print styles live in the static stylesheet (no inline style, for the CSP)
    assert 'href="/static/continuum.css"' in html
    from django.conf import settings

    assert "@media print" in (settings.BASE_DIR / "static" / "continuum.css").read_text()
    for value in IDENTITY.values():
        assert value not in html
    assert "Zebulon" not in html and "Quarrington" not in html
    assert "export" in _audit(conference)
