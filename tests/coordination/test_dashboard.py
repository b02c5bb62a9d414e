"""The flows dashboard page and its CSV export."""

from __future__ import annotations

import csv
import io
import re

import pytest

from audit.models import AuditEvent
from tests.coordination.flows_data import period

PAGE = "/dashboard/"
CSV = "/dashboard/flows.csv"


def test_anonymous_users_are_sent_to_sign_in(client, db):
    for url in ("/", PAGE, CSV):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_home_sends_someone_without_an_organisation_to_the_dashboard(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == PAGE


def test_a_coordinator_sees_the_task_force_as_pictures(client, flows_world):
    client.force_login(flows_world.coordinator)
    response = client.get(PAGE, period())
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<svg") >= 8  # Sankey, 6 funnels, the monthly series
    assert flows_world.task_force.name in html
    assert "Flows along the continuum of care" in html
    assert "&lt;5" in html  # the 3 naloxone-plus referrals, suppressed
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None  # no inline script
    assert "<style" not in html and "style=" not in html  # nothing inline for the CSP
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html


def test_a_provider_sees_its_own_organisation(client, flows_world):
    client.force_login(flows_world.recovery_worker)
    response = client.get(PAGE, period())
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html
    assert "Flows: Recovery" in html
    assert 'name="organization"' not in html  # nothing to choose from


def test_another_organisation_is_404(client, world):
    client.force_login(world.provider)
    assert client.get(PAGE, {"organization": str(world.police.pk)}).status_code == 404
    assert client.get(PAGE, {"task_force": world.task_force.pk}).status_code == 404
    assert client.get(CSV, {"task_force": world.task_force.pk}).status_code == 404


def test_bad_filters_are_shown_with_400(client, world):
    client.force_login(world.coordinator)
    response = client.get(PAGE, {"since": "2024-05-01", "until": "2024-04-01"})
    assert response.status_code == 400
    assert "Must be after since." in response.content.decode()
    assert client.get(CSV, {"since": "soon"}).status_code == 400


def test_empty_form_fields_mean_not_chosen(client, world):
    client.force_login(world.coordinator)
    response = client.get(PAGE, {"organization": "", "pathway": "", "since": "", "until": ""})
    assert response.status_code == 200


def test_the_csv_has_a_header_and_the_suppressed_cells(client, flows_world):
    client.force_login(flows_world.coordinator)
    response = client.get(CSV, period())
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["breakdown", "key", "step", "count", "median_seconds", "p90_seconds"]
    cells = {(r[0], r[1], r[2]): r[3] for r in rows[1:]}
    assert cells[("pathway", "naloxone_plus", "referrals")] == "<5"
    assert cells[("pathway", "officer_intervention", "referrals")] == "10"
    assert cells[("total", "all", "referrals")] == "25"
    for _, _, _, count, *_ in rows[1:]:
        assert count == "<5" or int(count) % 5 == 0
    # the export is audited
    assert AuditEvent.objects.filter(action="export", target_label="coordination.flows").exists()


@pytest.mark.parametrize("pathway", ["naloxone_plus", "officer_intervention"])
def test_one_pathway(client, flows_world, pathway):
    client.force_login(flows_world.coordinator)
    response = client.get(PAGE, {**period(), "pathway": pathway})
    assert response.status_code == 200
    assert response.content.decode().count("<svg") == 3
