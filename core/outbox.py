"""The transactional outbox: what a write sends leaves only if the write committed, and
leaves even if the broker or the mail server was down when it did.

How a message travels:

1. ``outbox_send(handler=..., args=...)`` inserts an ``OutboxMessage`` row inside the
   caller's transaction. A write that rolls back takes its messages with it.
2. After commit, the relay publishes the ``core.outbox_deliver`` task with the row's id.
   A broker that does not answer is logged and otherwise ignored: the request that made the
   write still answers as if it had worked, because it did.
3. The beat sweep (``outbox_relay_due``, every ``CONTINUUM_OUTBOX_SWEEP_SECONDS``) publishes
   every undelivered row that is due: never relayed, relayed but not delivered within
   ``CONTINUUM_OUTBOX_REDELIVER_SECONDS`` (a lost task, a worker killed mid-way), or failed
   and past its back-off.
4. The consumer (``outbox_deliver``) locks the row, runs the registered handler and marks
   the row delivered in one transaction. A second delivery of the same id finds it
   delivered and does nothing, so duplicates from steps 2 and 3 are harmless. A handler that
   raises (SMTP down) rolls back; the row records the attempt and becomes due again after a
   back-off.

The handler's database effects therefore happen exactly once. An effect outside the
database (an email) happens once unless the process dies between handing the email to the
mail server and the commit; then it is sent again (at least once, never zero times).

``core`` imports no app: apps register handlers by name (``@handler("referral.notify")``)
in their ``tasks`` modules, which Celery and ``outbox_deliver`` import on demand.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connections, router, transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from core.models import OutboxMessage
from core.sql import insert

logger = logging.getLogger(__name__)

DELIVER_TASK = "core.outbox_deliver"
SWEEP_BATCH = 500
BACKOFF_FIRST_SECONDS = 10
BACKOFF_MAX_SECONDS = 3600

Handler = Callable[..., Any]
_handlers: dict[str, Handler] = {}


def handler(name: str) -> Callable[[Handler], Handler]:
    """Register ``function`` as the outbox handler called ``name`` (returned unchanged)."""

    def register(function: Handler) -> Handler:
        existing = _handlers.get(name)
        if existing is not None and existing is not function:
            raise ValueError(f"outbox handler {name!r} is already registered")
        _handlers[name] = function
        return function

    return register


def _handler_for(name: str) -> Handler:
    if name not in _handlers:
        autodiscover_modules("tasks")  # apps register their handlers in <app>/tasks.py
    try:
        return _handlers[name]
    except KeyError:
        raise LookupError(f"no outbox handler is registered as {name!r}") from None


def _redeliver_after() -> timedelta:
    return timedelta(seconds=settings.CONTINUUM_OUTBOX_REDELIVER_SECONDS)


def outbox_send(
    *, handler: str, args: Iterable[Any] = (), kwargs: dict[str, Any] | None = None
) -> OutboxMessage:
    """Queue ``handler(*args, **kwargs)`` to run after the current transaction commits.

    Call it inside the write's transaction. Arguments must be JSON (ids, not objects)."""
    now = timezone.now()
    message = insert(
        OutboxMessage(
            handler=handler,
            args=list(args),
            kwargs=kwargs or {},
            created_at=now,
            available_at=now + _redeliver_after(),
        )
    )
    message_id, attempts = message.pk, 0
    transaction.on_commit(lambda: _publish([(message_id, attempts)], retry=False))
    return message


def _publish(messages: list[tuple[int, int]], *, retry: bool) -> int:
    """Publish ``(id, attempts)`` pairs; stop at the first broker failure. Returns how many
    were handed to the broker (in eager mode: delivered or attempted inline)."""
    from core.tasks import outbox_deliver as deliver_task  # the task module imports this one

    published = 0
    for message_id, attempts in messages:
        try:
            deliver_task.apply_async(args=[message_id], retry=retry)
        except Exception as exc:  # noqa: BLE001 - any broker failure: the sweep retries
            logger.warning(
                "outbox: could not publish message %s (%s); the sweep will", message_id, exc
            )
            break
        published += 1
        now = timezone.now()
        # One statement: relayed now; due again after the redelivery time only if nothing
        # happened to it meanwhile (an inline or fast delivery attempt set its own due time).
        # Written once as SQL: it follows every write that sends something, and building it
        # through the ORM cost more than running it.
        connection = connections[router.db_for_write(OutboxMessage)]
        stamp = OutboxMessage._meta.get_field("relayed_at")
        with connection.cursor() as cursor:
            cursor.execute(
                _relayed_sql(connection.ops.quote_name),
                [
                    stamp.get_db_prep_save(now, connection),
                    attempts,
                    stamp.get_db_prep_save(now + _redeliver_after(), connection),
                    message_id,
                ],
            )
    return published


@cache
def _relayed_sql(qn: Callable[[str], str]) -> str:
    return (
        f"UPDATE {qn(OutboxMessage._meta.db_table)} SET relayed_at = %s, "  # noqa: S608
        "available_at = CASE WHEN attempts = %s AND delivered_at IS NULL THEN %s "
        "ELSE available_at END WHERE id = %s"
    )


def outbox_relay_due(*, now: datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """The sweep: publish undelivered messages that are due. Returns how many it published."""
    now = now or timezone.now()
    due = list(
        OutboxMessage.objects.filter(delivered_at__isnull=True, available_at__lte=now)
        .order_by("available_at", "pk")
        .values_list("pk", "attempts")[:limit]
    )
    if not due:
        return 0
    published = _publish(due, retry=True)
    if published:
        logger.info("outbox: relayed %d due message(s)", published)
    return published


def outbox_deliver(message_id: int) -> bool:
    """Run the message's handler once. True if this call delivered it; False if it was
    already delivered (a duplicate), is unknown, or its handler failed (retried later)."""
    try:
        with transaction.atomic():
            message = (
                OutboxMessage.objects.select_for_update()
                .filter(pk=message_id, delivered_at__isnull=True)
                .first()
            )
            if message is None:
                return False
            _handler_for(message.handler)(*message.args, **message.kwargs)
            OutboxMessage.objects.filter(pk=message.pk).update(
                delivered_at=timezone.now(), attempts=message.attempts + 1, last_error=""
            )
    except Exception as exc:  # noqa: BLE001 - a failed handler is retried, never lost
        logger.warning("outbox: message %s failed, will retry: %r", message_id, exc)
        _record_failure(message_id, exc)
        return False
    return True


def _record_failure(message_id: int, exc: Exception) -> None:
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.delivered_at is not None:
            return
        attempts = message.attempts + 1
        backoff = min(BACKOFF_FIRST_SECONDS * 2 ** (attempts - 1), BACKOFF_MAX_SECONDS)
        OutboxMessage.objects.filter(pk=message_id).update(
            attempts=attempts,
            last_error=repr(exc)[:500],
            available_at=timezone.now() + timedelta(seconds=backoff),
        )


def outbox_purge(*, now: datetime | None = None) -> int:
    """Delete delivered messages older than ``CONTINUUM_OUTBOX_RETENTION_DAYS``."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.CONTINUUM_OUTBOX_RETENTION_DAYS)
    deleted, _ = OutboxMessage.objects.filter(delivered_at__lt=cutoff).delete()
    return deleted
