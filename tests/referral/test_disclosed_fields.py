"""Consent scope field by field: a receiving organisation reads only the identifying fields
that its active covering consents list (their union), on every path that discloses them."""

from __future__ import annotations

import pytest

from audit.models import AuditAction, AuditEvent
from audit.selectors import audit_event_payload
from core.errors import ValidationFailed
from tests.factories import care_network, consent_create_for, person_create_for, referral_sent

pytestmark = pytest.mark.django_db

IDENTITY = {
    "given_name": "Amira",
    "family_name": "Haddadzq",
    "birth_date": "1991-03-14",
    "phone": "+351910000111",
    "notes": "Sleeps near the stationzq",
}
WITHHELD = ("Haddadzq", "1991-03-14", "+351910000111", "Sleeps near the stationzq")


@pytest.fixture
def net():
    return care_network()


@pytest.fixture
def given_name_only(net):
    """A person whose consent to the clinic lists only the given name, and a referral to it."""
    person = person_create_for(net.volunteer, display_name="Blue Scarf", **IDENTITY)
    consent = consent_create_for(
        net.volunteer, person, recipients=[net.clinic], disclosed_fields=["given_name"]
    )
    referral = referral_sent(person, sender=net.volunteer, service=net.clinic_service)
    assert referral.identified
    return person, consent, referral


def assert_withheld(text: str) -> None:
    for value in WITHHELD:
        assert value not in text, value


def test_people_detail_shows_the_receiver_the_given_name_only(net, given_name_only, client_for):
    person, _, _ = given_name_only

    response = client_for(net.provider).get(f"/api/v1/people/{person.pk}/")

    assert response.status_code == 200
    identity = response.json()["identity"]
    assert identity["given_name"] == "Amira"
    assert identity["disclosed_fields"] == ["given_name"]
    assert [identity[f] for f in ("family_name", "birth_date", "phone", "notes")] == [None] * 4
    assert_withheld(response.content.decode())
    read = AuditEvent.objects.filter(action=AuditAction.READ, actor_id=str(net.provider.pk))
    assert [audit_event_payload(e)["fields"] for e in read] == [["given_name"]]


def test_the_recording_organisation_still_sees_everything(net, given_name_only, client_for):
    person, _, _ = given_name_only

    identity = client_for(net.volunteer).get(f"/api/v1/people/{person.pk}/").json()["identity"]

    assert identity["disclosed_fields"] == [
        "given_name",
        "family_name",
        "birth_date",
        "phone",
        "notes",
    ]
    assert identity["family_name"] == "Haddadzq"
    assert identity["notes"] == IDENTITY["notes"]


def test_the_union_of_active_consents_is_disclosed(net, given_name_only, client_for):
    person, _, _ = given_name_only
    consent_create_for(net.volunteer, person, stages=["treatment"], disclosed_fields=["phone"])

    identity = client_for(net.provider).get(f"/api/v1/people/{person.pk}/").json()["identity"]

    assert identity["disclosed_fields"] == ["given_name", "phone"]
    assert (identity["given_name"], identity["phone"]) == ("Amira", IDENTITY["phone"])
    assert identity["family_name"] is None


def test_revoking_the_wider_consent_narrows_at_once(net, given_name_only, client_for):
    from referral.services.consents import consent_revoke

    person, _, _ = given_name_only
    wider = consent_create_for(net.volunteer, person, recipients=[net.clinic])
    client = client_for(net.provider)
    assert client.get(f"/api/v1/people/{person.pk}/").json()["identity"]["phone"]

    consent_revoke(actor=net.volunteer, consent=wider)

    identity = client.get(f"/api/v1/people/{person.pk}/").json()["identity"]
    assert identity["disclosed_fields"] == ["given_name"]
    assert identity["phone"] is None


def test_people_list_carries_no_withheld_field(net, given_name_only, client_for):
    person, _, _ = given_name_only

    response = client_for(net.provider).get("/api/v1/people/")

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["id"] == str(person.pk) and row["identity_visible"] is True
    assert_withheld(response.content.decode())


def test_search_cannot_confirm_a_withheld_family_name_or_birth_date(
    net, given_name_only, client_for
):
    person, _, _ = given_name_only
    body = {k: IDENTITY[k] for k in ("given_name", "family_name", "birth_date")}

    receiver = client_for(net.provider).post("/api/v1/people/search/", body, format="json")
    recorder = client_for(net.volunteer).post("/api/v1/people/search/", body, format="json")

    assert receiver.status_code == 200
    assert receiver.json() == {"count": 0, "results": []}
    assert [r["id"] for r in recorder.json()["results"]] == [str(person.pk)]


def test_referral_api_carries_the_pseudonym_only(net, given_name_only, client_for):
    _, _, referral = given_name_only

    for path in (f"/api/v1/referrals/{referral.pk}/", "/api/v1/referrals/"):
        response = client_for(net.provider).get(path)
        assert response.status_code == 200
        assert_withheld(response.content.decode())
        assert "Amira" not in response.content.decode()


def test_fhir_patient_has_the_given_name_only(net, given_name_only, client_for):
    _, _, referral = given_name_only

    response = client_for(net.provider).get(f"/api/v1/referrals/{referral.pk}/fhir/")

    assert response.status_code == 200
    [patient] = [
        e["resource"]
        for e in response.json()["entry"]
        if e["resource"]["resourceType"] == "Patient"
    ]
    assert patient["name"] == [{"use": "official", "given": ["Amira"]}]
    assert "birthDate" not in patient and "telecom" not in patient
    assert_withheld(response.content.decode())


def test_referral_page_shows_no_withheld_field(net, given_name_only, client):
    _, _, referral = given_name_only
    client.force_login(net.provider)

    response = client.get(f"/referrals/{referral.pk}/")

    assert response.status_code == 200
    assert_withheld(response.content.decode())


def test_consent_api_records_and_shows_the_fields(net, client_for):
    person = person_create_for(net.volunteer, **IDENTITY)
    client = client_for(net.volunteer)
    body = {
        "recipients": [str(net.clinic.pk)],
        "information": "first name only",
        "purpose": "treatment",
        "method": "written",
    }

    omitted = client.post(f"/api/v1/people/{person.pk}/consents/", body, format="json")
    narrowed = client.post(
        f"/api/v1/people/{person.pk}/consents/",
        {**body, "disclosed_fields": ["phone", "given_name"]},
        format="json",
    )
    empty = client.post(
        f"/api/v1/people/{person.pk}/consents/", {**body, "disclosed_fields": []}, format="json"
    )
    unknown = client.post(
        f"/api/v1/people/{person.pk}/consents/",
        {**body, "disclosed_fields": ["address"]},
        format="json",
    )

    assert omitted.status_code == 201
    assert omitted.json()["disclosed_fields"] == [
        "given_name",
        "family_name",
        "birth_date",
        "phone",
        "notes",
    ]
    assert narrowed.status_code == 201
    assert narrowed.json()["disclosed_fields"] == ["given_name", "phone"]
    assert empty.status_code == 400 and "disclosed_fields" in empty.json()["errors"]
    assert unknown.status_code == 400 and "disclosed_fields" in unknown.json()["errors"]


def test_consent_service_refuses_unknown_fields(net):
    person = person_create_for(net.volunteer, **IDENTITY)

    with pytest.raises(ValidationFailed) as raised:
        consent_create_for(net.volunteer, person, recipients=[net.clinic], disclosed_fields=["x"])

    assert "disclosed_fields" in raised.value.errors
