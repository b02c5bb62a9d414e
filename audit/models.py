"""The audit trail: an append-only, hash-chained, encrypted log of every change and sensitive read.

``audit`` is the lowest layer, so actors and organisations are stored as plain ids, never as
foreign keys to the apps above it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


class SequenceField(models.BigIntegerField):
    """64-bit everywhere; on SQLite spelled ``integer`` so that it is the rowid itself
    (``bigint PRIMARY KEY`` would add a second index to every append)."""

    def db_type(self, connection):
        if connection.vendor == "sqlite":
            return "integer"
        return super().db_type(connection)


class AuditAction(models.TextChoices):
    CREATE = "create", _("create")
    UPDATE = "update", _("update")
    DELETE = "delete", _("delete")
    TRANSITION = "transition", _("state transition")
    READ = "read", _("read of identifying data")
    EXPORT = "export", _("export")
    IMPORT = "import", _("import")
    LOGIN = "login", _("login")
    LOGIN_FAILED = "login_failed", _("failed login")
    LOGOUT = "logout", _("logout")
    ERASE = "erase", _("erasure")
    CONSENT_GRANT = "consent_grant", _("consent granted")
    CONSENT_REVOKE = "consent_revoke", _("consent revoked")
    CONSENT_EXPIRE = "consent_expire", _("consent expired")
    PERMISSION_GRANT = "permission_grant", _("permission granted")
    PERMISSION_REVOKE = "permission_revoke", _("permission revoked")
    KEY_ROTATE = "key_rotate", _("key rotation")
    LOCKOUT = "lockout", _("sign-in locked")
    LOCKOUT_LIFT = "lockout_lift", _("sign-in lock lifted")
    PASSWORD_CHANGE = "password_change", _("password changed")
    TOKEN_REVOKE = "token_revoke", _("API token revoked")
    DEACTIVATE = "deactivate", _("user deactivated")
    OTP_ENROL = "otp_enrol", _("second factor enrolled")
    EMERGENCY_ACCESS = "emergency_access", _("emergency access (42 CFR 2.51)")


class AuditEvent(models.Model):
    """One event. Rows are never updated or deleted (database triggers refuse it).

    ``hash = SHA-256(prev_hash || canonical bytes of this row)``; see ``audit.chain``.
    ``prev_hash`` is redundant with the previous row but lets the verifier tell a moved
    event from an altered one.
    """

    sequence = SequenceField(primary_key=True)
    time = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=150, blank=True)
    organization_id = models.CharField(max_length=64, null=True, blank=True)
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    target_label = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    key_id = models.CharField(max_length=64)
    nonce = models.BinaryField(max_length=12)
    ciphertext = models.BinaryField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["sequence"]
        indexes = [
            models.Index(fields=["target_label", "target_id"], name="audit_event_target"),
            models.Index(fields=["organization_id", "sequence"], name="audit_event_org"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.target_label}:{self.target_id}"


class AuditChainHead(models.Model):
    """The single row every writer locks: last sequence and hash. Updatable by design;
    a truncated tail is caught by signed checkpoints, not by this row."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_sequence = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    # The hash before ``last_hash``: lets PostgreSQL append in one statement (see services).
    previous_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain heads")

    def __str__(self) -> str:
        return f"head #{self.last_sequence}"


class AuditCheckpoint(models.Model):
    """A signed statement "the chain had this hash at this sequence". Append-only too."""

    sequence = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    time = models.DateTimeField()
    key_id = models.CharField(max_length=64)
    signature = models.BinaryField(max_length=64)

    class Meta:
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")
        ordering = ["sequence", "id"]
        indexes = [models.Index(fields=["sequence"], name="audit_checkpoint_sequence")]

    def __str__(self) -> str:
        return f"checkpoint #{self.sequence}"
