"""Case conferences: agendas of pseudonymous cases, minutes and action items, and the
printable agenda. Coordinators of the conference's task force only; others get 404.

    GET|POST /api/v1/conferences/?task_force=<id>        list / {task_force, held_on, title}
    GET|PATCH /api/v1/conferences/{id}/                  detail / {title, held_on, minutes}
    POST /api/v1/conferences/{id}/agenda-items/          {title} or {rule, target_type, target_id}
    PATCH /api/v1/conferences/{id}/agenda-items/{item}/  {title, discussion, position}
    POST /api/v1/conferences/{id}/actions/               {description, owner, due_on, agenda_item}
    POST /api/v1/conferences/{id}/actions/{action}/complete/   {done: true|false}
    GET  /api/v1/conferences/{id}/agenda.html            printable agenda (audited export)
"""

from __future__ import annotations

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from coordination import services
from coordination.api.board import UserRef
from coordination.models import BoardRule
from coordination.selectors import coordinated_task_force_get
from coordination.selectors.board import TARGET_TYPES
from coordination.selectors.conferences import (
    action_item_get,
    agenda_item_get,
    conference_get,
    conference_list,
)
from core.api.pagination import Pagination
from core.api.params import EventDateField, StrictBodySerializer, StrictQuerySerializer
from core.api.schema import paginated
from core.idempotency import idempotent


class AgendaItemOutput(serializers.Serializer):
    """Pseudonymous: the person's display name and the referral's status, nothing else."""

    id = serializers.IntegerField()
    position = serializers.IntegerField()
    title = serializers.CharField()
    rule = serializers.CharField()
    discussion = serializers.CharField()
    person = serializers.SerializerMethodField()
    referral = serializers.SerializerMethodField()

    def get_person(self, item) -> dict | None:
        if item.person_id is None:
            return None
        return {"id": str(item.person_id), "display_name": item.person.display_name}

    def get_referral(self, item) -> dict | None:
        if item.referral_id is None:
            return None
        return {"id": str(item.referral_id), "status": item.referral.status}


class ActionItemOutput(serializers.Serializer):
    id = serializers.IntegerField()
    description = serializers.CharField()
    owner = UserRef(allow_null=True)
    due_on = serializers.DateField(allow_null=True)
    done_at = serializers.DateTimeField(allow_null=True)
    agenda_item = serializers.IntegerField(source="agenda_item_id", allow_null=True)


class ConferenceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    task_force = serializers.IntegerField(source="task_force_id")
    held_on = EventDateField()
    title = serializers.CharField()
    created_by = UserRef(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ConferenceDetailOutput(ConferenceOutput):
    minutes = serializers.CharField()
    agenda_items = AgendaItemOutput(many=True)
    action_items = ActionItemOutput(many=True)
    agenda_html = serializers.SerializerMethodField()

    def get_agenda_html(self, conference) -> str:
        return f"/api/v1/conferences/{conference.pk}/agenda.html"


class ConferenceListParams(StrictQuerySerializer):
    task_force = serializers.IntegerField()


class ConferenceInput(StrictBodySerializer):
    task_force = serializers.IntegerField()
    held_on = EventDateField()
    title = serializers.CharField(max_length=200)


class ConferenceUpdateInput(StrictBodySerializer):
    title = serializers.CharField(max_length=200, required=False)
    held_on = EventDateField(required=False)
    minutes = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100_000,
        help_text="Pseudonymous by policy: display names only, never identifying details.",
    )


class AgendaItemInput(StrictBodySerializer):
    """By hand (``title``) or from a board item (``rule`` + ``target_type`` + ``target_id``)."""

    title = serializers.CharField(required=False, allow_blank=True, max_length=300)
    discussion = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    rule = serializers.ChoiceField(choices=BoardRule.choices, required=False)
    target_type = serializers.ChoiceField(choices=TARGET_TYPES, required=False)
    target_id = serializers.CharField(required=False, max_length=64)

    def validate(self, attrs):
        board = [k for k in ("rule", "target_type", "target_id") if attrs.get(k)]
        if board and len(board) != 3:
            missing = {"rule", "target_type", "target_id"} - set(board)
            raise serializers.ValidationError(
                {k: ["Required with a board item."] for k in sorted(missing)}
            )
        if not board and not (attrs.get("title") or "").strip():
            raise serializers.ValidationError(
                {"title": [_("Give a title, or rule, target_type and target_id of a board item.")]}
            )
        return attrs


class AgendaItemUpdateInput(StrictBodySerializer):
    title = serializers.CharField(required=False, max_length=300)
    discussion = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    position = serializers.IntegerField(required=False, min_value=0)


class ActionItemInput(StrictBodySerializer):
    description = serializers.CharField(max_length=500)
    owner = serializers.IntegerField(required=False, allow_null=True)
    due_on = EventDateField(required=False, allow_null=True)
    agenda_item = serializers.IntegerField(required=False, allow_null=True)


class ActionCompleteInput(StrictBodySerializer):
    done = serializers.BooleanField(required=False, default=True)


def _detail(request, conference_id) -> Response:
    conference = conference_get(user=request.user, conference_id=conference_id)
    return Response(ConferenceDetailOutput(conference).data)


class ConferenceListApi(APIView):
    @extend_schema(parameters=[ConferenceListParams], responses={200: paginated(ConferenceOutput)})
    def get(self, request):
        params = ConferenceListParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        conferences = conference_list(
            user=request.user, task_force_id=params.validated_data["task_force"]
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(conferences, request, view=self)
        return paginator.get_paginated_response(ConferenceOutput(page, many=True).data)

    @extend_schema(request=ConferenceInput, responses={201: ConferenceDetailOutput})
    @idempotent
    def post(self, request):
        params = ConferenceInput(data=request.data)
        params.is_valid(raise_exception=True)
        values = params.validated_data
        task_force = coordinated_task_force_get(
            user=request.user, task_force_id=values["task_force"]
        )
        conference = services.conference_create(
            actor=request.user,
            task_force=task_force,
            held_on=values["held_on"],
            title=values["title"],
        )
        response = _detail(request, conference.pk)
        response.status_code = status.HTTP_201_CREATED
        return response


class ConferenceDetailApi(APIView):
    @extend_schema(responses={200: ConferenceDetailOutput})
    def get(self, request, conference_id):
        return _detail(request, conference_id)

    @extend_schema(request=ConferenceUpdateInput, responses={200: ConferenceDetailOutput})
    def patch(self, request, conference_id):
        conference = conference_get(user=request.user, conference_id=conference_id)
        params = ConferenceUpdateInput(data=request.data)
        params.is_valid(raise_exception=True)
        services.conference_update(
            actor=request.user, conference=conference, **params.validated_data
        )
        return _detail(request, conference_id)


class AgendaItemListApi(APIView):
    @extend_schema(request=AgendaItemInput, responses={201: AgendaItemOutput})
    @idempotent
    def post(self, request, conference_id):
        conference = conference_get(user=request.user, conference_id=conference_id)
        params = AgendaItemInput(data=request.data)
        params.is_valid(raise_exception=True)
        item = services.agenda_item_add(
            actor=request.user, conference=conference, **params.validated_data
        )
        return Response(AgendaItemOutput(item).data, status=status.HTTP_201_CREATED)


class AgendaItemDetailApi(APIView):
    @extend_schema(request=AgendaItemUpdateInput, responses={200: AgendaItemOutput})
    def patch(self, request, conference_id, item_id):
        conference = conference_get(user=request.user, conference_id=conference_id)
        item = agenda_item_get(conference=conference, item_id=item_id)
        params = AgendaItemUpdateInput(data=request.data)
        params.is_valid(raise_exception=True)
        item = services.agenda_item_update(actor=request.user, item=item, **params.validated_data)
        return Response(AgendaItemOutput(item).data)


class ActionItemListApi(APIView):
    @extend_schema(request=ActionItemInput, responses={201: ActionItemOutput})
    @idempotent
    def post(self, request, conference_id):
        conference = conference_get(user=request.user, conference_id=conference_id)
        params = ActionItemInput(data=request.data)
        params.is_valid(raise_exception=True)
        values = params.validated_data
        agenda_item = None
        if values.get("agenda_item") is not None:
            agenda_item = agenda_item_get(conference=conference, item_id=values["agenda_item"])
        action = services.action_item_add(
            actor=request.user,
            conference=conference,
            description=values["description"],
            owner_id=values.get("owner"),
            due_on=values.get("due_on"),
            agenda_item=agenda_item,
        )
        return Response(ActionItemOutput(action).data, status=status.HTTP_201_CREATED)


class ActionItemCompleteApi(APIView):
    @extend_schema(request=ActionCompleteInput, responses={200: ActionItemOutput})
    @idempotent
    def post(self, request, conference_id, action_id):
        conference = conference_get(user=request.user, conference_id=conference_id)
        action = action_item_get(conference=conference, action_id=action_id)
        params = ActionCompleteInput(data=request.data)
        params.is_valid(raise_exception=True)
        action = services.action_item_complete(
            actor=request.user, action=action, done=params.validated_data["done"]
        )
        return Response(ActionItemOutput(action).data)


class AgendaHtmlApi(APIView):
    """The agenda as a printable page (the browser's "Print to PDF" makes the PDF)."""

    @extend_schema(responses={200: OpenApiResponse(description="text/html")})
    def get(self, request, conference_id):
        conference = conference_get(user=request.user, conference_id=conference_id)
        services.conference_agenda_export(actor=request.user, conference=conference)
        html = render_to_string(
            "coordination/agenda.html",
            {
                "conference": conference,
                "agenda_items": list(conference.agenda_items.all()),
                "action_items": list(conference.action_items.all()),
            },
            request=request,
        )
        response = HttpResponse(html, content_type="text/html; charset=utf-8")
        response["Cache-Control"] = "no-store"
        return response


urlpatterns = [
    path("conferences/", ConferenceListApi.as_view(), name="conference-list"),
    path(
        "conferences/<id:conference_id>/",
        ConferenceDetailApi.as_view(),
        name="conference-detail",
    ),
    path(
        "conferences/<id:conference_id>/agenda-items/",
        AgendaItemListApi.as_view(),
        name="conference-agenda-items",
    ),
    path(
        "conferences/<id:conference_id>/agenda-items/<id:item_id>/",
        AgendaItemDetailApi.as_view(),
        name="conference-agenda-item",
    ),
    path(
        "conferences/<id:conference_id>/actions/",
        ActionItemListApi.as_view(),
        name="conference-actions",
    ),
    path(
        "conferences/<id:conference_id>/actions/<id:action_id>/complete/",
        ActionItemCompleteApi.as_view(),
        name="conference-action-complete",
    ),
    path(
        "conferences/<id:conference_id>/agenda.html",
        AgendaHtmlApi.as_view(),
        name="conference-agenda-html",
    ),
]
