"""The referral pages: inbox and outbox, making an (anonymous) referral, the referral's page
with the moves its reader may make, and who sees what (the API's rules)."""

from __future__ import annotations

import pytest

from referral.models import Referral, ReferralEvent
from referral.services.referrals import referral_create
from referral.web.referrals import NEW_FIELD_IDS
from tests.factories import person_create_for

IDENTITY = {"given_name": "Zebulon", "family_name": "Quarrington", "phone": "+4915799999"}

pytestmark = pytest.mark.django_db


@pytest.fixture
def referral(world):
    person = person_create_for(world.officer, display_name="Z.Q.", **IDENTITY)
    made, _ = referral_create(
        sender=world.officer,
        service=world.treatment,
        pathway="officer_intervention",
        person=person,
        reason="Found at the station, wants methadone",
    )
    return made


def page(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


def test_the_provider_sees_the_referral_in_the_inbox_by_display_name(client, world, referral):
    response = page(client, world.provider, "/referrals/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"/referrals/{referral.pk}/" in html and "Z.Q." in html
    for value in IDENTITY.values():
        assert value not in html
    # the police default to what they sent
    html = page(client, world.officer, "/referrals/").content.decode()
    assert f"/referrals/{referral.pk}/" in html
    assert 'aria-current="page">Sent' in html


@pytest.mark.parametrize("who", ["outsider", "recovery_worker"])
def test_others_neither_list_nor_open_it(client, world, referral, who):
    user = getattr(world, who)
    for direction in ("received", "sent"):
        html = page(client, user, "/referrals/", direction=direction).content.decode()
        assert str(referral.pk) not in html
    assert page(client, user, f"/referrals/{referral.pk}/").status_code == 404
    client.force_login(user)
    response = client.post(f"/referrals/{referral.pk}/transition/", {"to": "accepted"})
    assert response.status_code == 404
    referral.refresh_from_db()
    assert referral.status == "sent"


def test_the_provider_accepts_then_records_engagement(client, world, referral):
    response = page(client, world.provider, f"/referrals/{referral.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Found at the station, wants methadone" in html  # the receiver sees the reason
    assert 'value="accepted"' in html and 'value="declined"' in html
    assert 'value="withdrawn"' not in html  # the sender's move
    # when
    moved = client.post(f"/referrals/{referral.pk}/transition/", {"to": "accepted"})
    # then
    assert moved.status_code == 302 and moved["Location"] == f"/referrals/{referral.pk}/"
    referral.refresh_from_db()
    assert referral.status == "accepted"
    client.post(f"/referrals/{referral.pk}/transition/", {"to": "engaged"})
    referral.refresh_from_db()
    assert referral.status == "engaged"
    steps = list(
        ReferralEvent.objects.filter(referral=referral).values_list("to_status", flat=True)
    )
    assert steps == ["sent", "accepted", "engaged"]
    # an illegal move is said and changes nothing
    again = client.post(f"/referrals/{referral.pk}/transition/", {"to": "accepted"})
    assert again.status_code == 409
    assert "cannot become accepted" in again.content.decode()
    referral.refresh_from_db()
    assert referral.status == "engaged"


def test_declining_needs_a_coded_reason_chosen_from_the_labels(client, world, referral):
    client.force_login(world.provider)
    page = client.get(f"/referrals/{referral.pk}/").content.decode()
    assert '<select class="govuk-select" id="m-declined-code" name="reason_code" required>' in page
    assert '<option value="no_capacity">No capacity</option>' in page
    response = client.post(
        f"/referrals/{referral.pk}/transition/", {"to": "declined", "reason": "No beds"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "A coded reason is required. For declined, one of:" in page
    assert "reason_code:" not in page  # the page's words, not the API's field names
    referral.refresh_from_db()
    assert referral.status == "sent"
    client.post(
        f"/referrals/{referral.pk}/transition/",
        {"to": "declined", "reason_code": "no_capacity", "reason": "No beds"},
    )
    referral.refresh_from_db()
    assert (referral.status, referral.status_reason_code) == ("declined", "no_capacity")
    shown = client.get(f"/referrals/{referral.pk}/").content.decode()
    assert "No capacity" in shown and "No beds" in shown


def test_forwarding_makes_the_child_referral(client, world, referral):
    client.force_login(world.provider)
    client.post(f"/referrals/{referral.pk}/transition/", {"to": "accepted"})
    html = client.get(f"/referrals/{referral.pk}/").content.decode()
    assert "Recovery group" in html  # offered as the next service
    assert "Full house" not in html  # not accepting referrals
    client.post(
        f"/referrals/{referral.pk}/transition/",
        {"to": "forwarded", "to_service": str(world.recovery.pk), "reason": "Detox done"},
    )
    child = Referral.objects.get(parent=referral)
    assert child.to_service == world.recovery and child.status == "sent"
    # forwarding without a service is said and changes nothing
    other, _ = referral_create(
        sender=world.officer, service=world.treatment, pathway="self_referral"
    )
    client.post(f"/referrals/{other.pk}/transition/", {"to": "accepted"})
    response = client.post(f"/referrals/{other.pk}/transition/", {"to": "forwarded"})
    assert response.status_code == 400
    assert "Choose the service to forward to." in response.content.decode()
    other.refresh_from_db()
    assert other.status == "accepted"


def test_the_sender_sees_the_status_and_may_withdraw(client, world, referral):
    html = page(client, world.officer, f"/referrals/{referral.pk}/").content.decode()
    assert "Sent" in html and 'value="withdrawn"' in html and 'value="accepted"' not in html


def test_a_coordinator_sees_status_but_not_the_reason_and_cannot_move_it(client, world, referral):
    response = page(client, world.coordinator, f"/referrals/{referral.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Found at the station" not in html
    assert '<form method="post" action="/referrals/' not in html


def test_making_an_anonymous_referral_once_however_often_it_is_posted(client, world):
    client.force_login(world.officer)
    form = client.get("/referrals/new/")
    assert form.status_code == 200
    html = form.content.decode()
    assert "Treatment (Clinic)" in html and "Full house" not in html
    body = {
        "client_uuid": str(form.context["client_uuid"]),
        "to_service": str(world.treatment.pk),
        "pathway": "officer_prevention",
        "urgency": "urgent",
        "reason": "Asked for help",
    }
    first = client.post("/referrals/new/", body)
    assert first.status_code == 302
    made = Referral.objects.get()
    assert first["Location"] == f"/referrals/{made.pk}/"
    assert made.person is None and made.urgency == "urgent" and made.sender == world.officer
    again = client.post("/referrals/new/", body, follow=True)
    assert "That referral was sent already." in again.content.decode()
    assert Referral.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"to_service": "nope"}, "to_service"),
        ({"pathway": "arrest"}, "pathway"),
        ({"urgency": "whenever"}, "urgency"),
        ({"client_uuid": ""}, "client_uuid"),
    ],
)
def test_a_bad_referral_form_is_400_naming_the_field(client, world, fields, field):
    client.force_login(world.officer)
    body = {
        "client_uuid": "6f0c1b9e-3f59-4a9e-9a33-1c8d4f1e2a10",
        "to_service": str(world.treatment.pk),
        "pathway": "officer_prevention",
        **fields,
    }
    response = client.post("/referrals/new/", body)
    assert response.status_code == 400
    assert field in response.context["field_errors"]
    # GOV.UK's error summary links to the field with the problem
    assert f'href="#{NEW_FIELD_IDS[field]}"' in response.content.decode()
    assert not Referral.objects.exists()


def test_a_service_outside_the_task_force_cannot_be_chosen(client, world):
    from tests.factories import OrganizationFactory, ServiceFactory

    elsewhere = ServiceFactory(organization=OrganizationFactory(name="Far away"))
    client.force_login(world.officer)
    assert "Far away" not in client.get("/referrals/new/").content.decode()
    response = client.post(
        "/referrals/new/",
        {
            "client_uuid": "6f0c1b9e-3f59-4a9e-9a33-1c8d4f1e2a11",
            "to_service": str(elsewhere.pk),
            "pathway": "self_referral",
        },
    )
    assert response.status_code == 400
    assert not Referral.objects.exists()


def test_an_unclassified_service_is_not_offered_and_cannot_be_chosen(client, world):
    from tests.factories import ServiceFactory

    # given a service of the task force imported without a stage
    unclassified = ServiceFactory(organization=world.clinic, name="Imported drop-in", stage="")
    client.force_login(world.officer)

    # when / then it is not offered, and a form naming it is refused
    assert "Imported drop-in" not in client.get("/referrals/new/").content.decode()
    response = client.post(
        "/referrals/new/",
        {
            "client_uuid": "6f0c1b9e-3f59-4a9e-9a33-1c8d4f1e2a12",
            "to_service": str(unclassified.pk),
            "pathway": "self_referral",
        },
    )
    assert response.status_code == 400
    assert not Referral.objects.exists()


def test_bad_list_parameters_are_404_and_anonymous_users_sign_in(client, world):
    assert client.get("/referrals/").status_code == 302
    client.force_login(world.provider)
    assert client.get("/referrals/", {"status": "lost"}).status_code == 404
    assert client.get("/referrals/", {"page": "99"}).status_code == 404
