"""R4 backport Subscriptions: a partner's rest-hook gets one id-only notification per Task
change, through the outbox (retried when the endpoint fails), and only endpoints on the
operator's allow-list may subscribe. The endpoint is a real HTTP server on a thread."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.subscription import Subscription

from core.models import OutboxMessage
from core.outbox import outbox_deliver
from referral.fhir import mapping
from referral.fhir.subscriptions import NOTIFY, endpoint_refusal
from referral.models import FhirSubscription
from tests.factories import consent_create_for, person_create_for, referral_sent

FHIR = "application/fhir+json"


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.headers["Content-Type"], json.loads(body)))
        self.send_response(self.server.answers.pop(0) if self.server.answers else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def endpoint(settings):
    """A listening rest-hook endpoint on 127.0.0.1 (allowed), with what it received."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    server.received, server.answers = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.CONTINUUM_FHIR_SUBSCRIPTION_HOSTS = [
        f"127.0.0.1:{server.server_port}",
        "*.partner.example",
    ]
    server.url = f"http://127.0.0.1:{server.server_port}/hook"
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def subscription(endpoint_url: str, *, criteria: str | None = None) -> dict:
    body = {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "Our case system",
        "criteria": mapping.TOPIC,
        "channel": {
            "type": "rest-hook",
            "endpoint": endpoint_url,
            "payload": FHIR,
            "_payload": {
                "extension": [{"url": mapping.EXT_PAYLOAD_CONTENT, "valueCode": "id-only"}]
            },
        },
    }
    if criteria:
        body["_criteria"] = {
            "extension": [{"url": mapping.EXT_FILTER_CRITERIA, "valueString": criteria}]
        }
    return body


@pytest.fixture
def named_referral(world):
    person = person_create_for(world.officer, display_name="Blue", family_name="Kowalski")
    consent_create_for(world.officer, person, recipients=[world.clinic])
    return referral_sent(person, sender=world.officer, service=world.treatment)


def test_a_task_move_sends_one_id_only_notification_to_the_subscribed_endpoint(
    client_for, world, endpoint, named_referral, django_capture_on_commit_callbacks
):
    provider = client_for(world.provider)
    created = provider.post(
        "/fhir/Subscription",
        subscription(endpoint.url, criteria=f"Task?owner=Organization/{world.clinic.pk}"),
        format="json",
    )
    assert created.status_code == 201
    resource = created.json()
    Subscription.model_validate(resource)
    assert resource["status"] == "active"
    assert resource["meta"]["profile"] == [mapping.PROFILE_SUBSCRIPTION]
    assert provider.get(f"/fhir/Subscription/{resource['id']}").json() == resource
    again = provider.post(
        "/fhir/Subscription",
        subscription(endpoint.url, criteria=f"Task?owner=Organization/{world.clinic.pk}"),
        format="json",
    )
    assert (again.status_code, again.json()["id"]) == (200, resource["id"])  # a retry

    with django_capture_on_commit_callbacks(execute=True):
        moved = provider.patch(
            f"/fhir/Task/{named_referral.pk}", {"status": "accepted"}, format="json"
        )
    assert moved.status_code == 200

    assert len(endpoint.received) == 1
    content_type, notification = endpoint.received[0]
    assert content_type == FHIR
    bundle = Bundle.model_validate(notification)
    assert bundle.type == "history"
    assert notification["meta"]["profile"] == [mapping.PROFILE_NOTIFICATION]
    status, focus = notification["entry"]
    parameters = {p["name"]: p for p in status["resource"]["parameter"]}
    assert parameters["topic"]["valueCanonical"] == mapping.TOPIC
    assert parameters["type"]["valueCode"] == "event-notification"
    assert parameters["events-since-subscription-start"]["valueString"] == "1"
    task_url = f"http://testserver/fhir/Task/{named_referral.pk}"
    event = {part["name"]: part for part in parameters["notification-event"]["part"]}
    assert event["focus"]["valueReference"] == {"reference": task_url}
    # id-only: the Task's address, no resource, nothing about the person
    assert focus == {
        "fullUrl": task_url,
        "request": {"method": "PUT", "url": f"Task/{named_referral.pk}"},
        "response": {"status": "200"},
    }
    assert "Kowalski" not in json.dumps(notification) and "Blue" not in json.dumps(notification)
    # the partner reads the change with its own token
    assert provider.get(f"/fhir/Task/{named_referral.pk}").json()["status"] == "accepted"
    message = OutboxMessage.objects.get(handler=NOTIFY)
    assert message.delivered_at is not None
    assert message.args[:2] == [resource["id"], str(named_referral.pk)]


def test_an_endpoint_that_fails_is_retried_by_the_outbox_and_delivered_once(
    client_for, world, endpoint, named_referral, django_capture_on_commit_callbacks
):
    client_for(world.provider).post("/fhir/Subscription", subscription(endpoint.url), format="json")
    endpoint.answers = [503]

    with django_capture_on_commit_callbacks(execute=True):
        client_for(world.provider).patch(
            f"/fhir/Task/{named_referral.pk}", {"status": "accepted"}, format="json"
        )

    message = OutboxMessage.objects.get(handler=NOTIFY)
    assert (message.delivered_at, message.attempts) == (None, 1)
    assert "503" in message.last_error
    assert outbox_deliver(message.pk) is True
    assert outbox_deliver(message.pk) is False  # a duplicate relay sends nothing twice
    message.refresh_from_db()
    assert message.delivered_at is not None
    assert len(endpoint.received) == 2  # the failed attempt and the delivery
    assert endpoint.received[0][1]["entry"][1] == endpoint.received[1][1]["entry"][1]


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/hook",
        "http://hooks.partner.example/in",  # allowed host, but not https
        "https://user:pw@hooks.partner.example/in",
        "ftp://hooks.partner.example/in",
        "not a url",
    ],
)
def test_an_endpoint_off_the_allow_list_is_refused_with_an_operation_outcome(
    client_for, world, endpoint, url
):
    response = client_for(world.provider).post(
        "/fhir/Subscription", subscription(url), format="json"
    )

    assert response.status_code == 400
    assert response["Content-Type"].startswith(FHIR)
    outcome = response.json()
    OperationOutcome.model_validate(outcome)
    assert outcome["issue"][0]["expression"] == ["channel.endpoint"]
    assert outcome["issue"][0]["details"]["coding"][0]["code"] == "endpoint_not_allowed"
    assert not FhirSubscription.objects.exists()


def test_the_allow_list_matches_hosts_ports_and_subdomains(settings):
    settings.CONTINUUM_FHIR_SUBSCRIPTION_HOSTS = [
        "partner.example",
        "*.trusted.example",
        "127.0.0.1:8443",
    ]
    assert endpoint_refusal("https://partner.example/hook") is None
    assert endpoint_refusal("https://a.b.trusted.example/hook") is None
    assert endpoint_refusal("https://trusted.example/hook") is None
    assert endpoint_refusal("http://127.0.0.1:8443/hook") is None
    assert endpoint_refusal("http://127.0.0.1:8444/hook") is not None
    assert endpoint_refusal("https://partner.example.evil/hook") is not None
    assert endpoint_refusal("https://eviltrusted.example/hook") is not None
    settings.CONTINUUM_FHIR_SUBSCRIPTION_HOSTS = []
    assert endpoint_refusal("https://partner.example/hook") is not None


def test_filters_name_only_the_subscribers_own_organisation_and_off_stops_notifications(
    client_for, world, endpoint, named_referral, django_capture_on_commit_callbacks
):
    provider = client_for(world.provider)
    foreign = provider.post(
        "/fhir/Subscription",
        subscription(endpoint.url, criteria=f"Task?owner=Organization/{world.police.pk}"),
        format="json",
    )
    assert foreign.status_code == 400
    assert foreign.json()["issue"][0]["expression"] == ["criteria"]
    created = provider.post("/fhir/Subscription", subscription(endpoint.url), format="json").json()
    # another organisation neither sees nor stops it
    assert client_for(world.officer).get(f"/fhir/Subscription/{created['id']}").status_code == 404
    assert client_for(world.officer).get("/fhir/Subscription").json()["total"] == 0

    assert provider.delete(f"/fhir/Subscription/{created['id']}").json()["status"] == "off"
    with django_capture_on_commit_callbacks(execute=True):
        provider.patch(f"/fhir/Task/{named_referral.pk}", {"status": "accepted"}, format="json")

    assert endpoint.received == []
    assert not OutboxMessage.objects.filter(handler=NOTIFY).exists()


def test_the_sender_side_is_notified_of_a_new_task_and_of_its_moves(
    client_for, world, endpoint, django_capture_on_commit_callbacks
):
    police = client_for(world.officer)
    police.post(
        "/fhir/Subscription",
        subscription(endpoint.url, criteria=f"Task?requester=Organization/{world.police.pk}"),
        format="json",
    )
    with django_capture_on_commit_callbacks(execute=True):
        referral = referral_sent(None, sender=world.officer, service=world.treatment)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(world.provider).patch(
            f"/fhir/Task/{referral.pk}", {"status": "accepted"}, format="json"
        )

    focuses = [body["entry"][1]["fullUrl"] for _, body in endpoint.received]
    assert focuses == [f"http://testserver/fhir/Task/{referral.pk}"] * 2
    numbers = [
        part["valueString"]
        for _, body in endpoint.received
        for p in body["entry"][0]["resource"]["parameter"]
        if p["name"] == "notification-event"
        for part in p["part"]
        if part["name"] == "event-number"
    ]
    assert numbers == ["1", "2"]
