"""Case conferences on pages: plan one, add a case from the board (pseudonymous), minutes,
an action with owner and due date, the printable agenda (audited); others get 404."""

from __future__ import annotations

import pytest

from audit.models import AuditAction, AuditEvent
from coordination.models import ActionItem, AgendaItem, CaseConference

pytestmark = pytest.mark.django_db


def test_a_coordinator_plans_a_conference_from_the_board(client, world):
    client.force_login(world.coordinator)
    response = client.post(
        "/conferences/",
        {"task_force": world.task_force.pk, "title": "Weekly review", "held_on": "2026-12-07"},
    )
    conference = CaseConference.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/conferences/{conference.pk}/"
    page = client.get(f"/conferences/{conference.pk}/")
    # world.closed (not accepting) is on the board
    choice = f"no_capacity|service|{world.closed.pk}"
    assert choice in page.content.decode()
    client.post(f"/conferences/{conference.pk}/", {"action": "board_item", "board_item": choice})
    client.post(f"/conferences/{conference.pk}/", {"action": "minutes", "minutes": "Call them."})
    client.post(
        f"/conferences/{conference.pk}/",
        {
            "action": "action",
            "description": "Ask about places",
            "owner": str(world.coordinator.pk),
            "due_on": "2026-12-10",
        },
    )
    item = AgendaItem.objects.get()
    assert "Full house" in item.title
    action = ActionItem.objects.get()
    assert action.owner == world.coordinator and str(action.due_on) == "2026-12-10"
    conference.refresh_from_db()
    assert conference.minutes == "Call them."
    agenda = client.get(f"/conferences/{conference.pk}/agenda/")
    assert agenda.status_code == 200 and "Full house" in agenda.content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


def test_a_bad_form_is_400_and_others_get_404(client, world):
    client.force_login(world.coordinator)
    bad = client.post("/conferences/", {"task_force": world.task_force.pk, "title": ""})
    assert bad.status_code == 400 and 'href="#cf-title"' in bad.content.decode()
    client.post(
        "/conferences/",
        {"task_force": world.task_force.pk, "title": "Review", "held_on": "2026-12-07"},
    )
    conference = CaseConference.objects.get()
    for user in (world.provider, world.officer, world.outsider):
        client.force_login(user)
        assert client.get("/conferences/").status_code == 404
        assert client.get(f"/conferences/{conference.pk}/").status_code == 404
        assert client.get(f"/conferences/{conference.pk}/agenda/").status_code == 404
