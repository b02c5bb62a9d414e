from __future__ import annotations

from celery import shared_task

from audit.services import CHECKPOINT_TASK, checkpoint_create
from core.outbox import handler


# A Celery task for beat (every 10 minutes) and an outbox handler for the writes that reach
# every 1,000th event: the same name, the same idempotent function.
@shared_task(name=CHECKPOINT_TASK)
@handler(CHECKPOINT_TASK)
def checkpoint_audit() -> int | None:
    """Sign the chain head (every 10 minutes and at every 1,000th event)."""
    checkpoint = checkpoint_create()
    return checkpoint.sequence if checkpoint is not None else None
