"""Issue 12: every 4xx under /api/ is JSON ``{detail, code, errors}`` with a stable code,
404s for unknown paths and malformed ids included."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail", "code", "errors"}
    assert body["code"] == code
    return body


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/no-such-thing/",
        "/api/nothing/here/",
        "/api/v1/people/not-a-uuid/",
        "/api/v1/referrals/12345/",
        "/api/v1/board/items/99999999999999999999999/",
        "/api/v1/conferences/%C2%B2/",
        "/api/v1/conferences/1/agenda-items/-1/",
    ],
)
def test_unknown_paths_and_malformed_ids_are_a_json_404(client_for, world, path):
    body = assert_error(client_for(world.coordinator).get(path), 404, "not_found")
    assert body["errors"] == {}


def test_a_missing_object_is_a_json_404(client_for, world):
    assert_error(
        client_for(world.officer).get(f"/api/v1/referrals/{uuid.uuid4()}/"), 404, "not_found"
    )


def test_a_serializer_400_has_code_invalid_and_errors_per_field(client_for, world):
    response = client_for(world.officer).post("/api/v1/people/", {}, format="json")
    body = assert_error(response, 400, "invalid")
    assert body["errors"] == {"display_name": ["This field is required."]}


def test_401_without_and_with_a_bad_token(world):
    assert_error(APIClient().get("/api/v1/me/"), 401, "not_authenticated")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token nope")
    assert_error(client.get("/api/v1/me/"), 401, "authentication_failed")


def test_405_406_415(client_for, world):
    client = client_for(world.officer)
    assert_error(client.delete("/api/v1/me/"), 405, "method_not_allowed")
    assert_error(client.get("/api/v1/me/", HTTP_ACCEPT="image/png"), 406, "not_acceptable")
    response = client.post("/api/v1/people/", "display_name=x", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")
    form = client.post("/api/v1/people/", {"display_name": "x"}, format="multipart")
    assert_error(form, 415, "unsupported_media_type")


def test_malformed_json_is_a_400_parse_error(client_for, world):
    response = client_for(world.officer).post(
        "/api/v1/people/", '{"display_name": ', content_type="application/json"
    )
    assert_error(response, 400, "parse_error")


def test_429_is_throttled_with_retry_after(monkeypatch, world):
    # given: the login throttle at 2 a minute (rates are read when DRF loads)
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"login": "2/min"})
    client = APIClient()
    body = {"username": "x", "password": "y"}
    for _ in range(2):
        assert client.post("/api/v1/auth/token/", body, format="json").status_code == 401
    # when
    response = client.post("/api/v1/auth/token/", body, format="json")
    # then
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_a_domain_error_keeps_its_code(client_for, world):
    from referral.services.referrals import referral_create

    referral, _ = referral_create(
        sender=world.officer, service=world.treatment, pathway="officer_intervention"
    )
    response = client_for(world.provider).post(
        f"/api/v1/referrals/{referral.pk}/transition/", {"to": "completed"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"]
