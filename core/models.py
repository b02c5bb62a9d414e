"""Rows that every app's API relies on, whichever app the request is for."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class IdempotencyRecord(models.Model):
    """The first answer to a POST with an ``Idempotency-Key``, kept (sealed) to replay
    retries."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"

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
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="one_idempotency_key_per_user")
        ]
        # The name it had when the table belonged to services_directory (moved, not rebuilt).
        indexes = [models.Index(fields=["created_at"], name="services_di_created_1921e9_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
