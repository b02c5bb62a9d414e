"""Referral pages: ``/referrals/`` (received and sent, newest first), ``/referrals/new/`` (a
deflection referral to a service of the task force), ``/referrals/<id>/`` (status, the
steps so far, and the moves this user may make, as forms posting to
``/referrals/<id>/transition/``).

What shows is what the API shows: the same selectors decide, a referral the user may not
see is a 404, and people appear by display name only. Identifying fields are read through
the People API, where each read is audited; these pages never carry them.
"""

from __future__ import annotations

import uuid
from datetime import date

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import InvalidPage, Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import DomainError, NotFound
from core.web import error_summary, field_messages
from referral.models import (
    REDISCLOSURE_NOTICE,
    Pathway,
    ReferralStatus,
    Urgency,
    redisclosure_notice_text,
)
from referral.reasons import CODE_REQUIRED, OUTCOMES, REASON_CODES
from referral.selectors import referrals as selectors
from referral.selectors.access import emergency_access_person_ids, membership_of
from referral.selectors.consents import referral_disclosure
from referral.selectors.people import person_identity, person_list
from referral.services import emergency as emergency_services
from referral.services import referrals as services
from referral.workflow import transitions_open_to
from services_directory.models import Role, Service, Stage
from services_directory.selectors import services_to_refer_to, task_forces_of

PAGE_SIZE = 25
DIRECTIONS = ("received", "sent")
# Buttons say the action, not the state it leads to; "…" where a reason or a choice follows.
ACTION_LABELS = {
    ReferralStatus.ACCEPTED: gettext_lazy("Accept"),
    ReferralStatus.DECLINED: gettext_lazy("Decline…"),
    ReferralStatus.WAITLISTED: gettext_lazy("Put on the waiting list…"),
    ReferralStatus.ENGAGED: gettext_lazy("Record engagement"),
    ReferralStatus.COMPLETED: gettext_lazy("Complete"),
    ReferralStatus.DISENGAGED: gettext_lazy("Record lost to follow-up…"),
    ReferralStatus.FORWARDED: gettext_lazy("Forward…"),
    ReferralStatus.WITHDRAWN: gettext_lazy("Withdraw…"),
}


def _referral_or_404(user, referral_id):
    try:
        return selectors.referral_get(user=user, referral_id=referral_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _error_text(exc: DomainError) -> str:
    """The refusal in the page's words: the API's messages without its field names (the
    form around them says which field it is)."""
    details = [" ".join(map(str, messages)) for messages in (exc.errors or {}).values()]
    return " ".join([str(exc.message), *details])


@require_GET
@login_required
def referral_list_page(request):
    membership = membership_of(request.user)
    direction = request.GET.get("direction", "")
    if direction not in DIRECTIONS:
        kind = membership.organization.kind if membership else ""
        direction = "sent" if kind in ("police", "red_cross", "municipality") else "received"
    status = request.GET.get("status", "")
    if status and status not in ReferralStatus.values:
        raise Http404(_("No such status."))
    filters = selectors.ReferralFilters(direction=direction, status=status or None)
    referrals = selectors.CountedReferrals(user=request.user, filters=filters)
    try:
        page = Paginator(referrals, PAGE_SIZE).page(request.GET.get("page", 1))
    except InvalidPage as exc:
        raise Http404(str(exc)) from exc
    rows = list(page.object_list)
    chains = selectors.referral_forward_chains(referrals=rows) if direction == "sent" else {}
    for row in rows:
        row.chain = chains.get(row.pk, [])
    page.object_list = rows
    own_services = []
    if membership and membership.role in (Role.PROVIDER, Role.ORG_ADMIN):
        own_services = list(
            Service.objects.filter(organization_id=membership.organization_id).order_by("name")
        )
    context = {
        "page": page,
        "direction": direction,
        "status": status,
        "statuses": ReferralStatus.choices,
        "can_refer": membership is not None,
        "own_services": own_services if direction == "received" else [],
    }
    return render(request, "referral/referral_list.html", context)


PATHWAY_HELP = {
    Pathway.SELF_REFERRAL: gettext_lazy(
        "The person asks for help themselves, at a police station or a service, without fear "
        "of arrest."
    ),
    Pathway.ACTIVE_OUTREACH: gettext_lazy(
        "Outreach workers or officers seek people out in the street and offer a way in."
    ),
    Pathway.NALOXONE_PLUS: gettext_lazy(
        "After an overdose, the person is offered treatment and support."
    ),
    Pathway.OFFICER_PREVENTION: gettext_lazy(
        "An officer refers someone during routine contact, with no offence involved."
    ),
    Pathway.OFFICER_INTERVENTION: gettext_lazy(
        "Instead of a charge or an arrest, an officer refers the person to treatment or a service."
    ),
    Pathway.COMMUNITY_RESPONSE: gettext_lazy(
        "A health or social team, not the police, answers a call from the community."
    ),
}
NEW_FIELD_IDS = {
    "person": "n-person",
    "to_service": "n-service",
    "pathway": "n-pathway",
    "urgency": "n-urgency",
    "reason": "n-reason",
    "client_uuid": "n-service",
}


@login_required
@require_http_methods(["GET", "POST"])
def referral_new_page(request):
    """A referral in three steps on one URL, each a plain form: what (person, service,
    pathway, urgency, why), then the consent gate explained when the person's identity
    would need consent that is not there (send anonymous, or record consent first), then,
    for a named referral, check your answers before it is sent."""
    membership = membership_of(request.user)
    if membership is None:
        raise Http404(_("You are not a member of an organisation."))
    choices = services_to_refer_to(organization_id=membership.organization_id)
    people = list(
        person_list(user=request.user).filter(organization_id=membership.organization_id)[:200]
    )
    source = request.POST if request.method == "POST" else request.GET
    values = {
        "person": source.get("person", ""),
        "to_service": source.get("to_service", "") or source.get("service", ""),
        "pathway": source.get("pathway", ""),
        "urgency": source.get("urgency", "") or Urgency.ROUTINE,
        "reason": source.get("reason", ""),
    }
    context = {
        "services": choices,
        "people": people,
        "pathways": [(v, label, PATHWAY_HELP[v]) for v, label in Pathway.choices],
        "task_forces": list(task_forces_of(organization_id=membership.organization_id)),
        "urgencies": Urgency.choices,
        "values": values,
        "client_uuid": request.POST.get("client_uuid") or uuid.uuid4(),
        "step": "what",
    }
    if request.method == "GET":
        return render(request, "referral/referral_new.html", context)
    form = request.POST
    errors: dict[str, str] = {}
    to_stage = (
        values["to_service"].removeprefix("stage:")
        if values["to_service"].startswith("stage:")
        else None
    )
    service = None
    if to_stage is None:
        service = choices.filter(pk=_uuid_or_none(values["to_service"])).first()
    if (service is None and to_stage is None) or (to_stage and to_stage not in Stage.values):
        errors["to_service"] = _("Choose a service of your task force that accepts referrals.")
    person = None
    if values["person"]:
        person = next((p for p in people if str(p.pk) == values["person"]), None)
        if person is None:
            errors["person"] = _("Choose someone your organisation recorded, or nobody.")
    if values["pathway"] not in Pathway.values:
        errors["pathway"] = _("Choose the pathway.")
    if values["urgency"] not in Urgency.values:
        errors["urgency"] = _("Routine or urgent.")
    client_uuid = _uuid_or_none(form.get("client_uuid"))
    if client_uuid is None:
        errors["client_uuid"] = _("Reload the page and try again.")
    if errors or form.get("step") == "edit":
        context["errors"] = errors
        context["field_errors"] = errors
        context["error_items"] = error_summary(errors, NEW_FIELD_IDS)
        status = 400 if errors else 200
        return render(request, "referral/referral_new.html", context, status=status)
    if to_stage:
        # identity crosses only when a service takes it, under consent: nothing to ask now
        return _send_to_stage(request, context, to_stage, person, values, client_uuid, form)
    disclosure = referral_disclosure(user=request.user, person=person, service=service)
    send_as = form.get("send_as", "")
    context.update({"person": person, "service": service, "disclosure": disclosure})
    context["pathway_label"] = Pathway(values["pathway"]).label
    context["urgency_label"] = Urgency(values["urgency"]).label
    if disclosure == "needs_consent" and send_as != "anonymous":
        context["step"] = "consent"
        return render(request, "referral/referral_new.html", context)
    if disclosure == "named" and form.get("confirm") != "yes":
        context["step"] = "check"
        return render(request, "referral/referral_new.html", context)
    try:
        referral, created = services.referral_create(
            sender=request.user,
            service=service,
            person=person,
            pathway=values["pathway"],
            reason=values["reason"][:2000],
            urgency=values["urgency"],
            client_uuid=client_uuid,  # a resubmitted form makes no second referral
            if_no_consent="anonymous",
            task_force=_int_or_none(form.get("task_force")),
        )
    except DomainError as exc:
        context["step"] = "what"
        context["error_items"] = error_summary(
            exc.errors or {"to_service": [exc.message]}, NEW_FIELD_IDS
        )
        context["field_errors"] = field_messages(exc.errors)
        return render(request, "referral/referral_new.html", context, status=exc.http_status)
    if not created:
        text = _("That referral was sent already.")
    elif referral.identified:
        text = _("Referral sent, named: the service knows who is coming.")
    else:
        text = _("Referral sent, anonymous.")
    messages.success(request, text)
    return redirect("referral-page", referral_id=referral.pk)


def _send_to_stage(request, context, stage, person, values, client_uuid, form):
    try:
        referral, created = services.referral_create_for_stage(
            sender=request.user,
            stage=stage,
            person=person,
            pathway=values["pathway"],
            reason=values["reason"][:2000],
            urgency=values["urgency"],
            client_uuid=client_uuid,
            task_force=_int_or_none(form.get("task_force")),
        )
    except DomainError as exc:
        errors = {
            ("to_service" if field == "to_stage" else field): messages_
            for field, messages_ in (exc.errors or {"to_service": [exc.message]}).items()
        }
        context["error_items"] = error_summary(errors, NEW_FIELD_IDS)
        context["field_errors"] = field_messages(errors)
        return render(request, "referral/referral_new.html", context, status=exc.http_status)
    messages.success(
        request,
        _("That referral was sent already.")
        if not created
        else _(
            "Referral sent to every service of that stage with a place: the first to accept "
            "takes it."
        ),
    )
    return redirect("referral-page", referral_id=referral.pk)


def _int_or_none(value) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _date_or_none(value) -> date | None:
    try:
        return date.fromisoformat((value or "").strip()) if value else None
    except ValueError:
        return None


def _uuid_or_none(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


@require_GET
@login_required
def referral_page(request, referral_id):
    return _render_referral(request, _referral_or_404(request.user, referral_id))


def _render_referral(
    request, referral, *, problem: str = "", status: int = 200, note_error: str = ""
):
    """The referral's page; with ``problem``, a move that was refused and why (4xx)."""
    relations = selectors.relation_to(user=request.user, referral=referral)
    moves = transitions_open_to(referral.status, relations)
    membership = membership_of(request.user)
    receiver = "receiver" in relations
    identity = None
    if receiver and referral.person_id:
        # the selector decides what is disclosed (consent, emergency access) and audits it
        identity = person_identity(user=request.user, person=referral.person)
    context = {
        "referral": referral,
        "relations": relations,
        "identity": identity,
        "redisclosure_notice": redisclosure_notice_text(
            referral.consent.redisclosure_notice if referral.consent_id else REDISCLOSURE_NOTICE
        ),
        "notes": selectors.referral_notes(user=request.user, referral_id=referral.pk)
        if receiver
        else None,
        "note_error": note_error,
        "parent_visible": bool(referral.parent_id)
        and selectors.referral_is_visible(user=request.user, referral_id=referral.parent_id),
        "chain": selectors.referral_forward_chains(referrals=[referral]).get(referral.pk, []),
        "events": selectors.referral_event_views(user=request.user, referral=referral),
        "moves": [
            {
                "to": to,
                "label": ACTION_LABELS.get(to, ReferralStatus(to).label),
                "codes": list(REASON_CODES.get(to, {}).items()),
                "needs_code": to in CODE_REQUIRED,
                "outcomes": list(OUTCOMES.items()) if to == ReferralStatus.COMPLETED else [],
                "forwards": to == ReferralStatus.FORWARDED,
                "waits": to == ReferralStatus.WAITLISTED,
            }
            for to in moves
        ],
        "reason": selectors.referral_reason(user=request.user, referral=referral),
        "status_reason_label": REASON_CODES.get(referral.status, {}).get(
            referral.status_reason_code, ""
        ),
        "outcome_label": OUTCOMES.get(referral.outcome, ""),
        "forward_services": (
            services_to_refer_to(organization_id=membership.organization_id).exclude(
                pk=referral.to_service_id
            )
            if ReferralStatus.FORWARDED in moves and membership
            else []
        ),
        "problem": problem,
        "emergency": _emergency_context(request.user, referral, relations, membership),
    }
    return render(request, "referral/referral_detail.html", context, status=status)


def _emergency_context(user, referral, relations, membership) -> dict | None:
    """Whether this provider may break the glass here (a party, someone else's person), and
    whether an access of theirs is open now."""
    if (
        referral.person_id is None
        or membership is None
        or membership.role != Role.PROVIDER
        or not relations & {"sender", "receiver"}
        or referral.person.organization_id == membership.organization_id
    ):
        return None
    now = timezone.now()
    is_open = bool(emergency_access_person_ids(user, [referral.person_id], at=now))
    return {
        "open": is_open,
        "api": reverse("person-detail", args=[referral.person_id]),
        "minutes": settings.CONTINUUM_EMERGENCY_ACCESS_MINUTES,
    }


@require_POST
@login_required
def referral_emergency_access_page(request, referral_id):
    referral = _referral_or_404(request.user, referral_id)
    if referral.person_id is None:
        raise Http404()
    try:
        access = emergency_services.emergency_access_open(
            actor=request.user,
            person_id=referral.person_id,
            reason=request.POST.get("reason", "")[: emergency_services.REASON_MAX_LENGTH],
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        return _render_referral(request, referral, problem=_error_text(exc), status=exc.http_status)
    until = timezone.localtime(access.expires_at)
    messages.warning(
        request,
        _(
            "Emergency access open until %(time)s: the person's identity is shown to you in "
            "the app until then. It is audited and your organisation's admin will review it."
        )
        % {"time": formats.time_format(until, "H:i")},
    )
    return redirect(reverse("referral-page", kwargs={"referral_id": referral.pk}))


def _back_to_inbox(request, exc: DomainError):
    messages.info(request, exc.message)
    return redirect(reverse("referral-list-page") + "?direction=received")


@require_POST
@login_required
def referral_transition_page(request, referral_id):
    try:
        referral = selectors.referral_for_transition(user=request.user, referral_id=referral_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except selectors.OfferEnded as exc:  # offered to us, taken by another meanwhile
        return _back_to_inbox(request, exc)
    form = request.POST
    forward_to = None
    if form.get("to") == ReferralStatus.FORWARDED:
        membership = membership_of(request.user)
        forward_to = (
            services_to_refer_to(organization_id=membership.organization_id)
            .filter(pk=_uuid_or_none(form.get("to_service")))
            .first()
            if membership
            else None
        )
        if forward_to is None:
            problem = _("Choose the service to forward to.")
            return _render_referral(request, referral, problem=problem, status=400)
    try:
        services.referral_transition(
            referral=referral,
            actor=request.user,
            to=form.get("to", ""),
            reason=form.get("reason", "")[:2000],
            reason_code=form.get("reason_code", "")[:32],
            outcome=form.get("outcome", "")[:16],
            forward_to=forward_to,
            expected_start=_date_or_none(form.get("expected_start")),
            waitlist_position=_int_or_none(form.get("waitlist_position")),
        )
    except selectors.OfferEnded as exc:  # it went while the form was open
        return _back_to_inbox(request, exc)
    except DomainError as exc:  # nothing changed: the page as it is, and why (400, 409)
        return _render_referral(request, referral, problem=_error_text(exc), status=exc.http_status)
    messages.success(
        request,
        _("Done: the referral is now %(status)s.")
        % {"status": ReferralStatus(form["to"]).label.lower()},
    )
    return redirect(reverse("referral-page", kwargs={"referral_id": referral.pk}))


@require_POST
@login_required
def referral_note_page(request, referral_id):
    """A note of the receiving organisation (others: 404, as the notes themselves)."""
    referral = _referral_or_404(request.user, referral_id)
    if "receiver" not in selectors.relation_to(user=request.user, referral=referral):
        raise Http404()
    try:
        services.referral_note_add(
            referral=referral, actor=request.user, text=request.POST.get("text", "")[:5000]
        )
    except DomainError as exc:
        return _render_referral(
            request, referral, note_error=_("Write the note first."), status=exc.http_status
        )
    messages.success(request, _("Note saved."))
    return redirect(reverse("referral-page", kwargs={"referral_id": referral.pk}) + "#notes")


@require_GET
@login_required
def referral_intake_page(request, referral_id):
    """The printable intake sheet: what the receiving service needs at the door."""
    referral = _referral_or_404(request.user, referral_id)
    if "receiver" not in selectors.relation_to(user=request.user, referral=referral):
        raise Http404()
    identity = None
    if referral.person_id and referral.identified:
        identity = person_identity(user=request.user, person=referral.person)
    context = {
        "referral": referral,
        "identity": identity,
        "redisclosure_notice": redisclosure_notice_text(
            referral.consent.redisclosure_notice if referral.consent_id else REDISCLOSURE_NOTICE
        ),
    }
    return render(request, "referral/intake_sheet.html", context)


urlpatterns = [
    path("referrals/", referral_list_page, name="referral-list-page"),
    path("referrals/new/", referral_new_page, name="referral-new-page"),
    path("referrals/<uuid:referral_id>/", referral_page, name="referral-page"),
    path(
        "referrals/<uuid:referral_id>/transition/",
        referral_transition_page,
        name="referral-transition-page",
    ),
    path("referrals/<uuid:referral_id>/notes/", referral_note_page, name="referral-note-page"),
    path("referrals/<uuid:referral_id>/intake/", referral_intake_page, name="referral-intake-page"),
    path(
        "referrals/<uuid:referral_id>/emergency-access/",
        referral_emergency_access_page,
        name="referral-emergency-access-page",
    ),
]
