"""Background work of the directory and accounts app."""

from __future__ import annotations

from celery import shared_task

from services_directory import accounts


@shared_task(name="services_directory.tasks.device_tokens_purge")
def device_tokens_purge() -> int:
    """Delete expired API tokens (daily, Celery beat)."""
    return accounts.device_tokens_purge()
