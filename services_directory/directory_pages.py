"""The directory on a page: ``/directory/`` finds services by stage, open now, near the
phone (the browser's location, when the member asks for it; ``static/directory.js``),
language and free places, through the same selector and parameters as
``GET /api/v1/services/``. Each card has its hours, address, phone and an OpenStreetMap link
(a link, no embedded tiles), and "Refer to this service" starts a referral.

``/services/<id>/capacity/`` lets the service's own staff say from the inbox whether it
takes referrals now and how many places are free."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from core.errors import DomainError
from core.web import error_summary
from services_directory import selectors
from services_directory.api.serializers import ServiceListParams
from services_directory.models import WEEKDAYS, Language, Service, Stage
from services_directory.services import service_capacity_set

PAGE_SIZE = 20
DAY_NAMES = dict(
    zip(
        WEEKDAYS,
        (
            gettext_lazy("Monday"),
            gettext_lazy("Tuesday"),
            gettext_lazy("Wednesday"),
            gettext_lazy("Thursday"),
            gettext_lazy("Friday"),
            gettext_lazy("Saturday"),
            gettext_lazy("Sunday"),
        ),
        strict=True,
    )
)
FIELD_IDS = {"stage": "d-stage", "near": "d-near", "language": "d-language", "q": "d-q"}
FILTERS = ("stage", "accepting", "open_now", "near", "language", "q")


def hours_text(schedules: list[dict]) -> list[str]:
    """Weekly hours as lines a person reads: "Monday, Tuesday 09:00–17:00"."""
    lines = []
    for row in schedules:
        if row["opens_at"] is None or row["closes_at"] is None:
            continue
        days = ", ".join(str(DAY_NAMES[d]) for d in row["byday"].split(",") if d in DAY_NAMES)
        times = f"{row['opens_at']:%H:%M}–{row['closes_at']:%H:%M}"
        lines.append(f"{days} {times}".strip())
    return lines


def _card_view(card: dict) -> dict:
    """What the page shows of a service card: its hours (the service's own, which override
    its locations', else each location's) and where it is."""
    own_hours = hours_text(card["schedules"])
    places = []
    for location in card["locations"]:
        address = ", ".join(
            p for p in (location["address_1"], location["postal_code"], location["city"]) if p
        )
        latitude, longitude = location["latitude"], location["longitude"]
        map_url = (
            f"https://www.openstreetmap.org/?mlat={latitude}&mlon={longitude}"
            f"#map=17/{latitude}/{longitude}"
            if latitude is not None and longitude is not None
            else ""
        )
        places.append(
            {
                "name": location["name"],
                "address": address,
                "map_url": map_url,
                "hours": own_hours or hours_text(location["schedules"]),
                "time_zone": location["time_zone"],
            }
        )
    return {**card, "own_hours": own_hours, "places": places}


def _query(request) -> QueryDict:
    query = QueryDict(mutable=True)
    for key in FILTERS:
        value = request.GET.get(key, "").strip()
        if value:
            query[key] = value
    return query


@require_GET
@login_required
def directory_page(request):
    query = _query(request)
    params = ServiceListParams(data=query)
    context = {
        "stages": Stage.choices,
        "languages": sorted(
            {
                (code, name or code)
                for code, name in Language.objects.exclude(code="").values_list("code", "name")
            }
        ),
        "chosen": query,
        "cards": [],
        "total": 0,
        "error_items": [],
    }
    if not params.is_valid():
        context["error_items"] = error_summary(params.errors, FIELD_IDS)
        return render(request, "services_directory/directory.html", context, status=400)
    values = params.validated_data
    filters = selectors.ServiceFilters(
        stage=values.get("stage"),
        accepting=values.get("accepting"),
        open_at=timezone.now() if values.get("open_now") else None,
        near=values.get("near"),
        language=values.get("language"),
        q=values.get("q"),
    )
    try:
        page_number = max(1, int(request.GET.get("page", "1")))
    except ValueError as exc:
        raise Http404(_("No such page.")) from exc
    cards, total = selectors.service_list(filters=filters).page(
        offset=(page_number - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    context.update(
        {
            "cards": [_card_view(card) for card in cards],
            "total": total,
            "page_number": page_number,
            "has_next": page_number * PAGE_SIZE < total,
            "query_string": query.urlencode(),
        }
    )
    return render(request, "services_directory/directory.html", context)


@require_POST
@login_required
def service_capacity_page(request, service_id):
    """From the inbox: accepting now, and free places (empty: not counted)."""
    service = Service.objects.filter(pk=service_id).first()
    membership = getattr(request.user, "membership", None)
    if (
        service is None
        or membership is None
        or membership.organization_id != (service.organization_id)
    ):
        raise Http404()
    raw = request.POST.get("capacity_available", "").strip()
    capacity = int(raw) if raw.isdigit() else None
    if raw and capacity is None:
        messages.error(request, _("Free places must be a whole number."))
        return redirect(f"{reverse('referral-list-page')}?direction=received")
    try:
        service_capacity_set(
            actor=request.user,
            service=service,
            accepting_referrals=request.POST.get("accepting_referrals") == "true",
            capacity_available=capacity,
        )
    except DomainError as exc:
        raise Http404() from exc
    messages.success(request, _("%(service)s saved.") % {"service": service.name})
    return redirect(f"{reverse('referral-list-page')}?direction=received")


urlpatterns = [
    path("directory/", directory_page, name="directory-page"),
    path(
        "services/<uuid:service_id>/capacity/", service_capacity_page, name="service-capacity-page"
    ),
]
