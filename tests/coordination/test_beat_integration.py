"""A real Celery worker with beat scheduling (``celery worker -B``) on Redis expires a
referral past its SLA, and the sender and the coordinators are told once.

The worker runs as a subprocess on a queue of its own, against this test's database and
keys, with the sweep shortened to one second (``CONTINUUM_SLA_SWEEP_SECONDS``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from audit.keys import keyring
from referral.models import Notification, Referral, ReferralEvent
from referral.services.referrals import referral_create
from tests.conftest import redis_url_or_skip

pytestmark = pytest.mark.redis
DEADLINE_SECONDS = 60


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    if connection.vendor == "postgresql":
        auth = db["USER"] or ""
        if db.get("PASSWORD"):
            auth += f":{db['PASSWORD']}"
        host = db.get("HOST") or "127.0.0.1"
        port = db.get("PORT") or "5432"
        return f"postgres://{auth}@{host}:{port}/{db['NAME']}"
    pytest.skip(f"no worker database URL for {connection.vendor}")


@pytest.fixture
def beat_worker(transactional_db, tmp_path: Path):
    """``celery -A config worker -B`` on a unique Redis queue; always stopped after."""
    url = redis_url_or_skip()
    queue = f"continuum-beat-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CELERY_BROKER_URL": url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CONTINUUM_SLA_SWEEP_SECONDS": "1",
        "DATABASE_URL": _database_url(),
        "CONTINUUM_KEYS": keyring().to_json(),
        "CONTINUUM_VAR_DIR": str(tmp_path),
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "CONTINUUM_LOG_LEVEL": "WARNING",
    }
    env.pop("CELERY_RESULT_BACKEND", None)
    log = (tmp_path / "worker.log").open("w+")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-B",
            "--pool",
            "solo",
            "-Q",
            queue,
            "--schedule",
            str(tmp_path / "beat-schedule"),
            "--loglevel",
            "WARNING",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
        ],  # fmt: skip
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the embedded beat goes with it
    )
    try:
        yield process, log
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log.close()


def _worker_output(log) -> str:
    log.flush()
    log.seek(0)
    return log.read()[-4000:]


@pytest.mark.django_db(transaction=True)
def test_a_worker_with_beat_expires_a_referral_past_its_sla(world, beat_worker):
    process, log = beat_worker
    # given a referral already past its SLA, and one still in time
    overdue, _ = referral_create(
        sender=world.officer, service=world.treatment, pathway="officer_intervention"
    )
    Referral.objects.filter(pk=overdue.pk).update(sla_due_at=datetime(2025, 1, 1, tzinfo=UTC))
    in_time, _ = referral_create(
        sender=world.officer, service=world.treatment, pathway="officer_intervention"
    )
    # when beat schedules the sweep and the worker runs it (bounded wait)
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the worker exited:\n{_worker_output(log)}"
        notified = Notification.objects.filter(
            referral=overdue, event__to_status="expired", emailed_at__isnull=False
        )
        if notified.count() == 2:
            break
        time.sleep(0.5)
    # then it is expired once, and the sender and the coordinators were told (and emailed)
    assert Referral.objects.get(pk=overdue.pk).status == "expired", _worker_output(log)
    assert ReferralEvent.objects.filter(referral=overdue, to_status="expired").count() == 1
    notified = Notification.objects.filter(referral=overdue, event__to_status="expired")
    assert sorted(n.organization.name for n in notified) == ["Police", "Task force office"]
    assert all(n.emailed_at is not None for n in notified), _worker_output(log)
    # a few more sweeps change nothing
    time.sleep(2.5)
    assert ReferralEvent.objects.filter(referral=overdue, to_status="expired").count() == 1
    assert notified.count() == 2
    assert Referral.objects.get(pk=in_time.pk).status == "sent"
