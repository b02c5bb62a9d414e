"""DESIGN.md, "Who may see what", walked end to end: every demo user against every endpoint.

A realistic morning in Demo City is made through the API with the demo accounts, then each
of the nine users reads every list and every object. The expectations are written out as a
table, so a change in visibility shows up as a named cell.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from services_directory.models import Service

pytestmark = pytest.mark.django_db

USERS = (
    "officer",
    "officer2",
    "volunteer",
    "outreach",
    "provider",
    "provider2",
    "harmreduction",
    "coordinator",
    "orgadmin",
)
PASSWORD = "matrix-demo-pass-1"


def login(username: str) -> APIClient:
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": username, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


def ok(response, status=(200, 201)):
    assert response.status_code in ((status,) if isinstance(status, int) else status), (
        response.status_code,
        response.content[:500],
    )
    return response.json()


@pytest.fixture
def morning(settings):
    """What happened: two street contacts, two people, a consent and three referrals (the
    directory and users of the demo, without its months of activity)."""
    settings.CONTINUUM_DEMO_SEEDERS = []
    call_command("seed_demo", password=PASSWORD, stdout=None)
    clients = {name: login(name) for name in USERS}
    oat = Service.objects.get(name="Opioid agonist treatment")
    counselling = Service.objects.get(name="Outpatient counselling")
    now = timezone.now()

    volunteer, officer = clients["volunteer"], clients["officer"]
    # the Red Cross volunteer meets someone who gives their name and agrees to share it
    p1 = ok(
        volunteer.post(
            "/api/v1/people/",
            {
                "display_name": "Blue Scarf",
                "given_name": "Amira",
                "family_name": "Haddad",
                "birth_date": "1991-03-14",
                "phone": "+351 910 000 111",
            },
            format="json",
        )
    )["id"]
    ok(
        volunteer.post(
            f"/api/v1/people/{p1}/consents/",
            {
                "recipients": [str(oat.organization_id)],
                "stages": [],
                "information": "Name, date of birth, phone",
                "purpose": "Referral to opioid treatment",
                "method": "verbal_witnessed",
                "expires_at": (now + timedelta(days=90)).isoformat(),
                "expires_on_event": None,
            },
            format="json",
        )
    )
    contact = ok(
        volunteer.post(
            "/api/v1/contacts/",
            {
                "client_uuid": str(uuid.uuid4()),
                "occurred_at": (now - timedelta(minutes=30)).isoformat(),
                "place": "Cais do Sodré",
                "pathway": "active_outreach",
                "offered": ["naloxone", "referral"],
                "person": p1,
                "notes": "Asked about methadone",
            },
            format="json",
        )
    )["id"]
    ok(
        clients["outreach"].post(
            "/api/v1/contacts/",
            {
                "client_uuid": str(uuid.uuid4()),
                "occurred_at": (now - timedelta(minutes=20)).isoformat(),
                "place": "Praça do Comércio",
                "pathway": "active_outreach",
                "offered": ["food"],
            },
            format="json",
        )
    )
    r_consented = ok(
        volunteer.post(
            "/api/v1/referrals/",
            {
                "to_service": str(oat.pk),
                "pathway": "active_outreach",
                "person": p1,
                "contact": contact,
                "reason": "Wants to start treatment",
                "if_no_consent": "refuse",
            },
            format="json",
        )
    )["id"]
    # a police officer deflects someone instead of an arrest; no consent to share the name
    p2 = ok(
        officer.post(
            "/api/v1/people/",
            {"display_name": "Tall Red", "given_name": "Rui", "family_name": "Moreira"},
            format="json",
        )
    )["id"]
    r_police = ok(
        officer.post(
            "/api/v1/referrals/",
            {
                "to_service": str(oat.pk),
                "pathway": "officer_intervention",
                "person": p2,
                "reason": "Possession, deflected",
            },
            format="json",
        )
    )["id"]
    # the harbour unit sends an anonymous referral to the other clinic
    r_anonymous = ok(
        clients["officer2"].post(
            "/api/v1/referrals/",
            {"to_service": str(counselling.pk), "pathway": "officer_prevention"},
            format="json",
        )
    )["id"]
    # the clinic accepts the volunteer's referral and writes an engagement note
    provider = clients["provider"]
    ok(
        provider.post(
            f"/api/v1/referrals/{r_consented}/transition/",
            {"to": "accepted", "reason": "Receiver note: methadone 30mg"},
            format="json",
        )
    )
    ok(
        provider.post(
            f"/api/v1/referrals/{r_consented}/notes/",
            {"text": "Induction booked for Thursday"},
            format="json",
        )
    )
    # the harbour unit withdraws its anonymous referral, with a coded reason and a note
    ok(
        clients["officer2"].post(
            f"/api/v1/referrals/{r_anonymous}/transition/",
            {
                "to": "withdrawn",
                "reason_code": "entered_in_error",
                "reason": "Sender note: wrong service",
            },
            format="json",
        )
    )
    return {
        "clients": clients,
        "p1": p1,
        "p2": p2,
        "contact": contact,
        "r_consented": r_consented,
        "r_police": r_police,
        "r_anonymous": r_anonymous,
    }


# Who may read each referral (status and dates); everybody else gets 404.
REFERRAL_READERS = {
    "r_consented": {"volunteer", "provider", "orgadmin", "coordinator"},
    "r_police": {"officer", "provider", "orgadmin", "coordinator"},
    "r_anonymous": {"officer2", "provider2", "coordinator"},
}
# Who may read notes (the receiving organisation only).
NOTE_READERS = {
    "r_consented": {"provider", "orgadmin"},
    "r_police": {"provider", "orgadmin"},
    "r_anonymous": {"provider2"},
}
# Who may read each person at all, and who sees their identifying fields.
PERSON_READERS = {
    "p1": {"volunteer", "provider", "orgadmin", "coordinator"},
    "p2": {"officer", "provider", "orgadmin", "coordinator"},
}
IDENTITY_READERS = {
    "p1": {"volunteer", "provider", "orgadmin"},  # the recorder, and the clinic under consent
    "p2": {"officer"},  # no consent: only the police unit that recorded the person
}
# Free text, wherever it appears (referral, events, FHIR, notes, the list): who reads it.
# The sender's reason and a sender's note: both ends; the receiver's notes: the receiving
# organisation; coordinators never.
FREE_TEXT_READERS = {
    "Wants to start treatment": {"volunteer", "provider", "orgadmin"},
    "Possession, deflected": {"officer", "provider", "orgadmin"},
    "Receiver note: methadone 30mg": {"provider", "orgadmin"},
    "Induction booked for Thursday": {"provider", "orgadmin"},
    "Sender note: wrong service": {"officer2", "provider2"},
}
# Coded reasons: everyone who may read the referral.
CODED_READERS = {("r_anonymous", "entered_in_error"): REFERRAL_READERS["r_anonymous"]}
# Contacts: the recording organisation only.
CONTACT_READERS = {"contact": {"volunteer"}}


def missing_looks_the_same(client, path: str, response) -> None:
    fake = path
    for key in ("/referrals/", "/people/", "/contacts/"):
        if key in path:
            prefix, rest = path.split(key, 1)
            fake = prefix + key + str(uuid.uuid4()) + rest[36:]
    twin = client.get(fake)
    assert twin.status_code == 404
    assert twin.json() == response.json()


@pytest.mark.parametrize("username", USERS)
def test_every_demo_user_sees_exactly_their_share(morning, username):
    client = morning["clients"][username]

    for key, readers in REFERRAL_READERS.items():
        rid = morning[key]
        for suffix in ("", "events/", "fhir/"):
            path = f"/api/v1/referrals/{rid}/{suffix}"
            response = client.get(path)
            if username in readers:
                assert response.status_code == 200, (username, path)
            else:
                assert response.status_code == 404, (username, path)
                missing_looks_the_same(client, path, response)
        notes = client.get(f"/api/v1/referrals/{rid}/notes/")
        assert notes.status_code == (200 if username in NOTE_READERS[key] else 404), (username, key)
        if username in readers:
            body = client.get(f"/api/v1/referrals/{rid}/").json()
            # the reason is for the two ends; coordinators see statuses and pseudonyms
            if username == "coordinator":
                assert body["reason"] is None
            # no referral representation ever carries identifying fields
            assert not {"given_name", "family_name", "birth_date", "phone"} & set(
                str(body.get("person") or {}).split("'")
            )

    texts = [client.get("/api/v1/referrals/").content.decode()]
    for key in REFERRAL_READERS:
        for suffix in ("", "events/", "fhir/", "notes/"):
            texts.append(client.get(f"/api/v1/referrals/{morning[key]}/{suffix}").content.decode())
    seen = "\n".join(texts)
    for text, readers in FREE_TEXT_READERS.items():
        assert (text in seen) == (username in readers), (username, text)
    for (key, code), readers in CODED_READERS.items():
        response = client.get(f"/api/v1/referrals/{morning[key]}/events/")
        if username in readers:
            assert response.json()[-1]["reason_code"] == code, username
        else:
            assert response.status_code == 404

    visible_referrals = {r["id"] for r in ok(client.get("/api/v1/referrals/"))["results"]}
    expected = {morning[k] for k, readers in REFERRAL_READERS.items() if username in readers}
    # a forward would add children; this morning has none
    assert visible_referrals == expected, username

    for key, readers in PERSON_READERS.items():
        pid = morning[key]
        path = f"/api/v1/people/{pid}/"
        response = client.get(path)
        if username not in readers:
            assert response.status_code == 404, (username, key)
            missing_looks_the_same(client, path, response)
            continue
        body = response.json()
        if username in IDENTITY_READERS[key]:
            assert body["identity"] is not None, (username, key)
            assert body["identity"]["given_name"] in {"Amira", "Rui"}
        else:
            assert body["identity"] is None, (username, key)
            assert "Amira" not in response.content.decode()
            assert "Haddad" not in response.content.decode()
            assert "Moreira" not in response.content.decode()
    listed_people = {p["id"] for p in ok(client.get("/api/v1/people/"))["results"]}
    assert listed_people == {
        morning[k] for k, readers in PERSON_READERS.items() if username in readers
    }, username

    contact_path = f"/api/v1/contacts/{morning['contact']}/"
    response = client.get(contact_path)
    if username in CONTACT_READERS["contact"]:
        assert response.json()["notes"] == "Asked about methadone"
    else:
        assert response.status_code == 404, username
        missing_looks_the_same(client, contact_path, response)
    listed_contacts = ok(client.get("/api/v1/contacts/"))["results"]
    assert all("notes" not in c for c in listed_contacts)
    own = {"volunteer": 1, "outreach": 1}.get(username, 0)
    assert len(listed_contacts) == own, username


def test_police_learn_the_outcome_as_status_only(morning):
    officer = morning["clients"]["officer"]
    provider = morning["clients"]["provider"]
    rid = morning["r_police"]
    ok(provider.post(f"/api/v1/referrals/{rid}/transition/", {"to": "accepted"}, format="json"))
    body = ok(officer.get(f"/api/v1/referrals/{rid}/"))
    assert body["status"] == "accepted"
    assert officer.get(f"/api/v1/referrals/{rid}/notes/").status_code == 404
    fhir = ok(officer.get(f"/api/v1/referrals/{rid}/fhir/"))
    assert fhir["entry"][1]["resource"]["status"] == "accepted"
    assert "Induction" not in str(fhir)


def test_a_second_task_force_sharing_the_clinic_sees_nothing_of_the_first(morning):
    """Task force two has the opioid clinic's organisation, its own police unit and office.
    Its hand-off to the clinic is seen by the clinic and by task force two's coordinator
    only; task force two's coordinator sees nothing of Demo City's morning."""
    from services_directory import services
    from services_directory.models import OrganizationKind, Role, TaskForce

    oat = Service.objects.get(name="Opioid agonist treatment")
    river_police = services.organization_create(
        name="River police", kind=OrganizationKind.POLICE, description="River police."
    )
    river_office = services.organization_create(
        name="River office", kind=OrganizationKind.MUNICIPALITY, description="Office."
    )
    services.task_force_create(
        name="River Town",
        area="River Town",
        time_zone="Europe/Lisbon",
        organizations=[river_police, river_office, oat.organization],
    )
    assert TaskForce.objects.count() == 2
    for username, organization, role in (
        ("river-officer", river_police, Role.OFFICER),
        ("river-coordinator", river_office, Role.COORDINATOR),
    ):
        user = get_user_model().objects.create_user(username=username, password=PASSWORD)
        services.membership_set(user=user, organization=organization, role=role)
    river_officer, river_coordinator = login("river-officer"), login("river-coordinator")
    r_river = ok(
        river_officer.post(
            "/api/v1/referrals/",
            {"to_service": str(oat.pk), "pathway": "officer_prevention", "reason": "River text"},
            format="json",
        )
    )["id"]
    clients = {
        **morning["clients"],
        "river-officer": river_officer,
        "river-coord": river_coordinator,
    }
    readers = {
        "r_river": {"river-officer", "provider", "orgadmin", "river-coord"},
        **{key: REFERRAL_READERS[key] for key in ("r_consented", "r_police", "r_anonymous")},
    }
    referrals = {**{k: morning[k] for k in REFERRAL_READERS}, "r_river": r_river}
    for username, client in clients.items():
        listed = {r["id"] for r in ok(client.get("/api/v1/referrals/"))["results"]}
        assert listed == {referrals[k] for k, who in readers.items() if username in who}, username
        for key, rid in referrals.items():
            status = client.get(f"/api/v1/referrals/{rid}/").status_code
            assert status == (200 if username in readers[key] else 404), (username, key)
    # the river coordinator: no Demo City person, no free text, no Demo City board
    assert ok(river_coordinator.get("/api/v1/people/"))["results"] == []
    for key in ("p1", "p2"):
        assert river_coordinator.get(f"/api/v1/people/{morning[key]}/").status_code == 404
    assert ok(river_coordinator.get(f"/api/v1/referrals/{r_river}/"))["reason"] is None
    demo_city = TaskForce.objects.get(name="Demo City")
    assert river_coordinator.get("/api/v1/board/", {"task_force": demo_city.pk}).status_code == 404
