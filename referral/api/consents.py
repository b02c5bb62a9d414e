"""Consent endpoints: record, list and revoke what a person agreed may be disclosed."""

from __future__ import annotations

from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.pagination import Pagination
from core.api.params import StrictBodySerializer, StrictQuerySerializer
from core.api.schema import paginated
from core.idempotency import idempotent
from referral.api.people import OrganizationReference
from referral.models import Consent, ConsentMethod
from referral.selectors import access
from referral.selectors import consents as selectors
from referral.selectors.people import person_get
from referral.services import consents as services
from services_directory.models import Stage


class ConsentListParams(StrictQuerySerializer):
    """No filters: only paging."""


class ConsentInput(StrictBodySerializer):
    recipients = serializers.ListField(
        child=serializers.UUIDField(), required=False, default=list, max_length=100
    )
    stages = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        default=list,
        max_length=len(Stage.choices),
        help_text=f"Continuum stages covered: {', '.join(Stage.values)}.",
    )
    information = serializers.CharField(max_length=2000)
    purpose = serializers.CharField(max_length=2000)
    method = serializers.ChoiceField(choices=ConsentMethod.choices)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    expires_on_event = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, default=None, max_length=200
    )

    def validate_stages(self, value: list[str]) -> list[str]:
        unknown = sorted({stage for stage in value if stage not in Stage.values})
        if unknown:
            raise serializers.ValidationError(
                f"Unknown stage(s): {', '.join(unknown)}. Known: {', '.join(Stage.values)}."
            )
        return value

    def validate(self, attrs):
        if not attrs.get("recipients") and not attrs.get("stages"):
            message = "Name at least one recipient organisation or continuum stage."
            raise serializers.ValidationError({"recipients": [message], "stages": [message]})
        return attrs


class ConsentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    person = serializers.UUIDField(source="person_id")
    disclosing_organization = OrganizationReference()
    recipients = OrganizationReference(many=True, source="recipients.all")
    stages = serializers.ListField(child=serializers.CharField())
    information = serializers.CharField()
    purpose = serializers.CharField()
    method = serializers.CharField()
    recorded_by = serializers.IntegerField(source="recorded_by_id", allow_null=True)
    given_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    expires_on_event = serializers.CharField()
    expired_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    revoked_by = serializers.IntegerField(source="revoked_by_id", allow_null=True)
    active = serializers.SerializerMethodField()
    redisclosure_notice = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_active(self, consent: Consent) -> bool:
        return access.consent_active(consent, at=self.context["now"])


def _render(consent: Consent) -> dict:
    return ConsentOutput(consent, context={"now": timezone.now()}).data


class PersonConsentListApi(APIView):
    @extend_schema(
        responses={200: paginated(ConsentOutput)},
        description=(
            "The person's consents you may see: all of them for the organisation that "
            "recorded the person; for another organisation, those naming it as a recipient "
            "or covering a stage of a referral it received. `active` is evaluated now."
        ),
    )
    def get(self, request, person_id):
        params = ConsentListParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        person = person_get(user=request.user, person_id=person_id)
        consents = selectors.consent_list(user=request.user, person=person)
        paginator = Pagination()
        page = paginator.paginate_queryset(consents, request, view=self)
        data = ConsentOutput(page, many=True, context={"now": timezone.now()}).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        request=ConsentInput,
        responses={201: ConsentOutput},
        description=(
            "Record the person's consent, given now, disclosed by your organisation (which "
            "must have recorded the person). Body: `recipients` (organisation ids) and/or "
            "`stages` (continuum stages), at least one of them; `information`, `purpose`, "
            "`method` (verbal_witnessed, written, electronic); optional `expires_at` (future "
            "ISO time) and `expires_on_event`. Accepts `Idempotency-Key`."
        ),
    )
    @idempotent
    def post(self, request, person_id):
        person = person_get(user=request.user, person_id=person_id)
        params = ConsentInput(data=request.data)
        params.is_valid(raise_exception=True)
        values = params.validated_data
        consent = services.consent_create(
            actor=request.user,
            person=person,
            recipients=values["recipients"],
            stages=values["stages"],
            information=values["information"],
            purpose=values["purpose"],
            method=values["method"],
            expires_at=values["expires_at"],
            expires_on_event=values["expires_on_event"],
        )
        consent = selectors.consent_get(user=request.user, consent_id=consent.pk)
        return Response(_render(consent), status=status.HTTP_201_CREATED)


class ConsentRevokeApi(APIView):
    @extend_schema(
        request=None,
        responses={200: ConsentOutput},
        description=(
            "Revoke a consent: disclosure under it stops at once. Only the organisation that "
            "recorded the person. Revoking a revoked consent answers it unchanged. Accepts "
            "`Idempotency-Key`."
        ),
    )
    @idempotent
    def post(self, request, consent_id):
        consent = selectors.consent_get(user=request.user, consent_id=consent_id)
        services.consent_revoke(actor=request.user, consent=consent)
        consent = selectors.consent_get(user=request.user, consent_id=consent_id)
        return Response(_render(consent))


urlpatterns = [
    path(
        "people/<uuid:person_id>/consents/",
        PersonConsentListApi.as_view(),
        name="person-consent-list",
    ),
    path(
        "consents/<uuid:consent_id>/revoke/",
        ConsentRevokeApi.as_view(),
        name="consent-revoke",
    ),
]
