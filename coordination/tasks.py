"""Background work of the coordination app, run by Celery beat (config/settings.py)."""

from __future__ import annotations

from celery import shared_task

from coordination import expiry


@shared_task(name="coordination.tasks.referrals_expire")
def referrals_expire() -> int:
    """Expire referrals still sent past their SLA (every 5 minutes; idempotent)."""
    return expiry.referrals_expire()


@shared_task(name="coordination.tasks.consents_expire")
def consents_expire() -> int:
    """Mark consents past their ``expires_at`` expired, audited (every 5 minutes)."""
    return expiry.consents_expire()
