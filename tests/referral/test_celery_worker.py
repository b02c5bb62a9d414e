"""Closed loop through a real Celery worker on Redis: a transition puts the sender's
notification in the outbox, the relay publishes it on commit, a worker takes it from the
broker and sends the email once."""

from __future__ import annotations

import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail

from config.celery import app
from referral.models import Notification
from referral.services.referrals import referral_create, referral_transition
from tests.conftest import redis_url_or_skip

pytestmark = pytest.mark.redis


@pytest.fixture
def celery_on_redis(settings, celery_conf):
    url = redis_url_or_skip()
    queue = f"continuum-test-{uuid.uuid4().hex[:8]}"
    celery_conf(
        broker_url=url, task_always_eager=False, task_default_queue=queue, result_backend=None
    )
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with start_worker(
        app,
        pool="solo",
        perform_ping_check=False,
        loglevel="WARNING",
        queues=[queue],
        shutdown_timeout=60,
    ):
        yield


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_senders_notification_once(world, celery_on_redis):
    # given
    world.officer.email = "officer@example.invalid"
    world.officer.save()
    referral, _ = referral_create(
        sender=world.officer, service=world.treatment, pathway="officer_intervention"
    )
    # when the provider accepts (the task is queued on commit, to Redis)
    referral_transition(referral=referral, actor=world.provider, to="accepted")
    # then a worker picks it up and emails the sender exactly once
    deadline = time.monotonic() + 30
    to_sender = Notification.objects.filter(referral=referral, organization=world.police)
    while time.monotonic() < deadline and not to_sender.filter(emailed_at__isnull=False).exists():
        time.sleep(0.2)
    notification = to_sender.get()
    assert notification.emailed_at is not None, "the worker did not deliver within 30 s"
    assert notification.message == "Your referral to Treatment is now accepted."
    sender_mail = [m for m in mail.outbox if m.to == ["officer@example.invalid"]]
    assert len(sender_mail) == 1
    # and running the task again (a redelivery) sends nothing twice
    from referral.tasks import notification_send

    assert notification_send(notification.pk) is False
    assert len([m for m in mail.outbox if m.to == ["officer@example.invalid"]]) == 1
