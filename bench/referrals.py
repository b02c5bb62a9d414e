"""Referrals through the API.

1. Create rate: ``POST /api/v1/referrals/`` (consent check, object-permission grants, event,
   audit event with encrypted payload, notification) against a bare DRF create of the same
   columns, as a ratio. Target under 2.0.
2. A permission-filtered referral list page at 100,000 referrals and 20 organisations:
   p50/p95 latency and the query count for two page sizes (must be equal). Target p95 under
   80 ms on SQLite and PostgreSQL.

    .venv/bin/python bench/referrals.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import random
import time
import uuid
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# As in production, tasks go to a broker instead of running inside the request; the
# in-memory transport stands in for Redis (nothing consumes them during the benchmark).
os.environ.setdefault("CELERY_BROKER_URL", "memory://localhost/")

from _setup import bench_database, percentile  # noqa: E402


def build_network(organizations: int, *, prefix: str):
    from django.contrib.auth import get_user_model

    from services_directory import services as directory

    User = get_user_model()
    orgs, services, users = [], [], []
    for n in range(organizations):
        org = directory.organization_create(
            name=f"{prefix} org {n}", kind="treatment", description="b"
        )
        orgs.append(org)
        services.append(
            directory.service_create(
                actor=None, organization=org, data={"name": f"Service {n}", "stage": "treatment"}
            )
        )
        user = User.objects.create_user(f"{prefix}-user{n}", password="bench-password-1")  # noqa: S106
        directory.membership_set(user=user, organization=org, role="provider")
        users.append(user)
    return orgs, services, users


def client_for(user):
    from rest_framework.test import APIClient

    from services_directory.accounts import token_issue

    client = APIClient()
    _, token = token_issue(user=user, device="bench")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def bench_create(rounds: int) -> None:
    from django.utils import timezone

    from referral.services.consents import consent_create
    from referral.services.people import person_create
    from referral.services.referrals import sla_due

    orgs, services, users = build_network(2, prefix="create")
    sender, receiver_service = users[0], services[1]
    client = client_for(sender)
    people = []
    for n in range(rounds + 5):
        person = person_create(
            actor=sender, display_name=f"P{n}", given_name="Ana", family_name=f"S{n}"
        )
        consent_create(
            actor=sender,
            person=person,
            recipients=[orgs[1].pk],
            stages=[],
            information="identity",
            purpose="treatment",
            method="written",
        )
        people.append(person)

    def api_create(n: int) -> None:
        response = client.post(
            "/api/v1/referrals/",
            {
                "to_service": str(receiver_service.pk),
                "pathway": "officer_intervention",
                "person": str(people[n].pk),
                "reason": "bench",
                "urgency": "routine",
            },
            format="json",
        )
        assert response.status_code == 201, response.content[:300]

    def bare_create(n: int) -> None:
        now = timezone.now()
        response = client.post(
            "/bench/bare-referrals/",
            {
                "person": str(people[n].pk),
                "sender": sender.pk,
                "sender_organization": str(orgs[0].pk),
                "to_service": str(receiver_service.pk),
                "receiving_organization": str(orgs[1].pk),
                "stage": "treatment",
                "pathway": "officer_intervention",
                "reason": "bench",
                "urgency": "routine",
                "identified": True,
                "status": "sent",
                "status_changed_at": now.isoformat(),
                "sla_due_at": sla_due(
                    service=receiver_service, urgency="routine", start=now
                ).isoformat(),
            },
            format="json",
        )
        assert response.status_code == 201, response.content[:300]

    for n in range(3):  # warm-up
        api_create(rounds + n)
        bare_create(rounds + n)
    api_s = bare_s = 0.0
    for n in range(rounds):  # interleaved so machine noise hits both alike
        started = time.perf_counter()
        api_create(n)
        api_s += time.perf_counter() - started
        started = time.perf_counter()
        bare_create(n)
        bare_s += time.perf_counter() - started
    print(
        f"create: api={rounds / api_s:.0f}/s bare_drf={rounds / bare_s:.0f}/s "
        f"ratio={api_s / bare_s:.2f} (target < 2.0)"
    )


def bench_list(total: int, rounds: int) -> None:
    from django.contrib.auth.models import Permission
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from referral.models import Referral, ReferralGroupObjectPermission
    from referral.permissions import REFERRAL_RECEIVER, REFERRAL_SENDER

    orgs, services, users = build_network(20, prefix="list")
    perm = {p.codename: p.pk for p in Permission.objects.filter(content_type__app_label="referral")}
    rng = random.Random(5)
    now = timezone.now()
    started = time.perf_counter()
    batch: list[Referral] = []
    grants: list[ReferralGroupObjectPermission] = []

    def flush() -> None:
        Referral.objects.bulk_create(batch, batch_size=2000)
        ReferralGroupObjectPermission.objects.bulk_create(
            grants, batch_size=5000, ignore_conflicts=True
        )
        batch.clear()
        grants.clear()

    for n in range(total):
        s, r = rng.randrange(20), rng.randrange(20)
        created = now - timedelta(minutes=n)
        referral = Referral(
            id=uuid.UUID(int=rng.getrandbits(128)),
            sender=users[s],
            sender_organization=orgs[s],
            to_service=services[r],
            receiving_organization=orgs[r],
            stage="treatment",
            pathway="officer_intervention",
            status=rng.choice(["sent", "accepted", "engaged", "completed", "declined"]),
            status_changed_at=created,
            sla_due_at=created + timedelta(hours=48),
        )
        batch.append(referral)
        for org, codes in ((orgs[s], REFERRAL_SENDER), (orgs[r], REFERRAL_RECEIVER)):
            grants.extend(
                ReferralGroupObjectPermission(
                    group_id=org.group_id, permission_id=perm[code], content_object=referral
                )
                for code in codes
            )
        if len(batch) >= 5000:
            flush()
    flush()
    built = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    reader = client_for(users[0])
    pages = max(1, min(10, reader.get("/api/v1/referrals/").json()["count"] // 50))
    samples = []
    for n in range(rounds + 5):
        params = {"page": rng.randint(1, pages)}
        if n % 3 == 1:
            params["direction"] = "received"
            params["page"] = 1
        if n % 3 == 2:
            params["status"] = "sent"
            params["page"] = 1
        began = time.perf_counter()
        response = reader.get("/api/v1/referrals/", params)
        elapsed = (time.perf_counter() - began) * 1000
        assert response.status_code == 200, response.content[:300]
        if n >= 5:
            samples.append(elapsed)
    counts = []
    for size in (10, 100):
        with CaptureQueriesContext(connection) as queries:
            response = reader.get("/api/v1/referrals/", {"page_size": size})
        assert response.status_code == 200
        counts.append(len(queries))
    visible = response.json()["count"]
    print(
        f"list: {total} referrals, 20 organisations (built in {built:.1f}s), reader sees "
        f"{visible}: p50={percentile(samples, 50):.1f} ms p95={percentile(samples, 95):.1f} ms "
        f"(target p95 < 80 ms); queries page_size=10: {counts[0]}, page_size=100: {counts[1]}"
        f" ({'constant' if counts[0] == counts[1] else 'GROWS'})"
    )
    assert counts[0] == counts[1], "query count grows with the page size"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    creates, total, rounds = (30, 2000, 20) if args.quick else (300, 100_000, 200)
    with bench_database() as connection:
        from django.conf import settings as live

        live.ROOT_URLCONF = "_baseline_urls"
        print(f"referrals bench on {connection.vendor}")
        bench_create(creates)
        bench_list(total, rounds)


if __name__ == "__main__":
    main()
