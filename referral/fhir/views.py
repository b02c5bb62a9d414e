"""FHIR R4 at /fhir/: parse, call one selector or service, render. application/fhir+json
in and out (application/json too); every error an OperationOutcome with the API's stable
code as its detail; authentication as the API (device tokens, or the session).

Not part of the OpenAPI document (``schema = None``): the CapabilityStatement at
``/fhir/metadata`` describes this API the FHIR way.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import path, re_path
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.csrf import csrf_exempt
from rest_framework import status as http
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.parsers import StrictJSONParser
from core.errors import NotFound, ValidationFailed
from referral.fhir import mapping as m
from referral.fhir import resources as build
from referral.fhir import selectors, services
from referral.fhir.services import TaskChange
from referral.selectors.access import membership_of

logger = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"
DEFAULT_COUNT = 50
MAX_COUNT = 200
ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    412: "conflict",
    415: "not-supported",
    429: "throttled",
}


class FhirJSONRenderer(JSONRenderer):
    media_type = FHIR_JSON
    format = "fhir"


class FhirAcceptingNegotiation(DefaultContentNegotiation):
    """For a JSON view that answers FHIR (the referral export): a client asking for
    application/fhir+json gets the JSON renderer's answer instead of a 406 (the view sets the
    FHIR content type itself). One renderer, so the OpenAPI document gains no ``format``."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            if FHIR_JSON in request.META.get("HTTP_ACCEPT", ""):
                return renderers[0], renderers[0].media_type
            raise


class FhirJSONParser(StrictJSONParser):
    media_type = FHIR_JSON


class JSONPatchParser(StrictJSONParser):
    media_type = "application/json-patch+json"


class MergePatchParser(StrictJSONParser):
    media_type = "application/merge-patch+json"


def base_url(request) -> str:
    return request.build_absolute_uri("/fhir/")


def outcome_for(status_code: int, body: Any) -> dict[str, Any]:
    """The API's error body (``{"detail", "code", "errors"}``) as an OperationOutcome."""
    body = body if isinstance(body, dict) else {}
    code = str(body.get("code") or "error")
    issue = "business-rule" if code == "illegal_transition" else ISSUE_CODES.get(status_code)
    return build.operation_outcome(
        severity="error" if status_code < 500 else "fatal",
        code=issue or "exception",
        diagnostics=str(body.get("detail") or "Error."),
        detail_code=code,
        fields=list((body.get("errors") or {}).keys()),
    )


class FhirView(APIView):
    renderer_classes = [FhirJSONRenderer, JSONRenderer]
    parser_classes = [FhirJSONParser, StrictJSONParser, JSONPatchParser, MergePatchParser]
    schema = None
    # Parameters every interaction takes besides its own.
    common_parameters = frozenset({"_format", "_pretty", "_summary"})
    parameters: frozenset[str] = frozenset()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        wanted = request.query_params.get("_format", "")
        if wanted and "json" not in wanted:
            raise NotAcceptable("Only JSON: application/fhir+json.")
        unknown = sorted(set(request.query_params) - self.common_parameters - self.parameters)
        if unknown:
            raise ValidationFailed(
                f"Unsupported parameter {unknown[0]}.",
                errors={name: ["Not a supported parameter."] for name in unknown},
            )

    def handle_exception(self, exc):
        try:
            response = super().handle_exception(exc)
        except Exception:  # noqa: BLE001 - a FHIR client gets an OperationOutcome, logged
            logger.exception("fhir: unhandled error")
            response = Response({"detail": "Server error.", "code": "server_error"}, status=500)
        response.data = outcome_for(response.status_code, response.data)
        return response

    def render(self, resource: dict[str, Any], status_code: int = 200) -> Response:
        return Response(resource, status=status_code)


def _reference_id(value: str, resource_type: str, name: str) -> uuid.UUID:
    tail = value.rstrip("/").rsplit("/", 2)
    candidate = tail[-1]
    if len(tail) > 1 and tail[-2] != resource_type:
        raise ValidationFailed(
            f"{name} takes a {resource_type} reference.", errors={name: ["Wrong type."]}
        )
    try:
        return uuid.UUID(candidate)
    except ValueError:
        raise ValidationFailed(
            f"{name} is not a {resource_type} id.", errors={name: ["Not an id."]}
        ) from None


def _instant_bounds(values: list[str]) -> tuple[datetime | None, datetime | None]:
    after = before = None
    for raw in values:
        prefix, text = (
            (raw[:2], raw[2:]) if raw[:2] in ("ge", "gt", "le", "lt", "eq") else ("eq", raw)
        )
        moment = parse_datetime(text) if "T" in text else None
        day = None if moment else parse_date(text) if len(text) == 10 else None
        if moment is None and day is None:
            raise ValidationFailed(
                "_lastUpdated takes a date or an instant with an optional prefix.",
                errors={"_lastUpdated": [f"Not a date: {raw}."]},
            )
        if moment is not None and timezone.is_naive(moment):
            moment = timezone.make_aware(moment, UTC)
        start = moment or datetime.combine(day, time.min, tzinfo=UTC)
        end = moment or datetime.combine(day, time.max, tzinfo=UTC)
        tick = timedelta(microseconds=1)
        if prefix in ("ge", "eq"):
            after = start
        if prefix == "gt":
            after = end + tick
        if prefix in ("le", "eq"):
            before = end
        if prefix == "lt":
            before = start - tick
    return after, before


def _positive(request, name: str, default: int, maximum: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise ValidationFailed(f"{name} takes a number.", errors={name: ["Not a number."]})
    return min(int(raw), maximum)


class _ReferralSearch(FhirView):
    """Task and ServiceRequest search: by status, owner (performer), requester,
    _lastUpdated and _id, paged with _count and _offset."""

    parameters = frozenset(
        {"status", "owner", "performer", "requester", "_lastUpdated", "_id", "_count", "_offset"}
    )
    resource_type = ""

    def statuses(self, codes: list[str]) -> list[str]:
        raise NotImplementedError

    def get(self, request):
        params = request.query_params
        statuses: list[str] = []
        for value in params.getlist("status"):
            for code in value.split(","):
                found = self.statuses([code])
                if not found and code not in self.known_statuses:
                    raise ValidationFailed(
                        f"Unknown status {code}.", errors={"status": [f"Unknown: {code}."]}
                    )
                statuses.extend(found or ["-"])
        owner_values = params.getlist("owner") + params.getlist("performer")
        requester_values = params.getlist("requester")
        ids = []
        for value in params.getlist("_id"):
            for item in value.split(","):
                try:
                    ids.append(uuid.UUID(item))
                except ValueError:
                    raise ValidationFailed(
                        "_id takes ids.", errors={"_id": [f"Not an id: {item}."]}
                    ) from None
        after, before = _instant_bounds(params.getlist("_lastUpdated"))
        owner_task_force = None
        if owner_values:
            tail = owner_values[-1].rstrip("/").rsplit("/", 2)
            if len(tail) == 1 or tail[-2] == "Organization":
                owner_task_force = selectors.task_force_pk(tail[-1])
        filters = selectors.TaskFilters(
            referral_statuses=tuple(statuses),
            owner=_reference_id(owner_values[-1], "Organization", "owner")
            if owner_values and owner_task_force is None
            else None,
            owner_task_force=owner_task_force,
            requester=(
                _reference_id(requester_values[-1], "Organization", "requester")
                if requester_values
                else None
            ),
            updated_after=after,
            updated_before=before,
            ids=tuple(ids),
        )
        count = _positive(request, "_count", DEFAULT_COUNT, MAX_COUNT)
        offset = _positive(request, "_offset", 0, 10**9)
        found = selectors.referral_search(user=request.user, filters=filters)
        total = found.count()
        page = list(found[offset : offset + count]) if count else []
        facts = selectors.referral_facts(user=request.user, referrals=page)
        base = base_url(request)
        entries = [
            build.entry(base, self.resource(request, referral, facts), search=True)
            for referral in page
        ]
        return self.render(self.searchset(request, base, entries, total, offset, count))

    def resource(self, request, referral, facts) -> dict[str, Any]:
        raise NotImplementedError

    def searchset(self, request, base, entries, total, offset, count) -> dict[str, Any]:
        def link(relation: str, at: int) -> dict[str, str]:
            query = request.query_params.copy()
            query["_offset"] = str(at)
            query["_count"] = str(count)
            return {"relation": relation, "url": f"{base}{self.resource_type}?{query.urlencode()}"}

        links = [link("self", offset)]
        if count and offset + count < total:
            links.append(link("next", offset + count))
        if offset:
            links.append(link("previous", max(0, offset - count)))
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": total,
            "link": links,
            "entry": entries,
        }


class TaskSearchApi(_ReferralSearch):
    resource_type = "Task"
    known_statuses = m.TASK_STATUSES

    def statuses(self, codes):
        return [s for code in codes for s in m.referral_statuses_for_task(code)]

    def resource(self, request, referral, facts):
        return selectors.task_resource(referral, facts)


class ServiceRequestSearchApi(_ReferralSearch):
    resource_type = "ServiceRequest"
    known_statuses = ("draft", "active", "on-hold", "revoked", "completed", "entered-in-error")

    def statuses(self, codes):
        return [s for code in codes for s in m.referral_statuses_for_service_request(code)]

    def resource(self, request, referral, facts):
        return selectors.service_request_resource(user=request.user, referral=referral, facts=facts)


def _codes(concept: Any, field: str) -> list[tuple[str, str]]:
    if concept is None:
        return []
    if not isinstance(concept, dict) or not isinstance(concept.get("coding", []), list):
        raise ValidationFailed(f"{field} is a CodeableConcept.", errors={field: ["Malformed."]})
    pairs = []
    for coding in concept.get("coding", []):
        if not isinstance(coding, dict) or not isinstance(coding.get("code", ""), str):
            raise ValidationFailed(
                f"{field} has a malformed coding.", errors={field: ["Malformed."]}
            )
        pairs.append((str(coding.get("system", "")), coding.get("code", "")))
    return pairs


def _reason_code(pairs: list[tuple[str, str]]) -> str:
    ours = [code for system, code in pairs if system.startswith(f"{m.LOCAL}:reason-code")]
    return (ours or [code for _, code in pairs] or [""])[0]


def task_change(body: Any) -> TaskChange:
    """Status, statusReason and output of a Task body, for ``task_update``."""
    if not isinstance(body, dict):
        raise ValidationFailed("A Task resource.", errors={"resourceType": ["Expected a Task."]})
    status = body.get("status")
    if not isinstance(status, str) or not status:
        raise ValidationFailed("A Task needs its status.", errors={"status": ["Required."]})
    reason_code = _reason_code(_codes(body.get("statusReason"), "statusReason"))
    outcome = ""
    outputs = body.get("output") or []
    if not isinstance(outputs, list):
        raise ValidationFailed("output is a list.", errors={"output": ["Malformed."]})
    for item in outputs:
        if not isinstance(item, dict):
            raise ValidationFailed("output is a list of parts.", errors={"output": ["Malformed."]})
        kinds = {code for _, code in _codes(item.get("type"), "output.type")}
        value = _codes(item.get("valueCodeableConcept"), "output.valueCodeableConcept")
        if "outcome" in kinds and value:
            outcome = value[0][1]
        if "outcome-reason" in kinds and value and not reason_code:
            reason_code = _reason_code(value)
    expected_start = _expected_start(body) if status == "on-hold" else None
    return TaskChange(
        status=status, reason_code=reason_code, outcome=outcome, expected_start=expected_start
    )


def _expected_start(body: dict[str, Any]):
    """``Task.restriction.period.start`` of a Task put on hold (the waiting list): a date, or
    the date of a dateTime; absent is None (the service answers that it is required)."""
    restriction = body.get("restriction")
    period = restriction.get("period") if isinstance(restriction, dict) else None
    start = period.get("start") if isinstance(period, dict) else None
    if start is None:
        return None
    day = parse_date(start[:10]) if isinstance(start, str) else None
    if day is None:
        raise ValidationFailed(
            "restriction.period.start is a date.",
            errors={"restriction.period.start": ["A date (YYYY-MM-DD)."]},
        )
    return day


def _apply_json_patch(resource: dict[str, Any], operations: list[Any]) -> dict[str, Any]:
    """RFC 6902 on the Task's own elements (``/status``, ``/statusReason``, ``/output``,
    ``/output/-``): the elements a partner may change."""
    patched = dict(resource)
    for operation in operations:
        if not isinstance(operation, dict) or not isinstance(operation.get("path"), str):
            raise ValidationFailed("A JSON Patch operation.", errors={"patch": ["Malformed."]})
        op, where = operation.get("op"), operation["path"]
        element = where.strip("/").split("/")[0]
        if element not in ("status", "statusReason", "output", "businessStatus", "note"):
            raise ValidationFailed(
                f"{where} may not be changed.",
                errors={where: ["Only status, statusReason, output."]},
            )
        if op in ("add", "replace") and where == "/output/-":
            patched["output"] = [*(patched.get("output") or []), operation.get("value")]
        elif op in ("add", "replace") and where == f"/{element}":
            patched[element] = operation.get("value")
        elif op == "remove" and where == f"/{element}":
            patched.pop(element, None)
        else:
            raise ValidationFailed(
                f"Unsupported patch {op} {where}.", errors={where: ["Unsupported operation."]}
            )
    return patched


class TaskDetailApi(FhirView):
    def _read(self, request, task_id, *, for_update=False):
        referral, facts = selectors.referral_read(
            user=request.user, referral_id=task_id, for_update=for_update
        )
        return referral, selectors.task_resource(referral, facts)

    def get(self, request, task_id):
        return self.render(self._read(request, task_id)[1])

    def put(self, request, task_id):
        referral, _ = self._read(request, task_id, for_update=True)
        body = request.data
        if not isinstance(body, dict) or body.get("resourceType") != "Task":
            raise ValidationFailed("A Task resource.", errors={"resourceType": ["Expected Task."]})
        if str(body.get("id", "")) != str(referral.pk):
            raise ValidationFailed("The id must be the Task's.", errors={"id": ["Not this Task."]})
        return self._update(request, referral, task_change(body))

    def patch(self, request, task_id):
        referral, current = self._read(request, task_id, for_update=True)
        body = request.data
        if isinstance(body, list):
            body = _apply_json_patch(current, body)
        elif isinstance(body, dict):
            body = {**current, **body}
        return self._update(request, referral, task_change(body))

    def _update(self, request, referral, change: TaskChange):
        services.task_update(actor=request.user, referral=referral, change=change)
        referral, facts = selectors.referral_read(user=request.user, referral_id=referral.pk)
        return self.render(selectors.task_resource(referral, facts))


class ServiceRequestDetailApi(FhirView):
    def get(self, request, request_id):
        referral, facts = selectors.referral_read(user=request.user, referral_id=request_id)
        return self.render(
            selectors.service_request_resource(user=request.user, referral=referral, facts=facts)
        )


class PatientDetailApi(FhirView):
    def get(self, request, patient_id):
        return self.render(selectors.patient_read(user=request.user, person_id=patient_id))


class ConsentDetailApi(FhirView):
    def get(self, request, consent_id):
        return self.render(selectors.consent_read(user=request.user, consent_id=consent_id))


class OrganizationDetailApi(FhirView):
    def get(self, request, organization_id):
        return self.render(
            selectors.organization_read(user=request.user, organization_id=organization_id)
        )


class HealthcareServiceDetailApi(FhirView):
    def get(self, request, service_id):
        return self.render(selectors.healthcare_service_read(service_id=service_id))


class LocationDetailApi(FhirView):
    def get(self, request, location_id):
        return self.render(selectors.location_read(location_id=location_id))


def subscription_resource(item, base: str) -> dict[str, Any]:
    criteria = {
        "": None,
        "owner": f"Task?owner=Organization/{item.organization_id}",
        "requester": f"Task?requester=Organization/{item.organization_id}",
    }[item.role]
    resource: dict[str, Any] = {
        "resourceType": "Subscription",
        "id": str(item.pk),
        "meta": {"profile": [m.PROFILE_SUBSCRIPTION]},
        "status": item.status,
        "reason": item.reason or "Referral Task changes",
        "criteria": m.TOPIC,
        "channel": {
            "type": "rest-hook",
            "endpoint": item.endpoint,
            "payload": FHIR_JSON,
            "_payload": {"extension": [{"url": m.EXT_PAYLOAD_CONTENT, "valueCode": "id-only"}]},
        },
    }
    if criteria:
        resource["_criteria"] = {
            "extension": [{"url": m.EXT_FILTER_CRITERIA, "valueString": criteria}]
        }
    return resource


def _subscription_input(body: Any, organization_id) -> tuple[str, str, str]:
    """(endpoint, role, reason) of a backport Subscription; anything else is a 400."""
    if not isinstance(body, dict) or body.get("resourceType") != "Subscription":
        raise ValidationFailed("A Subscription.", errors={"resourceType": ["Expected it."]})
    if body.get("criteria") != m.TOPIC:
        raise ValidationFailed(
            "Subscribe to the referral Task topic.", errors={"criteria": [f"Use {m.TOPIC}."]}
        )
    channel = body.get("channel")
    if not isinstance(channel, dict) or channel.get("type") != "rest-hook":
        raise ValidationFailed("A rest-hook channel.", errors={"channel.type": ["rest-hook."]})
    endpoint = channel.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > 500:
        raise ValidationFailed("The endpoint URL.", errors={"channel.endpoint": ["Required."]})
    if channel.get("payload") not in (None, FHIR_JSON, "application/json"):
        raise ValidationFailed("JSON payloads.", errors={"channel.payload": [FHIR_JSON]})
    content = [
        ext.get("valueCode")
        for ext in ((channel.get("_payload") or {}).get("extension") or [])
        if isinstance(ext, dict) and ext.get("url") == m.EXT_PAYLOAD_CONTENT
    ]
    if content and content != ["id-only"]:
        raise ValidationFailed(
            "Notifications carry ids only.", errors={"channel.payload": ["id-only."]}
        )
    role = ""
    filters = [
        ext.get("valueString")
        for ext in ((body.get("_criteria") or {}).get("extension") or [])
        if isinstance(ext, dict) and ext.get("url") == m.EXT_FILTER_CRITERIA
    ]
    for criteria in filters:
        wanted = {
            f"Task?owner=Organization/{organization_id}": "owner",
            f"Task?requester=Organization/{organization_id}": "requester",
        }.get(criteria)
        if wanted is None:
            raise ValidationFailed(
                "Filter on your own organisation's Tasks.",
                errors={"criteria": ["Task?owner= or Task?requester= your organisation."]},
            )
        role = wanted
    reason = body.get("reason") if isinstance(body.get("reason"), str) else ""
    return endpoint, role, reason


class SubscriptionListApi(FhirView):
    def get(self, request):
        base = base_url(request)
        items = list(selectors.subscription_list(user=request.user)[:MAX_COUNT])
        return self.render(
            {
                "resourceType": "Bundle",
                "type": "searchset",
                "total": len(items),
                "entry": [
                    build.entry(base, subscription_resource(item, base), search=True)
                    for item in items
                ],
            }
        )

    def post(self, request):
        membership = membership_of(request.user)
        if membership is None:
            raise NotFound()
        endpoint, role, reason = _subscription_input(request.data, membership.organization_id)
        item, created = services.subscription_create(
            actor=request.user,
            endpoint=endpoint,
            role=role,
            reason=reason,
            server_base=base_url(request),
        )
        answer = http.HTTP_201_CREATED if created else http.HTTP_200_OK
        response = self.render(subscription_resource(item, base_url(request)), answer)
        response["Location"] = f"{base_url(request)}Subscription/{item.pk}"
        return response


class SubscriptionDetailApi(FhirView):
    def get(self, request, subscription_id):
        item = selectors.subscription_get(user=request.user, subscription_id=subscription_id)
        return self.render(subscription_resource(item, base_url(request)))

    def delete(self, request, subscription_id):
        item = selectors.subscription_get(user=request.user, subscription_id=subscription_id)
        services.subscription_off(actor=request.user, subscription=item)
        return self.render(subscription_resource(item, base_url(request)))


class MetadataApi(FhirView):
    """The CapabilityStatement: readable without an account, as FHIR clients expect."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    def get(self, request):
        return self.render(capability_statement(base_url(request)))


def capability_statement(base: str) -> dict[str, Any]:
    def interactions(*codes: str) -> list[dict[str, str]]:
        return [{"code": code} for code in codes]

    referral_search = [
        {"name": "status", "type": "token"},
        {"name": "owner", "type": "reference"},
        {"name": "requester", "type": "reference"},
        {"name": "_lastUpdated", "type": "date"},
        {"name": "_id", "type": "token"},
    ]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-02",
        "publisher": "Continuum",
        "kind": "instance",
        "software": {"name": "Continuum"},
        "implementation": {"description": "Continuum referral coordination", "url": base},
        "fhirVersion": "4.0.1",
        "format": [FHIR_JSON, "json"],
        "patchFormat": ["application/json-patch+json", "application/merge-patch+json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": "Authorization: Token <API token of a member account of "
                    "the organisation> (the Continuum API's device tokens)."
                },
                "resource": [
                    {
                        "type": "Task",
                        "supportedProfile": [m.PROFILE_TASK],
                        "interaction": interactions("read", "search-type", "update", "patch"),
                        "searchParam": referral_search,
                    },
                    {
                        "type": "ServiceRequest",
                        "supportedProfile": [m.PROFILE_SERVICE_REQUEST],
                        "interaction": interactions("read", "search-type"),
                        "searchParam": [
                            *referral_search,
                            {"name": "performer", "type": "reference"},
                        ],
                    },
                    {"type": "Patient", "interaction": interactions("read")},
                    {
                        "type": "Consent",
                        "supportedProfile": [m.PROFILE_CONSENT],
                        "interaction": interactions("read"),
                    },
                    {"type": "Organization", "interaction": interactions("read")},
                    {"type": "HealthcareService", "interaction": interactions("read")},
                    {"type": "Location", "interaction": interactions("read")},
                    {
                        "type": "Subscription",
                        "supportedProfile": [m.PROFILE_SUBSCRIPTION],
                        "interaction": interactions("create", "read", "search-type", "delete"),
                    },
                ],
            }
        ],
    }


@csrf_exempt
def fhir_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any path under /fhir/ that no view serves."""
    outcome = outcome_for(404, {"detail": "Not found.", "code": "not_found"})
    return JsonResponse(outcome, status=404, content_type=FHIR_JSON)


urlpatterns = [
    path("metadata", MetadataApi.as_view(), name="fhir-metadata"),
    path("Task", TaskSearchApi.as_view(), name="fhir-task-search"),
    path("Task/<str:task_id>", TaskDetailApi.as_view(), name="fhir-task"),
    path("ServiceRequest", ServiceRequestSearchApi.as_view(), name="fhir-service-request-search"),
    path(
        "ServiceRequest/<str:request_id>",
        ServiceRequestDetailApi.as_view(),
        name="fhir-service-request",
    ),
    path("Patient/<str:patient_id>", PatientDetailApi.as_view(), name="fhir-patient"),
    path("Consent/<str:consent_id>", ConsentDetailApi.as_view(), name="fhir-consent"),
    path(
        "Organization/<str:organization_id>",
        OrganizationDetailApi.as_view(),
        name="fhir-organization",
    ),
    path(
        "HealthcareService/<str:service_id>",
        HealthcareServiceDetailApi.as_view(),
        name="fhir-healthcare-service",
    ),
    path("Location/<str:location_id>", LocationDetailApi.as_view(), name="fhir-location"),
    path("Subscription", SubscriptionListApi.as_view(), name="fhir-subscription-list"),
    path(
        "Subscription/<str:subscription_id>",
        SubscriptionDetailApi.as_view(),
        name="fhir-subscription",
    ),
    re_path(r"^.*$", fhir_not_found),
]
