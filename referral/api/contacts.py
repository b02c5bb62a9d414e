"""Contact endpoints: phones upload contacts one at a time or as an offline batch; the
recording organisation lists them and reads their notes (audited when a person is named)."""

from __future__ import annotations

from typing import Any

from django.urls import path
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.pagination import Pagination
from core.api.params import StrictBodySerializer, StrictQuerySerializer
from core.api.schema import paginated
from core.errors import DomainError
from core.idempotency import idempotent
from referral.models import Contact, Offer, Pathway
from referral.selectors import contacts as selectors
from referral.services import contacts as services

BATCH_MAX = 500

# --- input ---------------------------------------------------------------------------------


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time with an offset: a phone's local time without one is ambiguous."""

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                self.fail("invalid", format="ISO 8601 with a time zone offset, e.g. Z or +02:00")
        return super().to_internal_value(value)


class ContactInput(StrictBodySerializer):
    client_uuid = serializers.UUIDField()
    occurred_at = AwareDateTimeField()
    place = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=services.PLACE_MAX
    )
    pathway = serializers.ChoiceField(choices=Pathway.choices)
    offered = serializers.ListField(
        child=serializers.ChoiceField(choices=Offer.choices), required=False, default=list
    )
    person = serializers.UUIDField(required=False, allow_null=True, default=None)
    notes = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        default=None,
        max_length=services.NOTES_MAX,
    )


class ContactListParams(StrictQuerySerializer):
    since = serializers.DateTimeField(required=False, help_text="occurred_at at or after")
    until = serializers.DateTimeField(required=False, help_text="occurred_at before")
    pathway = serializers.ChoiceField(choices=Pathway.choices, required=False)
    person = serializers.UUIDField(required=False)

    def validate(self, attrs):
        since, until = attrs.get("since"), attrs.get("until")
        if since is not None and until is not None and until <= since:
            raise serializers.ValidationError({"until": [_("Must be after since.")]})
        return attrs


# --- output --------------------------------------------------------------------------------


class ContactOutput(serializers.Serializer):
    """No notes here: lists and upload answers (which the idempotency store keeps) never
    carry them; ``has_notes`` says whether the detail would show some."""

    id = serializers.UUIDField()
    client_uuid = serializers.UUIDField()
    occurred_at = serializers.DateTimeField()
    place = serializers.CharField()
    pathway = serializers.CharField()
    offered = serializers.ListField(child=serializers.CharField())
    person = serializers.UUIDField(source="person_id", allow_null=True)
    organization = serializers.UUIDField(source="organization_id")
    recorded_by = serializers.IntegerField(source="recorded_by_id", allow_null=True)
    has_notes = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_has_notes(self, contact: Contact) -> bool:
        return contact.notes_enc is not None


class ContactDetailOutput(ContactOutput):
    notes = serializers.CharField(allow_null=True)
    notes_erased = serializers.BooleanField()


class BatchItemOutput(serializers.Serializer):
    """One result of a batch upload (documentation; items are rendered as they are made)."""

    client_uuid = serializers.CharField(allow_null=True)
    status = serializers.IntegerField()
    contact = ContactOutput(allow_null=True)
    errors = serializers.DictField(child=serializers.ListField(), allow_null=True)


# --- views ---------------------------------------------------------------------------------


def _messages(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [f"{key}: {m}" for key, value in detail.items() for m in _messages(value)]
    if isinstance(detail, list | tuple):
        return [m for item in detail for m in _messages(item)]
    return [str(detail)]


def field_errors(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {str(field): _messages(messages) for field, messages in detail.items()}
    return {"non_field_errors": _messages(detail)}


def _record(request, values: dict[str, Any]) -> tuple[Contact, bool]:
    return services.contact_record(
        actor=request.user, fingerprint=services.contact_fingerprint(**values), **values
    )


def _batch_item(request, item: Any) -> dict[str, Any]:
    client_uuid = item.get("client_uuid") if isinstance(item, dict) else None
    result: dict[str, Any] = {
        "client_uuid": None if client_uuid is None else str(client_uuid),
        "status": status.HTTP_400_BAD_REQUEST,
        "contact": None,
        "errors": None,
    }
    params = ContactInput(data=item)
    if not params.is_valid():
        result["errors"] = field_errors(params.errors)
        return result
    try:
        contact, created = _record(request, dict(params.validated_data))
    except DomainError as exc:
        result["status"] = exc.http_status
        result["errors"] = exc.errors or {"non_field_errors": [exc.message]}
        return result
    result["status"] = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    result["contact"] = ContactOutput(contact).data
    return result


class ContactListApi(APIView):
    @extend_schema(
        parameters=[ContactListParams],
        responses={200: paginated(ContactOutput)},
        description=(
            "Your organisation's contacts, latest first, without notes. `since` (inclusive) "
            "and `until` (exclusive) bound `occurred_at`."
        ),
    )
    def get(self, request):
        params = ContactListParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        contacts = selectors.contact_list(user=request.user, **params.validated_data)
        paginator = Pagination()
        page = paginator.paginate_queryset(contacts, request, view=self)
        return paginator.get_paginated_response(ContactOutput(page, many=True).data)

    @extend_schema(
        request=ContactInput,
        responses={200: ContactOutput, 201: ContactOutput},
        description=(
            "Record a contact for your organisation. `client_uuid` is the phone's own id for "
            "it: uploading the same contact again answers 200 with the stored one and creates "
            "nothing; the same `client_uuid` with a different body is 409. `occurred_at` needs "
            "a time zone offset, at most 5 minutes ahead and 30 days back. `person` must be "
            "someone your organisation may see. Notes are encrypted at rest (under the "
            "person's key when one is named, so erasure shreds them) and are never echoed "
            "here: read them on the detail.\n\n"
            f"**Batch**: a JSON list of up to {BATCH_MAX} contacts (a phone's offline queue) "
            "answers 200 with one result per item, in order: "
            '`{"client_uuid", "status": 201|200|400|409, "contact", "errors"}`. Each item '
            "stands alone: a bad one never blocks the others. Accepts `Idempotency-Key`."
        ),
    )
    @idempotent
    def post(self, request):
        data = request.data
        if isinstance(data, list):
            if not data:
                raise ValidationError({"non_field_errors": [_("Send at least one contact.")]})
            if len(data) > BATCH_MAX:
                raise ValidationError(
                    {"non_field_errors": [f"At most {BATCH_MAX} contacts in one upload."]}
                )
            return Response([_batch_item(request, item) for item in data])
        params = ContactInput(data=data)
        params.is_valid(raise_exception=True)
        contact, created = _record(request, dict(params.validated_data))
        return Response(
            ContactOutput(contact).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ContactDetailApi(APIView):
    @extend_schema(
        responses={200: ContactDetailOutput},
        description=(
            "One contact of your organisation with its notes. Reading the notes of a contact "
            "that names a person is audited. After the person's erasure `notes` is null and "
            "`notes_erased` true."
        ),
    )
    def get(self, request, contact_id):
        contact = selectors.contact_get(user=request.user, contact_id=contact_id)
        notes = selectors.contact_notes(user=request.user, contact=contact)
        data = {**ContactOutput(contact).data, "notes": notes.text, "notes_erased": notes.erased}
        return Response(data)


urlpatterns = [
    path("contacts/", ContactListApi.as_view(), name="contact-list"),
    path("contacts/<uuid:contact_id>/", ContactDetailApi.as_view(), name="contact-detail"),
]
