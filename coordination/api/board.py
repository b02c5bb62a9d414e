"""The task-force board: ``GET /api/v1/board/?task_force=<id>`` and the items' state
(assignment, note, resolution). Coordinators of the task force only; others get 404."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from coordination import services
from coordination.models import BoardRule
from coordination.selectors import coordinated_task_force_get
from coordination.selectors.board import TARGET_TYPES, board_get, board_item_state_get
from core.api.params import StrictBodySerializer, StrictBooleanField, StrictQuerySerializer
from core.idempotency import idempotent


class UserRef(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    username = serializers.CharField(source="get_username")


class StateOutput(serializers.Serializer):
    id = serializers.IntegerField()
    rule = serializers.CharField()
    target_type = serializers.CharField(source="target_label")
    target_id = serializers.CharField()
    assigned_to = UserRef(allow_null=True)
    note = serializers.CharField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()


class ItemStateOutput(serializers.Serializer):
    id = serializers.IntegerField()
    assigned_to = UserRef(allow_null=True)
    note = serializers.CharField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()


class BoardItemOutput(serializers.Serializer):
    """Pseudonymous: the person's display name, organisations, service and status only."""

    rule = serializers.CharField()
    rule_label = serializers.SerializerMethodField()
    target_type = serializers.CharField()
    target_id = serializers.CharField()
    display_name = serializers.CharField()
    status = serializers.CharField()
    since = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True)
    referral = serializers.SerializerMethodField()
    service = serializers.SerializerMethodField()
    links = serializers.DictField(child=serializers.CharField(allow_null=True))
    state = ItemStateOutput(allow_null=True)

    def get_rule_label(self, item) -> str:
        return BoardRule(item.rule).label

    def get_referral(self, item) -> dict | None:
        r = item.referral
        if r is None:
            return None
        return {
            "id": str(r.pk),
            "status": r.status,
            # the coded reason, never a note (coordinators read no free text)
            "reason_code": r.status_reason_code,
            "urgency": r.urgency,
            "pathway": r.pathway,
            "stage": r.stage,
            "sla_due_at": serializers.DateTimeField().to_representation(r.sla_due_at),
            "status_changed_at": serializers.DateTimeField().to_representation(r.status_changed_at),
            "to_service": (
                {"id": str(r.to_service_id), "name": r.to_service.name} if r.to_service_id else None
            ),
            "to_stage": r.stage if r.to_stage else None,
            "sender_organization": {
                "id": str(r.sender_organization_id),
                "name": r.sender_organization.name,
            },
            "receiving_organization": (
                {"id": str(r.receiving_organization_id), "name": r.receiving_organization.name}
                if r.receiving_organization_id
                else None
            ),
        }

    def get_service(self, item) -> dict | None:
        s = item.service
        if s is None:
            return None
        return {
            "id": str(s.pk),
            "name": s.name,
            "organization": {"id": str(s.organization_id), "name": s.organization.name},
            "stage": s.stage,
            "accepting_referrals": s.accepting_referrals,
            "capacity_available": s.capacity_available,
        }


class BoardOutput(serializers.Serializer):
    task_force = serializers.SerializerMethodField()
    generated_at = serializers.DateTimeField()
    counts = serializers.DictField(child=serializers.IntegerField())
    truncated = serializers.DictField(child=serializers.BooleanField())
    items = BoardItemOutput(many=True)

    def get_task_force(self, board) -> dict:
        tf = board.task_force
        return {"id": tf.pk, "name": tf.name, "time_zone": tf.time_zone}


class BoardParams(StrictQuerySerializer):
    task_force = serializers.IntegerField()
    rule = serializers.ChoiceField(choices=BoardRule.choices, required=False)
    include_resolved = StrictBooleanField(required=False)


class BoardApi(APIView):
    @extend_schema(parameters=[BoardParams], responses={200: BoardOutput})
    def get(self, request):
        params = BoardParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        values = params.validated_data
        board = board_get(
            user=request.user,
            task_force_id=values["task_force"],
            rule=values.get("rule"),
            include_resolved=values.get("include_resolved", False),
        )
        return Response(BoardOutput(board).data)


class StateInput(StrictBodySerializer):
    """What to change; fields left out stay as they are. ``assigned_to: null`` unassigns."""

    assigned_to = serializers.IntegerField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    resolved = serializers.BooleanField(required=False)


class StateCreateInput(StateInput):
    task_force = serializers.IntegerField()
    rule = serializers.ChoiceField(choices=BoardRule.choices)
    target_type = serializers.ChoiceField(choices=TARGET_TYPES)
    target_id = serializers.CharField(max_length=64)


def _changes(values: dict) -> dict:
    return {k: values[k] for k in ("assigned_to", "note", "resolved") if k in values}


class BoardItemStateApi(APIView):
    @extend_schema(
        request=StateCreateInput,
        responses={201: StateOutput, 200: StateOutput},
        description="Assign, annotate or resolve the board item (rule, target): created on "
        "first use (201), changed after (200). Audited.",
    )
    @idempotent
    def post(self, request):
        params = StateCreateInput(data=request.data)
        params.is_valid(raise_exception=True)
        values = params.validated_data
        task_force = coordinated_task_force_get(
            user=request.user, task_force_id=values["task_force"]
        )
        state, created = services.board_item_state_set(
            actor=request.user,
            task_force=task_force,
            rule=values["rule"],
            target_type=values["target_type"],
            target_id=values["target_id"],
            **_changes(values),
        )
        return Response(
            StateOutput(state).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class BoardItemStateDetailApi(APIView):
    @extend_schema(request=StateInput, responses={200: StateOutput})
    def patch(self, request, state_id):
        state = board_item_state_get(user=request.user, state_id=state_id)
        params = StateInput(data=request.data)
        params.is_valid(raise_exception=True)
        state, _ = services.board_item_state_set(
            actor=request.user,
            task_force=state.task_force,
            rule=state.rule,
            target_type=state.target_label,
            target_id=state.target_id,
            **_changes(params.validated_data),
        )
        return Response(StateOutput(state).data)


urlpatterns = [
    path("board/", BoardApi.as_view(), name="board"),
    path("board/items/", BoardItemStateApi.as_view(), name="board-item-state"),
    path(
        "board/items/<id:state_id>/",
        BoardItemStateDetailApi.as_view(),
        name="board-item-state-detail",
    ),
]
