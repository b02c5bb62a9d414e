"""The volunteer's contact page without scripts (the form posts to the page) and its service
worker. The offline queue in a real browser is in ``test_contact_page_browser.py``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import time_machine

from referral.models import Contact
from referral.web.contacts import FIELD_IDS

PAGE = "/contacts/new/"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def form(**fields):
    return {
        "client_uuid": str(uuid.uuid4()),
        "occurred_at": "2026-11-23T12:30",  # Berlin, the task force's zone: 11:30 UTC
        "pathway": "naloxone_plus",
        "place": "Central station",
        "offered": ["naloxone", "information"],
        "notes": "",
        **fields,
    }


def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_the_page_is_a_form_with_a_fresh_id_and_no_records(client, world):
    client.force_login(world.officer)
    first, second = client.get(PAGE), client.get(PAGE)
    assert first.status_code == 200
    html = first.content.decode()
    assert 'name="client_uuid"' in html and 'src="/static/contacts.js"' in html
    assert first.context["client_uuid"] != second.context["client_uuid"]
    assert first["Cache-Control"].startswith("max-age=0")


def test_a_posted_form_records_the_contact_in_the_task_forces_time_zone(client, world):
    client.force_login(world.officer)
    body = form()
    with time_machine.travel(NOW, tick=False):
        response = client.post(PAGE, body)
    assert response.status_code == 302 and response["Location"] == PAGE
    contact = Contact.objects.get()
    assert str(contact.client_uuid) == body["client_uuid"]
    assert contact.occurred_at == datetime(2026, 11, 23, 11, 30, tzinfo=UTC)
    assert contact.organization == world.police
    assert sorted(contact.offered) == ["information", "naloxone"]
    assert contact.place == "Central station"


def test_a_resubmitted_form_records_nothing_twice(client, world):
    client.force_login(world.officer)
    body = form()
    with time_machine.travel(NOW, tick=False):
        client.post(PAGE, body)
        again = client.post(PAGE, body, follow=True)
    assert again.status_code == 200
    assert "That contact was saved already." in again.content.decode()
    assert Contact.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"pathway": "arrest"}, "pathway"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": "2026-11-23T14:30"}, "occurred_at"),  # an hour ahead
        ({"offered": ["cash"]}, "offered"),
        ({"client_uuid": "phone-1"}, "client_uuid"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_records_nothing(client, world, fields, field):
    client.force_login(world.officer)
    with time_machine.travel(NOW, tick=False):
        response = client.post(PAGE, form(**fields))
    assert response.status_code == 400
    page = response.content.decode()
    assert 'class="govuk-error-summary"' in page
    if field in FIELD_IDS:  # the summary links to the field that has the problem
        assert f'href="#{FIELD_IDS[field]}"' in page
    assert field in response.context["field_errors"]
    assert not Contact.objects.exists()


def test_the_same_id_with_another_body_is_a_conflict(client, world):
    client.force_login(world.officer)
    body = form()
    with time_machine.travel(NOW, tick=False):
        client.post(PAGE, body)
        response = client.post(PAGE, {**body, "place": "Harbour"})
    assert response.status_code == 409
    assert Contact.objects.get().place == "Central station"
    # the form comes back as a new contact, with an id of its own
    offered = response.context["client_uuid"]
    assert str(offered) != body["client_uuid"]
    assert f'value="{offered}"' in response.content.decode()
    with time_machine.travel(NOW, tick=False):
        assert (
            client.post(PAGE, {**body, "place": "Harbour", "client_uuid": offered}).status_code
            == 302
        )
    assert sorted(Contact.objects.values_list("place", flat=True)) == ["Central station", "Harbour"]


def test_the_service_worker_is_served_from_the_pages_scope(client, db):
    response = client.get("/contacts/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "no-cache"
    script = response.content.decode()
    assert '"/contacts/new/"' in script and '"/static/contacts.js"' in script
    assert "{%" not in script


def test_the_app_worker_keeps_the_street_pages_and_no_page_of_a_person(client, db):
    response = client.get("/sw.js")
    assert response.status_code == 200 and response["Cache-Control"] == "no-cache"
    script = response.content.decode()
    for page in ('"/contacts/new/"', '"/referrals/new/"', '"/directory/"'):
        assert page in script
    assert "/people/" not in script and "{%" not in script
    assert client.get("/contacts/sw.js").content == response.content
