"""Marking notifications read. A notification belongs to an organisation (the closed loop
tells the sender's organisation), so whoever of it reads one marks it read for all."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from referral.selectors.referrals import notification_list


@transaction.atomic
def notifications_mark_read(*, actor, notification_ids: Iterable[uuid.UUID | int] | None) -> int:
    """Mark these notifications of the actor's organisation read (all of them with
    ``None``); others' ids are ignored. Returns how many changed. Status messages only, so
    nothing here is audited beyond the row's ``read_at``."""
    unread = notification_list(user=actor).filter(read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=list(notification_ids))
    return unread.update(read_at=timezone.now())
