"""Rows that every app's API relies on, whichever app the request is for."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotencyRecord(models.Model):
    """The first answer to a POST with an ``Idempotency-Key``, kept (sealed) to replay
    retries."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    request_fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=12, choices=State.choices, default=State.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True)
    # The answer, never in plain text: sealed by the registered ``AnswerVault`` (the referral
    # app seals it under the data key of the person it concerns, so erasure shreds it).
    # NULL when there was no body, or once shredded.
    response_sealed = models.BinaryField(null=True, editable=False)
    response_key_ref = models.CharField(max_length=64, blank=True, editable=False)
    # Whom the answer concerns (a person id, opaque here) and which object it made, so that
    # erasure finds the record and a replay after it can answer as the object reads now.
    subject = models.CharField(max_length=64, blank=True, db_index=True)
    resource = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="one_idempotency_key_per_user")
        ]
        # The name it had when the table belonged to services_directory (moved, not rebuilt).
        indexes = [models.Index(fields=["created_at"], name="services_di_created_1921e9_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


class OutboxMessage(models.Model):
    """Something a write sends (an email, a task), stored in the write's own transaction.

    ``handler`` names a function an app registered with ``core.outbox.handler``; ``args``
    and ``kwargs`` are its JSON arguments (ids, never personal data). ``available_at`` is
    when the sweep next publishes the row if it is still undelivered; ``delivered_at`` is
    the consumer's record that the handler ran and committed (once)."""

    handler = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    available_at = models.DateTimeField()
    relayed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            # The sweep's scan: undelivered rows by when they are due; delivered ones drop out.
            models.Index(
                fields=["available_at"],
                condition=models.Q(delivered_at__isnull=True),
                name="core_outbox_due_idx",
            ),
            models.Index(fields=["delivered_at"], name="core_outbox_delivered_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.handler} #{self.pk}"
