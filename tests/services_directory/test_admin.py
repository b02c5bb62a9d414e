"""The Django admin honours the same rule as the API: org admins change only their own
organisation's directory entries."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from services_directory.models import Service

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.CONTINUUM_DEMO_SEEDERS = []  # the directory and users are enough here
    call_command("seed_demo", password="demo-pass-123", stdout=None)
    client = Client()
    assert client.login(username="orgadmin", password="demo-pass-123")
    return client


def test_org_admin_sees_only_own_services(demo):
    page = demo.get("/admin/services_directory/service/")
    assert page.status_code == 200
    assert b"Opioid agonist treatment" in page.content
    assert b"Outpatient counselling" not in page.content  # provider B's


def test_org_admin_cannot_open_another_organisations_service(demo):
    theirs = Service.objects.get(name="Outpatient counselling")
    response = demo.get(f"/admin/services_directory/service/{theirs.pk}/change/")
    assert response.status_code in (302, 403, 404)
    assert b"Outpatient counselling" not in response.content


def test_org_admin_changes_own_service_capacity(demo):
    ours = Service.objects.get(name="Opioid agonist treatment")
    page = demo.get(f"/admin/services_directory/service/{ours.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}
    data.update(
        {"capacity_available": 2, "accepting_referrals": "on" if ours.accepting_referrals else ""}
    )
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name, value in management.initial.items():
            data[f"{management.prefix}-{name}"] = value
        for index, inline_form in enumerate(formset.formset.forms):
            for name in inline_form.fields:
                value = inline_form.initial.get(name)
                data[f"{inline_form.prefix}-{name}"] = (
                    "" if value is None else getattr(value, "pk", value)
                )
            data[f"{inline_form.prefix}-id"] = inline_form.instance.pk
            assert index >= 0
    response = demo.post(f"/admin/services_directory/service/{ours.pk}/change/", data)
    errors = response.context and (
        response.context["adminform"].form.errors,
        [f.formset.errors for f in response.context["inline_admin_formsets"]],
    )
    assert response.status_code == 302, errors
    ours.refresh_from_db()
    assert ours.capacity_available == 2


def test_plain_members_have_no_admin(demo):
    client = Client()
    assert client.login(username="provider2", password="demo-pass-123")
    assert client.get("/admin/services_directory/service/").status_code == 302
