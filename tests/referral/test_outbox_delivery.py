"""A committed write is never answered 500 because of what it sends: with the broker down,
or the mail server down while tasks run inline, ``POST /api/v1/referrals/`` answers 201, the
referral exists once, and the notification goes out once the broker or the mail server is
back (through the outbox sweep)."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail

from config.celery import app
from core.models import OutboxMessage
from core.outbox import outbox_deliver, outbox_relay_due
from referral.models import Notification, Referral
from referral.tasks import NOTIFICATION_SEND
from tests.conftest import redis_url_or_skip

DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused
BODY_PATHWAY = "officer_intervention"


def _post_referral(client_for, world):
    return client_for(world.officer).post(
        "/api/v1/referrals/",
        {"to_service": str(world.treatment.pk), "pathway": BODY_PATHWAY},
        format="json",
    )


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_broker_down_the_referral_is_201_once_and_notified_when_the_broker_is_back(
    client_for, world, settings, celery_conf
):
    redis_url = redis_url_or_skip()
    queue = f"continuum-outbox-test-{uuid.uuid4().hex[:8]}"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    world.provider.email = "provider@example.invalid"
    world.provider.save()
    # given a broker that does not answer
    celery_conf(
        broker_url=DEAD_BROKER, task_always_eager=False, task_default_queue=queue,
        result_backend=None,
    )  # fmt: skip
    # when
    response = _post_referral(client_for, world)
    # then the committed write is answered as such, and exists once
    assert response.status_code == 201, response.content
    assert Referral.objects.count() == 1
    message = OutboxMessage.objects.get(handler=NOTIFICATION_SEND)
    assert (message.relayed_at, message.delivered_at) == (None, None)
    notification = Notification.objects.get(referral_id=response.json()["id"])
    assert message.args == [notification.pk]
    assert notification.emailed_at is None and mail.outbox == []
    # when the broker is back and a worker runs, the sweep relays what was left
    celery_conf(broker_url=redis_url)
    with start_worker(
        app, pool="solo", perform_ping_check=False, loglevel="WARNING", queues=[queue],
        shutdown_timeout=60,
    ):  # fmt: skip
        assert outbox_relay_due(now=message.available_at) == 1
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            message.refresh_from_db()
            if message.delivered_at is not None:
                break
            time.sleep(0.2)
    # then it was delivered once: one email, the notification marked, nothing left due
    assert message.delivered_at is not None, "the worker did not deliver within 30 s"
    assert message.attempts == 1
    notification.refresh_from_db()
    assert notification.emailed_at is not None
    assert [m.to for m in mail.outbox] == [["provider@example.invalid"]]
    assert outbox_relay_due(now=message.available_at + timedelta(days=1)) == 0
    assert outbox_deliver(message.pk) is False  # a duplicate delivery changes nothing
    assert len(mail.outbox) == 1
    assert Referral.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_mail_server_down_inline_the_referral_is_201_and_the_email_is_retried_later(
    client_for, world, settings
):
    # given tasks inline (the embedded default) and a mail server that refuses connections
    assert app.conf.task_always_eager
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    world.provider.email = "provider@example.invalid"
    world.provider.save()
    # when
    response = _post_referral(client_for, world)
    # then
    assert response.status_code == 201, response.content
    assert Referral.objects.count() == 1
    message = OutboxMessage.objects.get(handler=NOTIFICATION_SEND)
    assert message.delivered_at is None and message.attempts == 1
    assert "Connection" in message.last_error
    notification = Notification.objects.get(referral_id=response.json()["id"])
    assert notification.emailed_at is None
    # when the mail server is back and the sweep runs after the back-off
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbox_relay_due(now=message.available_at - timedelta(seconds=1)) == 0
    assert outbox_relay_due(now=message.available_at) == 1
    # then the email went out once
    message.refresh_from_db()
    notification.refresh_from_db()
    assert message.delivered_at is not None and message.attempts == 2
    assert notification.emailed_at is not None
    assert [m.to for m in mail.outbox] == [["provider@example.invalid"]]
    assert outbox_relay_due(now=message.available_at + timedelta(days=1)) == 0
    assert len(mail.outbox) == 1
