"""The directory as the Open Referral HSDS 3.0 API, under ``/api/v1/hsds/``.

Every path of the HSDS API description (``schema/openapi.json`` of the specification) with
its parameters: the root, ``services``, ``organizations``, ``service_at_locations`` (each a
list and a record by id), ``taxonomies`` and ``taxonomy_terms`` (the Continuum taxonomy the
attributes use). Lists answer in the HSDS ``Page`` shape; a page past the end is an empty
page, not an error. Each path answers with and without its trailing slash, as HSDS clients
call it without. Readable by signed-in members, or by anyone when ``CONTINUUM_HSDS_PUBLIC``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.params import StrictBooleanField, StrictQuerySerializer
from services_directory.hsds import selectors
from services_directory.hsds.mapping import (
    location_fields,
    organization_fields,
    organization_to_hsds,
    service_at_location_fields,
    service_at_location_to_hsds,
    service_fields,
    service_to_hsds,
)
from services_directory.hsds.taxonomy import term_to_hsds

MAX_PER_JSON = 100
HSDS_VERSION = "3.0"
HSDS_PROFILE = "https://github.com/openreferral/specification/tree/3.0"
HSDS_OPENAPI = (
    "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/openapi.json"
)


class HsdsReadable(BasePermission):
    """Signed-in members, or anyone when the operator publishes the directory."""

    def has_permission(self, request, view) -> bool:
        return bool(settings.CONTINUUM_HSDS_PUBLIC or request.user.is_authenticated)


class PageParams(StrictQuerySerializer):
    page = serializers.IntegerField(
        required=False, min_value=1, default=1, help_text="Page number, from 1."
    )
    per_page = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_PER_JSON,
        default=50,
        help_text=f"Records per page, 1 to {MAX_PER_JSON}.",
    )
    format = serializers.ChoiceField(
        choices=["json"], required=False, help_text="Only json: one page at a time."
    )


class SearchPageParams(PageParams):
    search = serializers.CharField(
        required=False, max_length=200, help_text="Text in the name or description."
    )


class ServiceFilterParams(SearchPageParams):
    taxonomy_term_id = serializers.UUIDField(
        required=False, help_text="Records with an attribute of this taxonomy term."
    )
    taxonomy_id = serializers.UUIDField(
        required=False, help_text="Records with an attribute of a term of this taxonomy."
    )
    organization_id = serializers.UUIDField(
        required=False, help_text="Records of this organisation."
    )
    modified_after = serializers.DateTimeField(
        required=False, help_text="Records modified at or after this date-time."
    )
    full = StrictBooleanField(required=False, default=False, help_text="Fully nested records.")

    def filters(self) -> selectors.HsdsServiceFilters:
        values = self.validated_data
        return selectors.HsdsServiceFilters(
            search=values.get("search"),
            taxonomy_term_id=values.get("taxonomy_term_id"),
            taxonomy_id=values.get("taxonomy_id"),
            organization_id=values.get("organization_id"),
            modified_after=values.get("modified_after"),
        )


class ServiceListParams(ServiceFilterParams):
    minimal = StrictBooleanField(
        required=False,
        default=False,
        help_text="Just id, name, status and last_modified of each service.",
    )

    def validate(self, attrs):
        if attrs.get("minimal") and attrs.get("full"):
            raise serializers.ValidationError({"minimal": ["Give minimal or full, not both."]})
        return attrs


class ServiceAtLocationListParams(ServiceFilterParams):
    postcode = serializers.CharField(
        required=False, max_length=20, help_text="Places with this postal code."
    )
    proximity = serializers.FloatField(
        required=False,
        min_value=0,
        max_value=20_037_509,
        help_text="With postcode: places within this many metres of the postcode's centroid.",
    )

    def validate(self, attrs):
        if attrs.get("proximity") is not None and not attrs.get("postcode"):
            raise serializers.ValidationError({"proximity": ["Give a postcode with it."]})
        return attrs


class OrganizationListParams(SearchPageParams):
    full = StrictBooleanField(
        required=False, default=False, help_text="Fully nested organisations."
    )
    full_service = StrictBooleanField(
        required=False,
        default=False,
        help_text="Each organisation with its services, fully nested.",
    )


class OrganizationParams(StrictQuerySerializer):
    full_service = StrictBooleanField(
        required=False,
        default=False,
        help_text="The services fully nested, not just their own fields.",
    )


class TaxonomyTermListParams(SearchPageParams):
    taxonomy_id = serializers.UUIDField(required=False, help_text="Terms of this taxonomy.")
    top_only = StrictBooleanField(
        required=False, default=False, help_text="Only terms without a parent."
    )
    parent_id = serializers.UUIDField(required=False, help_text="Terms with this parent.")


def _parse(serializer_class: type[serializers.Serializer], request) -> serializers.Serializer:
    params = serializer_class(data=request.query_params)
    params.is_valid(raise_exception=True)
    return params


def hsds_page(items: Sequence | Any, params: serializers.Serializer, render: Callable) -> dict:
    """The HSDS ``Page`` of ``items`` (a queryset or a list) for ``page`` and ``per_page``."""
    page, per_page = params.validated_data["page"], params.validated_data["per_page"]
    total = items.count() if hasattr(items, "count") and not isinstance(items, list) else len(items)
    start = (page - 1) * per_page
    # Past the end is an empty page, without asking the database for an OFFSET it cannot
    # hold (page 2**62 overflows SQLite's integers).
    contents = [render(item) for item in items[start : start + per_page]] if start < total else []
    total_pages = max(1, math.ceil(total / per_page))
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page,
        "size": len(contents),
        "first_page": page == 1,
        "last_page": page >= total_pages,
        "empty": not contents,
        "contents": contents,
    }


class HsdsApi(APIView):
    permission_classes = [HsdsReadable]


_JSON = {200: OpenApiTypes.OBJECT}


class HsdsRootApi(HsdsApi):
    @extend_schema(
        operation_id="hsds_root",
        responses=_JSON,
        description="The HSDS version and profile of this API.",
        tags=["directory"],
    )
    def get(self, request):
        _parse(StrictQuerySerializer, request)
        return Response(
            {"version": HSDS_VERSION, "profile": HSDS_PROFILE, "openapi_url": HSDS_OPENAPI}
        )


def _minimal_service(service) -> dict[str, Any]:
    data = service_fields(service)
    return {key: data[key] for key in ("id", "name", "status", "last_modified")}


class HsdsServiceListApi(HsdsApi):
    @extend_schema(
        operation_id="hsds_services_list",
        parameters=[ServiceListParams],
        responses=_JSON,
        description="Services: their own fields, organisation and attributes; "
        "`full=true` fully nested, `minimal=true` just id, name, status and last_modified.",
        tags=["directory"],
    )
    def get(self, request):
        params = _parse(ServiceListParams, request)
        full = params.validated_data["full"]
        services = selectors.hsds_services(filters=params.filters(), full=full)
        if params.validated_data["minimal"]:
            render = _minimal_service
        else:
            render = service_to_hsds if full else service_fields
        return Response(hsds_page(services, params, render))


class HsdsServiceApi(HsdsApi):
    @extend_schema(
        operation_id="hsds_service_get",
        responses=_JSON,
        description="A fully nested service.",
        tags=["directory"],
    )
    def get(self, request, id: str):
        _parse(StrictQuerySerializer, request)
        return Response(service_to_hsds(selectors.hsds_service_get(service_id=id)))


def _organization_renderer(*, full: bool, full_service: bool | None) -> Callable:
    def render(organization) -> dict[str, Any]:
        data = organization_to_hsds(organization) if full else organization_fields(organization)
        if full_service is not None:
            services = sorted(organization.services.all(), key=lambda s: str(s.pk))
            if full_service:
                data["services"] = [service_to_hsds(s) for s in services]
            else:
                data["services"] = [service_fields(s, organization=False) for s in services]
        return data

    return render


class HsdsOrganizationListApi(HsdsApi):
    @extend_schema(
        operation_id="hsds_organizations_list",
        parameters=[OrganizationListParams],
        responses=_JSON,
        description="Organisations: their own fields and attributes; `full=true` with phones "
        "and locations; `full_service=true` with their services fully nested.",
        tags=["directory"],
    )
    def get(self, request):
        params = _parse(OrganizationListParams, request)
        values = params.validated_data
        organizations = selectors.hsds_organizations(
            search=values.get("search"), full=values["full"]
        )
        if values["full_service"]:
            organizations = selectors.with_services(organizations, full=True)
        render = _organization_renderer(
            full=values["full"], full_service=True if values["full_service"] else None
        )
        return Response(hsds_page(organizations, params, render))


class HsdsOrganizationApi(HsdsApi):
    @extend_schema(
        operation_id="hsds_organization_get",
        parameters=[OrganizationParams],
        responses=_JSON,
        description="A fully nested organisation with its services (their own fields; "
        "`full_service=true` fully nested).",
        tags=["directory"],
    )
    def get(self, request, id: str):
        params = _parse(OrganizationParams, request)
        full_service = params.validated_data["full_service"]
        organization = selectors.hsds_organization_get(
            organization_id=id, full_service=full_service
        )
        return Response(_organization_renderer(full=True, full_service=full_service)(organization))


def _place_fields(place) -> dict[str, Any]:
    data = service_at_location_fields(place)
    data["location"] = location_fields(place.location)
    data["service"] = service_fields(place.service)
    return data


def _place_full(place) -> dict[str, Any]:
    data = service_at_location_to_hsds(place)
    data["service"] = service_fields(place.service)
    return data


class HsdsServiceAtLocationListApi(HsdsApi):
    @extend_schema(
        operation_id="hsds_service_at_locations_list",
        parameters=[ServiceAtLocationListParams],
        responses=_JSON,
        description="Services at their places: own fields with the location's and the "
        "service's; `full=true` with phones, schedules and the location fully nested.",
        tags=["directory"],
    )
    def get(self, request):
        params = _parse(ServiceAtLocationListParams, request)
        values = params.validated_data
        places = selectors.hsds_service_at_locations(
            filters=params.filters(),
            full=values["full"],
            postcode=values.get("postcode"),
            proximity_m=values.get("proximity"),
        )
        return Response(hsds_page(places, params, _place_full if values["full"] else _place_fields))


class HsdsServiceAtLocationApi(HsdsApi):
    @extend_schema(
        operation_id="hsds_service_at_location_get",
        responses=_JSON,
        description="A fully nested service at a place.",
        tags=["directory"],
    )
    def get(self, request, id: str):
        _parse(StrictQuerySerializer, request)
        place = selectors.hsds_service_at_location_get(service_at_location_id=id)
        return Response(_place_full(place))


class HsdsTaxonomyListApi(HsdsApi):
    @extend_schema(
        operation_id="hsds_taxonomies_list",
        parameters=[SearchPageParams],
        responses=_JSON,
        description="The taxonomies the attributes use: Continuum's own.",
        tags=["directory"],
    )
    def get(self, request):
        params = _parse(SearchPageParams, request)
        taxonomies = selectors.hsds_taxonomies(search=params.validated_data.get("search"))
        return Response(hsds_page(taxonomies, params, lambda taxonomy: taxonomy))


class HsdsTaxonomyApi(HsdsApi):
    @extend_schema(
        operation_id="hsds_taxonomy_get",
        responses=_JSON,
        description="A taxonomy.",
        tags=["directory"],
    )
    def get(self, request, id: str):
        _parse(StrictQuerySerializer, request)
        return Response(selectors.hsds_taxonomy_get(taxonomy_id=id))


class HsdsTaxonomyTermListApi(HsdsApi):
    @extend_schema(
        operation_id="hsds_taxonomy_terms_list",
        parameters=[TaxonomyTermListParams],
        responses=_JSON,
        description="The terms of the Continuum taxonomy.",
        tags=["directory"],
    )
    def get(self, request):
        params = _parse(TaxonomyTermListParams, request)
        values = params.validated_data
        terms = selectors.hsds_taxonomy_terms(
            search=values.get("search"),
            taxonomy_id=values.get("taxonomy_id"),
            top_only=values["top_only"],
            parent_id=values.get("parent_id"),
        )
        return Response(hsds_page(terms, params, term_to_hsds))


class HsdsTaxonomyTermApi(HsdsApi):
    @extend_schema(
        operation_id="hsds_taxonomy_term_get",
        responses=_JSON,
        description="A taxonomy term.",
        tags=["directory"],
    )
    def get(self, request, id: str):
        _parse(StrictQuerySerializer, request)
        return Response(term_to_hsds(selectors.hsds_taxonomy_term_get(term_id=id)))
