"""``/`` takes each role to its work; the navigation is the role's, with the unread count."""

from __future__ import annotations

import pytest

from services_directory.models import Role
from tests.factories import member, referral_sent

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        (Role.VOLUNTEER, "/contacts/new/"),
        (Role.OFFICER, "/referrals/new/"),
        (Role.PROVIDER, "/referrals/?direction=received"),
        (Role.COORDINATOR, "/board/"),
        (Role.ORG_ADMIN, "/organization/"),
    ],
)
def test_each_role_lands_on_its_work(client, world, role, landing):
    client.force_login(member(organization=world.police, role=role))
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == landing


def test_the_navigation_counts_unread_notifications_and_marks_them_read(client, world):
    # given: the clinic was told of a new referral
    referral = referral_sent(sender=world.officer, service=world.treatment)
    client.force_login(world.provider)
    # when
    page = client.get("/notifications/")
    # then
    assert page.status_code == 200
    inbox_link = '<a class="app-nav__link" href="/referrals/?direction=received">Inbox</a>'
    assert inbox_link in page.content.decode()
    assert page.context["unread_notifications"] == 1
    assert "New routine referral to Treatment." in page.content.decode()
    assert f"/referrals/{referral.pk}/" in page.content.decode()
    # when: marked read
    response = client.post("/notifications/", {"all": "true"})
    assert response.status_code == 302
    assert client.get("/notifications/").context["unread_notifications"] == 0


def test_marking_read_touches_only_the_readers_organisation(client, world):
    referral_sent(sender=world.officer, service=world.treatment)
    from referral.models import Notification

    theirs = Notification.objects.get(organization=world.clinic)
    client.force_login(world.outsider)
    client.post("/notifications/", {"notification": str(theirs.pk)})
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_pages_have_no_inline_script_or_style(client, world):
    """For the Content-Security-Policy (script-src 'self', no inline style)."""
    import re

    referral = referral_sent(sender=world.officer, service=world.treatment)
    client.force_login(world.provider)
    for url in (
        "/notifications/",
        "/directory/",
        "/referrals/?direction=received",
        f"/referrals/{referral.pk}/",
        f"/referrals/{referral.pk}/intake/",
        "/contacts/new/",
    ):
        html = client.get(url).content.decode()
        assert re.search(r"<script(?![^>]*\bsrc=)", html) is None, url
        assert "<style" not in html and " style=" not in html, url
