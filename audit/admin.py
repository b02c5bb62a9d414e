"""Read-only admin for the trail; payloads are decrypted for superusers only."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.utils.html import format_html

from audit.models import AuditCheckpoint, AuditEvent
from audit.selectors import audit_event_payload


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = [
        "sequence",
        "time",
        "actor_username",
        "action",
        "target_label",
        "target_id",
        "organization_id",
    ]
    list_filter = ["action", "target_label", "actor_username"]
    search_fields = ["=target_id", "=actor_username", "=organization_id"]
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
        "prev_hash",
        "hash",
        "payload",
    ]
    readonly_fields = fields
    show_full_result_count = False

    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        return self.fields

    def get_fields(self, request: Any, obj: Any = None) -> list[str]:
        if request.user.is_superuser:
            return self.fields
        return [name for name in self.fields if name != "payload"]

    @admin.display(description="payload (decrypted)")
    def payload(self, event: AuditEvent) -> str:
        # get_fields hides this from everyone but superusers.
        decrypted = audit_event_payload(event)
        if decrypted is None:
            return "(unreadable: key not in the keyring)"
        return format_html("<pre>{}</pre>", json.dumps(decrypted, indent=2, sort_keys=True))


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    list_display = ["sequence", "time", "key_id", "hash"]
    fields = ["sequence", "time", "key_id", "hash"]
    readonly_fields = fields
