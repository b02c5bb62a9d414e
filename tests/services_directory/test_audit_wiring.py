"""Every directory and membership change writes its audit event, in the same transaction."""

from __future__ import annotations

import pytest
from django.db import transaction

from audit.models import AuditEvent
from audit.selectors import audit_event_payload
from services_directory import services
from services_directory.models import Role, Service
from tests.factories import LocationFactory, OrganizationFactory, ServiceFactory, member

pytestmark = pytest.mark.django_db


def events_for(obj):
    return AuditEvent.objects.filter(
        target_label=obj._meta.label_lower, target_id=str(obj.pk)
    ).order_by("sequence")


def test_service_create_and_update_are_audited_with_actor_and_changed_fields():
    org = OrganizationFactory()
    admin = member(organization=org, role=Role.ORG_ADMIN)
    service = services.service_create(
        actor=admin, organization=org, data={"name": "Drop-in", "stage": "harm_reduction"}
    )
    services.service_update(actor=admin, service=service, data={"capacity_available": 4})
    created, updated = events_for(service)
    assert (created.action, updated.action) == ("create", "update")
    assert updated.actor_id == admin.pk
    assert updated.organization_id == str(org.pk)
    assert audit_event_payload(updated)["capacity_available"] == 4


def test_an_unchanged_update_writes_no_event():
    service = ServiceFactory()
    before = AuditEvent.objects.count()
    services.service_update(actor=None, service=service, data={"name": service.name})
    assert AuditEvent.objects.count() == before


def test_membership_changes_are_audited():
    org, other = OrganizationFactory(), OrganizationFactory()
    user = member(organization=org, role=Role.VOLUNTEER)
    services.membership_set(user=user, organization=other, role=Role.PROVIDER)
    last = events_for(user.membership).last()
    assert last.action == "update"
    payload = audit_event_payload(last)
    assert payload["before"] == {"organization": str(org.pk), "role": "volunteer"}
    assert payload["role"] == "provider"


def test_location_changes_are_audited():
    location = LocationFactory()
    services.location_update(actor=None, location=location, data={"city": "Porto"})
    assert [e.action for e in events_for(location)] == ["create", "update"]


def test_the_audit_event_rolls_back_with_the_change():
    org = OrganizationFactory()
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.service_create(
            actor=None, organization=org, data={"name": "X", "stage": "treatment"}
        )
        raise RuntimeError("the request failed after the write")
    assert AuditEvent.objects.count() == before
    assert not Service.objects.filter(name="X").exists()


def test_token_logins_and_failed_logins_are_audited(client):
    org = OrganizationFactory()
    user = member(organization=org, username="phone-user")
    ok = client.post(
        "/api/v1/auth/token/",
        {"username": "phone-user", "password": "pw-for-tests-1"},
        content_type="application/json",
    )
    bad = client.post(
        "/api/v1/auth/token/",
        {"username": "phone-user", "password": "guess"},
        content_type="application/json",
    )
    assert (ok.status_code, bad.status_code) == (200, 401)
    login = AuditEvent.objects.filter(action="login", actor_id=user.pk).get()
    failed = AuditEvent.objects.filter(action="login_failed").get()
    assert login.organization_id == str(org.pk)
    assert "guess" not in str(audit_event_payload(failed))
