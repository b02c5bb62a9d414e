"""Coded reasons and private notes: every party sees status, time and reason_code; the
receiver's free text is read by the receiving organisation only, the sender's by both ends,
a coordinator's view carries no free text, on every path (API, events, FHIR, web page)."""

from __future__ import annotations

import pytest

from referral.reasons import REASON_CODES
from tests.factories import person_create_for

pytestmark = pytest.mark.django_db

SENDER_REASON = "SNDRREASONzq"
SENDER_NOTE = "SNDRWITHDRAWzq"
RECEIVER_NOTES = ("RCVACCEPTzq", "RCVENGAGEzq", "RCVDISENGAGEzq")
SENDER_TEXTS = (SENDER_REASON, SENDER_NOTE)


@pytest.fixture
def referrals(world, client_for):
    """One referral the clinic worked to disengaged with notes on every step; one the police
    withdrew with a note."""
    person = person_create_for(world.officer, display_name="Kite")
    officer, provider = client_for(world.officer), client_for(world.provider)

    def refer():
        response = officer.post(
            "/api/v1/referrals/",
            {
                "to_service": str(world.treatment.pk),
                "pathway": "officer_intervention",
                "person": str(person.pk),
                "reason": SENDER_REASON,
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
        return response.json()["id"]

    def move(client, rid, **body):
        response = client.post(f"/api/v1/referrals/{rid}/transition/", body, format="json")
        assert response.status_code == 200, response.json()
        return response.json()

    worked = refer()
    move(provider, worked, to="accepted", reason=RECEIVER_NOTES[0])
    move(provider, worked, to="engaged", reason=RECEIVER_NOTES[1])
    move(provider, worked, to="disengaged", reason_code="moved_away", reason=RECEIVER_NOTES[2])
    withdrawn = refer()
    move(officer, withdrawn, to="withdrawn", reason_code="client_declined", reason=SENDER_NOTE)
    return {"worked": worked, "withdrawn": withdrawn}


# reader -> (free texts they read, free texts they must not read)
READS = {
    "officer": (SENDER_TEXTS, RECEIVER_NOTES),
    "provider": (SENDER_TEXTS + RECEIVER_NOTES, ()),
    "coordinator": ((), SENDER_TEXTS + RECEIVER_NOTES),
}


def bodies(client, world, referrals) -> str:
    texts = []
    for rid in referrals.values():
        for suffix in ("", "events/", "fhir/"):
            response = client.get(f"/api/v1/referrals/{rid}/{suffix}")
            assert response.status_code == 200
            texts.append(response.content.decode())
    texts.append(client.get("/api/v1/referrals/").content.decode())
    return "\n".join(texts)


@pytest.mark.parametrize("reader", sorted(READS))
def test_free_text_follows_the_table_on_every_api_path(world, referrals, client_for, reader):
    seen, hidden = READS[reader]

    text = bodies(client_for(getattr(world, reader)), world, referrals)

    for value in seen:
        assert value in text, (reader, value)
    for value in hidden:
        assert value not in text, (reader, value)


@pytest.mark.parametrize("reader", sorted(READS))
def test_every_party_sees_status_time_and_reason_code(world, referrals, client_for, reader):
    client = client_for(getattr(world, reader))

    events = client.get(f"/api/v1/referrals/{referrals['worked']}/events/").json()
    detail = client.get(f"/api/v1/referrals/{referrals['withdrawn']}/").json()
    fhir = client.get(f"/api/v1/referrals/{referrals['worked']}/fhir/").json()

    last = events[-1]
    assert (last["to_status"], last["reason_code"], last["reason_label"]) == (
        "disengaged",
        "moved_away",
        "Moved away",
    )
    assert last["created_at"]
    assert last["reason"] == (RECEIVER_NOTES[2] if reader == "provider" else None)
    assert detail["status"] == "withdrawn"
    assert detail["status_reason"] == {"code": "client_declined", "label": "The person declined"}
    task = fhir["entry"][1]["resource"]
    assert task["statusReason"]["coding"][0]["code"] == "moved_away"
    assert task["statusReason"]["text"] == "Moved away"


@pytest.mark.parametrize("reader", sorted(READS))
def test_the_referral_page_follows_the_table(world, referrals, client, reader):
    seen, hidden = READS[reader]
    client.force_login(getattr(world, reader))

    pages = "\n".join(
        client.get(f"/referrals/{rid}/").content.decode() for rid in referrals.values()
    )

    assert "Moved away" in pages and "The person declined" in pages
    for value in seen:
        assert value in pages, (reader, value)
    for value in hidden:
        assert value not in pages, (reader, value)


def test_reason_codes_are_published_with_labels(client_for, world):
    response = client_for(world.officer).get("/api/v1/reason-codes/")

    assert response.status_code == 200
    body = response.json()
    declined = body["transitions"]["declined"]
    assert declined["required"] is True
    assert {"code": "no_capacity", "label": "No capacity"} in declined["codes"]
    assert [c["code"] for c in declined["codes"]] == list(REASON_CODES["declined"])
    assert [c["code"] for c in body["transitions"]["withdrawn"]["codes"]] == [
        "client_declined",
        "referred_elsewhere",
        "entered_in_error",
        "other",
    ]
    assert body["transitions"]["expired"]["set_by_system"] is True
    assert [o["code"] for o in body["outcomes"]] == ["successful", "not_successful"]


def test_completion_takes_an_outcome_and_a_code_only_when_not_successful(world, client_for):
    from tests.factories import referral_sent

    provider = client_for(world.provider)

    def engaged():
        referral = referral_sent(None, sender=world.officer, service=world.treatment)
        for to in ("accepted", "engaged"):
            provider.post(f"/api/v1/referrals/{referral.pk}/transition/", {"to": to})
        return f"/api/v1/referrals/{referral.pk}/transition/"

    url = engaged()
    missing = provider.post(url, {"to": "completed"}, format="json")
    coded_success = provider.post(
        url, {"to": "completed", "outcome": "successful", "reason_code": "other"}, format="json"
    )
    uncoded_failure = provider.post(
        url, {"to": "completed", "outcome": "not_successful"}, format="json"
    )
    failure = provider.post(
        url,
        {"to": "completed", "outcome": "not_successful", "reason_code": "lack_of_capacity"},
        format="json",
    )
    success = provider.post(engaged(), {"to": "completed", "outcome": "successful"}, format="json")

    assert missing.status_code == 400 and "outcome" in missing.json()["errors"]
    assert coded_success.status_code == 400 and "reason_code" in coded_success.json()["errors"]
    assert uncoded_failure.status_code == 400
    assert "reason_code" in uncoded_failure.json()["errors"]
    assert failure.status_code == 200
    assert failure.json()["outcome"] == "not_successful"
    assert failure.json()["status_reason"] == {
        "code": "lack_of_capacity",
        "label": "Lack of capacity",
    }
    assert success.status_code == 200 and success.json()["status_reason"] is None


def test_expiry_is_coded_by_the_system(world, client_for):
    from referral.services.referrals import referral_transition
    from tests.factories import referral_sent

    referral = referral_sent(None, sender=world.officer, service=world.treatment)
    referral_transition(referral=referral, actor=None, to="expired")

    events = client_for(world.coordinator).get(f"/api/v1/referrals/{referral.pk}/events/").json()
    assert events[-1]["reason_code"] == "no_answer_within_sla"
