"""Issue 12: every input that used to answer 500 (or be taken loosely) answers 4xx naming the
field and changes nothing. One test per case the issue lists."""

from __future__ import annotations

import json
import sys
import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from django.views.debug import get_default_exception_reporter_filter, technical_500_response

from audit.models import AuditEvent
from coordination.models import BoardItemState, CaseConference
from core.models import IdempotencyRecord
from referral.models import Contact, Person, Referral, ReferralEvent
from referral.services.referrals import referral_create
from tests.factories import member, person_create_for

pytestmark = pytest.mark.django_db

NOW_ISO = "2026-01-01T10:00:00Z"


def _contact_body(**fields):
    from django.utils import timezone

    return {
        "client_uuid": str(uuid.uuid4()),
        "occurred_at": timezone.now().isoformat(),
        "pathway": "active_outreach",
        **fields,
    }


def paginated_lists(world) -> list[tuple[object, str]]:
    """Every paginated list of the API, with a user who may read it."""
    person = person_create_for(world.officer)
    admin = member(organization=world.clinic, role="org_admin", username="admin-t")
    return [
        (world.officer, "/api/v1/people/"),
        (world.officer, f"/api/v1/people/{person.pk}/consents/"),
        (world.officer, "/api/v1/contacts/"),
        (world.officer, "/api/v1/referrals/"),
        (world.officer, "/api/v1/notifications/"),
        (world.officer, "/api/v1/organizations/"),
        (world.officer, "/api/v1/services/"),
        (world.officer, "/api/v1/locations/"),
        (world.coordinator, f"/api/v1/conferences/?task_force={world.task_force.pk}"),
        (admin, "/api/v1/audit/events/"),
    ]


@pytest.mark.parametrize("page", ["%C2%B2", "%D9%A3", "0", "1%0A"])
def test_a_non_ascii_digit_as_a_page_number_is_a_400_on_every_list(client_for, world, page):
    for user, url in paginated_lists(world):
        # when
        sep = "&" if "?" in url else "?"
        response = client_for(user).get(f"{url}{sep}page={page}")
        # then
        assert response.status_code == 400, url
        assert response.json()["code"] == "invalid"
        assert "page" in response.json()["errors"], url


def test_a_non_ascii_digit_as_the_audit_actor_is_a_400(client_for, world):
    admin = member(organization=world.clinic, role="org_admin", username="admin-t")
    for actor in ("%C2%B2", "%D9%A3", "99999999999999999999999", "%00"):
        response = client_for(admin).get(f"/api/v1/audit/events/?actor={actor}")
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["actor"]


def test_a_nul_json_key_with_an_idempotency_key_is_a_400_and_frees_the_key(client_for, world):
    # given
    client = client_for(world.officer)
    headers = {"HTTP_IDEMPOTENCY_KEY": "upload-1"}
    # when
    response = client.post(
        "/api/v1/contacts/", data='{"a\\u0000": 1}', content_type="application/json", **headers
    )
    # then: refused naming the key, nothing stored, the key is not "in progress"
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_characters"
    assert list(response.json()["errors"]) == ["a\\u0000"]
    assert not Contact.objects.exists()
    assert not IdempotencyRecord.objects.filter(state="in_progress").exists()
    retry = client.post("/api/v1/contacts/", _contact_body(), format="json", **headers)
    assert retry.status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        '{"place": "a\\u0000b"}',
        '{"notes": "bell\\u0007"}',
        '{"place": "\\ud800"}',
        '[{"offered": ["\\u0000"]}]',
    ],
)
def test_nul_and_control_characters_in_any_json_string_are_a_400(client_for, world, body):
    response = client_for(world.officer).post(
        "/api/v1/contacts/", data=body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_characters"
    assert not Contact.objects.exists()


def test_a_json_body_nested_ten_thousand_deep_is_a_400(client_for, world):
    # given
    deep = "[" * 10_000 + "]" * 10_000
    nested_object = '{"a":' * 10_000 + "1" + "}" * 10_000
    client = client_for(world.officer)
    for body in (deep, nested_object):
        # when
        response = client.post("/api/v1/contacts/", data=body, content_type="application/json")
        # then
        assert response.status_code == 400
        assert response.json()["code"] == "json_too_deep"
    # brackets inside strings do not count
    fine = client.post("/api/v1/contacts/", _contact_body(notes="[" * 200), format="json")
    assert fine.status_code == 201


def test_a_nul_in_the_referral_form_reason_is_a_400(client, world):
    client.force_login(world.officer)
    body = {
        "client_uuid": "6f0c1b9e-3f59-4a9e-9a33-1c8d4f1e2a10",
        "to_service": str(world.treatment.pk),
        "pathway": "officer_prevention",
        "reason": "Asked\x00 for help",
    }
    response = client.post("/referrals/new/", body)
    assert response.status_code == 400
    assert "reason" in response.content.decode()
    assert not Referral.objects.exists()


def test_a_nul_in_the_transition_form_reason_is_a_400(client, world):
    referral, _ = referral_create(
        sender=world.officer, service=world.treatment, pathway="officer_intervention"
    )
    client.force_login(world.provider)
    events = ReferralEvent.objects.count()
    response = client.post(
        f"/referrals/{referral.pk}/transition/", {"to": "declined", "reason": "no\x00 room"}
    )
    assert response.status_code == 400
    assert "reason" in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == "sent"
    assert ReferralEvent.objects.count() == events


@pytest.mark.parametrize("assignee", ["²", "٣", "99999999999999999999999", "1e3"])
def test_a_non_number_assignee_on_the_board_form_is_a_400(client, world, assignee):
    referral, _ = referral_create(
        sender=world.officer, service=world.treatment, pathway="officer_intervention"
    )
    client.force_login(world.coordinator)
    before = AuditEvent.objects.count()
    response = client.post(
        "/board/items/",
        {
            "task_force": world.task_force.pk,
            "rule": "past_sla",
            "target_type": "referral",
            "target_id": str(referral.pk),
            "action": "assign",
            "assigned_to": assignee,
        },
    )
    assert response.status_code == 400
    assert "assigned_to" in response.content.decode()
    assert not BoardItemState.objects.exists()
    assert AuditEvent.objects.count() == before


SECRET = "s3cr3t-pw"


@pytest.fixture
def request_with_secrets():
    """A request as the development server makes it: the environment is in META."""
    url = f"postgres://continuum:{SECRET}@db.internal:5432/continuum"
    return RequestFactory().get("/", DATABASE_URL=url, CELERY_BROKER_URL=url, CACHE_URL=url)


def test_the_debug_500_page_hides_database_url_and_the_database_password(
    settings, request_with_secrets
):
    # given
    settings.DEBUG = True
    # when
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        html = technical_500_response(request_with_secrets, *sys.exc_info()).content.decode()
    safe = get_default_exception_reporter_filter().get_safe_settings()
    # then
    assert "boom" in html
    assert "DATABASE_URL" in html  # named, its value hidden
    assert SECRET not in html
    # DATABASES, parsed from DATABASE_URL with its password, is hidden whole
    assert safe["DATABASES"] == "********************"
    assert "PASSWORD" not in html.split("DATABASES", 1)[1][:200]


# --- loose types -----------------------------------------------------------------------------


def test_a_number_as_display_name_is_refused(client_for, world):
    response = client_for(world.officer).post(
        "/api/v1/people/", {"display_name": 12345}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["display_name"]
    assert not Person.objects.exists()


@pytest.mark.parametrize(
    "client_uuid",
    [5, "6f0c1b9e3f594a9e9a331c8d4f1e2a10", "urn:uuid:6f0c1b9e-3f59-4a9e-9a33-1c8d4f1e2a10"],
)
def test_a_number_or_non_canonical_client_uuid_is_refused(client_for, world, client_uuid):
    client = client_for(world.officer)
    contact = client.post(
        "/api/v1/contacts/", _contact_body(client_uuid=client_uuid), format="json"
    )
    referral = client.post(
        "/api/v1/referrals/",
        {
            "to_service": str(world.treatment.pk),
            "pathway": "officer_prevention",
            "client_uuid": client_uuid,
        },
        format="json",
    )
    for response in (contact, referral):
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["client_uuid"]
    assert not Contact.objects.exists() and not Referral.objects.exists()


@pytest.mark.parametrize("held_on", ["0001-01-01", "1999-12-31", "2101-01-01", 20260101])
def test_a_conference_date_out_of_range_is_refused(client_for, world, held_on):
    response = client_for(world.coordinator).post(
        "/api/v1/conferences/",
        {"task_force": world.task_force.pk, "held_on": held_on, "title": "Monthly"},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["held_on"]
    assert not CaseConference.objects.exists()


def test_year_one_in_a_list_filter_is_a_400_not_an_overflow(client_for, world):
    response = client_for(world.officer).get("/api/v1/referrals/?since=0001-01-01T00:00:00%2B01:00")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["since"]


def test_erase_person_without_yes_and_no_terminal_exits_with_a_message(world, monkeypatch):
    # given: stdin is a pipe that has ended (cron, CI)
    person = person_create_for(world.officer)
    monkeypatch.setattr("sys.stdin", StringIO(""))
    # when / then
    with pytest.raises(CommandError, match="--yes"):
        call_command("erase_person", str(person.pk))
    assert Person.objects.get(pk=person.pk).erased_at is None


def test_text_rule_in_an_api_query_string(client_for, world):
    response = client_for(world.officer).get("/api/v1/services/?q=a%00b")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid text in q.",
        "code": "invalid_characters",
        "errors": {"q": ["Control characters (such as NUL) are not allowed."]},
    }
    assert json.dumps(response.json())
