"""Every HTML page carries the Content-Security-Policy and Permissions-Policy headers;
sessions end when the browser closes and after the idle period."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from services_directory.models import Role
from tests.factories import OrganizationFactory, member

pytestmark = pytest.mark.django_db

PAGES = [
    "/accounts/login/",
    "/admin/login/",
    "/api/docs/",
    "/contacts/new/",
    "/referrals/",
    "/referrals/new/",
    "/dashboard/",
    "/board/",
]


@pytest.fixture
def signed_in(client):
    user = member(organization=OrganizationFactory(), role=Role.COORDINATOR)
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_a_strict_content_security_policy(signed_in, path):
    answer = signed_in.get(path)
    assert answer.status_code in {200, 302, 404}, (path, answer.status_code)
    policy = answer.headers["Content-Security-Policy"]
    directives = dict(
        (part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";") if part.strip()
    )
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy
    assert "camera=()" in answer.headers["Permissions-Policy"]


def test_no_template_has_inline_script_or_style():
    import re
    from pathlib import Path

    from django.conf import settings

    root = Path(settings.BASE_DIR)
    inline = re.compile(r"<style|style=\"|<script(?![^>]*\bsrc=)|\son[a-z]+=\"", re.I)
    offenders = [
        str(path.relative_to(root))
        for path in root.glob("*/templates/**/*.html")
        if inline.search(path.read_text())
    ] + [
        str(path.relative_to(root))
        for path in (root / "templates").glob("**/*.html")
        if inline.search(path.read_text())
    ]
    assert offenders == []


def test_the_session_cookie_ends_with_the_browser(client):
    user = member(organization=OrganizationFactory(), username="laptop-user")
    answer = client.post(
        "/accounts/login/", {"username": user.username, "password": "pw-for-tests-1"}
    )
    assert answer.status_code == 302
    cookie = answer.cookies["sessionid"]
    assert not cookie["expires"] and not cookie["max-age"]


def test_a_session_ends_after_30_idle_minutes_and_use_keeps_it(client):
    user = member(organization=OrganizationFactory(), role=Role.PROVIDER)
    client.force_login(user)
    start = timezone.now()
    with time_machine.travel(start + timedelta(minutes=25)):
        assert client.get("/referrals/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=50)):
        assert client.get("/referrals/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=81)):
        answer = client.get("/referrals/")
        assert answer.status_code == 302
        assert "/accounts/login/" in answer.headers["Location"]
