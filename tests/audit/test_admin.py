from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User

from audit.services import audit_record

pytestmark = pytest.mark.django_db

SECRET = "visible-only-to-superusers"


@pytest.fixture
def event():
    return audit_record(
        actor=None, action="update", target=("referral.person", "1"), data={"note": SECRET}
    )


def test_superuser_sees_the_decrypted_payload_and_cannot_change(client, event):
    # given
    client.force_login(User.objects.create_superuser(username="root", password=None))

    # when
    page = client.get(f"/admin/audit/auditevent/{event.sequence}/change/")
    listing = client.get("/admin/audit/auditevent/?action__exact=update")

    # then
    assert page.status_code == 200 and SECRET in page.content.decode()
    assert listing.status_code == 200
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    assert client.get(f"/admin/audit/auditevent/{event.sequence}/delete/").status_code == 403
    assert client.get("/admin/audit/auditcheckpoint/add/").status_code == 403
    assert b'name="_save"' not in page.content


def test_staff_with_view_permission_does_not_see_the_payload(client, event):
    # given
    staff = User.objects.create_user(username="staff", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    client.force_login(staff)

    # when
    page = client.get(f"/admin/audit/auditevent/{event.sequence}/change/")

    # then
    assert page.status_code == 200
    assert SECRET not in page.content.decode()
