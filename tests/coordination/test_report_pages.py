"""The outcome figures on the dashboard and the quarterly report (HTML to print, and CSV):
the same readers and small-cell rule as the API, definitions one click away, audited."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine

from audit.models import AuditEvent
from tests.browser import check_page, sign_in
from tests.coordination.test_metrics import NOW, known  # noqa: F401 - the data set fixture

Q2 = {"quarter": "2025-Q2"}


@time_machine.travel(NOW, tick=False)
def test_the_dashboard_shows_the_outcomes_per_pathway_with_definitions(client, known):  # noqa: F811
    client.force_login(known.coordinator)
    page = client.get("/dashboard/", {"since": "2025-06-01", "until": "2025-07-01"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Outcomes per pathway" in html
    assert "Started treatment within 14 days" in html
    assert "HEDIS IET initiation" in html  # the definition, in a details element
    assert "100% (10 of 10)" in html  # officer intervention, 14 days: 8 of 12, rounded
    assert "/dashboard/report/?task_force=" in html


@time_machine.travel(NOW, tick=False)
def test_the_quarterly_report_prints_every_figure_and_is_audited(client, known):  # noqa: F811
    client.force_login(known.coordinator)
    before = AuditEvent.objects.count()
    page = client.get("/dashboard/report/", {**Q2, "task_force": known.task_force.pk})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Quarterly report 2025-Q2" in html
    for label in ("Still in care after 90 days", "Days on a waiting list (median)", "No capacity"):
        assert label in html
    assert '<details class="govuk-details app-definitions" open>' in html
    assert "no-store" in page["Cache-Control"]
    assert AuditEvent.objects.count() == before + 1

    exported = client.get("/dashboard/report.csv", {**Q2, "task_force": known.task_force.pk})
    assert exported.status_code == 200
    assert 'filename="metrics-2025-Q2.csv"' in exported["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(exported.content.decode())))
    assert rows[0] == ["pathway", "metric", "share_or_median", "count", "of"]
    as_dict = {(r[0], r[1]): r[2:] for r in rows[1:]}
    assert as_dict[("officer_intervention", "treatment_engagement_34d_share")] == ["0.5", "5", "10"]
    assert as_dict[("officer_intervention", "median_days_waitlisted")] == ["10.0", "", ""]
    assert as_dict[("all", "referrals")] == ["", "15", ""]
    assert as_dict[("active_outreach", "referrals")] == ["", "<5", ""]
    assert as_dict[("officer_intervention", "decline_reasons:no_capacity")] == ["", "<5", ""]


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("quarter", ["2025-Q5", "June", "1999-Q1"])
def test_a_bad_quarter_is_a_400(client, known, quarter):  # noqa: F811
    client.force_login(known.coordinator)
    assert client.get("/dashboard/report/", {"quarter": quarter}).status_code == 400
    assert client.get("/dashboard/report.csv", {"quarter": quarter}).status_code == 400


@time_machine.travel(NOW, tick=False)
def test_another_task_force_is_a_404_and_others_see_their_own(client, known):  # noqa: F811
    client.force_login(known.outsider)
    other = {**Q2, "task_force": known.task_force.pk}
    assert client.get("/dashboard/report/", other).status_code == 404
    client.force_login(known.provider)
    mine = client.get("/dashboard/report/", Q2)
    assert mine.status_code == 200 and "Clinic" in mine.content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_report_fits_a_phone_and_passes_axe(browser, live_server, known):  # noqa: F811
    sign_in(
        browser, live_server.url, known.coordinator.username, "/dashboard/report/?quarter=2025-Q2"
    )
    assert "/dashboard/report/" in browser.current_url, browser.current_url
    check_page(browser)
