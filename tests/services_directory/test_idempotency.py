"""Idempotency-Key on POST: a retried request gets the first answer and writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import Group
from rest_framework import status
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from core.idempotency import idempotent, request_fingerprint
from core.models import IdempotencyRecord
from core.tasks import idempotency_records_purge
from services_directory.models import Location, Role, Service
from tests.factories import OrganizationFactory, UserFactory, member

pytestmark = pytest.mark.django_db

SERVICES_URL = "/api/v1/services/"
LOCATIONS_URL = "/api/v1/locations/"
BODY = {"name": "Evening clinic", "stage": "treatment", "languages": ["de"]}


@pytest.fixture
def clinic():
    return OrganizationFactory(name="Clinic")


@pytest.fixture
def admin_user(clinic):
    return member(organization=clinic, role=Role.ORG_ADMIN)


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def post(client, url, body, key):
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


# --- the four cases ------------------------------------------------------------------------


def test_first_request_runs_the_view_and_stores_the_answer(admin_user):
    # given
    client = client_of(admin_user)
    # when
    response = post(client, SERVICES_URL, BODY, "key-1")
    # then
    assert response.status_code == 201, response.content
    assert "Idempotency-Replayed" not in response
    record = IdempotencyRecord.objects.get(user=admin_user, key="key-1")
    assert record.state == IdempotencyRecord.State.DONE
    assert (record.method, record.path) == ("POST", SERVICES_URL)
    assert record.response_status == 201
    # sealed, never in plain text (referral.answers: the master key, no person concerned)
    assert record.response_sealed is not None
    assert b"Evening clinic" not in bytes(record.response_sealed)
    assert record.subject == ""


def test_replay_with_the_same_key_and_body_returns_the_first_answer(admin_user):
    # given
    client = client_of(admin_user)
    first = post(client, SERVICES_URL, BODY, "key-1")
    # when
    again = post(client, SERVICES_URL, BODY, "key-1")
    # then
    assert again.status_code == 201
    assert again["Idempotency-Replayed"] == "true"
    assert again.json() == first.json()
    assert Service.objects.filter(name="Evening clinic").count() == 1


def test_replay_ignores_key_order_in_the_body(admin_user):
    # given
    client = client_of(admin_user)
    post(client, SERVICES_URL, BODY, "key-1")
    # when
    again = post(client, SERVICES_URL, dict(reversed(list(BODY.items()))), "key-1")
    # then
    assert again.status_code == 201
    assert again["Idempotency-Replayed"] == "true"


def test_the_same_key_with_a_different_body_is_422_and_changes_nothing(admin_user):
    # given
    client = client_of(admin_user)
    post(client, SERVICES_URL, BODY, "key-1")
    record_before = IdempotencyRecord.objects.values().get(key="key-1")
    # when
    response = post(client, SERVICES_URL, {**BODY, "name": "Other clinic"}, "key-1")
    # then
    assert response.status_code == 422
    assert response.json()["errors"] == {"Idempotency-Key": ["reused with a different request"]}
    assert not Service.objects.filter(name="Other clinic").exists()
    assert IdempotencyRecord.objects.values().get(key="key-1") == record_before


def test_the_same_key_on_another_endpoint_is_422(admin_user):
    # given
    client = client_of(admin_user)
    post(client, SERVICES_URL, BODY, "key-1")
    # when
    response = post(
        client, LOCATIONS_URL, {"name": "Satellite", "time_zone": "Europe/Berlin"}, "key-1"
    )
    # then
    assert response.status_code == 422
    assert not Location.objects.filter(name="Satellite").exists()


def test_the_same_key_while_the_first_request_runs_is_409(admin_user):
    # given: the first request has claimed the key and not finished
    IdempotencyRecord.objects.create(
        user=admin_user,
        key="key-1",
        method="POST",
        path=SERVICES_URL,
        request_fingerprint=request_fingerprint(method="POST", path=SERVICES_URL, data=BODY),
    )
    # when
    response = post(client_of(admin_user), SERVICES_URL, BODY, "key-1")
    # then
    assert response.status_code == 409
    assert "Idempotency-Key" in response.json()["errors"]
    assert not Service.objects.filter(name="Evening clinic").exists()
    assert IdempotencyRecord.objects.get(key="key-1").state == IdempotencyRecord.State.IN_PROGRESS


def test_a_claim_abandoned_by_a_dead_request_is_taken_over(admin_user):
    # given: a claim left behind long ago by a request that never committed
    with time_machine.travel(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), tick=False):
        IdempotencyRecord.objects.create(
            user=admin_user,
            key="key-1",
            method="POST",
            path=SERVICES_URL,
            request_fingerprint=request_fingerprint(method="POST", path=SERVICES_URL, data=BODY),
        )
    # when
    with time_machine.travel(datetime(2026, 3, 1, 12, 10, tzinfo=UTC), tick=False):
        response = post(client_of(admin_user), SERVICES_URL, BODY, "key-1")
    # then
    assert response.status_code == 201, response.content
    assert Service.objects.filter(name="Evening clinic").count() == 1
    assert IdempotencyRecord.objects.get(key="key-1").state == IdempotencyRecord.State.DONE


def test_a_judged_4xx_is_stored_and_replayed(admin_user):
    # given
    client = client_of(admin_user)
    bad = {"name": "X", "stage": "detox"}
    first = post(client, SERVICES_URL, bad, "key-1")
    # when
    again = post(client, SERVICES_URL, bad, "key-1")
    # then
    assert first.status_code == again.status_code == 400
    assert again["Idempotency-Replayed"] == "true"
    assert again.json() == first.json()
    assert "stage" in again.json()["errors"]


def test_location_post_is_idempotent_too(admin_user):
    # given
    client = client_of(admin_user)
    body = {"name": "Satellite", "latitude": 52.5, "longitude": 13.3, "time_zone": "Europe/Berlin"}
    first = post(client, LOCATIONS_URL, body, "loc-1")
    # when
    again = post(client, LOCATIONS_URL, body, "loc-1")
    # then
    assert first.status_code == again.status_code == 201
    assert again["Idempotency-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Location.objects.filter(name="Satellite").count() == 1


def test_without_the_header_every_post_runs(admin_user):
    # given
    client = client_of(admin_user)
    # when
    client.post(SERVICES_URL, BODY, format="json")
    client.post(SERVICES_URL, BODY, format="json")
    # then
    assert Service.objects.filter(name="Evening clinic").count() == 2
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "caf\u00e9"])
def test_a_malformed_key_is_400_naming_the_header(admin_user, key):
    # when
    response = post(client_of(admin_user), SERVICES_URL, BODY, key)
    # then
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert not Service.objects.exists()
    assert not IdempotencyRecord.objects.exists()


def test_a_key_of_255_printable_characters_is_accepted(admin_user):
    response = post(client_of(admin_user), SERVICES_URL, BODY, "k ~" * 85)
    assert response.status_code == 201


# --- per user ------------------------------------------------------------------------------


def test_keys_are_per_user(clinic, admin_user):
    # given: a colleague has used the same key for a different service
    colleague = member(organization=clinic, role=Role.ORG_ADMIN)
    theirs = post(client_of(colleague), SERVICES_URL, {**BODY, "name": "Theirs"}, "shared")
    # when
    mine = post(client_of(admin_user), SERVICES_URL, BODY, "shared")
    # then: my request ran; I never see their answer
    assert theirs.status_code == mine.status_code == 201
    assert "Idempotency-Replayed" not in mine
    assert mine.json()["name"] == "Evening clinic"
    assert mine.json()["id"] != theirs.json()["id"]
    assert IdempotencyRecord.objects.filter(key="shared").count() == 2


def test_the_same_key_and_body_from_two_users_writes_twice(clinic, admin_user):
    # given
    colleague = member(organization=clinic, role=Role.ORG_ADMIN)
    post(client_of(colleague), SERVICES_URL, BODY, "shared")
    # when
    mine = post(client_of(admin_user), SERVICES_URL, BODY, "shared")
    # then
    assert mine.status_code == 201
    assert "Idempotency-Replayed" not in mine
    assert Service.objects.filter(name="Evening clinic").count() == 2


# --- failures leave no record --------------------------------------------------------------


class ExplodingApi(APIView):
    """Writes a row, then fails: the row and the claim must both go."""

    @idempotent
    def post(self, request):
        Group.objects.create(name="written before the failure")
        raise RuntimeError("the view broke")


class ServerErrorApi(APIView):
    @idempotent
    def post(self, request):
        Group.objects.create(name="written before the 503")
        return Response({"detail": "try later"}, status=status.HTTP_503_SERVICE_UNAVAILABLE)


def call(view_class, user, key="key-1"):
    request = APIRequestFactory().post(
        "/exploding/", {"a": 1}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    force_authenticate(request, user=user)
    return view_class.as_view()(request)


def test_an_exception_in_the_view_leaves_no_record_and_no_writes():
    # given
    user = UserFactory()
    # when
    with pytest.raises(RuntimeError):
        call(ExplodingApi, user)
    # then
    assert not IdempotencyRecord.objects.exists()
    assert not Group.objects.filter(name="written before the failure").exists()


def test_a_5xx_answer_leaves_no_record_so_a_retry_runs_again():
    # given
    user = UserFactory()
    # when
    first = call(ServerErrorApi, user)
    second = call(ServerErrorApi, user)
    # then
    assert first.status_code == second.status_code == 503
    assert "Idempotency-Replayed" not in second
    assert not IdempotencyRecord.objects.exists()
    assert not Group.objects.filter(name="written before the 503").exists()


# --- retention -----------------------------------------------------------------------------


def test_purge_keeps_records_within_the_retention_period(admin_user):
    # given: one record 31 days old, one 29 days old
    now = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
    for days, key in [(31, "old"), (29, "recent")]:
        with time_machine.travel(now - timedelta(days=days), tick=False):
            post(client_of(admin_user), SERVICES_URL, {**BODY, "name": key}, key)
    # when
    with time_machine.travel(now, tick=False):
        deleted = idempotency_records_purge.delay().get()
    # then
    assert settings.CONTINUUM_IDEMPOTENCY_RETENTION_DAYS == 30
    assert deleted == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent"]


def test_purge_follows_the_retention_setting(settings, admin_user):
    # given
    settings.CONTINUUM_IDEMPOTENCY_RETENTION_DAYS = 60
    now = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
    with time_machine.travel(now - timedelta(days=45), tick=False):
        post(client_of(admin_user), SERVICES_URL, BODY, "k")
    # when
    with time_machine.travel(now, tick=False):
        deleted = idempotency_records_purge()
    # then
    assert deleted == 0
    assert IdempotencyRecord.objects.filter(key="k").exists()


def test_purge_runs_daily_on_celery_beat():
    entries = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "core.tasks.idempotency_records_purge"
    ]
    assert len(entries) == 1
    assert entries[0]["schedule"] <= 24 * 3600
