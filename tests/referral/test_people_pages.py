"""People, consent and the named referral through the pages, without scripts (plain form
posts): find-or-create, identity views audited, the consent gate, check your answers."""

from __future__ import annotations

import uuid

import pytest

from audit.models import AuditAction, AuditEvent
from referral.models import Consent, Person, Referral
from services_directory.models import Role
from tests.factories import consent_create_for, member, person_create_for

pytestmark = pytest.mark.django_db

IDENTITY = {
    "display_name": "Lobo",
    "given_name": "Ana",
    "family_name": "Silva",
    "birth_date_day": "3",
    "birth_date_month": "4",
    "birth_date_year": "1990",
    "phone": "+351 900 000 000",
}


def reads_of(person):
    return AuditEvent.objects.filter(
        action=AuditAction.READ, target_label="referral.person", target_id=str(person.pk)
    )


def test_record_a_person_then_find_them_and_be_warned_of_a_duplicate(client, world):
    client.force_login(world.officer)
    response = client.post("/people/new/", IDENTITY)
    person = Person.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/people/{person.pk}/"
    # find: a POST, names never in the URL
    found = client.post(
        "/people/",
        {k: v for k, v in IDENTITY.items() if k not in ("display_name", "phone")},
    )
    assert found.context["matches"] == [person]
    # the same name and date of birth again: the page offers who is there first
    again = client.post("/people/new/", {**IDENTITY, "display_name": "Lobinho"})
    assert again.status_code == 409
    assert again.context["matches"] == [person]
    assert Person.objects.count() == 1
    anyway = client.post("/people/new/", {**IDENTITY, "confirm_new": "yes"})
    assert anyway.status_code == 302 and Person.objects.count() == 2


def test_a_bad_date_is_400_linked_to_its_field(client, world):
    client.force_login(world.officer)
    response = client.post("/people/new/", {**IDENTITY, "birth_date_month": "13"})
    assert response.status_code == 400
    assert 'href="#p-birth-date-day"' in response.content.decode()
    assert not Person.objects.exists()


def test_every_identity_view_is_audited_and_others_get_404(client, world):
    person = person_create_for(world.officer, given_name="Ana", family_name="Silva")
    client.force_login(world.officer_colleague)
    page = client.get(f"/people/{person.pk}/")
    assert page.status_code == 200 and "Silva" in page.content.decode()
    assert reads_of(person).count() == 1
    client.get(f"/people/{person.pk}/")
    assert reads_of(person).count() == 2
    for stranger in (world.outsider, world.provider):
        client.force_login(stranger)
        assert client.get(f"/people/{person.pk}/").status_code == 404
        assert client.get(f"/people/{person.pk}/consents/new/").status_code == 404
    client.force_login(world.coordinator)
    assert client.get("/people/").status_code == 404
    assert reads_of(person).count() == 2


def test_the_org_admin_sees_who_saw_the_record(client, world):
    person = person_create_for(world.officer, given_name="Ana", family_name="Silva")
    client.force_login(world.officer)
    client.get(f"/people/{person.pk}/")
    admin = member(organization=world.police, role=Role.ORG_ADMIN)
    client.force_login(admin)
    page = client.get(f"/people/{person.pk}/")
    reads = page.context["reads"]
    assert [r["who"] for r in reads] == [admin.username, world.officer.username]
    assert "family_name" in reads[0]["fields"]
    assert "Who saw this record" in page.content.decode()
    client.force_login(world.officer)
    assert client.get(f"/people/{person.pk}/").context["reads"] is None


def test_consent_is_recorded_on_the_page_and_revoked(client, world):
    person = person_create_for(world.officer, given_name="Ana", family_name="Silva")
    client.force_login(world.officer)
    form = client.get(f"/people/{person.pk}/consents/new/")
    assert "42 CFR part 2" in form.content.decode()  # the re-disclosure notice is shown
    response = client.post(
        f"/people/{person.pk}/consents/new/",
        {
            "recipients": [str(world.clinic.pk)],
            "fields": ["given_name", "family_name"],
            "purpose": "Treatment.",
            "method": "verbal_witnessed",
            "expires_day": "1",
            "expires_month": "1",
            "expires_year": "2099",
        },
    )
    assert response.status_code == 302
    consent = Consent.objects.get()
    assert list(consent.recipients.all()) == [world.clinic]
    assert consent.expires_at.year == 2099
    # the fields ticked are the fields disclosed: the birth date and phone stay home
    assert consent.disclosed_fields == ["given_name", "family_name"]
    missing = client.post(f"/people/{person.pk}/consents/new/", {"method": "written"})
    assert missing.status_code == 400
    assert 'href="#c-recipients"' in missing.content.decode()
    nothing_ticked = client.post(
        f"/people/{person.pk}/consents/new/",
        {"recipients": [str(world.clinic.pk)], "purpose": "Treatment.", "method": "written"},
    )
    assert nothing_ticked.status_code == 400
    assert 'href="#c-information"' in nothing_ticked.content.decode()
    assert Consent.objects.count() == 1
    client.post(f"/consents/{consent.pk}/revoke/")
    consent.refresh_from_db()
    assert consent.revoked_at is not None


def _refer(client, person, service, **extra):
    return client.post(
        "/referrals/new/",
        {
            "client_uuid": str(uuid.uuid4()),
            "person": str(person.pk),
            "to_service": str(service.pk),
            "pathway": "officer_intervention",
            "urgency": "routine",
            "reason": "Asked for help.",
            **extra,
        },
    )


def test_without_consent_the_gate_explains_and_sends_anonymous(client, world):
    person = person_create_for(world.officer, given_name="Ana", family_name="Silva")
    client.force_login(world.officer)
    gate = _refer(client, person, world.treatment)
    assert gate.status_code == 200 and gate.context["step"] == "consent"
    assert "Record consent first" in gate.content.decode()
    assert not Referral.objects.exists()
    sent = client.post(
        "/referrals/new/",
        {
            **gate.context["values"],
            "send_as": "anonymous",
            "client_uuid": gate.context["client_uuid"],
        },
    )
    assert sent.status_code == 302
    assert Referral.objects.get().identified is False


def test_with_consent_a_named_referral_is_checked_then_sent(client, world):
    person = person_create_for(world.officer, given_name="Ana", family_name="Silva")
    consent_create_for(world.officer, person, recipients=[world.clinic])
    client.force_login(world.officer)
    check = _refer(client, person, world.treatment)
    assert check.context["step"] == "check"
    assert "Check your answers" in check.content.decode()
    assert not Referral.objects.exists()
    body = {**check.context["values"], "client_uuid": check.context["client_uuid"]}
    sent = client.post("/referrals/new/", {**body, "confirm": "yes"})
    referral = Referral.objects.get()
    assert sent.status_code == 302 and referral.identified is True
    # the provider sees exactly the disclosed fields, and that view is audited
    before = reads_of(person).count()
    client.force_login(world.provider)
    page = client.get(f"/referrals/{referral.pk}/").content.decode()
    assert "Ana" in page and "Silva" in page
    assert reads_of(person).count() == before + 1
