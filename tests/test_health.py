"""``/healthz`` (liveness) and ``/readyz`` (database, broker, keys), over plain HTTP even when
HTTPS redirects are on."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


def test_healthz_is_alive():
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_checks_answer_over_plain_http_when_https_redirects_are_on(settings):
    # given: what DJANGO_DEBUG=false turns on
    with override_settings(SECURE_SSL_REDIRECT=True):
        client = Client()
        # then: health checks answer; everything else still goes to https
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200
        redirected = client.get("/api/v1/me/")
        assert redirected.status_code == 301
        assert redirected["Location"].startswith("https://")


def test_readyz_names_what_is_up():
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "down": [],
        "database": "ok",
        "broker": "not_used",
        "keys": "ok",
    }


def test_readyz_is_503_naming_a_dead_broker_and_bad_keys():
    # given: a broker URL nothing listens on, and a keyring that does not parse
    with override_settings(
        CELERY_TASK_ALWAYS_EAGER=False,
        CELERY_BROKER_URL="redis://127.0.0.1:1/0",
        CONTINUUM_KEYS="{not json",
    ):
        response = Client().get("/readyz")
    # then
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["down"] == ["broker", "keys"]
    assert body["database"] == "ok"


def test_readyz_with_a_live_broker():
    from tests.conftest import redis_url_or_skip

    url = redis_url_or_skip()
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=url):
        response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json()["broker"] == "ok"
