from __future__ import annotations

from celery import shared_task

from core import outbox
from core.idempotency import idempotency_records_purge as purge


@shared_task(name="core.tasks.idempotency_records_purge")
def idempotency_records_purge() -> int:
    """Delete Idempotency-Key records past their retention (daily, Celery beat)."""
    return purge()


# acks_late: a worker killed mid-delivery leaves the task on the broker; the consumer is
# idempotent, so running it again after a restart is harmless.
@shared_task(name=outbox.DELIVER_TASK, acks_late=True, ignore_result=True)
def outbox_deliver(message_id: int) -> bool:
    """Deliver one outbox message (a duplicate delivery is a no-op)."""
    return outbox.outbox_deliver(message_id)


@shared_task(name="core.tasks.outbox_relay_due", ignore_result=True)
def outbox_relay_due() -> int:
    """Publish outbox messages left undelivered (every CONTINUUM_OUTBOX_SWEEP_SECONDS)."""
    return outbox.outbox_relay_due()


@shared_task(name="core.tasks.outbox_purge", ignore_result=True)
def outbox_purge() -> int:
    """Delete delivered outbox messages past their retention (daily)."""
    return outbox.outbox_purge()
