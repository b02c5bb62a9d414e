"""``Cache-Control: no-store, private`` on every API answer and every signed-in page."""

from __future__ import annotations

import pytest

from tests.factories import person_create_for, referral_sent

pytestmark = pytest.mark.django_db


def directives(response) -> set[str]:
    return {part.strip() for part in response["Cache-Control"].split(",")}


def test_api_answers_are_not_stored(world, client_for, api_client):
    person = person_create_for(world.officer, display_name="Kite", given_name="Jan")
    referral = referral_sent(person, sender=world.officer, service=world.treatment)
    officer = client_for(world.officer)

    answers = [
        officer.get(f"/api/v1/people/{person.pk}/"),
        officer.get("/api/v1/people/"),
        officer.get(f"/api/v1/referrals/{referral.pk}/"),
        officer.get(f"/api/v1/referrals/{referral.pk}/fhir/"),
        officer.post("/api/v1/people/", {"display_name": "Owl"}, format="json"),
        officer.get("/api/v1/people/00000000-0000-0000-0000-000000000000/"),
        api_client.get("/api/v1/people/"),
    ]

    assert [a.status_code for a in answers] == [200, 200, 200, 200, 201, 404, 401]
    for answer in answers:
        assert directives(answer) >= {"no-store", "private"}, answer.wsgi_request.path


def test_signed_in_pages_are_not_stored(world, client):
    referral = referral_sent(None, sender=world.officer, service=world.treatment)
    client.force_login(world.officer)

    pages = [client.get("/referrals/"), client.get(f"/referrals/{referral.pk}/")]

    for page in pages:
        assert page.status_code == 200
        assert directives(page) >= {"no-store", "private"}
    client.force_login(world.coordinator)
    board = client.get("/board/")
    assert board.status_code == 200 and directives(board) >= {"no-store", "private"}
    # what a view set itself is kept (the contact page is never_cache)
    client.force_login(world.officer)
    contact_page = client.get("/contacts/new/")
    assert directives(contact_page) >= {"no-store", "private", "no-cache", "max-age=0"}
