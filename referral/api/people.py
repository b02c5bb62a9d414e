"""People endpoints. Lists show pseudonyms only; a detail adds the identifying fields for a user
entitled to them now, and that read is audited."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.pagination import Pagination
from core.api.params import StrictBodySerializer, StrictQuerySerializer
from core.api.schema import paginated
from core.idempotency import idempotent
from referral.models import Person
from referral.selectors import people as selectors
from referral.services import people as services

SEARCH_FIELDS = ("given_name", "family_name", "birth_date")


# --- input ---------------------------------------------------------------------------------


class PersonListParams(StrictQuerySerializer):
    """Paging only. Names in a URL end up in access logs and browser histories, so a search
    by name goes in a request body (``PersonSearchApi``)."""

    def to_internal_value(self, data):
        if named := [name for name in SEARCH_FIELDS if name in data]:
            raise serializers.ValidationError(
                {
                    name: ["Search with POST /api/v1/people/search/: names never go in a URL."]
                    for name in named
                }
            )
        return super().to_internal_value(data)


class PersonSearchInput(StrictBodySerializer):
    given_name = serializers.CharField(max_length=150)
    family_name = serializers.CharField(max_length=150)
    birth_date = serializers.DateField()


class PersonInput(StrictBodySerializer):
    display_name = serializers.CharField(max_length=services.DISPLAY_NAME_MAX)
    given_name = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=150
    )
    family_name = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=150
    )
    birth_date = serializers.DateField(required=False, allow_null=True)
    phone = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=40)
    notes = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=4000
    )


# --- output --------------------------------------------------------------------------------


class OrganizationReference(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class PersonOutput(serializers.Serializer):
    """Pseudonym-level fields only: what every user who may see the person sees."""

    id = serializers.UUIDField()
    display_name = serializers.CharField()
    organization = OrganizationReference()
    created_at = serializers.DateTimeField()
    erased = serializers.SerializerMethodField()
    identity_visible = serializers.SerializerMethodField()

    def get_erased(self, person: Person) -> bool:
        return person.erased_at is not None

    def get_identity_visible(self, person: Person) -> bool:
        return person.pk in self.context["identity_visible"]


class PersonSearchOutput(serializers.Serializer):
    count = serializers.IntegerField(min_value=0)
    results = PersonOutput(many=True)


class IdentityOutput(serializers.Serializer):
    erased = serializers.BooleanField()
    given_name = serializers.CharField(allow_null=True)
    family_name = serializers.CharField(allow_null=True)
    birth_date = serializers.DateField(allow_null=True)
    phone = serializers.CharField(allow_null=True)
    notes = serializers.CharField(allow_null=True)


class PersonDetailOutput(PersonOutput):
    updated_at = serializers.DateTimeField()
    erased_at = serializers.DateTimeField(allow_null=True)
    identity = serializers.SerializerMethodField()
    possible_duplicates = serializers.SerializerMethodField()

    @extend_schema_field(IdentityOutput(allow_null=True))
    def get_identity(self, person: Person) -> dict[str, Any] | None:
        identity = self.context["identity"]
        return None if identity is None else IdentityOutput(identity).data

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField(), allow_null=True))
    def get_possible_duplicates(self, person: Person) -> list[str] | None:
        duplicates = self.context["possible_duplicates"]
        return None if duplicates is None else [str(pk) for pk in duplicates]


class PersonCreateOutput(PersonOutput):
    identity_fields = serializers.SerializerMethodField()
    possible_duplicates = serializers.SerializerMethodField()

    def get_identity_fields(self, person: Person) -> list[str]:
        return [
            field
            for field in selectors.IDENTIFYING_FIELDS
            if getattr(person, f"{field}_enc") is not None
        ]

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField(), allow_null=True))
    def get_possible_duplicates(self, person: Person) -> list[str] | None:
        duplicates = self.context["possible_duplicates"]
        return None if duplicates is None else [str(pk) for pk in duplicates]


# --- views ---------------------------------------------------------------------------------


def _detail(request, person: Person) -> dict[str, Any]:
    identity = selectors.person_identity(user=request.user, person=person)
    duplicates = selectors.person_possible_duplicates(
        user=request.user, person=person, identity=identity
    )
    context = {
        "identity": identity,
        "identity_visible": {person.pk} if identity is not None else set(),
        "possible_duplicates": duplicates,
    }
    return PersonDetailOutput(person, context=context).data


class PersonListApi(APIView):
    @extend_schema(
        responses={200: paginated(PersonOutput)},
        description=(
            "People whose pseudonym you may see, newest first; no identifying fields here. "
            "`identity_visible` tells whether the detail would show them. To find someone by "
            "name, use `POST /api/v1/people/search/` (names in a URL are a 400)."
        ),
    )
    def get(self, request):
        params = PersonListParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        people = selectors.person_list(user=request.user)
        paginator = Pagination()
        page = paginator.paginate_queryset(people, request, view=self)
        visible = selectors.person_identity_visible_ids(user=request.user, people=page)
        data = PersonOutput(page, many=True, context={"identity_visible": visible}).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        request=PersonInput,
        responses={201: PersonCreateOutput},
        description=(
            "Record a person for your organisation. Only `display_name` (street name or "
            "initials) is required; identifying fields are encrypted at rest. The answer does "
            "not echo identifying fields (`identity_fields` names those stored; read them "
            "with GET, which is audited) and lists `possible_duplicates`: people with the same "
            "names and birth date whose identity you may see. Accepts `Idempotency-Key`."
        ),
    )
    @idempotent
    def post(self, request):
        params = PersonInput(data=request.data)
        params.is_valid(raise_exception=True)
        values = params.validated_data
        person = services.person_create(actor=request.user, **values)
        person = selectors.person_get(user=request.user, person_id=person.pk)
        duplicates = selectors.person_possible_duplicates(
            user=request.user,
            person=person,
            identity={f: values.get(f) for f in selectors.IDENTIFYING_FIELDS},
        )
        context = {"identity_visible": {person.pk}, "possible_duplicates": duplicates}
        return Response(
            PersonCreateOutput(person, context=context).data, status=status.HTTP_201_CREATED
        )


class PersonSearchApi(APIView):
    @extend_schema(
        request=PersonSearchInput,
        responses={200: PersonSearchOutput},
        description=(
            "**Duplicate search**: `given_name`, `family_name` and `birth_date` (YYYY-MM-DD), "
            "all three, find exact matches after normalisation (case, accents, spaces and "
            "punctuation ignored) through the blind index, among the people whose identity "
            "you may already see (never for coordinators). Pseudonyms only, as in the list: "
            '`{"count": n, "results": [...]}`. In the body, not the URL, so that names stay '
            "out of access logs. Reads only: a retry is harmless."
        ),
    )
    def post(self, request):
        params = PersonSearchInput(data=request.data)
        params.is_valid(raise_exception=True)
        people = list(selectors.person_search(user=request.user, **params.validated_data))
        visible = selectors.person_identity_visible_ids(user=request.user, people=people)
        data = PersonOutput(people, many=True, context={"identity_visible": visible}).data
        return Response({"count": len(data), "results": data})


class PersonDetailApi(APIView):
    @extend_schema(
        responses={200: PersonDetailOutput},
        description=(
            "One person. `identity` holds the identifying fields when you may see them now "
            "(your organisation recorded the person, or a consent covers your organisation "
            "for a referral it received), else null; coordinators never see them. Reading "
            "them is audited. After erasure `identity.erased` is true and every field null. "
            "`possible_duplicates` is filled for the recording organisation only."
        ),
    )
    def get(self, request, person_id):
        person = selectors.person_get(user=request.user, person_id=person_id)
        return Response(_detail(request, person))

    @extend_schema(
        request=PersonInput(partial=True),
        responses={200: PersonDetailOutput},
        description=(
            "Change the pseudonym or identifying fields (null or empty clears one). Only the "
            "organisation that recorded the person; 409 after erasure."
        ),
    )
    def patch(self, request, person_id):
        person = selectors.person_get(user=request.user, person_id=person_id)
        params = PersonInput(data=request.data, partial=True)
        params.is_valid(raise_exception=True)
        services.person_update(actor=request.user, person=person, data=params.validated_data)
        person = selectors.person_get(user=request.user, person_id=person_id)
        return Response(_detail(request, person))


urlpatterns = [
    path("people/", PersonListApi.as_view(), name="person-list"),
    path("people/search/", PersonSearchApi.as_view(), name="person-search"),
    path("people/<uuid:person_id>/", PersonDetailApi.as_view(), name="person-detail"),
]
