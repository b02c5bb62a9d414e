"""Import of a stock HSDS 3.0 feed (no Continuum attributes; a foreign taxonomy term on some
services): a first import into an empty directory, a second import of the same feed (which
writes nothing), a dry run, and an export of the result, all measured in this run.

    .venv/bin/python bench/hsds_import.py                # 2,200 services (issue 15)
    .venv/bin/python bench/hsds_import.py --quick        # 220 services, seconds (CI)
    .venv/bin/python bench/hsds_import.py --profile      # cProfile of the first import

Each service nests its organisation, one place (location with an address, a phone, a
language, a schedule), a phone, two languages and a schedule. Target (issue 15): the first
import of 2,200 services under 60 s on SQLite. Ratios: import / export of the same data.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import tempfile
import time
import uuid
from pathlib import Path

from _setup import bench_database

AIRS_TERMS = [
    ("RX-8450.8000", "Residential Substance Use Disorder Treatment Facilities"),
    ("RX-8470.8300", "Substance Use Disorder Support Groups"),
    ("BD-1800.2000", "Food Pantries"),  # maps to nothing: stays unclassified
]


def _id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def feed(folder: Path, *, services: int, seed: int = 15) -> None:
    """A stock HSDS feed: organizations.json and services.json, as another directory
    publishes them."""
    rng = random.Random(seed)
    organizations = []
    for n in range(max(1, services // 10)):
        organizations.append(
            {
                "id": _id(rng),
                "name": f"Agency {n}",
                "description": "A community agency.",
                "email": f"agency{n}@example.org",
                "phones": [{"id": _id(rng), "number": f"+1 213 555 {n:04d}"}],
            }
        )
    records = []
    for n in range(services):
        organization = organizations[n % len(organizations)]
        location_id = _id(rng)
        code, name = AIRS_TERMS[n % len(AIRS_TERMS)]
        records.append(
            {
                "id": _id(rng),
                "name": f"Service {n}",
                "status": "active",
                "description": "Help for people who use drugs.",
                "organization_id": organization["id"],
                "organization": {k: v for k, v in organization.items() if k != "phones"},
                "phones": [{"id": _id(rng), "number": f"+1 323 555 {n:04d}", "type": "voice"}],
                "languages": [
                    {"id": _id(rng), "code": "en", "name": "English"},
                    {"id": _id(rng), "code": "es", "name": "Spanish"},
                ],
                "schedules": [
                    {
                        "id": _id(rng),
                        "freq": "WEEKLY",
                        "byday": "MO,TU,WE,TH,FR",
                        "opens_at": "09:00:00-08:00",
                        "closes_at": "17:00:00-08:00",
                        "timezone": -8,
                    }
                ],
                "attributes": [
                    {
                        "id": _id(rng),
                        "taxonomy_term_id": _id(rng),
                        "taxonomy_term": {
                            "id": _id(rng),
                            "code": code,
                            "name": name,
                            "description": name,
                            "taxonomy": "AIRS/211 LA County",
                        },
                    }
                ],
                "service_at_locations": [
                    {
                        "id": _id(rng),
                        "location_id": location_id,
                        "location": {
                            "id": location_id,
                            "location_type": "physical",
                            "name": f"Site {n}",
                            "latitude": 34.0 + rng.random(),
                            "longitude": -118.5 + rng.random(),
                            "addresses": [
                                {
                                    "id": _id(rng),
                                    "address_1": f"{n} Main Street",
                                    "city": "Los Angeles",
                                    "state_province": "CA",
                                    "postal_code": "90012",
                                    "country": "US",
                                }
                            ],
                            "phones": [{"id": _id(rng), "number": f"+1 626 555 {n:04d}"}],
                            "languages": [{"id": _id(rng), "code": "en"}],
                            "schedules": [
                                {
                                    "id": _id(rng),
                                    "freq": "WEEKLY",
                                    "byday": "SA",
                                    "opens_at": "10:00:00",
                                    "closes_at": "14:00:00",
                                }
                            ],
                        },
                    }
                ],
            }
        )
    (folder / "organizations.json").write_text(json.dumps(organizations))
    (folder / "services.json").write_text(json.dumps(records))


CPU: dict[str, float] = {}


def timed(function, **kwargs):
    """Wall-clock seconds (and CPU seconds of this process, in ``CPU``: SQLite runs in it,
    so on a shared machine that is the figure less disturbed by other work)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = function(**kwargs)
    CPU[getattr(function, "__name__", "")] = time.process_time() - cpu
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="220 services, a few seconds")
    parser.add_argument("--services", type=int, default=None)
    parser.add_argument("--profile", action="store_true", help="cProfile the first import")
    args = parser.parse_args()
    count = args.services or (220 if args.quick else 2200)

    with bench_database() as connection, tempfile.TemporaryDirectory() as tmp:
        from services_directory.hsds.exporter import hsds_export
        from services_directory.hsds.importer import hsds_import
        from services_directory.models import Service

        folder = Path(tmp) / "feed"
        folder.mkdir()
        feed(folder, services=count)
        kwargs = {"path": folder, "time_zone": "America/Los_Angeles"}

        dry_s, dry = timed(hsds_import, dry_run=True, **kwargs)
        dry_cpu = CPU["hsds_import"]
        assert not Service.objects.exists(), "a dry run wrote services"
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
        first_s, first = timed(hsds_import, **kwargs)
        first_cpu = CPU["hsds_import"]
        if args.profile:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
        again_s, again = timed(hsds_import, **kwargs)
        export_s, _ = timed(hsds_export, path=Path(tmp) / "export")

        assert first.errors == [], first.errors[:3]
        assert (dry.created, dry.dry_run) == (first.created, True)
        assert (first.created, again.unchanged) == (count + count // 10, count + count // 10)
        unclassified = len(first.unclassified)
        print(f"HSDS import of a stock feed, {count} services, {connection.vendor}")
        print(
            f"  first import     {first_s:7.2f} s  ({count / first_s:6.0f} services/s), "
            f"CPU {first_cpu:.2f} s"
        )
        print(f"  re-import        {again_s:7.2f} s  (writes nothing)")
        print(f"  dry run          {dry_s:7.2f} s  (rolled back), CPU {dry_cpu:.2f} s")
        print(f"  export           {export_s:7.2f} s")
        print(f"  ratio first import / export   {first_s / export_s:5.1f}")
        print(f"  ratio re-import / first       {again_s / first_s:5.2f}")
        print(f"  unclassified {unclassified} of {count} (mapped by AIRS terms: the others)")
        if count >= 2200 and connection.vendor == "sqlite":
            verdict = "MEETS" if first_s < 60 else "MISSES"
            print(f"  target: under 60 s on SQLite -> {verdict}")


if __name__ == "__main__":
    main()
