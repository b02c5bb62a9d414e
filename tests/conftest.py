"""Shared fixtures. Tests hit a real database (SQLite by default, PostgreSQL when
``DATABASE_URL`` says so) and, for integration tests, a real Redis."""

from __future__ import annotations

import os

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.browser import (  # noqa: F401 - fixtures for page tests
    _shared_chromium,
    browser,
    browser_without_scripts,
)


def services_required() -> bool:
    """In CI a missing service is a failure, not a skip."""
    return os.environ.get("CONTINUUM_REQUIRE_SERVICES") == "1"


def redis_url_or_skip() -> str:
    import redis

    url = os.environ.get("CONTINUUM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "no Redis here"
        if services_required():
            pytest.fail(f"Redis at {url} is required in CI but does not answer: {exc}")
        pytest.skip(f"no Redis answers at {url} ({exc}); set CONTINUUM_TEST_REDIS_URL")
    return url


@pytest.fixture
def celery_conf():
    """Change the Celery app's configuration for one test; restored afterwards."""
    from config.celery import app

    app.finalize()
    assert app.conf.task_always_eager is not None  # loaded before we override it
    # The app reads Django settings with the CELERY_ namespace: keys keep that prefix.
    keys = ("broker_url", "broker_write_url", "task_always_eager", "task_default_queue")
    keys += ("result_backend",)
    saved = {k: app.conf.get(f"CELERY_{k.upper()}") for k in keys}

    def configure(**values):
        if "broker_url" in values:
            values["broker_write_url"] = values["broker_url"]
        app.conf.update({f"CELERY_{k.upper()}": v for k, v in values.items()})
        app._pool = None  # no connection from an earlier configuration is reused
        app.amqp._producer_pool = None

    yield configure
    configure(**saved)


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://... (CI does)")


def pytest_configure(config):
    """Tests sign people in thousands of times: MD5 instead of 1,000,000 PBKDF2 rounds.
    Production keeps Django's default; ``tests/test_config.py`` checks that."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for():
    """``client_for(user)``: an API client that sends ``user``'s API token, as a phone does.

    The one way tests sign in to the API; ``tests/e2e`` signs in through the login endpoint
    itself, which is what it tests."""
    from tests.factories import api_client_for

    return api_client_for


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters and other cached state never leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _not_inside_a_worker():
    """A real Celery worker that an earlier test started in this process marks the whole
    process as a worker ("never call result.get() within a task"), and an eager task's
    ``.delay().get()`` in a later test then raises. Each test starts outside any worker."""
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
    yield


@pytest.fixture
def world(db):
    """A small task force: see ``tests.factories.care_world``."""
    from tests.factories import care_world

    return care_world()
