"""The directory as Open Referral HSDS 3.0 JSON (``GET /api/v1/hsds/``)."""

from __future__ import annotations

import math

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.params import StrictQuerySerializer
from services_directory.hsds.mapping import hsds_service_queryset, service_to_hsds

MAX_PER_PAGE = 100


class HsdsPageParams(StrictQuerySerializer):
    page = serializers.IntegerField(
        required=False, min_value=1, default=1, help_text="Page number, from 1."
    )
    per_page = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_PER_PAGE,
        default=50,
        help_text=f"Records per page, 1 to {MAX_PER_PAGE}.",
    )


class HsdsDirectoryApi(APIView):
    """Full HSDS service records (as in an export's services.json) in the HSDS ``Page``
    shape. A page past the end is an empty page, not an error."""

    @extend_schema(
        parameters=[HsdsPageParams],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        params = HsdsPageParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        page, per_page = params.validated_data["page"], params.validated_data["per_page"]
        services = hsds_service_queryset()
        total = services.count()
        start = (page - 1) * per_page
        # Past the end is an empty page, without asking the database for an OFFSET it
        # cannot hold (page 2**62 overflows SQLite's integers).
        in_range = start < total
        contents = (
            [service_to_hsds(s) for s in services[start : start + per_page]] if in_range else []
        )
        total_pages = max(1, math.ceil(total / per_page))
        return Response(
            {
                "total_items": total,
                "total_pages": total_pages,
                "page_number": page,
                "size": len(contents),
                "first_page": page == 1,
                "last_page": page >= total_pages,
                "empty": not contents,
                "contents": contents,
            }
        )
