"""Flows along the continuum: ``GET /api/v1/flows/`` (task_force, organization, pathway,
since, until)."""

from __future__ import annotations

from datetime import timedelta

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from coordination.flows.histograms import PERCENTILE_METHOD
from coordination.flows.periods import utc_today
from coordination.flows.suppression import SUPPRESSION_RULE
from coordination.selectors.flows import flow_report_get
from core.api.params import StrictQuerySerializer
from referral.models import Pathway

DEFAULT_DAYS = 365
MAX_RANGE_DAYS = 5 * 366  # five years


class FlowParams(StrictQuerySerializer):
    """The period is whole UTC days, ``since`` inclusive, ``until`` exclusive; by default the
    last 365 days up to and including today."""

    task_force = serializers.IntegerField(required=False, min_value=1)
    organization = serializers.UUIDField(required=False)
    pathway = serializers.ChoiceField(choices=Pathway.choices, required=False)
    since = serializers.DateField(required=False, input_formats=["iso-8601"])
    until = serializers.DateField(required=False, input_formats=["iso-8601"])

    def validate(self, attrs):
        until = attrs.get("until") or utc_today() + timedelta(days=1)
        since = attrs.get("since") or until - timedelta(days=DEFAULT_DAYS)
        if until <= since:
            raise serializers.ValidationError({"until": [_("Must be after since.")]})
        if (until - since).days > MAX_RANGE_DAYS:
            raise serializers.ValidationError(
                {"since": [f"The period may be at most five years ({MAX_RANGE_DAYS} days)."]}
            )
        return {**attrs, "since": since, "until": until}


FLOWS_DESCRIPTION = f"""Counts of referrals per pathway, per stage and per step of the
continuum (contact -> referral -> accepted -> engaged -> completed; declined, expired,
disengaged, withdrawn, forwarded and to which stage), a monthly series of contacts, referrals
and treatment entries, median and 90th-percentile times between steps, and the headline time
from first contact to treatment entry (engagement at a treatment-stage service).

Counts are of transitions within the period (UTC days, `since` inclusive, `until` exclusive,
at most five years). Coordinators see their task force (`task_force=` one they coordinate;
optional when they coordinate one) or one of its organisations (`organization=`); everyone
else sees the flows their own organisation took part in as sender or receiver. Another task
force or organisation answers 404.

Small cells: {SUPPRESSION_RULE}

Percentiles: {PERCENTILE_METHOD}

Whole days already rolled up nightly are read from the rollup, the rest live (`sources`)."""


class FlowsApi(APIView):
    @extend_schema(
        summary="Flows along the continuum",
        description=FLOWS_DESCRIPTION,
        parameters=[FlowParams],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        params = FlowParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        _scope, report = flow_report_get(
            user=request.user,
            since=data["since"],
            until=data["until"],
            pathway=data.get("pathway"),
            task_force_id=data.get("task_force"),
            organization_id=data.get("organization"),
        )
        return Response(report)


urlpatterns = [path("flows/", FlowsApi.as_view(), name="flows")]
