"""Outcome metrics: ``GET /api/v1/metrics/`` (task_force, organization, pathway, since,
until), for the same readers as the flows."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from coordination.api.flows import FlowParams
from coordination.flows.suppression import SUPPRESSION_RULE
from coordination.metrics import METRICS, SHARE_RULE
from coordination.selectors.flows import metrics_get

METRICS_DESCRIPTION = f"""The figures deflection programmes report (LEAD, PTACC, HEDIS IET),
overall (`totals`) and per pathway (`pathways`): {", ".join(f"`{m}`" for m in METRICS)}.
Their definitions and sources are in docs/metrics.md.

They follow the referrals made in the period (UTC days, `since` inclusive, `until` exclusive,
at most five years; by default the last 365 days): what became of them up to the time of the
request (`as_of`), and the contacts logged in the period. Each share is an object
`{{"share", "count", "of"}}`. The same readers as `GET /api/v1/flows/`: coordinators see their
task force (or one of its organisations), everyone else their own organisation; another task
force or organisation answers 404.

Small cells: {SUPPRESSION_RULE} {SHARE_RULE}"""


class MetricsApi(APIView):
    @extend_schema(
        summary="Outcome metrics",
        description=METRICS_DESCRIPTION,
        parameters=[FlowParams],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        params = FlowParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        _, metrics = metrics_get(
            user=request.user,
            since=data["since"],
            until=data["until"],
            pathway=data.get("pathway"),
            task_force_id=data.get("task_force"),
            organization_id=data.get("organization"),
        )
        return Response(metrics)


urlpatterns = [path("metrics/", MetricsApi.as_view(), name="metrics")]
