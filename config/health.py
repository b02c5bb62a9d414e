"""Health checks for a load balancer or an orchestrator.

``/healthz`` is liveness: the process answers, nothing else is asked, so a slow database
never gets app servers restarted. ``/readyz`` is readiness: 200 when the database answers,
the broker answers (when ``CELERY_BROKER_URL`` is set; eager mode has none) and the keyring
loads; else 503 naming each part that is down. Both answer over plain HTTP when debug is off
(``SECURE_REDIRECT_EXEMPT``): health checks talk to the app server, behind the TLS proxy.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

from audit.keys import load_keyring

logger = logging.getLogger(__name__)
BROKER_TIMEOUT_SECONDS = 2.0


@never_cache
@require_GET
def healthz(request):
    """Liveness: 200 while the process can answer."""
    return JsonResponse({"status": "ok"})


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("readiness: database down: %s", exc.__class__.__name__)
        return "down"
    return "ok"


def _broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "not_used"  # no CELERY_BROKER_URL: tasks run inline
    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception as exc:  # noqa: BLE001 - any transport's failure means "down"
        logger.warning("readiness: broker down: %s", exc.__class__.__name__)
        return "down"
    return "ok"


def _keys() -> str:
    try:
        load_keyring()
    except (ImproperlyConfigured, OSError, ValueError) as exc:
        logger.warning("readiness: keys unavailable: %s", exc.__class__.__name__)
        return "down"
    return "ok"


@never_cache
@require_GET
def readyz(request):
    """Readiness: each part's state; 503 when any is down."""
    checks = {"database": _database(), "broker": _broker(), "keys": _keys()}
    down = sorted(name for name, state in checks.items() if state == "down")
    body = {"status": "down" if down else "ok", "down": down, **checks}
    return JsonResponse(body, status=503 if down else 200)
