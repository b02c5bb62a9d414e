"""``GET /api/v1/audit/events/``: organisation admins read their organisation's trail."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView

from audit.models import AuditAction, AuditEvent
from audit.selectors import audit_event_list, audit_event_payload
from core.text import FORBIDDEN_CHARACTERS_MESSAGE, has_forbidden_characters, whole_number

_TARGET = re.compile(r"^(?P<label>[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*):(?P<id>[^\s]{1,64})$")


class AuditEventListApi(ListAPIView):
    class OutputSerializer(serializers.ModelSerializer):
        payload = serializers.SerializerMethodField()

        class Meta:
            model = AuditEvent
            fields = [
                "sequence",
                "time",
                "actor_id",
                "actor_username",
                "organization_id",
                "action",
                "target_label",
                "target_id",
                "key_id",
                "hash",
                "payload",
            ]

        def get_payload(self, event: AuditEvent) -> Any:
            return audit_event_payload(event)

    serializer_class = OutputSerializer

    def _filters(self) -> dict[str, Any]:
        params = self.request.query_params
        filters: dict[str, Any] = {}
        errors: dict[str, list[str]] = {
            name: [FORBIDDEN_CHARACTERS_MESSAGE]
            for name in ("target", "action", "actor")
            if has_forbidden_characters(params.get(name, ""))
        }
        if errors:
            raise ValidationError(errors)
        if target := params.get("target"):
            match = _TARGET.match(target.strip().lower())
            if match is None:
                errors["target"] = ["Use <app_label.model>:<id>, e.g. referral.referral:42."]
            else:
                filters["target_label"] = match["label"]
                filters["target_id"] = target.strip()[len(match["label"]) + 1 :]
        if action := params.get("action"):
            if action not in AuditAction.values:
                errors["action"] = [f"Unknown action; one of {', '.join(AuditAction.values)}."]
            else:
                filters["action"] = action
        if actor := params.get("actor"):
            if (actor_id := whole_number(actor, minimum=1)) is None:
                errors["actor"] = ["A user id (a whole number)."]
            else:
                filters["actor_id"] = actor_id
        if errors:
            raise ValidationError(errors)
        return filters

    def get_queryset(self):
        return audit_event_list(user=self.request.user, **self._filters())
