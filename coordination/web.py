"""The flows dashboard (server-rendered, no scripts):
``/dashboard/?task_force=&organization=&pathway=&since=&until=`` shows a coordinator's task
force (others: their own organisation) as a Sankey diagram, a funnel per pathway and a
monthly series; ``/dashboard/flows.csv`` exports the same flow table.

The same parameters and rules as ``GET /api/v1/flows/``: small cells suppressed for everyone,
another task force or organisation is a 404.

``/board/?task_force=&rule=&include_resolved=`` is the task-force board for its coordinators
(everyone else: 404), pseudonymous like ``GET /api/v1/board/``; each item's form posts to
``/board/items/`` to assign, annotate, resolve or reopen it through the same service as the
API (audited), then comes back to the item.
"""

from __future__ import annotations

import csv
from datetime import date
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coordination import svg
from coordination.api.flows import FlowParams
from coordination.flows.export import flow_table_rows, flows_export_record
from coordination.metrics import (
    DEFINITIONS,
    HEADLINE,
    LABELS,
    METRICS,
    metric_text,
    metrics_export_record,
    metrics_table_rows,
)
from coordination.models import BoardRule
from coordination.selectors import (
    coordinated_task_force_get,
    coordinated_task_forces,
    task_force_coordinators,
)
from coordination.selectors.board import board_get
from coordination.selectors.conferences import action_item_get, conference_get, conference_list
from coordination.selectors.flows import flow_report_get, metrics_get
from coordination.services import (
    action_item_add,
    action_item_complete,
    agenda_item_add,
    board_item_state_set,
    conference_agenda_export,
    conference_create,
    conference_update,
)
from core.errors import NotFound, ValidationFailed
from core.text import whole_number
from core.web import error_summary
from referral.models import Pathway, ReferralStatus
from referral.reasons import reason_label
from services_directory.models import Stage


def code_label(code: str) -> str:
    """The label a person reads for a status, stage or pathway code."""
    for choices in (ReferralStatus, Stage, Pathway):
        if code in choices.values:
            return str(choices(code).label)
    return code.replace("_", " ").capitalize()


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
def dashboard(request):
    scope, report, errors = _report(request)
    chosen = _query(request).dict()
    context = {"errors": errors, "chosen": chosen, "pathways": Pathway.choices}
    if errors:
        return render(request, "coordination/dashboard.html", context, status=400)
    transitions = [
        {
            **row,
            "from_label": code_label(row["from"]),
            "to_label": code_label(row["to"]),
            "median_text": duration_text(row["median_seconds"]),
            "p90_text": duration_text(row["p90_seconds"]),
        }
        for row in report["transitions"]
    ]
    headline = report["time_to_treatment"]
    _scope, metrics = metrics_get(
        user=request.user,
        since=date.fromisoformat(report["since"]),
        until=date.fromisoformat(report["until"]),
        pathway=report["pathway"],
        task_force_id=scope.task_force.pk if scope.task_force else None,
        organization_id=scope.organization.pk if scope.organization else None,
    )
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
            "metric_rows": _metric_rows(metrics, HEADLINE),
            "report_query": urlencode(
                {"task_force": scope.task_force.pk} if scope.task_force else {}
            ),
        }
    )
    return render(request, "coordination/dashboard.html", context)


def _metric_rows(metrics: dict, names) -> dict:
    """The metrics as the pages show them: for each metric its label, definition and the
    text of its value overall and per pathway."""
    return {
        "names": [{"name": n, "label": LABELS[n], "definition": DEFINITIONS[n]} for n in names],
        "rows": [
            {
                "label": _("All pathways") if key is None else row["label"],
                "values": [metric_text(row[n]) for n in names],
            }
            for key, row in [(None, metrics["totals"])]
            + [(r["pathway"], r) for r in metrics["pathways"]]
        ],
    }


# --- the quarterly report ------------------------------------------------------------------

REASON_METRICS = ("unsuccessful_reasons", "decline_reasons")


def _quarter(text: str | None) -> tuple[date, date] | None:
    """``YYYY-Qn`` as its first day and the first day after it; by default the last whole
    quarter; None for anything else."""
    if not text:
        today = timezone.now().date()
        first_month = 3 * ((today.month - 1) // 3) + 1
        until = date(today.year, first_month, 1)
        since = (
            date(until.year - 1, 10, 1)
            if first_month == 1
            else date(until.year, first_month - 3, 1)
        )
        return since, until
    try:
        year, quarter = text.upper().split("-Q")
        year, quarter = int(year), int(quarter)
    except ValueError:
        return None
    if not (2000 <= year <= 2100 and 1 <= quarter <= 4):
        return None
    since = date(year, 3 * quarter - 2, 1)
    until = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return since, until


def _quarter_metrics(request):
    period = _quarter(request.GET.get("quarter", "").strip())
    if period is None:
        return None, {"quarter": [_("A quarter such as 2025-Q2.")]}
    given = _query(request).copy()
    given.pop("quarter", None)
    given["since"], given["until"] = period[0].isoformat(), period[1].isoformat()
    params = FlowParams(data=given)
    if not params.is_valid():
        return None, params.errors
    data = params.validated_data
    try:
        _scope, metrics = metrics_get(
            user=request.user,
            since=data["since"],
            until=data["until"],
            task_force_id=data.get("task_force"),
            organization_id=data.get("organization"),
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except ValidationFailed as exc:
        return None, exc.errors
    quarter = (data["since"].month - 1) // 3 + 1
    metrics["quarter"] = f"{data['since'].year}-Q{quarter}"
    return metrics, None


@require_GET
@login_required
def quarterly_report(request):
    """The quarter's metrics for a task force (or one's organisation), printable; audited as
    an export."""
    metrics, errors = _quarter_metrics(request)
    if errors:
        return render(request, "coordination/report.html", {"errors": errors}, status=400)
    metrics_export_record(user=request.user, metrics=metrics)
    reasons = [
        {"label": LABELS[name], "codes": _reason_rows(metrics["totals"][name], name)}
        for name in ("decline_reasons", "unsuccessful_reasons")
    ]
    context = {
        "metrics": metrics,
        "table": _metric_rows(metrics, [m for m in METRICS if m not in REASON_METRICS]),
        "reasons": reasons,
        "open_definitions": True,
        "csv_query": urlencode({k: v for k, v in request.GET.items() if v.strip()}),
    }
    return render(request, "coordination/report.html", context)


def _reason_rows(value: dict, name: str) -> list[dict]:
    if name == "decline_reasons":
        return [
            {"label": reason_label("declined", code) or code, "count": metric_text(n)}
            for code, n in value.items()
        ]
    return [
        {"label": reason_label(status, code) or code, "count": metric_text(n)}
        for status, codes in value.items()
        for code, n in codes.items()
    ]


@require_GET
@login_required
def quarterly_report_csv(request):
    metrics, errors = _quarter_metrics(request)
    if errors:
        lines = [f"{field}: {' '.join(map(str, messages))}" for field, messages in errors.items()]
        return HttpResponse("\n".join(lines) + "\n", status=400, content_type="text/plain")
    metrics_export_record(user=request.user, metrics=metrics)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="metrics-{metrics["quarter"]}.csv"'
    writer = csv.writer(response)
    writer.writerow(["pathway", "metric", "share_or_median", "count", "of"])
    writer.writerows(metrics_table_rows(metrics))
    return response


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


# --- the board -------------------------------------------------------------------------------


@require_GET
@login_required
def board_page(request):
    rule = request.GET.get("rule", "").strip() or None
    if rule is not None and rule not in BoardRule.values:
        raise Http404("No such rule.")
    return _render_board(
        request,
        task_force_id=request.GET.get("task_force", "").strip(),
        rule=rule,
        include_resolved=request.GET.get("include_resolved") == "true",
    )


def _render_board(
    request, *, task_force_id, rule=None, include_resolved=False, problem="", status=200
):
    """The board page; with ``problem``, an action that was refused and why (400)."""
    coordinated = list(coordinated_task_forces(user=request.user).order_by("name"))
    if not task_force_id and coordinated:
        task_force_id = str(coordinated[0].pk)
    try:
        board = board_get(
            user=request.user,
            task_force_id=task_force_id,
            rule=rule,
            include_resolved=include_resolved,
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    sections = [
        {
            "rule": name,
            "label": BoardRule(name).label,
            "items": [item for item in board.items if item.rule == name],
            "truncated": board.truncated[name],
        }
        for name in board.counts
    ]
    context = {
        "board": board,
        "sections": sections,
        "coordinated": coordinated,
        "coordinators": task_force_coordinators(task_force=board.task_force),
        "rules": BoardRule.choices,
        "chosen_rule": rule or "",
        "include_resolved": include_resolved,
        "problem": problem,
    }
    return render(request, "coordination/board.html", context, status=status)


BOARD_ACTIONS = ("assign", "note", "resolve", "reopen")


@require_POST
@login_required
def board_item_act(request):
    """One action on one board item, then back to it (post/redirect/get: a reload or a
    second click sets the same values again, which changes nothing). A refused action
    changes nothing and answers 400 with the board and the reason."""
    form = request.POST
    action = form.get("action", "")
    try:
        task_force = coordinated_task_force_get(
            user=request.user, task_force_id=form.get("task_force")
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    back = f"{reverse('coordination-board')}?task_force={task_force.pk}"

    def refused(problem: str):
        return _render_board(request, task_force_id=task_force.pk, problem=problem, status=400)

    if action not in BOARD_ACTIONS:
        return refused(f"action: Unknown action {action!r}.")
    changes: dict = {}
    if action == "assign":
        assignee = form.get("assigned_to", "").strip()
        assignee_id = whole_number(assignee, minimum=1)
        if assignee and assignee_id is None:
            return refused("assigned_to: Not a coordinator of this task force.")
        changes["assigned_to"] = assignee_id
    elif action == "note":
        changes["note"] = form.get("note", "")[:5000]
    else:
        changes["resolved"] = action == "resolve"
    try:
        board_item_state_set(
            actor=request.user,
            task_force=task_force,
            rule=form.get("rule", ""),
            target_type=form.get("target_type", ""),
            target_id=form.get("target_id", ""),
            **changes,
        )
    except ValidationFailed as exc:
        problems = [f"{field}: {' '.join(map(str, m))}" for field, m in exc.errors.items()]
        return refused(" ".join(problems) or exc.message)
    messages.success(request, "Saved.")
    anchor = f"item-{form.get('rule')}-{form.get('target_type')}-{form.get('target_id')}"
    return redirect(f"{back}#{anchor}")


urlpatterns = [
    path("board/", board_page, name="coordination-board"),
    path("board/items/", board_item_act, name="coordination-board-item"),
    path("dashboard/", dashboard, name="coordination-dashboard"),
    path("dashboard/flows.csv", dashboard_csv, name="coordination-flows-csv"),
    path("dashboard/report/", quarterly_report, name="coordination-report"),
    path("dashboard/report.csv", quarterly_report_csv, name="coordination-report-csv"),
]


# --- case conferences ------------------------------------------------------------------------


def _date_or_none(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if value and value.strip() else None
    except ValueError:
        return None


@login_required
@require_http_methods(["GET", "POST"])
def conference_list_page(request):
    """The task force's case conferences, newest first, and a form to plan one."""
    coordinated = list(coordinated_task_forces(user=request.user).order_by("name"))
    chosen = request.POST.get("task_force") or request.GET.get("task_force", "").strip()
    if not chosen and coordinated:
        chosen = str(coordinated[0].pk)
    try:
        task_force = coordinated_task_force_get(user=request.user, task_force_id=chosen)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    errors: dict[str, str] = {}
    values = {"title": "", "held_on": ""}
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in values}
        held_on = _date_or_none(values["held_on"])
        if held_on is None:
            errors["held_on"] = _("Enter the day it is held.")
        if not values["title"]:
            errors["title"] = _("Give it a title.")
        if not errors:
            conference = conference_create(
                actor=request.user, task_force=task_force, held_on=held_on, title=values["title"]
            )
            messages.success(request, _("Conference planned: now add its cases."))
            return redirect("conference-page", conference_id=conference.pk)
    context = {
        "task_force": task_force,
        "coordinated": coordinated,
        "conferences": conference_list(user=request.user, task_force_id=task_force.pk),
        "values": values,
        "field_errors": errors,
        "error_items": error_summary(errors, {"title": "cf-title", "held_on": "cf-held-on"}),
    }
    return render(
        request, "coordination/conference_list.html", context, status=400 if errors else 200
    )


CONFERENCE_ACTIONS = ("board_item", "hand_item", "minutes", "action", "done", "reopen")


def _conference_or_404(user, conference_id):
    try:
        return conference_get(user=user, conference_id=conference_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@login_required
@require_http_methods(["GET", "POST"])
def conference_page(request, conference_id):
    """One conference: its agenda (cases from the board or by hand, pseudonymous), minutes
    and action items with owner and due date. Each form posts here with an ``action`` and
    comes back (post/redirect/get)."""
    conference = _conference_or_404(request.user, conference_id)
    problem = ""
    if request.method == "POST":
        form = request.POST
        action = form.get("action", "")
        try:
            if action == "board_item":
                rule, target_type, target_id = (form.get("board_item", "") + "||").split("|")[:3]
                agenda_item_add(
                    actor=request.user,
                    conference=conference,
                    rule=rule,
                    target_type=target_type,
                    target_id=target_id,
                )
            elif action == "hand_item":
                agenda_item_add(
                    actor=request.user,
                    conference=conference,
                    title=form.get("title", "")[:300],
                    discussion=form.get("discussion", "")[:5000],
                )
            elif action == "minutes":
                conference_update(
                    actor=request.user, conference=conference, minutes=form.get("minutes", "")
                )
            elif action == "action":
                owner = form.get("owner", "")
                action_item_add(
                    actor=request.user,
                    conference=conference,
                    description=form.get("description", ""),
                    owner_id=int(owner) if owner.isdigit() else None,
                    due_on=_date_or_none(form.get("due_on", "")),
                )
            elif action in ("done", "reopen"):
                item = action_item_get(conference=conference, action_id=form.get("item", "0"))
                action_item_complete(actor=request.user, action=item, done=action == "done")
            else:
                raise ValidationFailed("Unknown action.", errors={"action": ["Unknown."]})
        except (ValidationFailed, NotFound) as exc:
            details = [" ".join(map(str, m)) for m in (getattr(exc, "errors", None) or {}).values()]
            problem = " ".join([exc.message, *details])
        else:
            messages.success(request, _("Saved."))
            return redirect("conference-page", conference_id=conference.pk)
        conference = _conference_or_404(request.user, conference_id)
    board = board_get(user=request.user, task_force_id=conference.task_force_id)
    on_agenda = {
        (i.rule, i.referral_id or i.person_id) for i in conference.agenda_items.all() if i.rule
    }
    context = {
        "conference": conference,
        "agenda_items": list(conference.agenda_items.all()),
        "action_items": list(conference.action_items.all()),
        "board_items": [
            item for item in board.items if not item.state or not item.state.resolved_at
        ],
        "on_agenda": on_agenda,
        "owners": task_force_coordinators(task_force=conference.task_force),
        "problem": problem,
    }
    return render(
        request, "coordination/conference_detail.html", context, status=400 if problem else 200
    )


@require_GET
@login_required
def conference_agenda_page(request, conference_id):
    """The printable agenda (audited as an export, as the API's agenda.html)."""
    conference = _conference_or_404(request.user, conference_id)
    conference_agenda_export(actor=request.user, conference=conference)
    context = {
        "conference": conference,
        "agenda_items": list(conference.agenda_items.all()),
        "action_items": list(conference.action_items.all()),
    }
    response = render(request, "coordination/agenda.html", context)
    response["Cache-Control"] = "no-store"
    return response


urlpatterns += [
    path("conferences/", conference_list_page, name="conference-list-page"),
    path("conferences/<int:conference_id>/", conference_page, name="conference-page"),
    path(
        "conferences/<int:conference_id>/agenda/",
        conference_agenda_page,
        name="conference-agenda-page",
    ),
]
