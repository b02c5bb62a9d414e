"""System checks for deployments (``manage.py check``)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Warning, register

LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


@register()
def shared_cache_check(app_configs, **kwargs):
    """Throttle counters live in the cache: a per-process cache gives each worker its own."""
    if settings.DEBUG:
        return []
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend not in LOCAL_CACHES:
        return []
    return [
        Warning(
            "Rate limits are counted per worker: the cache is local to each process.",
            hint="Set CACHE_URL to a shared Redis (redis://host:6379/1) so that every "
            "worker counts the same requests.",
            id="continuum.W001",
        )
    ]
