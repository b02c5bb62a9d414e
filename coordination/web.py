"""The flows dashboard (server-rendered, no scripts): ``/`` sends a signed-in user to
``/dashboard/``; ``/dashboard/?task_force=&organization=&pathway=&since=&until=`` shows a
coordinator's task force (others: their own organisation) as a Sankey diagram, a funnel per
pathway and a monthly series; ``/dashboard/flows.csv`` exports the same flow table.

The same parameters and rules as ``GET /api/v1/flows/``: small cells suppressed for everyone,
another task force or organisation is a 404.
"""

from __future__ import annotations

import csv
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET

from audit.errors import NotFound, ValidationFailed
from coordination import svg
from coordination.api.flows import FlowParams
from coordination.flows import flow_table_rows, flows_export_record
from coordination.selectors.flows import flow_report_get
from referral.models import Pathway


def duration_text(seconds: int | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _query(request) -> QueryDict:
    """The parameters given, without empty ones (an empty form field means "not chosen")."""
    query = QueryDict(mutable=True)
    for key, values in request.GET.lists():
        kept = [v for v in values if v.strip()]
        if kept:
            query.setlist(key, kept)
    return query


def _report(request):
    params = FlowParams(data=_query(request))
    if not params.is_valid():
        return None, None, params.errors
    data = params.validated_data
    try:
        scope, report = flow_report_get(
            user=request.user,
            since=data["since"],
            until=data["until"],
            pathway=data.get("pathway"),
            task_force_id=data.get("task_force"),
            organization_id=data.get("organization"),
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except ValidationFailed as exc:
        return None, None, exc.errors
    return scope, report, None


@require_GET
@login_required
def home(request):
    return redirect("coordination-dashboard")


@require_GET
@login_required
def dashboard(request):
    scope, report, errors = _report(request)
    chosen = _query(request).dict()
    context = {"errors": errors, "chosen": chosen, "pathways": Pathway.choices}
    if errors:
        return render(request, "coordination/dashboard.html", context, status=400)
    transitions = [
        {
            **row,
            "median_text": duration_text(row["median_seconds"]),
            "p90_text": duration_text(row["p90_seconds"]),
        }
        for row in report["transitions"]
    ]
    headline = report["time_to_treatment"]
    context.update(
        {
            "scope": scope,
            "report": report,
            "transitions": transitions,
            "headline_median": duration_text(headline["median_seconds"]),
            "headline_p90": duration_text(headline["p90_seconds"]),
            "sankey": svg.continuum_sankey(report),
            "funnels": svg.pathway_funnels(report),
            "series": svg.monthly_series(report),
            "csv_query": urlencode(chosen),
        }
    )
    return render(request, "coordination/dashboard.html", context)


@require_GET
@login_required
def dashboard_csv(request):
    _, report, errors = _report(request)
    if errors:
        lines = [f"{field}: {' '.join(map(str, messages))}" for field, messages in errors.items()]
        return HttpResponse("\n".join(lines) + "\n", status=400, content_type="text/plain")
    flows_export_record(user=request.user, report=report)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="flows-{report["since"]}-{report["until"]}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(["breakdown", "key", "step", "count", "median_seconds", "p90_seconds"])
    writer.writerows(flow_table_rows(report))
    return response


urlpatterns = [
    path("", home, name="coordination-home"),
    path("dashboard/", dashboard, name="coordination-dashboard"),
    path("dashboard/flows.csv", dashboard_csv, name="coordination-flows-csv"),
]
