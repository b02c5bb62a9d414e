"""Two-factor sign-in (django-otp TOTP and recovery codes) for coordinators, org admins and
superusers when CONTINUUM_2FA_REQUIRED is on: no token and no usable session without it."""

from __future__ import annotations

import re
import time

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from services_directory.models import DeviceToken, Role
from tests.factories import OrganizationFactory, member

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-1"


@pytest.fixture(autouse=True)
def _required(settings):
    settings.CONTINUUM_2FA_REQUIRED = True


@pytest.fixture
def coordinator():
    return member(organization=OrganizationFactory(), role=Role.COORDINATOR, username="coord-2fa")


def _code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def _token_login(username: str, **extra):
    return APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": PASSWORD, **extra}
    )


def _enrol(client, user) -> tuple[TOTPDevice, list[str]]:
    client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    page = client.get("/accounts/two-factor/")
    assert page.status_code == 200
    assert b"<svg" in page.content  # the QR code, drawn on the server
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    done = client.post("/accounts/two-factor/", {"otp": _code(device)})
    assert done.status_code == 200, done.content
    codes = re.findall(r"<li><code>([^<]+)</code></li>", done.content.decode())
    device.refresh_from_db()
    return device, codes


def test_a_coordinator_without_a_second_factor_gets_no_token(coordinator):
    answer = _token_login(coordinator.username)
    assert answer.status_code == 401
    assert answer.json()["code"] == "otp_enrolment_required"
    assert not DeviceToken.objects.filter(user=coordinator).exists()


def test_a_coordinator_without_a_second_factor_gets_no_usable_session(client, coordinator):
    signed = client.post(
        "/accounts/login/", {"username": coordinator.username, "password": PASSWORD}
    )
    assert signed.status_code == 302
    # the session reaches the enrolment page only
    for path in ("/", "/board/", "/referrals/", "/dashboard/", "/admin/"):
        answer = client.get(path)
        assert answer.status_code == 302 and answer.headers["Location"] == "/accounts/two-factor/"
    api = client.get("/api/v1/me/")
    assert api.status_code == 403
    assert api.json()["code"] == "otp_required"
    assert client.get("/accounts/two-factor/").status_code == 200


def test_enrolment_gives_recovery_codes_and_a_verified_session(client, coordinator):
    device, codes = _enrol(client, coordinator)
    assert device.confirmed
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/api/v1/me/").status_code == 200


def test_token_login_needs_the_code_once_enrolled(client, coordinator):
    device, codes = _enrol(client, coordinator)
    missing = _token_login(coordinator.username)
    assert missing.status_code == 401
    assert missing.json()["code"] == "otp_required"
    assert "otp" in missing.json()["errors"]
    good = _token_login(coordinator.username, otp=_code(device, steps_ahead=1))
    assert good.status_code == 200, good.content
    assert set(good.json()) == {"token", "expiry"}
    assert _token_login(coordinator.username, otp="000000").status_code == 401


def test_a_recovery_code_works_once(client, coordinator):
    _, codes = _enrol(client, coordinator)
    assert _token_login(coordinator.username, otp=codes[0]).status_code == 200
    assert _token_login(coordinator.username, otp=codes[1]).status_code == 200
    assert _token_login(coordinator.username, otp=codes[0]).status_code == 401


def test_web_login_needs_the_code_once_enrolled(client, coordinator):
    from django.test import Client

    device, _ = _enrol(client, coordinator)
    browser = Client()
    refused = browser.post(
        "/accounts/login/", {"username": coordinator.username, "password": PASSWORD}
    )
    assert refused.status_code == 200
    assert b"authenticator app" in refused.content
    assert browser.get("/api/v1/me/").status_code in {401, 403}
    signed = browser.post(
        "/accounts/login/",
        {"username": coordinator.username, "password": PASSWORD, "otp": _code(device, 1)},
    )
    assert signed.status_code == 302
    assert browser.get("/api/v1/me/").status_code == 200


def test_an_unverified_session_cannot_enrol_over_an_enrolled_app(client, coordinator):
    _enrol(client, coordinator)
    from django.test import Client

    other = Client()
    other.force_login(coordinator)  # a session that skipped the second factor
    assert other.get("/accounts/two-factor/").status_code == 403


def test_admin_login_needs_the_code(client):
    superuser = member(organization=OrganizationFactory(), role=Role.ORG_ADMIN)
    superuser.is_superuser = superuser.is_staff = True
    superuser.save()
    device, _ = _enrol(client, superuser)
    from django.test import Client

    browser = Client()
    page = browser.get("/admin/login/")
    assert b'name="otp"' in page.content
    refused = browser.post("/admin/login/", {"username": superuser.username, "password": PASSWORD})
    assert refused.status_code == 200
    signed = browser.post(
        "/admin/login/",
        {"username": superuser.username, "password": PASSWORD, "otp": _code(device, 1)},
    )
    assert signed.status_code == 302
    assert browser.get("/admin/").status_code == 200


def test_wrong_codes_meet_the_lockout(client, coordinator):
    _enrol(client, coordinator)
    answers = [_token_login(coordinator.username, otp="123456") for _ in range(6)]
    assert answers[-1].status_code == 429
    assert answers[-1].json()["code"] == "locked_out"


def test_providers_sign_in_without_a_second_factor():
    provider = member(organization=OrganizationFactory(), role=Role.PROVIDER)
    assert _token_login(provider.username).status_code == 200


def test_off_by_default_in_the_embedded_demo(settings, coordinator):
    settings.CONTINUUM_2FA_REQUIRED = False
    assert _token_login(coordinator.username).status_code == 200
