"""Referrals through the API, each as a ratio against a bare baseline measured in the same run.

1. Create: ``POST /api/v1/referrals/`` (consent check, object-permission grants, event,
   audit event with encrypted payload, sealed reason, notification through the outbox)
   against a bare DRF create of the same columns. The two alternate request by request, so
   the machine's noise falls on both; the ratio is of the medians. Target within 1.5x.
2. List: the permission-filtered referral list (``GET /api/v1/referrals/``) at 1,000,000
   referrals and 50 organisations, grants included (``--quick``: 20,000), built with bulk
   inserts. Its p95 against the p95 of a bare DRF list that reads the same page of rows
   (the ids the API just answered) by the primary-key index with the same joins and renders
   the same columns: no membership, grants, count or reader logic. Target within 3x. The
   query count is printed for two page sizes (they must be equal; tests/referral assert it
   does not grow with the data either).

    .venv/bin/python bench/referrals.py [--quick] [--profile] [--list-only] [--keep] [--explain]

``--profile`` runs the creates under pyinstrument (a dev dependency) and prints where the
time goes. ``--keep`` keeps the list's database between runs (a database of its own, not the
test suite's) and reuses the referrals it holds when there are as many as asked, for
profiling at the full size without building them each time. ``--explain`` prints the
statements of one list request and their plans (EXPLAIN ANALYZE with buffers on PostgreSQL,
EXPLAIN QUERY PLAN on SQLite) for pages 1-10 and the two filters the list bench asks. The
load average is printed beside the figures: compare ratios of one run only.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# As in production, tasks go to a broker instead of running inside the request; the
# in-memory transport stands in for Redis (nothing consumes them during the benchmark).
os.environ.setdefault("CELERY_BROKER_URL", "memory://localhost/")

from _setup import bench_database, percentile  # noqa: E402


@contextmanager
def kept_database():
    """The bench database kept between runs (``--keep``): created and migrated the first
    time, reused (and migrated forward) after, never dropped. Its name is its own, so the
    test suite (which drops and creates ``test_...``) never clobbers it."""
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    if connection.vendor == "sqlite":
        kept = str(settings.VAR_DIR / "bench-referrals-kept.sqlite3")
    else:
        kept = f"{connection.settings_dict['NAME']}_bench_referrals_kept"
    connection.settings_dict.setdefault("TEST", {})["NAME"] = kept
    # serialize=False: the test runner's copy of the data for rollbacks, a million rows here
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True, serialize=False)
    yield connection


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
        # API tokens only: no password to hash (a slow hasher by design)
        user = User.objects.create_user(f"{prefix}-user{n}")
        directory.membership_set(user=user, organization=org, role="provider")
        users.append(user)
    # every referral is made in a task force the two organisations share
    directory.task_force_create(
        name=f"{prefix} task force", area="Bench", time_zone="UTC", organizations=orgs
    )
    return orgs, services, users


def client_for(user):
    from rest_framework.test import APIClient

    from services_directory.accounts import token_issue

    client = APIClient()
    _, token = token_issue(user=user, device="bench")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def bench_create(rounds: int, *, profile: bool = False) -> None:
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
    api_ms, bare_ms = [], []
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0002)
    for n in range(rounds):  # interleaved so machine noise hits both alike
        started = time.perf_counter()
        if profiler:
            profiler.start()
        api_create(n)
        if profiler:
            profiler.stop()
        api_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        bare_create(n)
        bare_ms.append((time.perf_counter() - started) * 1000)
    if profiler:
        print(profiler.output_text(unicode=False, color=False))
    api, bare = statistics.median(api_ms), statistics.median(bare_ms)
    ratio = api / bare
    print(
        f"create: {rounds} each; api median={api:.2f} ms bare_drf median={bare:.2f} ms "
        f"ratio={ratio:.2f} (target <= 1.5: {_verdict(ratio, 1.5)}); means "
        f"{statistics.fmean(api_ms):.2f}/{statistics.fmean(bare_ms):.2f} ms; {_load()}"
    )


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def _verdict(ratio: float, target: float) -> str:
    return "MET" if ratio <= target else "MISSED"


def build_referrals(total: int, orgs, services, users, task_force) -> float:
    """``total`` referrals between random pairs of the organisations, with the grants
    ``referral_grant`` gives, inserted in bulk (COPY on PostgreSQL). Returns seconds."""
    from django.contrib.auth.models import Permission
    from django.db import connection, transaction
    from django.utils import timezone

    from referral.models import Referral, ReferralGroupObjectPermission
    from referral.permissions import REFERRAL_RECEIVER, REFERRAL_SENDER

    perm = {p.codename: p.pk for p in Permission.objects.filter(content_type__app_label="referral")}
    rng = random.Random(5)
    now = timezone.now()
    started = time.perf_counter()
    # One row made by the model (its defaults, in the database's own form), then copied
    # with the columns that vary: new columns with defaults need no change here.
    template = Referral(
        sender=users[0],
        sender_organization=orgs[0],
        to_service=services[0],
        receiving_organization=orgs[0],
        task_force=task_force,
        stage="treatment",
        pathway="officer_intervention",
        status="sent",
        status_changed_at=now,
        sla_due_at=now,
        journey_started_at=now,
        created_at=now,
    )
    fields = Referral._meta.concrete_fields
    columns = [f.column for f in fields]
    base = [f.get_db_prep_save(getattr(template, f.attname), connection) for f in fields]
    at = {c: columns.index(c) for c in columns}
    grant_columns = [
        "group_id",
        "permission_id",
        "content_object_id",
        "referral_created_at",
        "referral_status",
    ]
    postgres = connection.vendor == "postgresql"
    # The database's own forms, as Django writes them (psycopg adapts uuid and datetime
    # itself; Django keeps them on SQLite as hex and naive UTC text), made without the
    # field machinery for each of millions of values.
    if postgres:

        def as_uuid(value):
            return value

        def as_time(value):
            return value
    else:

        def as_uuid(value):
            return value.hex

        def as_time(value):
            return str(value.astimezone(UTC).replace(tzinfo=None))

    statuses = ["sent", "accepted", "engaged", "completed", "declined"]
    codes = [
        (side, [perm[c] for c in cs])
        for side, cs in (("s", REFERRAL_SENDER), ("r", REFERRAL_RECEIVER))
    ]
    organization_ids = [as_uuid(o.pk) for o in orgs]
    group_ids = [o.group_id for o in orgs]
    service_ids = [as_uuid(sv.pk) for sv in services]
    qn = connection.ops.quote_name

    def rows(first: int, last: int):
        referrals, grants = [], []
        for n in range(first, last):
            s, r = rng.randrange(len(orgs)), rng.randrange(len(orgs))
            created = now - timedelta(seconds=n * 3)
            pk = as_uuid(uuid.UUID(int=rng.getrandbits(128)))
            when = as_time(created)
            row = list(base)
            row[at["id"]] = pk
            row[at["sender_id"]] = users[s].pk
            row[at["sender_organization_id"]] = organization_ids[s]
            row[at["to_service_id"]] = service_ids[r]
            row[at["receiving_organization_id"]] = organization_ids[r]
            row[at["status"]] = status = statuses[rng.randrange(5)]
            row[at["status_changed_at"]] = when
            row[at["journey_started_at"]] = when
            row[at["created_at"]] = when
            row[at["sla_due_at"]] = as_time(created + timedelta(hours=48))
            referrals.append(row)
            granted = {
                (group_ids[s if side == "s" else r], p) for side, perms in codes for p in perms
            }  # a referral within one organisation has its view grant once
            grants.extend((group, p, pk, when, status) for group, p in granted)
        return referrals, grants

    referral_table = qn(Referral._meta.db_table)
    grant_table = qn(ReferralGroupObjectPermission._meta.db_table)
    insert_referrals = (
        f"INSERT INTO {referral_table} ({', '.join(map(qn, columns))}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    insert_grants = (
        f"INSERT INTO {grant_table} ({', '.join(map(qn, grant_columns))}) "  # noqa: S608
        "VALUES (%s, %s, %s, %s, %s)"
    )
    batch = 20_000
    if not postgres:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -262144")  # 256 MB: the indexes stay in memory
    with transaction.atomic(), connection.cursor() as cursor:
        for first in range(0, total, batch):
            referrals, grants = rows(first, min(total, first + batch))
            if postgres:
                raw = cursor.cursor
                with raw.copy(
                    f"COPY {referral_table} ({', '.join(map(qn, columns))}) FROM STDIN"
                ) as copy:
                    for row in referrals:
                        copy.write_row(row)
                with raw.copy(
                    f"COPY {grant_table} ({', '.join(map(qn, grant_columns))}) FROM STDIN"
                ) as copy:
                    for row in grants:
                        copy.write_row(row)
            else:
                cursor.executemany(insert_referrals, referrals)
                cursor.executemany(insert_grants, grants)
    with connection.cursor() as cursor:
        # The planner sees the tables as they now are. On PostgreSQL, VACUUM as well: after a
        # bulk load autovacuum sets the visibility map, without which an index-only scan (a
        # count of grant rows) reads every row's heap page; this machine's server runs with
        # autovacuum off, production's with it on.
        cursor.execute("VACUUM ANALYZE" if postgres else "ANALYZE")
    return time.perf_counter() - started


def reused_network(total: int, organizations: int):
    """A kept database's list network when it holds ``total`` referrals between
    ``organizations`` organisations: (organisations, users); None when it is empty."""
    from django.contrib.auth import get_user_model

    from referral.models import Referral
    from services_directory.models import Organization

    orgs = list(Organization.objects.filter(name__startswith="list org "))
    if not orgs:
        return None
    held = Referral.objects.count()
    if len(orgs) != organizations or held != total:
        raise SystemExit(
            f"the kept database holds {held} referrals between {len(orgs)} organisations, "
            f"not {total} between {organizations}: drop it to build anew"
        )
    User = get_user_model()
    users = [User.objects.get(username=f"list-user{n}") for n in range(organizations)]
    return orgs, users


def explain_list(reader, *, pages: int) -> None:
    """The statements of one list request and each one's plan, for pages 1..``pages``
    unfiltered and page 1 of each filter the bench asks."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    postgres = connection.vendor == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
    asks = [{"page": p} for p in range(1, pages + 1)]
    asks += [{"direction": "received"}, {"status": "sent"}]
    for params in asks:
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            response = reader.get("/api/v1/referrals/", params)
            took = (time.perf_counter() - began) * 1000
        assert response.status_code == 200, response.content[:300]
        print(f"\n=== {params}: {len(queries)} queries, {took:.1f} ms")
        for query in queries.captured_queries:
            print(f"--- {query['time']}s: {query['sql']}")
            if not query["sql"].lstrip().upper().startswith("SELECT"):
                continue
            with connection.cursor() as cursor:
                # the captured text has its parameters inlined by the backend's own quoting
                cursor.execute(prefix + query["sql"])
                for row in cursor.fetchall():
                    print("    " + " | ".join(str(c) for c in row))


def bench_list(
    total: int,
    rounds: int,
    organizations: int = 50,
    *,
    keep: bool = False,
    explain: bool = False,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from services_directory.models import TaskForce

    network, built = reused_network(total, organizations) if keep else None, 0.0
    if network is None:
        orgs, services, users = build_network(organizations, prefix="list")
        task_force = TaskForce.objects.get(name="list task force")
        built = build_referrals(total, orgs, services, users, task_force)
    else:
        orgs, users = network
    reader = client_for(users[0])
    if explain:
        explain_list(reader, pages=10)
    rng = random.Random(7)
    visible = reader.get("/api/v1/referrals/").json()["count"]
    pages = max(1, min(10, visible // 50))
    asks = [{"page": p} for p in range(1, pages + 1)]
    asks += [{"direction": "received"}, {"status": "sent"}]
    # Each page the bench asks, once before the rounds, untimed: the ids of its rows for the
    # baseline, and both sides' pages in the cache alike.
    page_ids = {}
    for params in asks:
        response = reader.get("/api/v1/referrals/", params)
        assert response.status_code == 200, response.content[:300]
        page_ids[str(params)] = ",".join(row["id"] for row in response.json()["results"])

    def api_get(params) -> float:
        began = time.perf_counter()
        response = reader.get("/api/v1/referrals/", params)
        took = (time.perf_counter() - began) * 1000
        assert response.status_code == 200, response.content[:300]
        assert ",".join(row["id"] for row in response.json()["results"]) == page_ids[str(params)]
        return took

    def bare_get(params) -> float:
        ids = page_ids[str(params)]
        began = time.perf_counter()
        bare = reader.get("/bench/bare-referral-page/", {"ids": ids})
        took = (time.perf_counter() - began) * 1000
        assert bare.status_code == 200 and ",".join(r["id"] for r in bare.json()) == ids
        return took

    api_ms, bare_ms = [], []
    for n in range(rounds + 5):
        params = {"page": rng.randint(1, pages)}
        if n % 3 == 1:
            params = {"direction": "received"}
        if n % 3 == 2:
            params = {"status": "sent"}
        # the same page from both sides; which goes first alternates (every third round
        # is the same filter, so by pairs of rounds), so neither always finds the other's
        # rows just read
        if n // 3 % 2:
            base, api = bare_get(params), api_get(params)
        else:
            api, base = api_get(params), bare_get(params)
        if n >= 5:
            api_ms.append(api)
            bare_ms.append(base)
    counts = []
    for size in (10, 100):
        with CaptureQueriesContext(connection) as queries:
            response = reader.get("/api/v1/referrals/", {"page_size": size})
        assert response.status_code == 200
        counts.append(len(queries))
    api95, bare95 = percentile(api_ms, 95), percentile(bare_ms, 95)
    source = f"built in {built:.0f}s" if built else "kept"
    ratio = api95 / bare95
    print(
        f"list: {total} referrals, {organizations} organisations ({source}), reader "
        f"sees {visible}: api p50={percentile(api_ms, 50):.1f} ms p95={api95:.1f} ms; bare page "
        f"p50={percentile(bare_ms, 50):.1f} ms p95={bare95:.1f} ms; ratio p95={ratio:.2f} "
        f"(target <= 3.0: {_verdict(ratio, 3.0)}); queries page_size=10: {counts[0]}, "
        f"page_size=100: {counts[1]} ({'constant' if counts[0] == counts[1] else 'GROWS'}); "
        f"{_load()}"
    )
    assert counts[0] == counts[1], "query count grows with the page size"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--profile", action="store_true", help="creates under pyinstrument")
    parser.add_argument("--list-only", action="store_true")
    parser.add_argument("--referrals", type=int, help="list size (default 1,000,000)")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the list's database and reuse it on the next run (implies --list-only)",
    )
    parser.add_argument(
        "--explain", action="store_true", help="print the list's statements and their plans"
    )
    args = parser.parse_args()
    args.list_only = args.list_only or args.keep
    creates, total, rounds = (60, 20_000, 30) if args.quick else (400, 1_000_000, 300)
    total = args.referrals or total
    with kept_database() if args.keep else bench_database() as connection:
        from django.conf import settings as live

        live.ROOT_URLCONF = "_baseline_urls"
        # Measure what production runs: DEBUG off (with DEBUG on, Django times and logs every
        # query, which weighs on the side that makes more of them).
        live.DEBUG = False
        print(f"referrals bench on {connection.vendor}")
        if not args.list_only:
            bench_create(creates, profile=args.profile)
        bench_list(total, rounds, keep=args.keep, explain=args.explain)


if __name__ == "__main__":
    main()
