"""Directory search through the API: ``near`` + ``open_now`` + ``stage`` against a plain
stage-filtered list through the same API stack (URL routing, token auth, pagination,
serialisation), both measured in this run on the same data.

    .venv/bin/python bench/directory.py            # 20,000 services, 30,000 locations
    .venv/bin/python bench/directory.py --quick    # small, seconds (CI)

Targets (issue 2): p95 under 50 ms on SQLite, ratio under 3.
"""

from __future__ import annotations

import argparse
import random
import time
import uuid
from datetime import time as clock

from _setup import bench_database, percentile


def build(*, services: int, locations: int, seed: int = 7) -> None:
    from django.contrib.auth import get_user_model

    from services_directory import services as directory
    from services_directory.models import (
        Language,
        Location,
        Schedule,
        Service,
        ServiceAtLocation,
        Stage,
        unit_vector,
    )

    rng = random.Random(seed)
    organizations = [
        directory.organization_create(name=f"Org {n}", kind="treatment", description="bench")
        for n in range(40)
    ]
    zones = ["Europe/Lisbon", "Europe/Berlin", "Europe/Kyiv", "Africa/Cairo"]
    location_rows = []
    for n in range(locations):
        lat, lon = 38.0 + rng.random() * 2.0, -10.0 + rng.random() * 3.0
        x, y, z = unit_vector(lat, lon)
        location_rows.append(
            Location(
                id=uuid.UUID(int=rng.getrandbits(128)),
                organization=organizations[n % 40],
                name=f"Place {n}",
                latitude=lat,
                longitude=lon,
                unit_x=x,
                unit_y=y,
                unit_z=z,
                time_zone=zones[n % len(zones)],
            )
        )
    Location.objects.bulk_create(location_rows, batch_size=2000)
    stages = [s for s, _ in Stage.choices]
    service_rows, places, schedules, languages = [], [], [], []
    for n in range(services):
        organization = organizations[n % 40]
        service = Service(
            id=uuid.UUID(int=rng.getrandbits(128)),
            organization=organization,
            name=f"Service {n:05d}",
            description="bench service",
            stage=stages[n % len(stages)],
            accepting_referrals=rng.random() < 0.8,
            capacity_available=rng.randint(0, 20),
        )
        service_rows.append(service)
        # 1-2 locations per service: 30,000 locations over 20,000 services
        first = location_rows[n % locations]
        places.append(ServiceAtLocation(service=service, location=first))
        if n + services < locations:
            places.append(ServiceAtLocation(service=service, location=location_rows[n + services]))
        opens = rng.choice([0, 7, 8, 9, 10, 14, 18, 20, 22])
        length = rng.choice([4, 8, 10, 12, 24])
        schedules.append(
            Schedule(
                service=service,
                byday=rng.choice(["MO,TU,WE,TH,FR", "MO,TU,WE,TH,FR,SA,SU", "SA,SU", "TU,TH"]),
                opens_at=clock(opens),
                closes_at=clock((opens + length) % 24),
            )
        )
        for code in rng.sample(["pt", "en", "ar", "uk", "fa", "fr"], rng.randint(1, 3)):
            languages.append(Language(service=service, code=code))
    Service.objects.bulk_create(service_rows, batch_size=2000)
    ServiceAtLocation.objects.bulk_create(places, batch_size=2000)
    Schedule.objects.bulk_create(schedules, batch_size=2000)
    Language.objects.bulk_create(languages, batch_size=2000)
    ids = [s.pk for s in service_rows]
    for start in range(0, len(ids), 1000):
        directory.opening_hours_rebuild(service_ids=ids[start : start + 1000])
    user = get_user_model().objects.create_user("bench", password="bench-password-1")  # noqa: S106
    directory.membership_set(user=user, organization=organizations[0], role="volunteer")


def measure(client, queries: list[dict]) -> list[float]:
    samples = []
    for params in queries:
        started = time.perf_counter()
        response = client.get("/api/v1/services/", params)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI")
    args = parser.parse_args()
    services, locations, rounds = (1000, 1500, 30) if args.quick else (20000, 30000, 300)

    with bench_database() as connection:
        from django.contrib.auth import get_user_model
        from rest_framework.test import APIClient

        from services_directory.accounts import token_issue

        started = time.perf_counter()
        build(services=services, locations=locations)
        built = time.perf_counter() - started
        client = APIClient()
        _, token = token_issue(user=get_user_model().objects.get(username="bench"), device="bench")
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

        rng = random.Random(11)
        stages = [
            "outreach",
            "screening",
            "harm_reduction",
            "treatment",
            "recovery",
            "social_support",
        ]
        search = [
            {
                "stage": rng.choice(stages),
                "open_now": "true",
                "near": f"{38 + rng.random() * 2:.5f},{-10 + rng.random() * 3:.5f}",
            }
            for _ in range(rounds)
        ]
        plain = [{"stage": rng.choice(stages)} for _ in range(rounds)]
        # warm up both paths, then interleave so machine noise hits both alike
        measure(client, search[:5] + plain[:5])
        search_ms, plain_ms = [], []
        for a, b in zip(search, plain, strict=True):
            search_ms += measure(client, [a])
            plain_ms += measure(client, [b])
        p50, p95 = percentile(search_ms, 50), percentile(search_ms, 95)
        b50, b95 = percentile(plain_ms, 50), percentile(plain_ms, 95)
        print(
            f"directory bench on {connection.vendor}: {services} services, {locations} locations "
            f"(built in {built:.1f}s), {rounds} queries each"
        )
        print(f"near+open_now+stage: p50={p50:.1f} ms p95={p95:.1f} ms")
        print(f"plain stage list:    p50={b50:.1f} ms p95={b95:.1f} ms")
        print(f"ratio p50={p50 / b50:.2f} p95={p95 / b95:.2f} (target p95 < 50 ms, ratio < 3)")


if __name__ == "__main__":
    main()
