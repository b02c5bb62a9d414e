"""Contacts as phones upload them: one at a time or as an offline batch, retried safely."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditAction, AuditEvent
from audit.selectors import audit_event_payload
from referral.models import Contact
from referral.selectors.contacts import contact_get, contact_notes
from referral.services.contacts import contact_fingerprint, contact_record
from referral.services.people import person_erase
from services_directory.models import Role
from tests.factories import OrganizationFactory, member, person_create_for

URL = "/api/v1/contacts/"


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def contact_body(**fields):
    body = {
        "client_uuid": str(uuid.uuid4()),
        "occurred_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "place": "Central station, north exit",
        "pathway": "active_outreach",
        "offered": ["naloxone", "information"],
    }
    body.update(fields)
    return body


def create_events_for(contact_id) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            action=AuditAction.CREATE, target_label="referral.contact", target_id=str(contact_id)
        )
    )


@pytest.fixture
def officer(world):
    return client_of(world.officer)


# --- recording -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_contact_is_recorded_for_the_recording_organisation(world, officer):
    # given
    person = person_create_for(world.officer)
    body = contact_body(
        offered=["syringes", "naloxone", "syringes"], person=str(person.pk), notes="Asked for a bed"
    )
    # when
    response = officer.post(URL, body, format="json")
    # then
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["client_uuid"] == body["client_uuid"]
    assert data["organization"] == str(world.police.pk)
    assert data["recorded_by"] == world.officer.pk
    assert data["person"] == str(person.pk)
    assert data["offered"] == ["naloxone", "syringes"]
    assert data["has_notes"] is True
    assert "notes" not in data
    contact = Contact.objects.get(client_uuid=body["client_uuid"])
    assert contact.notes_key_id == "person"
    assert b"Asked for a bed" not in bytes(contact.notes_enc)
    [event] = create_events_for(contact.pk)
    payload = audit_event_payload(event)
    assert payload["pathway"] == "active_outreach"
    assert payload["offered"] == ["naloxone", "syringes"]
    assert payload["place"] == "Central station, north exit"
    assert "notes" in payload["fields"]
    assert "Asked for a bed" not in str(payload)


@pytest.mark.django_db
def test_an_anonymous_contact_needs_only_the_essentials(world, officer):
    # given
    body = {
        "client_uuid": str(uuid.uuid4()),
        "occurred_at": timezone.now().isoformat(),
        "pathway": "naloxone_plus",
    }
    # when
    response = officer.post(URL, body, format="json")
    # then
    assert response.status_code == 201, response.content
    assert response.json()["person"] is None
    assert response.json()["offered"] == []
    assert response.json()["has_notes"] is False


@pytest.mark.django_db
def test_replaying_the_same_body_returns_the_stored_contact(world, officer):
    # given
    body = contact_body(notes="same words")
    first = officer.post(URL, body, format="json")
    # when
    again = officer.post(URL, body, format="json")
    # then
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Contact.objects.filter(client_uuid=body["client_uuid"]).count() == 1
    assert len(create_events_for(first.json()["id"])) == 1


@pytest.mark.django_db
def test_a_replay_spelt_differently_is_still_the_same_contact(world, officer):
    # given
    occurred_at = timezone.now().replace(microsecond=0) - timedelta(hours=2)
    body = contact_body(occurred_at=occurred_at.isoformat(), offered=["naloxone", "testing"])
    officer.post(URL, body, format="json")
    # when: other offset, other order, a repeat, spaces around the place
    again = officer.post(
        URL,
        {
            **body,
            "occurred_at": occurred_at.astimezone(timezone.get_fixed_timezone(120)).isoformat(),
            "offered": ["testing", "naloxone", "testing"],
            "place": f"  {body['place']} ",
        },
        format="json",
    )
    # then
    assert again.status_code == 200, again.content
    assert Contact.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        {"pathway": "self_referral"},
        {"offered": ["food"]},
        {"place": "Somewhere else"},
        {"notes": "different words"},
        {"occurred_at": (timezone.now() - timedelta(hours=3)).isoformat()},
    ],
)
def test_the_same_client_uuid_with_a_different_body_is_409_and_changes_nothing(
    world, officer, change
):
    # given
    body = contact_body(notes="first words")
    officer.post(URL, body, format="json")
    before = Contact.objects.values().get(client_uuid=body["client_uuid"])
    # when
    response = officer.post(URL, {**body, **change}, format="json")
    # then
    assert response.status_code == 409
    assert "client_uuid" in response.json()["errors"]
    assert Contact.objects.values().get(client_uuid=body["client_uuid"]) == before


@pytest.mark.django_db
def test_another_organisations_client_uuid_is_409_revealing_nothing(world, officer):
    # given: the clinic used this client_uuid, with exactly the body we send
    body = contact_body()
    theirs = client_of(world.provider).post(URL, body, format="json")
    # when
    response = officer.post(URL, body, format="json")
    # then
    assert theirs.status_code == 201
    assert response.status_code == 409
    assert theirs.json()["id"] not in response.content.decode()
    assert str(world.clinic.pk) not in response.content.decode()
    changed = officer.post(URL, {**body, "pathway": "self_referral"}, format="json")
    assert changed.json() == response.json()
    assert Contact.objects.get(client_uuid=body["client_uuid"]).organization == world.clinic


@pytest.mark.django_db
def test_a_person_the_organisation_cannot_see_is_an_unknown_person(world, officer):
    # given: the clinic's person, and an id that exists nowhere
    theirs = person_create_for(world.provider)
    # when
    hidden = officer.post(URL, contact_body(person=str(theirs.pk)), format="json")
    missing = officer.post(URL, contact_body(person=str(uuid.uuid4())), format="json")
    # then: the same answer, naming the field
    assert hidden.status_code == missing.status_code == 400
    assert hidden.json()["errors"] == missing.json()["errors"] == {"person": ["Unknown person."]}
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_notes_for_an_erased_person_are_refused(world, officer):
    # given
    person = person_create_for(world.officer)
    person_erase(actor=None, person=person)
    # when
    with_notes = officer.post(URL, contact_body(person=str(person.pk), notes="x"), format="json")
    without = officer.post(URL, contact_body(person=str(person.pk)), format="json")
    # then
    assert with_notes.status_code == 400
    assert "notes" in with_notes.json()["errors"]
    assert without.status_code == 201


@pytest.mark.django_db
def test_someone_without_an_organisation_cannot_record(world):
    # given
    from tests.factories import UserFactory

    client = client_of(UserFactory())
    # when
    response = client.post(URL, contact_body(), format="json")
    # then
    assert response.status_code == 403
    assert not Contact.objects.exists()


NOW_PLUS = {
    "four_minutes_ahead": timedelta(minutes=4),
    "six_minutes_ahead": timedelta(minutes=6),
    "thirty_one_days_ago": -timedelta(days=31),
}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"client_uuid": None}, "client_uuid"),
        ({"client_uuid": "not-a-uuid"}, "client_uuid"),
        ({"occurred_at": None}, "occurred_at"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": "2026-01-01T10:00:00"}, "occurred_at"),  # no offset
        ({"occurred_at": "six_minutes_ahead"}, "occurred_at"),
        ({"occurred_at": "thirty_one_days_ago"}, "occurred_at"),
        ({"place": "x" * 121}, "place"),
        ({"place": ["a list"]}, "place"),
        ({"pathway": "arrest"}, "pathway"),
        ({"pathway": None}, "pathway"),
        ({"offered": ["handcuffs"]}, "offered"),
        ({"offered": "naloxone"}, "offered"),
        ({"person": "not-a-uuid"}, "person"),
        ({"person": 12}, "person"),
        ({"notes": "x" * 4001}, "notes"),
        ({"notes": {"nested": True}}, "notes"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_input_is_400_naming_the_field(world, officer, body, field):
    # given
    value = body.get("occurred_at")
    if value in NOW_PLUS:
        body = {"occurred_at": (timezone.now() + NOW_PLUS[value]).isoformat()}
    request = {k: v for k, v in {**contact_body(), **body}.items() if v is not None}
    # when
    response = officer.post(URL, request, format="json")
    # then
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_a_clock_a_little_ahead_is_tolerated(world, officer):
    occurred_at = (timezone.now() + NOW_PLUS["four_minutes_ahead"]).isoformat()
    response = officer.post(URL, contact_body(occurred_at=occurred_at), format="json")
    assert response.status_code == 201, response.content


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["a string", 7, None])
def test_a_body_that_is_neither_object_nor_list_is_400(world, officer, body):
    response = officer.post(URL, body, format="json")
    assert response.status_code == 400


# --- batches -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_batch_answers_each_item_in_order(world, officer):
    # given: one stored contact to replay, one to conflict with
    stored = contact_body()
    clashing = contact_body()
    officer.post(URL, stored, format="json")
    officer.post(URL, clashing, format="json")
    new = contact_body(notes="new one")
    bad = contact_body(pathway="arrest")
    batch = [new, stored, bad, {**clashing, "place": "changed"}, "not an object", {}]
    # when
    response = officer.post(URL, batch, format="json")
    # then
    assert response.status_code == 200, response.content
    items = response.json()
    assert [item["status"] for item in items] == [201, 200, 400, 409, 400, 400]
    assert [item["client_uuid"] for item in items] == [
        new["client_uuid"],
        stored["client_uuid"],
        bad["client_uuid"],
        clashing["client_uuid"],
        None,
        None,
    ]
    assert items[0]["contact"]["client_uuid"] == new["client_uuid"]
    assert items[0]["errors"] is None
    assert items[1]["contact"]["client_uuid"] == stored["client_uuid"]
    assert "pathway" in items[2]["errors"] and items[2]["contact"] is None
    assert "client_uuid" in items[3]["errors"] and items[3]["contact"] is None
    assert "non_field_errors" in items[4]["errors"]
    assert {"client_uuid", "occurred_at", "pathway"} <= set(items[5]["errors"])
    assert Contact.objects.count() == 3


@pytest.mark.django_db
def test_a_batch_sent_again_after_a_dropped_answer_makes_one_row_per_item(world, officer):
    # given: the phone sent its queue, the answer never arrived
    batch = [contact_body(notes=f"note {n}") for n in range(5)]
    officer.post(URL, batch, format="json")
    # when: it sends the same queue again
    again = officer.post(URL, batch, format="json")
    # then
    assert again.status_code == 200
    assert [item["status"] for item in again.json()] == [200] * 5
    for body in batch:
        assert Contact.objects.filter(client_uuid=body["client_uuid"]).count() == 1
    assert Contact.objects.count() == 5


@pytest.mark.django_db
def test_the_same_client_uuid_twice_in_one_batch(world, officer):
    # given
    body = contact_body()
    # when
    response = officer.post(URL, [body, body, {**body, "place": "other"}], format="json")
    # then
    assert [item["status"] for item in response.json()] == [201, 200, 409]
    assert Contact.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("size", [0, 501])
def test_an_empty_or_oversized_batch_is_400(world, officer, size):
    response = officer.post(URL, [contact_body() for _ in range(size)], format="json")
    assert response.status_code == 400
    assert response.json()["errors"]
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_a_batch_of_500_is_accepted(world, officer):
    response = officer.post(URL, [contact_body() for _ in range(500)], format="json")
    assert response.status_code == 200
    assert Contact.objects.count() == 500


# --- Idempotency-Key -----------------------------------------------------------------------


@pytest.mark.django_db
def test_idempotency_key_replays_a_contact_upload(world, officer):
    # given
    body = contact_body()
    first = officer.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="upload-1")
    # when
    again = officer.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="upload-1")
    # then
    assert first.status_code == again.status_code == 201
    assert again["Idempotency-Replayed"] == "true"
    assert again.json() == first.json()
    assert Contact.objects.count() == 1


@pytest.mark.django_db
def test_idempotency_key_replays_a_batch_and_refuses_a_different_one(world, officer):
    # given
    batch = [contact_body(), contact_body(pathway="arrest")]
    first = officer.post(URL, batch, format="json", HTTP_IDEMPOTENCY_KEY="queue-1")
    # when
    again = officer.post(URL, batch, format="json", HTTP_IDEMPOTENCY_KEY="queue-1")
    other = officer.post(URL, [contact_body()], format="json", HTTP_IDEMPOTENCY_KEY="queue-1")
    # then
    assert again.json() == first.json()
    assert again["Idempotency-Replayed"] == "true"
    assert other.status_code == 422
    assert Contact.objects.count() == 1


# --- reading -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_another_organisations_contact_is_404_and_not_listed(world, officer):
    # given
    theirs = client_of(world.provider).post(URL, contact_body(notes="theirs"), format="json")
    mine = officer.post(URL, contact_body(), format="json")
    # when
    detail = officer.get(f"{URL}{theirs.json()['id']}/")
    missing = officer.get(f"{URL}{uuid.uuid4()}/")
    listed = officer.get(URL)
    # then
    assert detail.status_code == missing.status_code == 404
    assert detail.json() == missing.json()
    assert [c["id"] for c in listed.json()["results"]] == [mine.json()["id"]]


@pytest.mark.django_db
def test_a_colleague_reads_the_notes_and_the_read_is_audited(world, officer):
    # given
    person = person_create_for(world.officer)
    created = officer.post(
        URL, contact_body(person=str(person.pk), notes="Wants detox"), format="json"
    )
    colleague = client_of(world.officer_colleague)
    # when
    response = colleague.get(f"{URL}{created.json()['id']}/")
    # then
    assert response.status_code == 200
    assert response.json()["notes"] == "Wants detox"
    assert response.json()["notes_erased"] is False
    [read] = AuditEvent.objects.filter(
        action=AuditAction.READ, target_id=created.json()["id"], actor_id=world.officer_colleague.pk
    )
    assert read.target_label == "referral.contact"
    assert audit_event_payload(read) == {"fields": ["notes"]}


@pytest.mark.django_db
def test_anonymous_notes_are_readable_and_not_a_read_of_identifying_data(world, officer):
    # given
    created = officer.post(URL, contact_body(notes="Two kits handed out"), format="json")
    # when
    response = officer.get(f"{URL}{created.json()['id']}/")
    # then
    assert response.json()["notes"] == "Two kits handed out"
    contact = Contact.objects.get(pk=created.json()["id"])
    assert contact.notes_key_id not in ("", "person")
    assert not AuditEvent.objects.filter(action=AuditAction.READ).exists()


@pytest.mark.django_db
def test_notes_read_as_erased_after_the_person_is_erased(world, officer):
    # given
    person = person_create_for(world.officer)
    created = officer.post(
        URL, contact_body(person=str(person.pk), notes="Lives under the bridge"), format="json"
    )
    # when
    person_erase(actor=None, person=person)
    response = officer.get(f"{URL}{created.json()['id']}/")
    # then
    assert response.status_code == 200
    assert response.json()["notes"] is None
    assert response.json()["notes_erased"] is True
    assert response.json()["has_notes"] is True


@pytest.mark.django_db
def test_notes_open_only_on_their_own_contact(world):
    # given: a ciphertext copied onto another contact of the same person
    person = person_create_for(world.officer)
    values = {
        "occurred_at": timezone.now(),
        "place": "",
        "pathway": "active_outreach",
        "offered": [],
        "person": person.pk,
    }
    first, _ = contact_record(
        actor=world.officer,
        client_uuid=uuid.uuid4(),
        notes="secret",
        fingerprint="a" * 64,
        **values,
    )
    second, _ = contact_record(
        actor=world.officer, client_uuid=uuid.uuid4(), fingerprint="b" * 64, **values
    )
    Contact.objects.filter(pk=second.pk).update(
        notes_enc=first.notes_enc, notes_key_id=first.notes_key_id
    )
    # when
    notes = contact_notes(
        user=world.officer, contact=contact_get(user=world.officer, contact_id=second.pk)
    )
    # then
    assert notes.text is None


@pytest.mark.django_db
def test_list_filters(world, officer):
    # given
    person = person_create_for(world.officer)
    now = timezone.now()
    old = officer.post(
        URL, contact_body(occurred_at=(now - timedelta(days=3)).isoformat()), format="json"
    ).json()
    recent = officer.post(
        URL,
        contact_body(occurred_at=(now - timedelta(hours=1)).isoformat(), pathway="self_referral"),
        format="json",
    ).json()
    with_person = officer.post(
        URL,
        contact_body(occurred_at=(now - timedelta(days=1)).isoformat(), person=str(person.pk)),
        format="json",
    ).json()

    def ids(**params):
        response = officer.get(URL, params)
        assert response.status_code == 200, response.content
        return [c["id"] for c in response.json()["results"]]

    # then
    assert ids() == [recent["id"], with_person["id"], old["id"]]
    assert ids(since=(now - timedelta(days=2)).isoformat()) == [recent["id"], with_person["id"]]
    assert ids(until=(now - timedelta(days=2)).isoformat()) == [old["id"]]
    assert ids(pathway="self_referral") == [recent["id"]]
    assert ids(person=str(person.pk)) == [with_person["id"]]
    listed = officer.get(URL).json()["results"][0]
    assert "notes" not in listed


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"since": "last week"}, "since"),
        ({"until": "2026-13-01"}, "until"),
        ({"since": "2026-02-02T00:00Z", "until": "2026-02-01T00:00Z"}, "until"),
        ({"pathway": "arrest"}, "pathway"),
        ({"person": "someone"}, "person"),
        ({"organization": "x"}, "organization"),
        ({"page": "0"}, "page"),
    ],
)
def test_bad_list_parameters_are_400_naming_them(world, officer, params, name):
    response = officer.get(URL, params)
    assert response.status_code == 400
    assert name in response.json()["errors"]


@pytest.mark.django_db
def test_the_list_query_count_does_not_grow_with_the_page(world, officer):
    # given
    officer.post(URL, [contact_body() for _ in range(2)], format="json")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert officer.get(URL).status_code == 200
        return len(captured)

    few = queries()
    officer.post(URL, [contact_body(person=None) for _ in range(20)], format="json")
    # then
    assert queries() == few


# --- at rest and under concurrency ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_notes_never_reach_the_sqlite_files_in_plain_text():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite file check")
    # given
    police = OrganizationFactory(name="Police")
    officer = member(organization=police, role=Role.OFFICER)
    person = person_create_for(officer)
    tag = uuid.uuid4().hex[:16]
    control = f"CONTROLPLACE{tag}"
    markers = [f"ZQXPERSONNOTE{tag}", f"ZQXANONNOTE{tag}", f"ZQXBATCHNOTE{tag}"]
    client = client_of(officer)
    # when: single uploads (one with an Idempotency-Key: the replay store), a batch, reads
    one = client.post(
        URL,
        contact_body(place=control, person=str(person.pk), notes=markers[0]),
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    two = client.post(URL, contact_body(notes=markers[1]), format="json")
    client.post(URL, [contact_body(notes=markers[2])], format="json")
    assert client.get(f"{URL}{one.json()['id']}/").json()["notes"] == markers[0]
    assert client.get(f"{URL}{two.json()['id']}/").json()["notes"] == markers[1]
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(FULL)")
    database = Path(connection.settings_dict["NAME"])
    files = [p for p in (database, Path(f"{database}-wal")) if p.exists()]
    contents = [p.read_bytes() for p in files]
    # then: the control proves the scan sees what was committed
    assert any(control.encode() in data for data in contents)
    for marker in markers:
        for path, data in zip(files, contents, strict=True):
            assert marker.encode() not in data, (marker, path)
            assert marker.encode("utf-16-le") not in data, (marker, path)


@pytest.mark.django_db(transaction=True)
def test_concurrent_uploads_of_one_client_uuid_make_one_row(postgres_only):
    # given
    police = OrganizationFactory(name="Police")
    officer = member(organization=police, role=Role.OFFICER)
    values = {
        "client_uuid": uuid.uuid4(),
        "occurred_at": timezone.now() - timedelta(minutes=10),
        "place": "Park",
        "pathway": "active_outreach",
        "offered": ["naloxone"],
        "person": None,
        "notes": "same for everyone",
    }
    fingerprint = contact_fingerprint(**values)
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    results: list[object] = []

    def upload():
        try:
            barrier.wait()
            results.append(contact_record(actor=officer, fingerprint=fingerprint, **values))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results.append(exc)
        finally:
            connections.close_all()

    # when
    threads = [threading.Thread(target=upload) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert all(isinstance(r, tuple) for r in results), results
    assert sorted(created for _, created in results) == [False] * (threads_count - 1) + [True]
    assert len({contact.pk for contact, _ in results}) == 1
    assert Contact.objects.filter(client_uuid=values["client_uuid"]).count() == 1
    assert len(create_events_for(results[0][0].pk)) == 1
