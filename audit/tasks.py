from __future__ import annotations

from celery import shared_task

from audit.services import CHECKPOINT_TASK, checkpoint_create


@shared_task(name=CHECKPOINT_TASK)
def checkpoint_audit() -> int | None:
    """Sign the chain head (every 10 minutes and at every 1,000th event)."""
    checkpoint = checkpoint_create()
    return checkpoint.sequence if checkpoint is not None else None
