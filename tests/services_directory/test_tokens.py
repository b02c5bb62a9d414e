"""API tokens through real HTTP: hashed at rest, one per device, expiring unless used, and
revoked by logout, logout-all, a password change and deactivation."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import time_machine
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from services_directory import accounts
from services_directory.models import DeviceToken, Role
from tests.factories import OrganizationFactory, member
from tests.signin import PASSWORD, sign_in, signed_in

pytestmark = pytest.mark.django_db(transaction=True)
NEW_PASSWORD = "a-much-longer-passphrase-9"


@pytest.fixture
def provider():
    return member(organization=OrganizationFactory(), role=Role.PROVIDER, username="phone-user")


def _login(base_url: str, username: str, device: str = "phone") -> str:
    answer = sign_in(base_url, "api", username, extra={"device": device})
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


def _me(base_url: str, token: str) -> requests.Response:
    return requests.get(
        f"{base_url}/api/v1/me/", headers={"Authorization": f"Token {token}"}, timeout=30
    )


def _post(base_url: str, path: str, token: str, **json) -> requests.Response:
    return requests.post(
        f"{base_url}{path}", json=json, headers={"Authorization": f"Token {token}"}, timeout=30
    )


def test_sign_in_answers_a_token_and_its_expiry(live_server, provider):
    answer = sign_in(live_server.url, "api", provider.username, extra={"device": "Pixel 7"})
    body = answer.json()
    assert set(body) == {"token", "expiry"}
    expiry = parse_datetime(body["expiry"])
    assert timedelta(days=29) < expiry - timezone.now() <= timedelta(days=30)
    assert _me(live_server.url, body["token"]).status_code == 200


def _database_bytes() -> bytes:
    if connection.vendor == "postgresql":
        settings = connection.settings_dict
        dump = subprocess.run(  # noqa: S603 - pg_dump of the test database, fixed arguments
            [
                shutil.which("pg_dump") or "pg_dump",
                "--data-only",
                "-h",
                settings["HOST"] or "127.0.0.1",
                "-p",
                str(settings["PORT"] or 5432),
                "-U",
                settings["USER"],
                settings["NAME"],
            ],
            capture_output=True,
            check=True,
            timeout=120,
        )
        return dump.stdout
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(FULL)")
    path = Path(connection.settings_dict["NAME"])
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_the_raw_token_is_not_in_the_database(live_server, provider):
    token = _login(live_server.url, provider.username)
    assert _me(live_server.url, token).status_code == 200
    stored = _database_bytes()
    assert DeviceToken.objects.filter(user=provider).count() == 1  # the row is there
    assert token.encode() not in stored
    assert token[15:].encode() not in stored  # nor the part after the lookup key


def test_each_device_has_its_own_token_listed_with_its_last_use(live_server, provider):
    phone = _login(live_server.url, provider.username, "phone")
    laptop = _login(live_server.url, provider.username, "patrol car laptop")
    assert phone != laptop
    listing = requests.get(
        f"{live_server.url}/api/v1/auth/tokens/",
        headers={"Authorization": f"Token {laptop}"},
        timeout=30,
    ).json()["results"]
    assert [(t["device"], t["current"]) for t in listing] == [
        ("patrol car laptop", True),
        ("phone", False),
    ]
    assert all(t["last_used_at"] and t["expiry"] for t in listing)
    assert all(phone not in str(t) and laptop not in str(t) for t in listing)


def test_logout_revokes_only_the_token_it_is_sent_with(live_server, provider):
    phone = _login(live_server.url, provider.username, "phone")
    laptop = _login(live_server.url, provider.username, "laptop")
    assert _post(live_server.url, "/api/v1/auth/logout/", phone).status_code == 204
    assert _me(live_server.url, phone).status_code == 401
    assert _me(live_server.url, laptop).status_code == 200


def test_logoutall_revokes_every_token_of_the_user(live_server, provider):
    phone = _login(live_server.url, provider.username, "phone")
    laptop = _login(live_server.url, provider.username, "laptop")
    assert _post(live_server.url, "/api/v1/auth/logoutall/", phone).status_code == 204
    assert _me(live_server.url, phone).status_code == 401
    assert _me(live_server.url, laptop).status_code == 401


def test_a_password_change_revokes_every_other_token_and_session(live_server, provider):
    # given: a phone, a laptop and a browser session
    phone = _login(live_server.url, provider.username, "phone")
    laptop = _login(live_server.url, provider.username, "laptop")
    browser = requests.Session()
    web = sign_in(live_server.url, "web", provider.username)
    browser.cookies.update(web.cookies)
    assert browser.get(f"{live_server.url}/api/v1/me/", timeout=30).status_code == 200
    # when: the phone changes the password
    changed = _post(
        live_server.url,
        "/api/v1/auth/password/",
        phone,
        old_password=PASSWORD,
        new_password=NEW_PASSWORD,
    )
    # then
    assert changed.status_code == 204, changed.text
    assert _me(live_server.url, phone).status_code == 200
    assert _me(live_server.url, laptop).status_code == 401
    assert browser.get(f"{live_server.url}/api/v1/me/", timeout=30).status_code in {401, 403}
    assert not signed_in("api", sign_in(live_server.url, "api", provider.username))
    assert signed_in("api", sign_in(live_server.url, "api", provider.username, NEW_PASSWORD))


def test_a_password_change_checks_the_old_password_and_the_validators(live_server, provider):
    phone = _login(live_server.url, provider.username)
    wrong = _post(
        live_server.url,
        "/api/v1/auth/password/",
        phone,
        old_password="not-it",
        new_password=NEW_PASSWORD,
    )
    assert wrong.status_code == 400
    assert wrong.json()["code"] == "wrong_password"
    assert "old_password" in wrong.json()["errors"]
    weak = _post(
        live_server.url, "/api/v1/auth/password/", phone, old_password=PASSWORD, new_password="123"
    )
    assert weak.status_code == 400
    assert weak.json()["errors"]["new_password"]
    assert _me(live_server.url, phone).status_code == 200


def test_deactivation_revokes_every_token(live_server, provider):
    phone = _login(live_server.url, provider.username)
    admin = member(organization=provider.membership.organization, role=Role.ORG_ADMIN)
    accounts.user_deactivate(actor=admin, user=provider)
    assert _me(live_server.url, phone).status_code == 401
    assert not DeviceToken.objects.filter(user=provider).exists()
    assert not signed_in("api", sign_in(live_server.url, "api", provider.username))


def test_only_an_admin_of_the_users_organisation_deactivates(provider):
    from core.errors import Forbidden

    stranger = member(organization=OrganizationFactory(), role=Role.ORG_ADMIN)
    with pytest.raises(Forbidden):
        accounts.user_deactivate(actor=stranger, user=provider)
    provider.refresh_from_db()
    assert provider.is_active


def test_a_token_expires_unless_used_and_use_renews_it(live_server, provider):
    kept = _login(live_server.url, provider.username, "used")
    idle = _login(live_server.url, provider.username, "idle")
    start = timezone.now()
    with time_machine.travel(start + timedelta(days=20), tick=True):
        assert _me(live_server.url, kept).status_code == 200
    with time_machine.travel(start + timedelta(days=31), tick=True):
        assert _me(live_server.url, idle).status_code == 401
        assert _me(live_server.url, kept).status_code == 200


def test_unticking_active_in_the_admin_deactivates_through_the_service(client, provider):
    from audit.models import AuditAction, AuditEvent
    from tests.factories import api_client_for

    phone = api_client_for(provider)
    superuser = member(organization=OrganizationFactory(), role=Role.ORG_ADMIN)
    superuser.is_superuser = superuser.is_staff = True
    superuser.save()
    client.force_login(superuser)
    page = client.get(f"/admin/auth/user/{provider.pk}/change/")
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "is_active"}
    data.update(
        {
            "username": provider.username,
            "date_joined_0": provider.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": provider.date_joined.strftime("%H:%M:%S"),
            "groups": [g.pk for g in provider.groups.all()],
            "user_permissions": [],
        }
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)
    answer = client.post(f"/admin/auth/user/{provider.pk}/change/", data)
    assert answer.status_code == 302, answer.content[:2000]
    provider.refresh_from_db()
    assert not provider.is_active
    assert phone.get("/api/v1/me/").status_code == 401
    assert AuditEvent.objects.filter(action=AuditAction.DEACTIVATE).count() == 1


def test_the_daily_purge_deletes_expired_tokens_only(provider):
    from services_directory.tasks import device_tokens_purge

    fresh, _ = accounts.token_issue(user=provider, device="fresh")
    old, _ = accounts.token_issue(user=provider, device="old")
    DeviceToken.objects.filter(pk=old.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    assert device_tokens_purge.delay().get() == 1
    assert list(DeviceToken.objects.values_list("device", flat=True)) == ["fresh"]
