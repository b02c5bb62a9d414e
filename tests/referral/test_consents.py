"""Consent: recording, listing and revoking, and what it discloses while it lasts."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from audit.selectors import audit_event_payload
from core.errors import Forbidden, NotFound, ValidationFailed
from referral.models import REDISCLOSURE_NOTICE, Consent
from referral.selectors import consents as selectors
from referral.services import consents as services
from tests.factories import care_network, consent_create_for, person_create_for, referral_sent

pytestmark = pytest.mark.django_db

INFORMATION = "Names, date of birth and phone number."
PURPOSE = "Referral to opioid treatment."


@pytest.fixture
def net():
    return care_network()


@pytest.fixture
def person(net):
    return person_create_for(
        net.volunteer, display_name="AD", given_name="Amélie", family_name="Dupont"
    )


def consents_url(person) -> str:
    return f"/api/v1/people/{person.pk}/consents/"


def revoke_url(consent) -> str:
    return f"/api/v1/consents/{consent.pk}/revoke/"


def consent_body(**overrides):
    return {
        "recipients": [],
        "stages": ["treatment"],
        "information": INFORMATION,
        "purpose": PURPOSE,
        "method": "written",
        "expires_at": None,
        "expires_on_event": None,
        **overrides,
    }


def consent_events(action, consent) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            action=action, target_label="referral.consent", target_id=str(consent.pk)
        )
    )


# --- services ------------------------------------------------------------------------------


def test_consent_create_records_who_what_and_until_when(net, person):
    # given
    expires = timezone.now() + timedelta(days=30)

    # when
    consent = services.consent_create(
        actor=net.volunteer,
        person=person,
        recipients=[net.clinic.pk],
        stages=["treatment", "treatment", "recovery"],
        information=INFORMATION,
        purpose=PURPOSE,
        method="verbal_witnessed",
        expires_at=expires,
        expires_on_event="discharge from treatment",
    )

    # then
    consent = Consent.objects.get(pk=consent.pk)
    assert consent.disclosing_organization == net.outreach
    assert consent.recorded_by == net.volunteer
    assert list(consent.recipients.all()) == [net.clinic]
    assert consent.stages == ["treatment", "recovery"]
    assert consent.given_at <= timezone.now() and consent.expires_at == expires
    assert consent.redisclosure_notice == REDISCLOSURE_NOTICE
    (granted,) = consent_events(AuditAction.CONSENT_GRANT, consent)
    payload = audit_event_payload(granted)
    assert payload["recipients"] == [str(net.clinic.pk)]
    assert payload["stages"] == ["treatment", "recovery"]
    assert payload["method"] == "verbal_witnessed"
    assert INFORMATION not in repr(payload) and PURPOSE not in repr(payload)
    assert "discharge" not in repr(payload)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"recipients": [], "stages": []}, "recipients"),
        ({"stages": ["detox"]}, "stages"),
        ({"recipients": [uuid.uuid4()]}, "recipients"),
        ({"method": "telepathy"}, "method"),
        ({"information": " "}, "information"),
        ({"purpose": ""}, "purpose"),
        ({"expires_at": "past"}, "expires_at"),
    ],
)
def test_consent_create_rejects_bad_input_naming_the_field(net, person, overrides, field):
    # given
    values = {
        "recipients": [],
        "stages": ["treatment"],
        "information": INFORMATION,
        "purpose": PURPOSE,
        "method": "written",
        **overrides,
    }
    if values.get("expires_at") == "past":
        values["expires_at"] = timezone.now() - timedelta(minutes=1)

    # when
    with pytest.raises(ValidationFailed) as error:
        services.consent_create(actor=net.volunteer, person=person, **values)

    # then
    assert field in error.value.errors
    assert not Consent.objects.exists()


def test_only_the_recording_organisation_records_consent(net, person):
    # given: the clinic sees the person through a referral
    referral_sent(person, sender=net.volunteer, service=net.clinic_service)

    # when / then
    for actor in (net.provider, net.coordinator, net.stranger):
        with pytest.raises(Forbidden):
            consent_create_for(actor, person, recipients=[net.clinic])
    assert not Consent.objects.exists()


def test_consent_revoke_is_retry_safe(net, person):
    # given
    consent = consent_create_for(net.volunteer, person, recipients=[net.clinic])

    # when
    first = services.consent_revoke(actor=net.volunteer, consent=consent)
    second = services.consent_revoke(actor=net.volunteer, consent=consent)

    # then
    assert first.revoked_at is not None and first.revoked_by == net.volunteer
    assert second.revoked_at == first.revoked_at
    assert len(consent_events(AuditAction.CONSENT_REVOKE, consent)) == 1


def test_only_the_recording_organisation_revokes(net, person):
    # given
    consent = consent_create_for(net.volunteer, person, recipients=[net.clinic])
    referral_sent(person, sender=net.volunteer, service=net.clinic_service)

    # when / then
    with pytest.raises(Forbidden):
        services.consent_revoke(actor=net.provider, consent=consent)
    assert Consent.objects.get(pk=consent.pk).revoked_at is None


def test_receivers_see_only_the_consents_that_cover_them(net, person):
    # given
    named = consent_create_for(net.volunteer, person, recipients=[net.clinic])
    by_stage = consent_create_for(net.volunteer, person, stages=["treatment"])
    other = consent_create_for(net.volunteer, person, recipients=[net.police])
    referral_sent(person, sender=net.volunteer, service=net.clinic_service)

    # then
    owner_sees = {c.pk for c in selectors.consent_list(user=net.volunteer, person=person)}
    clinic_sees = {c.pk for c in selectors.consent_list(user=net.provider, person=person)}
    assert owner_sees == {named.pk, by_stage.pk, other.pk}
    assert clinic_sees == {named.pk, by_stage.pk}
    assert selectors.consent_list(user=net.coordinator, person=person) == []
    with pytest.raises(NotFound):
        selectors.consent_get(user=net.provider, consent_id=other.pk)
    with pytest.raises(NotFound):
        selectors.consent_list(user=net.stranger, person=person)


# --- API -----------------------------------------------------------------------------------


def test_api_create_and_list_consents(client_for, net, person):
    # given
    client = client_for(net.volunteer)
    expires = (timezone.now() + timedelta(days=7)).isoformat()

    # when
    created = client.post(
        consents_url(person),
        consent_body(
            recipients=[str(net.clinic.pk)], expires_at=expires, expires_on_event="discharge"
        ),
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    listed = client.get(consents_url(person))

    # then
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["person"] == str(person.pk)
    assert body["disclosing_organization"] == {
        "id": str(net.outreach.pk),
        "name": "Street Outreach",
    }
    assert body["recipients"] == [{"id": str(net.clinic.pk), "name": "Clinic"}]
    assert body["stages"] == ["treatment"]
    assert body["method"] == "written"
    assert body["expires_on_event"] == "discharge"
    assert body["active"] is True and body["revoked_at"] is None
    assert body["redisclosure_notice"] == REDISCLOSURE_NOTICE
    assert body["recorded_by"] == net.volunteer.pk
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()["results"]] == [body["id"]]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"recipients": [], "stages": []}, "recipients"),
        ({"stages": ["detox"]}, "stages"),
        ({"recipients": ["not-an-id"]}, "recipients"),
        ({"recipients": [str(uuid.uuid4())]}, "recipients"),
        ({"method": "telepathy"}, "method"),
        ({"information": ""}, "information"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"expires_at": "tomorrow"}, "expires_at"),
        ({"scope": "all"}, "scope"),
    ],
)
def test_api_create_rejects_bad_input_naming_the_field(client_for, net, person, overrides, field):
    # when
    response = client_for(net.volunteer).post(
        consents_url(person), consent_body(**overrides), format="json"
    )

    # then
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert not Consent.objects.exists()


def test_api_create_by_a_receiver_is_refused(client_for, net, person):
    # given
    referral_sent(person, sender=net.volunteer, service=net.clinic_service)

    # when
    response = client_for(net.provider).post(consents_url(person), consent_body(), format="json")

    # then
    assert response.status_code == 403
    assert not Consent.objects.exists()


def test_api_list_rejects_unknown_parameters(client_for, net, person):
    response = client_for(net.volunteer).get(consents_url(person), {"active": "true"})
    assert response.status_code == 400
    assert "active" in response.json()["errors"]


def test_api_revoke_hides_identity_from_the_receiver_at_once(client_for, net, person):
    # given
    consent = consent_create_for(net.volunteer, person, recipients=[net.clinic])
    referral_sent(person, sender=net.volunteer, service=net.clinic_service)
    provider = client_for(net.provider)
    detail = f"/api/v1/people/{person.pk}/"
    assert provider.get(detail).json()["identity"]["given_name"] == "Amélie"

    # when
    revoked = client_for(net.volunteer).post(revoke_url(consent))
    again = client_for(net.volunteer).post(revoke_url(consent))

    # then
    assert revoked.status_code == 200
    assert revoked.json()["active"] is False and revoked.json()["revoked_at"]
    assert revoked.json()["revoked_by"] == net.volunteer.pk
    assert again.status_code == 200 and again.json() == revoked.json()
    assert len(consent_events(AuditAction.CONSENT_REVOKE, consent)) == 1
    assert provider.get(detail).json()["identity"] is None
    assert provider.get(consents_url(person)).json()["results"][0]["active"] is False


def test_api_revoke_by_the_receiver_is_refused(client_for, net, person):
    # given
    consent = consent_create_for(net.volunteer, person, recipients=[net.clinic])
    referral_sent(person, sender=net.volunteer, service=net.clinic_service)

    # when
    response = client_for(net.provider).post(revoke_url(consent))

    # then
    assert response.status_code == 403
    assert Consent.objects.get(pk=consent.pk).revoked_at is None


def test_api_expiry_hides_identity_at_once(client_for, net, person):
    # given
    expires = timezone.now() + timedelta(hours=2)
    consent_create_for(net.volunteer, person, stages=["treatment"], expires_at=expires)
    referral_sent(person, sender=net.volunteer, service=net.clinic_service)
    provider = client_for(net.provider)
    detail = f"/api/v1/people/{person.pk}/"
    assert provider.get(detail).json()["identity_visible"] is True

    # when / then
    with time_machine.travel(expires + timedelta(seconds=1)):
        body = provider.get(detail).json()
        assert body["identity"] is None and body["identity_visible"] is False
        listed = provider.get(consents_url(person)).json()["results"]
        assert [c["active"] for c in listed] == [False]


def test_a_consent_that_has_not_covered_a_receiver_does_not_after_a_new_one(
    client_for, net, person
):
    # given: a revoked consent and a new one for another organisation only
    old = consent_create_for(net.volunteer, person, recipients=[net.clinic])
    services.consent_revoke(actor=net.volunteer, consent=old)
    consent_create_for(net.volunteer, person, recipients=[net.police])
    referral_sent(person, sender=net.volunteer, service=net.clinic_service)

    # then
    detail = client_for(net.provider).get(f"/api/v1/people/{person.pk}/").json()
    assert detail["identity"] is None
