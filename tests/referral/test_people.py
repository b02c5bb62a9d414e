"""People: services, selectors and the API, with who may see a person's identity."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from audit.keys import Keyring, KeySet, keyring, reset_keyring_cache, write_key_file
from audit.models import AuditAction, AuditEvent
from audit.selectors import audit_event_payload
from audit.verification import verify_chain
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from referral import permissions
from referral.models import Person, Referral
from referral.selectors import people as selectors
from referral.services import people as services
from referral.services.consents import consent_revoke
from tests.factories import (
    care_network,
    consent_create_for,
    person_create_for,
    referral_sent,
)

pytestmark = pytest.mark.django_db

PEOPLE_URL = "/api/v1/people/"
IDENTITY = {
    "given_name": "Amélie",
    "family_name": "Dupont-Silva",
    "birth_date": date(1990, 4, 12),
    "phone": "+49 30 1234567",
    "notes": "Prefers contact near the station.",
}


@pytest.fixture
def net():
    return care_network()


@pytest.fixture
def person(net):
    return person_create_for(net.volunteer, display_name="AD", **IDENTITY)


def events(action: str, target) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            action=action, target_label="referral.person", target_id=str(target.pk)
        )
    )


def assert_no_plaintext(event: AuditEvent, values=IDENTITY) -> None:
    raw = bytes(event.ciphertext) + bytes(event.nonce)
    payload = repr(audit_event_payload(event))
    for value in values.values():
        text = value.isoformat() if isinstance(value, date) else str(value)
        assert text.encode() not in raw
        assert text not in payload


# --- services ------------------------------------------------------------------------------


def test_person_create_stores_only_ciphertext_and_grants_the_owner(net):
    # when
    person = person_create_for(net.volunteer, display_name="AD", **IDENTITY)

    # then
    stored = Person.objects.get(pk=person.pk)
    assert stored.organization == net.outreach
    assert stored.created_by == net.volunteer
    assert stored.wrapped_data_key is not None and stored.data_key_id
    for field, value in IDENTITY.items():
        blob = bytes(getattr(stored, f"{field}_enc"))
        text = value.isoformat() if isinstance(value, date) else value
        assert text.encode() not in blob
    assert len(stored.blind_index) == 64 and stored.blind_index_key_id
    assert selectors.person_identity_decrypt(stored) == IDENTITY
    assert set(
        stored.persongroupobjectpermission_set.values_list("permission__codename", flat=True)
    ) == set(permissions.PERSON_OWNER)
    (created,) = events(AuditAction.CREATE, person)
    assert audit_event_payload(created) == {
        "fields": ["display_name", "birth_date", "family_name", "given_name", "notes", "phone"]
    }
    assert_no_plaintext(created)


def test_person_create_with_a_pseudonym_only(net):
    # when
    person = person_create_for(net.volunteer, display_name="  Sparrow ")

    # then
    assert person.display_name == "Sparrow"
    assert person.blind_index == "" and person.given_name_enc is None
    assert selectors.person_identity(user=net.volunteer, person=person) == {
        "erased": False,
        "disclosed_fields": list(selectors.IDENTIFYING_FIELDS),
        **dict.fromkeys(selectors.IDENTIFYING_FIELDS),
    }
    assert events(AuditAction.READ, person) == []  # nothing identifying was read


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"display_name": " "}, "display_name"),
        ({"display_name": "x" * 81}, "display_name"),
        ({"display_name": "AD", "birth_date": date(2999, 1, 1)}, "birth_date"),
        ({"display_name": "AD", "phone": "1" * 41}, "phone"),
    ],
)
def test_person_create_rejects_bad_input_naming_the_field(net, fields, field):
    # when
    with pytest.raises(ValidationFailed) as error:
        services.person_create(actor=net.volunteer, **fields)

    # then
    assert field in error.value.errors
    assert not Person.objects.exists()


def test_coordinators_do_not_record_people(net):
    with pytest.raises(Forbidden):
        services.person_create(actor=net.coordinator, display_name="AD", given_name="Ann")


def test_person_update_reencrypts_changed_fields_and_audits_their_names(net, person):
    # given
    before = Person.objects.get(pk=person.pk)

    # when
    services.person_update(
        actor=net.volunteer,
        person=person,
        data={"family_name": "Martin", "phone": None, "notes": IDENTITY["notes"]},
    )

    # then
    after = Person.objects.get(pk=person.pk)
    assert selectors.person_identity_decrypt(after) == {
        **IDENTITY,
        "family_name": "Martin",
        "phone": None,
    }
    assert bytes(after.notes_enc) == bytes(before.notes_enc)  # unchanged: not re-encrypted
    assert bytes(after.family_name_enc) != bytes(before.family_name_enc)
    assert after.blind_index != before.blind_index
    (updated,) = events(AuditAction.UPDATE, person)
    assert audit_event_payload(updated) == {"fields": ["family_name", "phone"]}
    assert_no_plaintext(updated, {"family_name": "Martin"})


def test_person_update_without_a_change_records_nothing(net, person):
    # when
    services.person_update(
        actor=net.volunteer,
        person=person,
        data={"display_name": "AD", "given_name": IDENTITY["given_name"]},
    )

    # then
    assert events(AuditAction.UPDATE, person) == []


def test_only_the_recording_organisation_changes_a_person(net, person):
    # given: the clinic sees the person through a referral
    referral_sent(person, sender=net.volunteer, service=net.clinic_service)

    # when / then
    for actor in (net.provider, net.stranger, net.coordinator):
        with pytest.raises(Forbidden):
            services.person_update(actor=actor, person=person, data={"display_name": "Z"})
    assert Person.objects.get(pk=person.pk).display_name == "AD"


def test_person_erase_shreds_the_key_keeps_the_rows_and_is_idempotent(net, person):
    # given
    referral = referral_sent(person, sender=net.volunteer, service=net.clinic_service)
    created_at = Person.objects.get(pk=person.pk).created_at

    # when
    services.person_erase(actor=net.volunteer, person=person)
    again = services.person_erase(actor=net.volunteer, person=person)

    # then
    erased = Person.objects.get(pk=person.pk)
    assert erased.wrapped_data_key is None
    assert erased.blind_index == "" and erased.erased_at is not None
    assert erased.display_name == services.ERASED_DISPLAY_NAME
    assert erased.created_at == created_at
    assert again.erased_at == erased.erased_at
    assert Referral.objects.filter(pk=referral.pk, person=person).exists()
    (erase,) = events(AuditAction.ERASE, person)
    assert audit_event_payload(erase)["data_key_destroyed"] is True
    assert_no_plaintext(erase)
    assert selectors.person_identity(user=net.volunteer, person=erased) == {
        "erased": True,
        "disclosed_fields": list(selectors.IDENTIFYING_FIELDS),
        **dict.fromkeys(selectors.IDENTIFYING_FIELDS),
    }
    assert verify_chain().ok


def test_an_erased_person_cannot_be_given_identity_again(net, person):
    # given
    services.person_erase(actor=None, person=person)

    # when / then
    with pytest.raises(Conflict):
        services.person_update(actor=net.volunteer, person=person, data={"given_name": "A"})


def test_only_the_recording_organisation_erases(net, person):
    with pytest.raises(Forbidden):
        services.person_erase(actor=net.stranger, person=person)
    assert Person.objects.get(pk=person.pk).erased_at is None


# --- who sees what -------------------------------------------------------------------------


def test_person_get_is_404_for_missing_and_forbidden_alike(net, person):
    with pytest.raises(NotFound) as hidden:
        selectors.person_get(user=net.stranger, person_id=person.pk)
    with pytest.raises(NotFound) as missing:
        selectors.person_get(user=net.volunteer, person_id=uuid.uuid4())
    assert hidden.value.message == missing.value.message


def test_the_recording_organisation_reads_identity_and_the_read_is_audited(net, person):
    # when
    identity = selectors.person_identity(user=net.volunteer, person=person)

    # then
    assert identity == {
        "erased": False,
        "disclosed_fields": list(selectors.IDENTIFYING_FIELDS),
        **IDENTITY,
    }
    (read,) = events(AuditAction.READ, person)
    assert read.actor_id == net.volunteer.pk
    assert read.organization_id == str(net.outreach.pk)
    assert audit_event_payload(read) == {"fields": sorted(IDENTITY)}
    assert_no_plaintext(read)


def identity_seen_by(user, person):
    person = selectors.person_get(user=user, person_id=person.pk)
    return selectors.person_identity(user=user, person=person)


def test_a_receiving_organisation_needs_a_covering_consent(net, person):
    # given: a referral to the clinic without consent goes pseudonymous
    referral_sent(person, sender=net.volunteer, service=net.clinic_service)
    assert identity_seen_by(net.provider, person) is None

    # when: a consent names the clinic, then the person is referred under it
    consent = consent_create_for(net.volunteer, person, recipients=[net.clinic])
    assert identity_seen_by(net.provider, person) is None  # it does not reach back
    referral_sent(person, sender=net.volunteer, service=net.clinic_service)

    # then
    assert identity_seen_by(net.provider, person)["given_name"] == "Amélie"
    assert len(events(AuditAction.READ, person)) == 1

    # when: revoked
    consent_revoke(actor=net.volunteer, consent=consent)

    # then: hidden at once
    assert identity_seen_by(net.provider, person) is None


def test_a_consent_for_the_stage_covers_the_receiving_organisation(net, person):
    # given
    consent_create_for(net.volunteer, person, stages=["treatment"])
    referral_sent(person, sender=net.volunteer, service=net.clinic_service)

    # then
    assert identity_seen_by(net.provider, person)["family_name"] == "Dupont-Silva"


def test_a_consent_for_another_stage_or_organisation_does_not_cover(net, person):
    # given
    consent_create_for(net.volunteer, person, stages=["recovery"], recipients=[net.police])
    referral_sent(person, sender=net.volunteer, service=net.clinic_service)

    # then
    assert identity_seen_by(net.provider, person) is None


def test_an_anonymous_referral_discloses_no_identity_even_with_consent(net, person):
    # given
    referral_sent(person, sender=net.volunteer, service=net.clinic_service)  # no consent yet
    consent_create_for(net.volunteer, person, recipients=[net.clinic])

    # then
    assert identity_seen_by(net.provider, person) is None


def test_an_expired_consent_hides_identity_at_once(net, person):
    # given
    expires = timezone.now() + timedelta(days=1)
    consent_create_for(net.volunteer, person, recipients=[net.clinic], expires_at=expires)
    referral_sent(person, sender=net.volunteer, service=net.clinic_service)
    assert identity_seen_by(net.provider, person) is not None

    # when / then
    with time_machine.travel(expires + timedelta(seconds=1)):
        assert identity_seen_by(net.provider, person) is None


def test_coordinators_never_see_identity(net, person):
    # given: a covering consent and a colleague of the coordinator's organisation who
    # recorded a person of their own
    consent_create_for(net.volunteer, person, recipients=[net.municipality, net.clinic])
    referral_sent(person, sender=net.volunteer, service=net.clinic_service)
    from tests.factories import member

    colleague = member(organization=net.municipality, role="volunteer")
    own = person_create_for(colleague, display_name="MB", given_name="Mia")

    # then
    for someone in (person, own):
        assert selectors.person_get(user=net.coordinator, person_id=someone.pk)
        assert identity_seen_by(net.coordinator, someone) is None
    assert identity_seen_by(colleague, own)["given_name"] == "Mia"
    assert not AuditEvent.objects.filter(action=AuditAction.READ, actor_id=net.coordinator.pk)


def test_police_see_identity_only_of_people_their_organisation_recorded(net, person):
    # given: the officer records one person and refers the volunteer's person
    own = person_create_for(net.officer, display_name="KL", given_name="Kai")
    referral_sent(person, sender=net.officer, service=net.clinic_service)

    # then
    assert identity_seen_by(net.officer, own)["given_name"] == "Kai"
    with pytest.raises(NotFound):
        selectors.person_get(user=net.officer, person_id=person.pk)


def test_strangers_see_nothing(net, person):
    assert list(selectors.person_list(user=net.stranger)) == []
    assert selectors.person_identity(user=net.stranger, person=person) is None


# --- duplicates ----------------------------------------------------------------------------


def test_possible_duplicates_match_normalised_names_within_what_the_user_may_see(net, person):
    # given: the same person under another spelling, recorded by the volunteer's org;
    # identical people elsewhere (another org; seen by pseudonym only) must not show
    same = {**IDENTITY, "given_name": "AMELIE", "family_name": "dupont silva"}
    elsewhere = person_create_for(net.stranger, display_name="X", **IDENTITY)
    clinic_own = person_create_for(net.provider, display_name="Y", **IDENTITY)

    # when
    second = person_create_for(net.volunteer, display_name="A.D.", **same)
    identity = selectors.person_identity(user=net.volunteer, person=second)

    # then
    duplicates = selectors.person_possible_duplicates(
        user=net.volunteer, person=second, identity=identity
    )
    assert duplicates == [person.pk]
    assert (
        selectors.person_possible_duplicates(
            user=net.provider, person=clinic_own, identity=IDENTITY
        )
        == []
    )
    assert elsewhere.pk not in duplicates
    # a receiver of a referral of the volunteer's person, without consent: not disclosed
    referral_sent(person, sender=net.volunteer, service=net.clinic_service)
    assert (
        selectors.person_possible_duplicates(
            user=net.provider, person=clinic_own, identity=IDENTITY
        )
        == []
    )


def test_possible_duplicates_are_found_across_a_blind_index_key_rotation(net, person, settings):
    # given: a new current blind-index key; the old one stays in the ring
    ring = keyring()
    new_id = "bix-rotated"
    rotated = Keyring(
        encryption=ring.encryption,
        signing=ring.signing,
        blind_index=KeySet(current=new_id, keys={**ring.blind_index.keys, new_id: b"k" * 32}),
    )
    write_key_file(rotated, settings.CONTINUUM_KEY_FILE)
    reset_keyring_cache()

    # when
    second = person_create_for(net.volunteer, display_name="A2", **IDENTITY)

    # then
    assert second.blind_index_key_id == new_id != person.blind_index_key_id
    assert selectors.person_possible_duplicates(
        user=net.volunteer, person=second, identity=IDENTITY
    ) == [person.pk]


# --- API -----------------------------------------------------------------------------------


def person_body(**overrides):
    return {
        "display_name": "AD",
        **{k: (v.isoformat() if isinstance(v, date) else v) for k, v in IDENTITY.items()},
        **overrides,
    }


def test_api_create_answers_pseudonym_fields_and_duplicates_without_echoing_identity(
    client_for, net, person
):
    # when
    response = client_for(net.volunteer).post(PEOPLE_URL, person_body(), format="json")

    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {
        "id",
        "display_name",
        "organization",
        "created_at",
        "erased",
        "identity_visible",
        "identity_fields",
        "possible_duplicates",
    }
    assert body["organization"] == {"id": str(net.outreach.pk), "name": "Street Outreach"}
    assert body["identity_visible"] is True and body["erased"] is False
    assert body["identity_fields"] == list(selectors.IDENTIFYING_FIELDS)
    assert body["possible_duplicates"] == [str(person.pk)]
    assert "Amélie" not in response.content.decode()


def test_api_create_with_an_idempotency_key_makes_one_person(client_for, net):
    # given
    client = client_for(net.volunteer)
    key = str(uuid.uuid4())

    # when
    first = client.post(PEOPLE_URL, person_body(), format="json", HTTP_IDEMPOTENCY_KEY=key)
    second = client.post(PEOPLE_URL, person_body(), format="json", HTTP_IDEMPOTENCY_KEY=key)

    # then
    assert first.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert Person.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"display_name": ""}, "display_name"),
        ({}, "display_name"),
        ({"display_name": "AD", "birth_date": "12/04/1990"}, "birth_date"),
        ({"display_name": "AD", "birthdate": "1990-04-12"}, "birthdate"),
        ({"display_name": "x" * 81}, "display_name"),
    ],
)
def test_api_create_rejects_bad_input_naming_the_field(client_for, net, body, field):
    # when
    response = client_for(net.volunteer).post(PEOPLE_URL, body, format="json")

    # then
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_api_create_by_a_coordinator_is_refused(client_for, net):
    response = client_for(net.coordinator).post(PEOPLE_URL, person_body(), format="json")
    assert response.status_code == 403
    assert not Person.objects.exists()


def test_api_list_shows_pseudonyms_only_and_decrypts_nothing(client_for, net, person):
    # given
    referral_sent(person, sender=net.volunteer, service=net.clinic_service)
    person_create_for(net.stranger, display_name="hidden")

    # when
    owner = client_for(net.volunteer).get(PEOPLE_URL)
    receiver = client_for(net.provider).get(PEOPLE_URL)
    coordinator = client_for(net.coordinator).get(PEOPLE_URL)

    # then
    assert owner.status_code == 200
    assert owner.json()["results"] == [
        {
            "id": str(person.pk),
            "display_name": "AD",
            "organization": {"id": str(net.outreach.pk), "name": "Street Outreach"},
            "created_at": owner.json()["results"][0]["created_at"],
            "erased": False,
            "identity_visible": True,
        }
    ]
    assert [r["identity_visible"] for r in receiver.json()["results"]] == [False]
    assert [r["identity_visible"] for r in coordinator.json()["results"]] == [False]
    assert events(AuditAction.READ, person) == []


def test_api_list_query_count_does_not_grow_with_the_page(client_for, net):
    # given
    client = client_for(net.volunteer)
    person_create_for(net.volunteer, display_name="P0")
    with CaptureQueriesContext(connection) as few:
        client.get(PEOPLE_URL)
    for number in range(1, 8):
        person_create_for(net.volunteer, display_name=f"P{number}", given_name="G")

    # when
    with CaptureQueriesContext(connection) as many:
        response = client.get(PEOPLE_URL)

    # then
    assert len(response.json()["results"]) == 8
    assert len(many) == len(few)


def test_api_search_by_name_and_birth_date(client_for, net, person):
    # given
    person_create_for(net.volunteer, display_name="other", **{**IDENTITY, "given_name": "Bea"})
    client = client_for(net.volunteer)
    search = f"{PEOPLE_URL}search/"
    names = {"given_name": "amelie", "family_name": "DUPONT SILVA", "birth_date": "1990-04-12"}

    # when
    found = client.post(search, names, format="json")
    incomplete = client.post(search, {"given_name": "amelie"}, format="json")
    unknown = client.post(search, {**names, "name": "amelie"}, format="json")
    in_the_url = client.get(PEOPLE_URL, names)
    by_stranger = client_for(net.stranger).post(search, names, format="json")

    # then
    assert found.status_code == 200
    assert found.json()["count"] == 1
    assert [r["id"] for r in found.json()["results"]] == [str(person.pk)]
    assert "given_name" not in found.json()["results"][0]  # pseudonyms only
    assert incomplete.status_code == 400
    assert set(incomplete.json()["errors"]) == {"family_name", "birth_date"}
    assert unknown.status_code == 400 and "name" in unknown.json()["errors"]
    assert in_the_url.status_code == 400
    assert set(in_the_url.json()["errors"]) == {"given_name", "family_name", "birth_date"}
    assert "POST /api/v1/people/search/" in in_the_url.json()["errors"]["given_name"][0]
    assert by_stranger.json() == {"count": 0, "results": []}


def test_api_detail_for_the_owner_shows_and_audits_identity(client_for, net, person):
    # given
    twin = person_create_for(net.volunteer, display_name="twin", **IDENTITY)

    # when
    response = client_for(net.volunteer).get(f"{PEOPLE_URL}{person.pk}/")

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["identity"] == {
        "erased": False,
        "disclosed_fields": list(selectors.IDENTIFYING_FIELDS),
        "given_name": "Amélie",
        "family_name": "Dupont-Silva",
        "birth_date": "1990-04-12",
        "phone": "+49 30 1234567",
        "notes": "Prefers contact near the station.",
    }
    assert body["identity_visible"] is True
    assert body["possible_duplicates"] == [str(twin.pk)]
    assert len(events(AuditAction.READ, person)) == 1


def test_api_detail_for_a_receiver_without_consent_and_a_coordinator_hides_identity(
    client_for, net, person
):
    # given
    referral_sent(person, sender=net.volunteer, service=net.clinic_service)

    for user in (net.provider, net.coordinator):
        # when
        response = client_for(user).get(f"{PEOPLE_URL}{person.pk}/")

        # then
        assert response.status_code == 200
        body = response.json()
        assert body["identity"] is None and body["identity_visible"] is False
        assert body["possible_duplicates"] is None
        assert "Amélie" not in response.content.decode()
    assert events(AuditAction.READ, person) == []


def test_api_patch_by_the_owner(client_for, net, person):
    # when
    response = client_for(net.volunteer).patch(
        f"{PEOPLE_URL}{person.pk}/", {"phone": "", "display_name": "A.D."}, format="json"
    )

    # then
    assert response.status_code == 200, response.json()
    assert response.json()["display_name"] == "A.D."
    assert response.json()["identity"]["phone"] is None


def test_api_patch_rejects_bad_input_and_non_owners(client_for, net, person):
    # given
    referral_sent(person, sender=net.volunteer, service=net.clinic_service)
    url = f"{PEOPLE_URL}{person.pk}/"

    # when
    bad = client_for(net.volunteer).patch(url, {"birth_date": "soon"}, format="json")
    receiver = client_for(net.provider).patch(url, {"display_name": "Z"}, format="json")
    coordinator = client_for(net.coordinator).patch(url, {"display_name": "Z"}, format="json")

    # then
    assert bad.status_code == 400 and "birth_date" in bad.json()["errors"]
    assert receiver.status_code == 403
    assert coordinator.status_code == 403
    assert Person.objects.get(pk=person.pk).display_name == "AD"


def test_api_patch_of_an_erased_person_is_a_conflict(client_for, net, person):
    services.person_erase(actor=None, person=person)
    response = client_for(net.volunteer).patch(
        f"{PEOPLE_URL}{person.pk}/", {"given_name": "A"}, format="json"
    )
    assert response.status_code == 409


def test_every_endpoint_answers_404_for_another_organisations_person(client_for, net, person):
    # given: a consent the stranger cannot see, and ids that do not exist
    consent = consent_create_for(net.volunteer, person, recipients=[net.clinic])
    client = client_for(net.stranger)
    consent_body = {
        "recipients": [str(net.clinic.pk)],
        "stages": [],
        "information": "all",
        "purpose": "care",
        "method": "written",
    }
    calls = [
        ("get", "{}/", None),
        ("patch", "{}/", {"display_name": "Z"}),
        ("get", "{}/consents/", None),
        ("post", "{}/consents/", consent_body),
    ]

    for method, suffix, body in calls:
        # when
        hidden = getattr(client, method)(PEOPLE_URL + suffix.format(person.pk), body)
        missing = getattr(client, method)(PEOPLE_URL + suffix.format(uuid.uuid4()), body)

        # then
        assert hidden.status_code == missing.status_code == 404, (method, suffix)
        assert hidden.json() == missing.json()
    hidden = client.post(f"/api/v1/consents/{consent.pk}/revoke/")
    missing = client.post(f"/api/v1/consents/{uuid.uuid4()}/revoke/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert Person.objects.get(pk=person.pk).display_name == "AD"


def test_unauthenticated_requests_are_refused(person):
    assert APIClient().get(PEOPLE_URL).status_code == 401
    assert APIClient().get(f"{PEOPLE_URL}{person.pk}/").status_code == 401


# --- erasure command -----------------------------------------------------------------------


def test_erase_person_command_shreds_and_the_audit_chain_still_verifies(
    client_for, net, person, capsys
):
    # given
    consent_create_for(net.volunteer, person, recipients=[net.clinic])
    referral = referral_sent(person, sender=net.volunteer, service=net.clinic_service)
    client_for(net.volunteer).get(f"{PEOPLE_URL}{person.pk}/")

    # when
    call_command("erase_person", str(person.pk), "--yes")

    # then
    out = capsys.readouterr().out
    assert f"Erased person {person.pk}" in out and "1 referral(s)" in out
    body = client_for(net.volunteer).get(f"{PEOPLE_URL}{person.pk}/").json()
    assert body["erased"] is True
    assert body["identity"] == {
        "erased": True,
        "disclosed_fields": list(selectors.IDENTIFYING_FIELDS),
        **dict.fromkeys(selectors.IDENTIFYING_FIELDS),
    }
    receiver = client_for(net.provider).get(f"{PEOPLE_URL}{person.pk}/").json()
    assert receiver["identity"] is None
    assert Referral.objects.filter(pk=referral.pk).exists()
    (erase,) = events(AuditAction.ERASE, person)
    assert erase.actor_id is None
    call_command("verify_audit")  # raises SystemExit on a broken chain
    assert verify_chain().ok
    assert "OK:" in capsys.readouterr().out

    # when: run again
    call_command("erase_person", str(person.pk), "--yes")

    # then
    assert "already erased" in capsys.readouterr().out
    assert len(events(AuditAction.ERASE, person)) == 1


def test_erase_person_command_asks_first(net, person, monkeypatch):
    # given
    monkeypatch.setattr("builtins.input", lambda prompt: "no")

    # when / then
    with pytest.raises(CommandError, match="Not erased"):
        call_command("erase_person", str(person.pk))
    assert Person.objects.get(pk=person.pk).erased_at is None

    # given
    monkeypatch.setattr("builtins.input", lambda prompt: "yes")

    # when
    call_command("erase_person", str(person.pk))

    # then
    assert Person.objects.get(pk=person.pk).erased_at is not None


def test_erase_person_command_rejects_unknown_ids(db):
    with pytest.raises(CommandError):
        call_command("erase_person", "not-a-uuid", "--yes")
    with pytest.raises(CommandError):
        call_command("erase_person", str(uuid.uuid4()), "--yes")
