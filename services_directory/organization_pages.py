"""``/organization/``: the org admin's own organisation. Members (add an account by username
or email with a role, change the role, deactivate, which ends its sign-in and tokens), a
to-do list of services imported without a stage (not offered for referrals until given one),
and each service's weekly hours with day and time pickers: days are the seven weekday codes
that ``open_now`` reads, so a day it would ignore cannot be saved, and the page says when a
service's own hours override its locations' hours (``opening_hours_rebuild``). Everyone but
an org admin gets 404."""

from __future__ import annotations

from datetime import time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.errors import DomainError
from core.web import error_summary
from services_directory.accounts import user_deactivate
from services_directory.directory_pages import DAY_NAMES, hours_text
from services_directory.models import WEEKDAYS, Membership, Role, Service, Stage
from services_directory.selectors import services_unclassified
from services_directory.services import (
    WeeklyHours,
    member_add,
    member_role_change,
    schedule_set_replace,
    service_update,
)

FIELD_IDS = {
    "identifier": "o-identifier",
    "role": "o-role",
    "hours": "o-hours",
    "stage": "o-stage",
}


def _admin_membership(request) -> Membership:
    membership = getattr(request.user, "membership", None)
    if membership is None or membership.role != Role.ORG_ADMIN:
        raise Http404()
    return membership


def _time(value: str) -> time | None:
    try:
        return time.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
@require_http_methods(["GET", "POST"])
def organization_page(request):
    membership = _admin_membership(request)
    organization = membership.organization
    errors: dict = {}
    if request.method == "POST":
        form = request.POST
        action = form.get("action", "")
        try:
            if action == "add_member":
                member_add(
                    actor=request.user,
                    organization=organization,
                    identifier=form.get("identifier", ""),
                    role=form.get("role", ""),
                )
            elif action in ("role", "deactivate"):
                target = (
                    Membership.objects.filter(
                        organization=organization, pk=form.get("membership", "0") or 0
                    )
                    .select_related("user", "organization")
                    .first()
                )
                if target is None:
                    raise Http404()
                if action == "role":
                    member_role_change(actor=request.user, membership=target, role=form["role"])
                else:
                    user_deactivate(actor=request.user, user=target.user)
            elif action == "classify":
                service = Service.objects.filter(
                    organization=organization, pk=form.get("service"), stage=""
                ).first()
                if service is None:
                    raise Http404()
                stage = form.get("stage", "")
                if stage not in Stage.values:
                    errors["stage"] = [_("Choose the stage this service serves.")]
                else:
                    service_update(actor=request.user, service=service, data={"stage": stage})
            elif action == "hours":
                service = Service.objects.filter(
                    organization=organization, pk=form.get("service")
                ).first()
                if service is None:
                    raise Http404()
                days = [d for d in form.getlist("days") if d in WEEKDAYS]
                opens, closes = _time(form.get("opens_at", "")), _time(form.get("closes_at", ""))
                if form.get("clear") == "yes":
                    schedule_set_replace(owner=service, schedules=[])
                elif not days or opens is None or closes is None:
                    errors["hours"] = [_("Choose at least one day and both times.")]
                else:
                    existing = [
                        WeeklyHours(byday=s.byday, opens_at=s.opens_at, closes_at=s.closes_at)
                        for s in service.schedules.all()
                        if s.opens_at and s.closes_at
                    ]
                    new = WeeklyHours(byday=",".join(days), opens_at=opens, closes_at=closes)
                    schedule_set_replace(owner=service, schedules=[*existing, new])
            else:
                raise Http404()
        except DomainError as exc:
            errors = exc.errors or {"identifier": [exc.message]}
        if not errors:
            messages.success(request, _("Saved."))
            return redirect("organization-page")
    members = Membership.objects.filter(organization=organization).select_related("user")
    services = []
    for service in Service.objects.filter(organization=organization).prefetch_related(
        "schedules", "locations__schedules"
    ):
        own = [
            {"byday": s.byday, "opens_at": s.opens_at, "closes_at": s.closes_at}
            for s in service.schedules.all()
        ]
        located = [
            {
                "name": location.name,
                "hours": hours_text(
                    [
                        {"byday": s.byday, "opens_at": s.opens_at, "closes_at": s.closes_at}
                        for s in location.schedules.all()
                    ]
                ),
            }
            for location in service.locations.all()
        ]
        services.append(
            {
                "service": service,
                "hours": hours_text(own),
                "locations": located,
                "overrides": bool(own) and any(loc["hours"] for loc in located),
            }
        )
    context = {
        "organization": organization,
        "members": members,
        "roles": Role.choices,
        "services": services,
        "unclassified": services_unclassified(organization_id=organization.pk),
        "stages": Stage.choices,
        "days": [(code, DAY_NAMES[code]) for code in WEEKDAYS],
        "error_items": error_summary(errors, FIELD_IDS),
        "field_errors": {k: " ".join(map(str, v)) for k, v in errors.items()},
    }
    return render(
        request, "services_directory/organization.html", context, status=400 if errors else 200
    )


urlpatterns = [path("organization/", organization_page, name="organization-page")]
