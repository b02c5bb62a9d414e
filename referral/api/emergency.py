"""Emergency access (42 CFR Part 2 §2.51): a provider opens a person's identity without
consent; org admins review what was opened."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.pagination import Pagination
from core.api.params import StrictBodySerializer
from core.api.schema import paginated
from core.idempotency import idempotent
from referral.selectors.emergency import emergency_access_review_list
from referral.services import emergency as services


class EmergencyAccessInput(StrictBodySerializer):
    reason = serializers.CharField(
        max_length=services.REASON_MAX_LENGTH,
        help_text="The nature of the medical emergency (recorded in the audit trail).",
    )


class EmergencyAccessOutput(serializers.Serializer):
    id = serializers.UUIDField()
    person = serializers.UUIDField(source="person_id")
    referral = serializers.UUIDField(source="referral_id")
    granted_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class EmergencyAccessReviewOutput(EmergencyAccessOutput):
    person_display_name = serializers.CharField(source="person.display_name")
    username = serializers.CharField(source="user.username", default="")
    organization = serializers.CharField(source="organization.name")
    reason = serializers.SerializerMethodField()

    def get_reason(self, access) -> str | None:
        return services.emergency_access_reason(access)


class EmergencyAccessApi(APIView):
    @extend_schema(
        request=EmergencyAccessInput,
        responses={201: EmergencyAccessOutput},
        description=(
            "Open the person's identifying fields without consent because of a medical "
            "emergency, for `CONTINUUM_EMERGENCY_ACCESS_MINUTES` (60). Only a provider whose "
            "organisation sent or received a referral for the person; anyone else 404. "
            "Audited with the reason; the recording organisation is told; coordinators and "
            "org admins see it for review."
        ),
    )
    @idempotent
    def post(self, request, person_id):
        params = EmergencyAccessInput(data=request.data)
        params.is_valid(raise_exception=True)
        access = services.emergency_access_open(
            actor=request.user, person_id=person_id, reason=params.validated_data["reason"]
        )
        return Response(EmergencyAccessOutput(access).data, status=status.HTTP_201_CREATED)


class EmergencyAccessReviewApi(APIView):
    @extend_schema(
        responses={200: paginated(EmergencyAccessReviewOutput)},
        description=(
            "For org admins: the emergency accesses their organisation's providers opened "
            "and those to people their organisation recorded, newest first, with the reason."
        ),
    )
    def get(self, request):
        paginator = Pagination()
        page = paginator.paginate_queryset(
            emergency_access_review_list(user=request.user), request, view=self
        )
        return paginator.get_paginated_response(EmergencyAccessReviewOutput(page, many=True).data)


urlpatterns = [
    path(
        "people/<uuid:person_id>/emergency-access/",
        EmergencyAccessApi.as_view(),
        name="person-emergency-access",
    ),
    path("emergency-accesses/", EmergencyAccessReviewApi.as_view(), name="emergency-access-list"),
]
