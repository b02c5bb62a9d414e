"""People and consent pages for the volunteer and the officer (and their organisation).

``/people/`` lists the people the member may see by pseudonym and finds someone by name and
date of birth through a POST (names never travel in a URL), with the blind-index exact
match; ``/people/new/`` records a person, pseudonym first, and warns of a possible
duplicate before saving; ``/people/<id>/`` shows the identity as the disclosure selector
allows (each view audited by it), the person's consents and referrals, and, for the org
admin, who saw the record; ``/people/<id>/consents/new/`` records consent with the person
present, the re-disclosure notice shown; ``/consents/<id>/revoke/`` revokes one.

Every decision (who sees whom, what is disclosed) is made by the selectors and services the
API uses; these views parse, call and render.
"""

from __future__ import annotations

from datetime import date, datetime, time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import DomainError, NotFound
from core.web import error_summary, field_messages
from referral.models import ConsentMethod, redisclosure_notice_text
from referral.selectors import consents as consent_selectors
from referral.selectors import people as selectors
from referral.selectors.access import membership_of
from referral.selectors.referrals import ReferralFilters, referral_list
from referral.services import consents as consent_services
from referral.services import people as services
from services_directory.models import Organization, Role, Stage
from services_directory.selectors import task_forces_of

PERSON_FIELD_IDS = {
    "display_name": "p-display-name",
    "given_name": "p-given-name",
    "family_name": "p-family-name",
    "birth_date": "p-birth-date-day",
    "phone": "p-phone",
    "notes": "p-notes",
}
CONSENT_FIELD_IDS = {
    "recipients": "c-recipients",
    "stages": "c-stages",
    "information": "c-information",
    "purpose": "c-purpose",
    "method": "c-method",
    "expires_at": "c-expires-day",
}
# What a consent may disclose, in the words the person hears.
DISCLOSABLE = (
    ("given_name", gettext_lazy("Given name")),
    ("family_name", gettext_lazy("Family name")),
    ("birth_date", gettext_lazy("Date of birth")),
    ("phone", gettext_lazy("Phone number")),
    ("notes", gettext_lazy("Notes")),
)
RECORDING_ROLES = (Role.VOLUNTEER, Role.OFFICER, Role.PROVIDER, Role.ORG_ADMIN)


def _person_or_404(user, person_id):
    try:
        return selectors.person_get(user=user, person_id=person_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _recorder(request):
    """People pages are for members who record people; coordinators work with pseudonyms
    on the board (404 here, as for a page that is not theirs)."""
    membership = membership_of(request.user)
    if membership is None or membership.role not in RECORDING_ROLES:
        raise Http404()
    return membership


def _date_from(form, prefix: str) -> tuple[date | None, str | None]:
    """GOV.UK's date input (day, month, year): a date, nothing, or a message."""
    parts = [form.get(f"{prefix}_{p}", "").strip() for p in ("day", "month", "year")]
    if not any(parts):
        return None, None
    try:
        day, month, year = (int(p) for p in parts)
        return date(year, month, day), None
    except ValueError:
        return None, _("Enter a real date, for example 27 3 1990.")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def people_page(request):
    _recorder(request)
    context = {"people": selectors.person_list(user=request.user)[:50], "values": {}}
    if request.method == "POST":
        form = request.POST
        values = {k: form.get(k, "").strip() for k in ("given_name", "family_name")}
        birth_date, problem = _date_from(form, "birth_date")
        errors = {}
        if not values["given_name"] or not values["family_name"]:
            errors["given_name"] = _("Enter the given and family name.")
        if birth_date is None:
            errors["birth_date"] = problem or _("Enter the date of birth.")
        context["values"] = {**values, **{k: form.get(k, "") for k in form if "birth" in k}}
        if errors:
            context["error_items"] = error_summary(errors, PERSON_FIELD_IDS)
            context["field_errors"] = field_messages(errors)
            return render(request, "referral/people.html", context, status=400)
        context["searched"] = True
        context["matches"] = list(
            selectors.person_search(user=request.user, birth_date=birth_date, **values)
        )
    return render(request, "referral/people.html", context)


def _person_form(form) -> tuple[dict, dict]:
    values = {f: form.get(f, "").strip() for f in PERSON_FIELD_IDS if f != "birth_date"}
    birth_date, problem = _date_from(form, "birth_date")
    errors = {"birth_date": problem} if problem else {}
    values["birth_date"] = birth_date
    return values, errors


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def person_new_page(request):
    _recorder(request)
    context = {"values": {}, "next": request.GET.get("next", "") or request.POST.get("next", "")}
    if request.method == "GET":
        return render(request, "referral/person_new.html", context)
    form = request.POST
    values, errors = _person_form(form)
    context["values"] = {**values, **{k: form.get(k, "") for k in form if "birth_date_" in k}}
    if not values["display_name"]:
        errors["display_name"] = _("Enter a street name or initials.")
    if not errors and form.get("confirm_new") != "yes" and values["birth_date"]:
        matches = list(
            selectors.person_search(
                user=request.user,
                given_name=values["given_name"],
                family_name=values["family_name"],
                birth_date=values["birth_date"],
            )
        )
        if matches:  # the find in find-or-create: offer who is there already
            context["matches"] = matches
            return render(request, "referral/person_new.html", context, status=409)
    if not errors:
        try:
            person = services.person_create(
                actor=request.user, **{k: v or None for k, v in values.items()}
            )
        except DomainError as exc:
            errors = exc.errors or {"display_name": [exc.message]}
        else:
            messages.success(request, _("%(name)s recorded.") % {"name": person.display_name})
            if context["next"] == "refer":
                return redirect(f"{reverse('referral-new-page')}?person={person.pk}")
            return redirect("person-page", person_id=person.pk)
    context["error_items"] = error_summary(errors, PERSON_FIELD_IDS)
    context["field_errors"] = field_messages(errors)
    return render(request, "referral/person_new.html", context, status=400)


@never_cache
@require_GET
@login_required
def person_page(request, person_id):
    person = _person_or_404(request.user, person_id)
    membership = membership_of(request.user)
    # decided and audited by the selector: None when this member may not see it
    identity = selectors.person_identity(user=request.user, person=person)
    reads = None
    if membership and membership.role == Role.ORG_ADMIN:
        try:  # after the read above, so that the admin's own view is listed too
            reads = selectors.person_reads(user=request.user, person=person)
        except NotFound:
            reads = None
    consents = consent_selectors.consent_list(user=request.user, person=person)
    for consent in consents:
        consent.stage_labels = [Stage(s).label for s in consent.stages or [] if s in Stage.values]
    context = {
        "person": person,
        "identity": identity,
        "consents": consents,
        "referrals": referral_list(user=request.user, filters=ReferralFilters(person=person.pk))[
            :20
        ],
        "owner": membership is not None and membership.organization_id == person.organization_id,
        "reads": reads,
        "now": timezone.now(),
    }
    return render(request, "referral/person_detail.html", context)


def _consent_choices(membership):
    task_forces = task_forces_of(organization_id=membership.organization_id)
    organizations = (
        Organization.objects.filter(task_forces__in=task_forces)
        .exclude(pk=membership.organization_id)
        .distinct()
        .order_by("name")
    )
    return {"organizations": organizations, "stages": Stage.choices}


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def consent_new_page(request, person_id):
    membership = _recorder(request)
    person = _person_or_404(request.user, person_id)
    if person.organization_id != membership.organization_id:
        raise Http404()  # only the organisation that recorded the person records consent
    context = {
        "person": person,
        "methods": ConsentMethod.choices,
        "disclosable": DISCLOSABLE,
        "notice": redisclosure_notice_text(),
        "values": {"fields": [f for f, _label in DISCLOSABLE[:3]]},
        "next": request.GET.get("next", "") or request.POST.get("next", ""),
        **_consent_choices(membership),
    }
    if request.method == "GET":
        return render(request, "referral/consent_new.html", context)
    form = request.POST
    expires_on, problem = _date_from(form, "expires")
    errors: dict = {"expires_at": problem} if problem else {}
    fields = [f for f in form.getlist("fields") if f in dict(DISCLOSABLE)]
    labels = ", ".join(str(label) for f, label in DISCLOSABLE if f in fields)
    information = form.get("information", "").strip() or labels
    context["values"] = {
        "recipients": form.getlist("recipients"),
        "stages": form.getlist("stages"),
        "fields": fields,
        "purpose": form.get("purpose", ""),
        "method": form.get("method", ""),
        "information": form.get("information", ""),
        **{k: form.get(k, "") for k in form if k.startswith("expires_")},
    }
    if not errors:
        expires_at = (
            timezone.make_aware(datetime.combine(expires_on, time(23, 59))) if expires_on else None
        )
        try:
            consent_services.consent_create(
                actor=request.user,
                person=person,
                recipients=form.getlist("recipients"),
                stages=form.getlist("stages"),
                information=information,
                purpose=form.get("purpose", ""),
                method=form.get("method", ""),
                expires_at=expires_at,
                # the ticked fields are what the consent discloses, none ticked is an error
                disclosed_fields=fields,
            )
        except DomainError as exc:
            errors = exc.errors or {"information": [exc.message]}
            if "disclosed_fields" in errors:  # shown at the "What may be shared" question
                errors["information"] = errors.pop("disclosed_fields")
        else:
            messages.success(request, _("Consent recorded."))
            if context["next"] == "refer":
                return redirect(f"{reverse('referral-new-page')}?person={person.pk}")
            return redirect("person-page", person_id=person.pk)
    context["error_items"] = error_summary(errors, CONSENT_FIELD_IDS)
    context["field_errors"] = field_messages(errors)
    return render(request, "referral/consent_new.html", context, status=400)


@require_POST
@login_required
def consent_revoke_page(request, consent_id):
    try:
        consent = consent_selectors.consent_get(user=request.user, consent_id=consent_id)
        consent_services.consent_revoke(actor=request.user, consent=consent)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:  # not the recording organisation: not theirs to revoke
        raise Http404(exc.message) from exc
    messages.success(request, _("Consent revoked: nothing more is shared under it."))
    return redirect("person-page", person_id=consent.person_id)


urlpatterns = [
    path("people/", people_page, name="people-page"),
    path("people/new/", person_new_page, name="person-new-page"),
    path("people/<uuid:person_id>/", person_page, name="person-page"),
    path("people/<uuid:person_id>/consents/new/", consent_new_page, name="consent-new-page"),
    path("consents/<uuid:consent_id>/revoke/", consent_revoke_page, name="consent-revoke-page"),
]
