"""Lockout on every way in, through real HTTP: five failures for a username from one client
lock that username for that client; the lock lifts after its period or by an admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from core.client_address import client_ip
from services_directory.models import Role
from tests.factories import OrganizationFactory, member
from tests.signin import WAYS_IN, sign_in, signed_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff_user():
    """Staff, so that the admin login lets them in with the right password."""
    return member(
        organization=OrganizationFactory(), role=Role.ORG_ADMIN, username="lock-me", is_staff=True
    )


def _lock(base_url: str, way: str, username: str, **kwargs) -> list:
    return [sign_in(base_url, way, username, "wrong-password", **kwargs) for _ in range(6)]


def _assert_locked(response) -> None:
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 15 * 60
    assert "locked" in response.text


@pytest.mark.parametrize("way", WAYS_IN)
def test_the_sixth_wrong_password_meets_a_lock_and_the_right_one_is_refused(
    live_server, staff_user, way
):
    # given / when: six wrong passwords from one client
    answers = _lock(live_server.url, way, staff_user.username)
    # then: the first four are plain failures, the fifth makes the lock, the sixth meets it
    assert [signed_in(way, a) for a in answers] == [False] * 6
    assert all(a.status_code != 429 for a in answers[:4])
    for answer in answers[4:]:
        _assert_locked(answer)
    if way == "api":
        body = answers[5].json()
        assert body["code"] == "locked_out"
        assert body["errors"] == {}
    right = sign_in(live_server.url, way, staff_user.username)
    _assert_locked(right)
    assert not signed_in(way, right)


@pytest.mark.parametrize("way", WAYS_IN)
def test_a_rotating_forwarded_for_from_an_untrusted_client_changes_nothing(
    live_server, staff_user, way
):
    answers = [
        sign_in(live_server.url, way, staff_user.username, "wrong", forwarded_for=f"198.51.100.{i}")
        for i in range(6)
    ]
    _assert_locked(answers[5])
    _assert_locked(
        sign_in(live_server.url, way, staff_user.username, forwarded_for="198.51.100.99")
    )


@pytest.mark.parametrize("way", WAYS_IN)
def test_forwarded_for_from_a_trusted_proxy_names_the_client(
    live_server, staff_user, settings, way
):
    settings.CONTINUUM_TRUSTED_PROXIES = ["127.0.0.0/8"]
    _lock(live_server.url, way, staff_user.username, forwarded_for="203.0.113.5")
    # the locked client stays locked; another client behind the same proxy signs in
    _assert_locked(sign_in(live_server.url, way, staff_user.username, forwarded_for="203.0.113.5"))
    other = sign_in(live_server.url, way, staff_user.username, forwarded_for="203.0.113.6")
    assert signed_in(way, other), other.text


@pytest.mark.parametrize("way", WAYS_IN)
def test_the_lock_lifts_after_its_period(live_server, staff_user, way):
    _lock(live_server.url, way, staff_user.username)
    with time_machine.travel(timezone.now() + timedelta(minutes=14), tick=True):
        _assert_locked(sign_in(live_server.url, way, staff_user.username))
    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=True):
        assert signed_in(way, sign_in(live_server.url, way, staff_user.username))


@pytest.mark.parametrize("way", WAYS_IN)
def test_the_admin_command_lifts_the_lock(live_server, staff_user, way):
    _lock(live_server.url, way, staff_user.username)
    call_command("unlock_signin", staff_user.username)
    assert signed_in(way, sign_in(live_server.url, way, staff_user.username))


def test_only_an_org_admin_of_the_users_organisation_or_a_superuser_lifts_a_lock(
    live_server, staff_user
):
    _lock(live_server.url, "api", staff_user.username)
    stranger = member(organization=OrganizationFactory(), role=Role.ORG_ADMIN)
    provider = member(organization=staff_user.membership.organization, role=Role.PROVIDER)
    colleague = member(organization=staff_user.membership.organization, role=Role.ORG_ADMIN)
    for actor in (stranger, provider):
        with pytest.raises(CommandError, match="Only a superuser or an admin"):
            call_command("unlock_signin", staff_user.username, "--by", actor.username)
    _assert_locked(sign_in(live_server.url, "api", staff_user.username))
    call_command("unlock_signin", staff_user.username, "--by", colleague.username)
    assert signed_in("api", sign_in(live_server.url, "api", staff_user.username))
    lifts = AuditEvent.objects.filter(action=AuditAction.LOCKOUT_LIFT)
    assert [e.actor_username for e in lifts] == [colleague.username]


def test_the_audit_trail_records_the_lock_once_not_each_failure_after_it(live_server, staff_user):
    for _ in range(12):
        sign_in(live_server.url, "api", staff_user.username, "wrong")
    failures = AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).count()
    assert 4 <= failures <= 5
    assert AuditEvent.objects.filter(action=AuditAction.LOCKOUT).count() == 1


def test_the_admin_lifts_a_lock_of_its_own_members_only(client, staff_user):
    from axes.models import AccessAttempt

    mine = AccessAttempt.objects.create(
        username=staff_user.username,
        ip_address="192.0.2.1",
        user_agent="",
        failures_since_start=5,
        attempt_time=timezone.now(),
    )
    theirs = AccessAttempt.objects.create(
        username="someone-else",
        ip_address="192.0.2.1",
        user_agent="",
        failures_since_start=5,
        attempt_time=timezone.now(),
    )
    admin = member(
        organization=staff_user.membership.organization, role=Role.ORG_ADMIN, is_staff=True
    )
    client.force_login(admin)
    listing = client.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert staff_user.username in listing.text and "someone-else" not in listing.text
    answer = client.post(f"/admin/axes/accessattempt/{mine.pk}/delete/", {"post": "yes"})
    assert answer.status_code == 302
    assert not AccessAttempt.objects.filter(pk=mine.pk).exists()
    assert client.get(f"/admin/axes/accessattempt/{theirs.pk}/delete/").status_code in {302, 404}
    assert AccessAttempt.objects.filter(pk=theirs.pk).exists()


class _Request:
    def __init__(self, remote: str, forwarded: str | None = None):
        self.META = {"REMOTE_ADDR": remote}
        if forwarded is not None:
            self.META["HTTP_X_FORWARDED_FOR"] = forwarded


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "expected"),
    [
        ([], "192.0.2.7", "203.0.113.1", "192.0.2.7"),
        (["10.0.0.0/8"], "192.0.2.7", "203.0.113.1", "192.0.2.7"),
        (["10.0.0.0/8"], "10.1.2.3", "203.0.113.1", "203.0.113.1"),
        # a client that writes its own header in front of the proxy's changes nothing
        (["10.0.0.0/8"], "10.1.2.3", "6.6.6.6, 203.0.113.1", "203.0.113.1"),
        # two trusted proxies in a row: the first untrusted hop from the right is the client
        (["10.0.0.0/8"], "10.1.2.3", "6.6.6.6, 203.0.113.1, 10.9.9.9", "203.0.113.1"),
        (["10.0.0.0/8"], "10.1.2.3", "not-an-address", "10.1.2.3"),
        (["10.1.2.3", "2001:db8::/32"], "2001:db8::1", "203.0.113.9", "203.0.113.9"),
    ],
)
def test_client_address(settings, trusted, remote, forwarded, expected):
    settings.CONTINUUM_TRUSTED_PROXIES = trusted
    assert client_ip(_Request(remote, forwarded)) == expected


def test_login_throttle_counts_by_the_real_client_address(settings):
    from rest_framework.test import APIRequestFactory

    from core.api.throttling import ScopedRateThrottle

    factory = APIRequestFactory()
    throttle = ScopedRateThrottle()
    one = factory.post("/", HTTP_X_FORWARDED_FOR="198.51.100.1", REMOTE_ADDR="192.0.2.7")
    two = factory.post("/", HTTP_X_FORWARDED_FOR="198.51.100.2", REMOTE_ADDR="192.0.2.7")
    assert throttle.get_ident(one) == throttle.get_ident(two) == "192.0.2.7"
