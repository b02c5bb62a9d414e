"""Load with faults that loses nothing: gunicorn (4 workers) on PostgreSQL, a real Celery
worker (with beat) on Redis, simulated phones, officers and providers over loopback.

1. A faulted run: phones upload contact batches (``client_uuid`` per contact), officers
   refer, providers move referrals through their inbox. Clients drop requests at random (a
   client-side timeout, or the connection abandoned after sending) and retry until the
   answer arrives. Mid-run one gunicorn worker and the Celery worker get SIGKILL; the
   Celery worker is started again.
2. A clean run of the same load (no drops, no kills), for the ratio.
3. After both: the outbox drains, then the database must hold exactly the acknowledged
   contacts and referrals (0 lost, 0 duplicated), every outbox message delivered once and
   every notification emailed (mail goes to files, which are counted), one event per
   move, and ``verify_audit`` passes. Any violation exits non-zero.
4. A bare run: the same load against bare DRF endpoints on the same stack
   (bench/_load_urls.py); requests/s and p50/p95 per endpoint against the clean run.

Everything it starts (a database of its own, gunicorn, the worker, a temporary directory,
a Redis queue of its own) it stops and removes on any exit.

    .venv/bin/python bench/load.py [--quick]

``DATABASE_URL`` names the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/test;
a ``continuum_load_<pid>`` database is made beside it), ``CONTINUUM_LOAD_REDIS_URL`` the
Redis (default redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import email
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(BENCH), str(ROOT)]

from _setup import percentile  # noqa: E402

SIZES = {
    "quick": {"phones": 10, "officers": 3, "providers": 3, "faulted": 6, "clean": 3, "bare": 3},
    "full": {"phones": 50, "officers": 10, "providers": 10, "faulted": 60, "clean": 20, "bare": 20},
}
PROVIDER_ORGS = 5
TIMEOUT_DROP = 0.07  # a request given a client timeout too short to get its answer
ABANDON_DROP = 0.05  # a request whose connection the client drops right after sending
REQUEST_TIMEOUT = 30.0
GIVE_UP_AFTER = 120.0  # a client keeps retrying its pending item this long past the end
DRAIN_SECONDS = 120.0


# --- processes and cleanup -----------------------------------------------------------------


class Stack:
    """What the bench starts, stopped and removed by ``close`` (also at exit or a signal)."""

    def __init__(self, *, base_db_url: str, redis_url: str) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="continuum-load-"))
        self.mail_dir = self.tmp / "mail"
        self.mail_dir.mkdir()
        self.base_db_url = base_db_url
        self.redis_url = redis_url
        self.db_name = f"continuum_load_{os.getpid()}"
        parts = urlsplit(base_db_url)
        self.db_url = urlunsplit(parts._replace(path=f"/{self.db_name}"))
        self.queue = f"continuum-load-{uuid.uuid4().hex[:8]}"
        self.port = _free_port()
        self.gunicorn: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.db_created = False
        self.closed = False
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "_load_settings",
            "PYTHONPATH": os.pathsep.join([str(BENCH), str(ROOT)]),
            "DATABASE_URL": self.db_url,
            "DATABASE_CONN_MAX_AGE": "60",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": uuid.uuid4().hex,
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "CONTINUUM_VAR_DIR": str(self.tmp),
            "CONTINUUM_KEY_FILE": str(self.tmp / "keys.json"),
            "CONTINUUM_GENERATE_KEYS": "1",
            "CELERY_BROKER_URL": redis_url,
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "CONTINUUM_OUTBOX_SWEEP_SECONDS": "1",
            "CONTINUUM_OUTBOX_REDELIVER_SECONDS": "5",
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "CONTINUUM_LOAD_MAIL_DIR": str(self.mail_dir),
            "CONTINUUM_LOGIN_RATE": "100000/min",
            "CONTINUUM_LOG_LEVEL": "WARNING",
        }
        self.env.pop("CELERY_RESULT_BACKEND", None)
        atexit.register(self.close)
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum, frame) -> None:
        raise SystemExit(128 + signum)

    def _admin(self):
        import psycopg

        return psycopg.connect(self.base_db_url, autocommit=True)

    def create_database(self) -> None:
        with self._admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.db_name}"')
            admin.execute(f'CREATE DATABASE "{self.db_name}"')
        self.db_created = True

    def start_gunicorn(self) -> None:
        log = (self.tmp / "gunicorn.log").open("ab")
        self.gunicorn = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--workers",
                "4",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "60",
                "--graceful-timeout",
                "2",
                "--log-level",
                "warning",
            ],  # fmt: skip
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.gunicorn.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log_tail('gunicorn.log')}")
            with contextlib.suppress(OSError):
                status, _ = http_call("GET", self.port, "/healthz", timeout=2)
                if status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer:\n{self.log_tail('gunicorn.log')}")

    def gunicorn_workers(self) -> list[int]:
        assert self.gunicorn is not None
        path = Path(f"/proc/{self.gunicorn.pid}/task/{self.gunicorn.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def start_worker(self) -> None:
        log = (self.tmp / "worker.log").open("ab")
        self.worker = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-B",
                "--pool",
                "prefork",
                "--concurrency",
                "2",
                "-Q",
                self.queue,
                "--schedule",
                str(self.tmp / "beat-schedule"),
                "--loglevel",
                "WARNING",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
            ],  # fmt: skip
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its group holds the pool and the embedded beat
        )

    def kill_worker(self) -> None:
        assert self.worker is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait(timeout=10)

    def log_tail(self, name: str) -> str:
        path = self.tmp / name
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def _stop(self, process: subprocess.Popen | None) -> None:
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._stop(self.gunicorn)
        self._stop(self.worker)
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if self.db_created:
            with contextlib.suppress(Exception), self._admin() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        with contextlib.suppress(Exception):
            import redis

            redis.Redis.from_url(self.redis_url).delete(self.queue)
        shutil.rmtree(self.tmp, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- HTTP ----------------------------------------------------------------------------------


def http_call(method, port, path, *, token=None, body=None, timeout=REQUEST_TIMEOUT):
    """One request on a fresh connection (gunicorn's sync workers close it after each).
    Returns (status, parsed body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Token {token}"
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data else None)
    finally:
        connection.close()


def abandon(method, port, path, *, token, body) -> None:
    """Send a request and drop the connection without reading the answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        connection.request(
            method,
            path,
            body=payload,
            headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
        )
    finally:
        connection.close()


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, Counter] = defaultdict(Counter)
        self.dropped = Counter()

    def add(self, endpoint: str, seconds: float, status: int) -> None:
        with self.lock:
            self.latency[endpoint].append(seconds)
            self.statuses[endpoint][status] += 1

    def drop(self, endpoint: str, kind: str) -> None:
        with self.lock:
            self.dropped[(endpoint, kind)] += 1


class Client:
    """One simulated user: sends, drops at random when faults are on, retries until answered."""

    def __init__(self, *, port, token, stats, faults, stop_at, rng) -> None:
        self.port, self.token, self.stats, self.faults = port, token, stats, faults
        self.stop_at, self.rng = stop_at, rng

    def call(self, endpoint, method, path, body=None):
        """Until answered (or well past the end): returns (status, body) or None."""
        attempt = 0
        while time.monotonic() < self.stop_at + GIVE_UP_AFTER:
            attempt += 1
            roll = self.rng.random() if self.faults else 1.0
            try:
                if roll < ABANDON_DROP:
                    abandon(method, self.port, path, token=self.token, body=body)
                    self.stats.drop(endpoint, "abandoned")
                    raise ConnectionAbortedError
                timeout = (
                    self.rng.uniform(0.002, 0.03)
                    if roll < ABANDON_DROP + TIMEOUT_DROP
                    else REQUEST_TIMEOUT
                )
                started = time.perf_counter()
                status, data = http_call(
                    method, self.port, path, token=self.token, body=body, timeout=timeout
                )
                self.stats.add(endpoint, time.perf_counter() - started, status)
                if status < 500:
                    return status, data
            except TimeoutError:
                self.stats.drop(endpoint, "timeout")
            except (ConnectionError, http.client.HTTPException, OSError):
                self.stats.drop(endpoint, "connection")
            time.sleep(min(0.02 * attempt, 0.5))
        return None


# --- the simulated people ------------------------------------------------------------------


class Ledger:
    """What the server acknowledged (the truth the database must match)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.contacts: set[str] = set()
        self.referrals: dict[str, str] = {}  # client_uuid -> referral id
        self.moves: set[tuple[str, str]] = set()  # (referral id, status)
        self.refused: Counter = Counter()
        self.unanswered = 0


def phone(client: Client, ledger: Ledger, *, bare_org: str | None) -> None:
    while time.monotonic() < client.stop_at:
        now = datetime.now(UTC).isoformat()
        batch = [
            {
                "client_uuid": str(uuid.uuid4()),
                "occurred_at": now,
                "pathway": client.rng.choice(["active_outreach", "naloxone_plus"]),
                "place": "Central station",
                "offered": ["naloxone"] if client.rng.random() < 0.5 else [],
            }
            for _ in range(client.rng.randint(1, 10))
        ]
        if bare_org:
            for item in batch:
                item["organization"] = bare_org
            client.call("POST contacts (bare)", "POST", "/bench/bare-contacts/", batch)
            continue
        pending = {item["client_uuid"]: item for item in batch}
        while pending:
            answer = client.call(
                "POST contacts", "POST", "/api/v1/contacts/", list(pending.values())
            )
            if answer is None:
                with ledger.lock:
                    ledger.unanswered += len(pending)
                break
            status, items = answer
            if status != 200:
                with ledger.lock:
                    ledger.refused[("POST contacts", status)] += 1
                break
            for item in items:
                with ledger.lock:
                    if item["status"] in (200, 201):
                        ledger.contacts.add(item["client_uuid"])
                    else:
                        ledger.refused[("contact item", item["status"])] += 1
                pending.pop(item["client_uuid"], None)


def officer(client: Client, ledger: Ledger, *, services: list[dict], bare: dict | None) -> None:
    while time.monotonic() < client.stop_at:
        service = client.rng.choice(services)
        if bare:
            now = datetime.now(UTC).isoformat()
            body = {
                **bare,
                "to_service": service["id"],
                "receiving_organization": service["organization"],
                "stage": "treatment", "pathway": "officer_intervention", "reason": "load",
                "urgency": "routine", "identified": False, "status": "sent",
                "status_changed_at": now, "sla_due_at": now,
            }  # fmt: skip
            client.call("POST referrals (bare)", "POST", "/bench/bare-referrals/", body)
            continue
        key = str(uuid.uuid4())
        body = {
            "to_service": service["id"],
            "pathway": "officer_intervention",
            "reason": "load",
            "client_uuid": key,
        }
        answer = client.call("POST referrals", "POST", "/api/v1/referrals/", body)
        with ledger.lock:
            if answer is None:
                ledger.unanswered += 1
            elif answer[0] in (200, 201):
                ledger.referrals[key] = answer[1]["id"]
            else:
                ledger.refused[("POST referrals", answer[0])] += 1


def provider(client: Client, ledger: Ledger, *, organization: str, bare: bool) -> None:
    inbox = (
        f"/bench/bare-inbox/?organization={organization}&status=sent"
        if bare
        else "/api/v1/referrals/?direction=received&status=sent"
    )
    suffix = " (bare)" if bare else ""
    while time.monotonic() < client.stop_at:
        answer = client.call("GET inbox" + suffix, "GET", inbox)
        if answer is None or answer[0] != 200 or not answer[1]["results"]:
            time.sleep(0.05)
            continue
        referral = client.rng.choice(answer[1]["results"][:10])
        steps = ["accepted"] + (["engaged", "completed"] if client.rng.random() < 0.5 else [])
        for to in steps:
            if bare:
                client.call(
                    "POST transition (bare)",
                    "PATCH",
                    f"/bench/bare-referrals/{referral['id']}/status/",
                    {"status": to},
                )
                continue
            moved = client.call(
                "POST transition",
                "POST",
                f"/api/v1/referrals/{referral['id']}/transition/",
                # a completion says how it ended (a coded outcome, issue 10)
                {"to": to, **({"outcome": "successful"} if to == "completed" else {})},
            )
            if moved is None:
                with ledger.lock:
                    ledger.unanswered += 1
                break
            if moved[0] != 200:
                break  # a colleague took it first (409): move on
            with ledger.lock:
                ledger.moves.add((referral["id"], to))


# --- set-up, run, verification -------------------------------------------------------------


def seed(size: dict) -> dict:
    """Organisations, services and users, through the services (in this process)."""
    from django.contrib.auth import get_user_model

    from services_directory import services as directory

    User = get_user_model()
    password = "load-password-1"  # noqa: S105 - a throwaway database
    people: dict = {"phones": [], "officers": [], "providers": [], "services": []}

    def user(name, org, role):
        account = User.objects.create_user(name, email=f"{name}@example.invalid", password=password)
        directory.membership_set(user=account, organization=org, role=role)
        return name

    outreach = directory.organization_create(
        name="Outreach", kind="red_cross", description="Load bench"
    )
    police = directory.organization_create(name="Police", kind="police", description="Load bench")
    people["outreach_org"], people["police_org"] = str(outreach.pk), str(police.pk)
    people["phones"] = [user(f"phone{n}", outreach, "volunteer") for n in range(size["phones"])]
    people["officers"] = [user(f"officer{n}", police, "officer") for n in range(size["officers"])]
    for n in range(PROVIDER_ORGS):
        org = directory.organization_create(
            name=f"Clinic {n}", kind="treatment", description="Load bench"
        )
        service = directory.service_create(
            actor=None, organization=org, data={"name": f"Treatment {n}", "stage": "treatment"}
        )
        people["services"].append({"id": str(service.pk), "organization": str(org.pk)})
    for n in range(size["providers"]):
        org_id = people["services"][n % PROVIDER_ORGS]["organization"]
        org = directory.Organization.objects.get(pk=org_id)
        people["providers"].append((user(f"provider{n}", org, "provider"), org_id))
    # One task force for all of them: a referral is made within the task force that the
    # sender's organisation shares with the service (else the API answers 400).
    clinics = directory.Organization.objects.filter(
        pk__in=[s["organization"] for s in people["services"]]
    )
    directory.task_force_create(
        name="Load task force",
        area="Load City",
        time_zone="Europe/Lisbon",
        organizations=[outreach, police, *clinics],
    )
    people["password"] = password
    return people


def sign_in(port: int, username: str, password: str) -> str:
    status, body = http_call(
        "POST", port, "/api/v1/auth/token/", body={"username": username, "password": password}
    )
    assert status == 200, (status, body)
    return body["token"]


def run_load(stack, people, tokens, size, *, seconds, faults, bare, chaos):
    stats, ledger = Stats(), Ledger()
    stop_at = time.monotonic() + seconds
    rng = random.Random(seconds * 7919 + faults)
    threads = []

    def client(name):
        return Client(
            port=stack.port,
            token=tokens[name],
            stats=stats,
            faults=faults,
            stop_at=stop_at,
            rng=random.Random(rng.random()),
        )

    police_user = people["police_user_id"]
    for name in people["phones"]:
        threads.append(
            threading.Thread(
                daemon=True,
                target=phone,
                args=(client(name), ledger),
                kwargs={"bare_org": people["outreach_org"] if bare else None},
            )
        )
    for name in people["officers"]:
        bare_body = (
            {"sender": police_user, "sender_organization": people["police_org"]} if bare else None
        )
        threads.append(
            threading.Thread(
                daemon=True,
                target=officer,
                args=(client(name), ledger),
                kwargs={"services": people["services"], "bare": bare_body},
            )
        )
    for name, org_id in people["providers"]:
        threads.append(
            threading.Thread(
                daemon=True,
                target=provider,
                args=(client(name), ledger),
                kwargs={"organization": org_id, "bare": bare},
            )
        )
    started = time.monotonic()
    for thread in threads:
        thread.start()
    chaos_log = []
    if chaos:
        time.sleep(seconds * 0.4)
        victim = random.choice(stack.gunicorn_workers())
        os.kill(victim, signal.SIGKILL)
        stack.kill_worker()
        chaos_log.append(f"SIGKILL gunicorn worker {victim} and the Celery worker")
        time.sleep(min(3.0, seconds * 0.1))
        stack.start_worker()
        chaos_log.append("Celery worker restarted")
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return stats, ledger, elapsed, chaos_log


def report(title, stats: Stats, elapsed: float, *, seconds: float) -> dict[str, tuple]:
    print(f"\n{title} ({seconds:.0f} s of load, {elapsed:.1f} s with the retries' tail)")
    figures = {}
    for endpoint in sorted(stats.latency):
        samples = stats.latency[endpoint]
        rate = len(samples) / elapsed
        p50 = percentile(samples, 50) * 1000
        p95 = percentile(samples, 95) * 1000
        figures[endpoint] = (rate, p50, p95)
        codes = " ".join(f"{k}:{v}" for k, v in sorted(stats.statuses[endpoint].items()))
        print(f"  {endpoint:26} {rate:7.1f} req/s  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  [{codes}]")
    total = sum(len(s) for s in stats.latency.values())
    print(f"  {'all':26} {total / elapsed:7.1f} req/s")
    if stats.dropped:
        print("  dropped by the client:", dict(stats.dropped))
    figures["all"] = (total / elapsed, 0.0, 0.0)
    return figures


def drain_outbox(stack) -> int:
    from core.models import OutboxMessage

    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline:
        left = OutboxMessage.objects.filter(delivered_at__isnull=True).count()
        if left == 0:
            return 0
        if stack.worker.poll() is not None:
            raise RuntimeError(f"the Celery worker exited:\n{stack.log_tail('worker.log')}")
        time.sleep(0.5)
    return OutboxMessage.objects.filter(delivered_at__isnull=True).count()


def count_emails(mail_dir: Path) -> Counter:
    """(referral id, message) of every email written, counted."""
    sent: Counter = Counter()
    for path in mail_dir.iterdir():
        # The file backend writes each message followed by a line of 79 dashes.
        for chunk in path.read_text(errors="replace").split("-" * 79):
            if not chunk.strip():
                continue
            message = email.message_from_string(chunk.strip())
            body = message.get_payload(decode=True).decode()
            referral = re.search(r"Referral ([0-9a-f-]{36}):", body)
            subject = message["Subject"].removeprefix("Continuum: ")
            sent[(referral.group(1) if referral else "?", subject)] += 1
    return sent


def verify(stack, ledgers: list[Ledger]) -> list[str]:
    from django.core.management import call_command
    from django.db.models import Count

    from core.models import OutboxMessage
    from referral.models import Contact, Notification, Referral, ReferralEvent
    from services_directory.models import Membership

    problems = []
    acked_contacts = set().union(*(ledger.contacts for ledger in ledgers))
    acked_referrals = {k: v for ledger in ledgers for k, v in ledger.referrals.items()}
    moves = set().union(*(ledger.moves for ledger in ledgers))
    unanswered = sum(ledger.unanswered for ledger in ledgers)
    refused = sum((ledger.refused for ledger in ledgers), Counter())

    stored = Counter(str(u) for u in Contact.objects.values_list("client_uuid", flat=True))
    lost = acked_contacts - set(stored)
    extra = set(stored) - acked_contacts
    duplicated = sum(n - 1 for n in stored.values() if n > 1)
    print(
        f"\ncontacts: acknowledged {len(acked_contacts)}, stored {sum(stored.values())}, "
        f"lost {len(lost)}, duplicated {duplicated}, stored but never acknowledged {len(extra)}"
    )
    if lost or duplicated or extra:
        problems.append("contacts differ from the acknowledged ones")

    referral_rows = Counter(str(u) for u in Referral.objects.values_list("client_uuid", flat=True))
    r_lost = set(acked_referrals) - set(referral_rows)
    r_extra = set(referral_rows) - set(acked_referrals)
    r_dup = sum(n - 1 for n in referral_rows.values() if n > 1)
    print(
        f"referrals: acknowledged {len(acked_referrals)}, stored {sum(referral_rows.values())}, "
        f"lost {len(r_lost)}, duplicated {r_dup}, stored but never acknowledged {len(r_extra)}"
    )
    if r_lost or r_dup or r_extra:
        problems.append("referrals differ from the acknowledged ones")

    events = {(str(r), s) for r, s in ReferralEvent.objects.values_list("referral_id", "to_status")}
    doubled = (
        ReferralEvent.objects.values("referral_id", "to_status")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    missing_moves = moves - events
    print(
        f"moves: acknowledged {len(moves)}, missing {len(missing_moves)}, "
        f"a move recorded twice {doubled}"
    )
    if missing_moves or doubled:
        problems.append("referral events differ from the acknowledged moves")
    print(f"gave up unanswered: {unanswered}; refused: {dict(refused) or 'none'}")
    if unanswered or refused:
        problems.append("some requests were never answered or were refused")

    undelivered = OutboxMessage.objects.filter(delivered_at__isnull=True).count()
    messages = OutboxMessage.objects.filter(handler="referral.notification_send")
    notifications = Notification.objects.count()
    ids = Counter(arg for args in messages.values_list("args", flat=True) for arg in args)
    not_emailed = Notification.objects.filter(emailed_at__isnull=True).count()
    print(
        f"outbox: {OutboxMessage.objects.count()} messages, undelivered {undelivered}, "
        f"max attempts {max(OutboxMessage.objects.values_list('attempts', flat=True), default=0)}; "
        f"notifications {notifications}, one message each "
        f"{len(ids) == notifications and all(n == 1 for n in ids.values())}, "
        f"not emailed {not_emailed}"
    )
    if undelivered or not_emailed or len(ids) != notifications or any(n > 1 for n in ids.values()):
        problems.append("the outbox did not deliver every notification once")
    emails = count_emails(stack.mail_dir)
    with_members = set(
        Membership.objects.exclude(user__email="").values_list("organization_id", flat=True)
    )
    expected = {
        (str(notification.referral_id), notification.message)
        for notification in Notification.objects.only(
            "referral_id", "organization_id", "code", "params", "legacy_message"
        )
        if notification.organization_id in with_members
    }
    twice = sum(1 for n in emails.values() if n > 1)
    never = len(expected - set(emails))
    print(
        f"emails: {sum(emails.values())} for {len(expected)} notifications with recipients; "
        f"never sent {never}, sent twice {twice}"
    )
    if never:
        problems.append("some notifications were never emailed")
    if twice:
        # At least once, not exactly once: a worker killed between handing an email to the
        # mail server and committing sends it again (core/outbox.py says so). Reported.
        print("  (a worker killed between sending and committing sends that email again)")

    try:
        call_command("verify_audit", stdout=open(os.devnull, "w"))  # noqa: SIM115
        print("verify_audit: the chain verifies")
    except Exception as exc:  # noqa: BLE001
        problems.append(f"verify_audit failed: {exc}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI size (well under a minute)")
    args = parser.parse_args()
    size = SIZES["quick" if args.quick else "full"]
    base_db = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    if not base_db.startswith("postgres"):
        sys.exit("bench/load.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    redis_url = os.environ.get("CONTINUUM_LOAD_REDIS_URL", "redis://127.0.0.1:6379/0")
    began = time.monotonic()
    stack = Stack(base_db_url=base_db, redis_url=redis_url)
    try:
        stack.create_database()
        os.environ.update({k: v for k, v in stack.env.items() if k != "PYTHONPATH"})
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        people = seed(size)
        people["police_user_id"] = get_user_model().objects.get(username="officer0").pk
        from django.db import connections

        connections.close_all()
        stack.start_worker()
        stack.start_gunicorn()
        names = people["phones"] + people["officers"] + [n for n, _ in people["providers"]]
        tokens = {name: sign_in(stack.port, name, people["password"]) for name in names}
        print(
            f"load: {size['phones']} phones, {size['officers']} officers, "
            f"{size['providers']} providers; gunicorn 4 workers on PostgreSQL, Celery on Redis "
            f"(set-up {time.monotonic() - began:.0f} s)"
        )

        faulted, faulted_ledger, faulted_s, chaos = run_load(
            stack, people, tokens, size, seconds=size["faulted"], faults=True, bare=False,
            chaos=True,
        )  # fmt: skip
        report("faulted run: drops, retries, kills", faulted, faulted_s, seconds=size["faulted"])
        for line in chaos:
            print("  " + line)
        clean, clean_ledger, clean_s, _ = run_load(
            stack, people, tokens, size, seconds=size["clean"], faults=False, bare=False,
            chaos=False,
        )  # fmt: skip
        api = report("clean run: the API", clean, clean_s, seconds=size["clean"])

        left = drain_outbox(stack)
        print(f"\noutbox drained (undelivered left: {left})")
        problems = verify(stack, [faulted_ledger, clean_ledger])

        bare_stats, _, bare_s, _ = run_load(
            stack, people, tokens, size, seconds=size["bare"], faults=False, bare=True,
            chaos=False,
        )  # fmt: skip
        bare = report("bare DRF endpoints, same load, same stack", bare_stats, bare_s,
                      seconds=size["bare"])  # fmt: skip
        print("\nratio API / bare DRF (req/s: lower is slower; p50: higher is slower)")
        for endpoint, (rate, p50, _) in api.items():
            twin = bare.get(f"{endpoint} (bare)" if endpoint != "all" else "all")
            if twin:
                line = f"  {endpoint:26} req/s x{rate / twin[0]:.2f}"
                if endpoint != "all":
                    line += f"  p50 x{p50 / twin[1]:.2f}"
                print(line)
        if problems:
            print("\nFAILED: " + "; ".join(problems))
            print(stack.log_tail("worker.log"))
            sys.exit(1)
        print("\nload: 0 lost, 0 duplicated, every notification delivered once, audit intact")
    finally:
        stack.close()


if __name__ == "__main__":
    main()
