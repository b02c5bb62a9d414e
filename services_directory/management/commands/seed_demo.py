"""Demo City: a task force with its organisations, services, opening hours and users, then
what ``CONTINUUM_DEMO_SEEDERS`` adds (a few months of contacts and referrals).

Idempotent: fixed ids, and rows that exist are left as they are (including passwords), so
running it again changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import import_string

from services_directory import services
from services_directory.models import (
    Location,
    Organization,
    OrganizationKind,
    Role,
    Service,
    Stage,
    TaskForce,
)
from services_directory.services import WeeklyHours

NAMESPACE = uuid.UUID("8c6d1f0e-3b1a-4f4e-9a53-0c5d3f6f2a10")
TIME_ZONE = "Europe/Lisbon"
WEEKDAYS = "MO,TU,WE,TH,FR"


def demo_id(*parts: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, "/".join(parts))


def hours(byday: str, opens: str, closes: str, description: str = "") -> WeeklyHours:
    return WeeklyHours(
        byday=byday,
        opens_at=time.fromisoformat(opens),
        closes_at=time.fromisoformat(closes),
        description=description,
    )


ORGANIZATIONS = [
    # key, kind, name, description
    (
        "police-central",
        OrganizationKind.POLICE,
        "Demo City Police, Central Division",
        "Patrol and deflection officers for the old town and the central districts.",
    ),
    (
        "police-harbour",
        OrganizationKind.POLICE,
        "Demo City Police, Harbour Division",
        "Patrol and deflection officers for the harbour, the station and the riverside.",
    ),
    (
        "red-cross",
        OrganizationKind.RED_CROSS,
        "Red Cross Demo City Branch",
        "Volunteer street outreach, first aid and naloxone distribution.",
    ),
    (
        "municipality",
        OrganizationKind.MUNICIPALITY,
        "Demo City Municipal Outreach",
        "The city's social outreach workers and night outreach van.",
    ),
    (
        "task-force-office",
        OrganizationKind.MUNICIPALITY,
        "Demo City Drug Policy Office",
        "Coordinates the Demo City deflection and continuum-of-care task force.",
    ),
    (
        "treatment-a",
        OrganizationKind.TREATMENT,
        "Ponte Treatment Centre",
        "Opioid agonist treatment, detox and outpatient addiction medicine.",
    ),
    (
        "treatment-b",
        OrganizationKind.TREATMENT,
        "Nova Recovery Clinic",
        "Outpatient counselling and peer-led recovery support.",
    ),
    (
        "harm-reduction",
        OrganizationKind.HARM_REDUCTION,
        "Safe Harbour Harm Reduction",
        "Drop-in centre, syringe service programme and naloxone training.",
    ),
    (
        "testing",
        OrganizationKind.HEALTH,
        "Demo City Community Testing",
        "Walk-in HIV, hepatitis C and STI testing with same-day results.",
    ),
    (
        "housing",
        OrganizationKind.SOCIAL,
        "Casa Aberta Housing",
        "Housing First placements and emergency night shelter.",
    ),
]

LOCATIONS = [
    # org key, key, name, address, lat, lon, location hours
    (
        "red-cross",
        "base",
        "Red Cross Branch Office",
        "Rua da Cruz Vermelha 12",
        38.7139,
        -9.1334,
        [hours(WEEKDAYS, "09:00", "17:00")],
    ),
    (
        "municipality",
        "hub",
        "Municipal Outreach Hub",
        "Praça do Município 3",
        38.7077,
        -9.1365,
        [hours(WEEKDAYS, "08:30", "18:00")],
    ),
    (
        "treatment-a",
        "main",
        "Ponte Treatment Centre",
        "Avenida Almirante Reis 140",
        38.7321,
        -9.1350,
        [hours(WEEKDAYS, "08:00", "20:00"), hours("SA", "09:00", "13:00")],
    ),
    (
        "treatment-b",
        "clinic",
        "Nova Recovery Clinic",
        "Rua de Benfica 250",
        38.7495,
        -9.1880,
        [hours(WEEKDAYS, "10:00", "19:00")],
    ),
    (
        "harm-reduction",
        "dropin",
        "Safe Harbour Drop-in",
        "Rua do Cais do Sodré 8",
        38.7060,
        -9.1440,
        [hours("MO,TU,WE,TH,FR,SA,SU", "10:00", "22:00")],
    ),
    (
        "testing",
        "walkin",
        "Community Testing Point",
        "Rua dos Anjos 51",
        38.7243,
        -9.1361,
        [hours("MO,WE,FR", "12:00", "20:00"), hours("SA", "10:00", "14:00")],
    ),
    (
        "housing",
        "shelter",
        "Casa Aberta Night Shelter",
        "Rua da Esperança 77",
        38.7090,
        -9.1560,
        [hours("MO,TU,WE,TH,FR,SA,SU", "19:00", "08:00")],
    ),
]

SERVICES = [
    # org key, key, name, stage, locations, languages, capacity, accepting, own hours, description
    (
        "red-cross",
        "street",
        "Street outreach and naloxone",
        Stage.OUTREACH,
        ["base"],
        ["pt", "en", "ar"],
        None,
        True,
        [hours("MO,TU,WE,TH,FR,SA", "16:00", "23:00")],
        "Volunteer teams on foot: first aid, naloxone kits, clean supplies, information.",
    ),
    (
        "municipality",
        "van",
        "Night outreach van",
        Stage.OUTREACH,
        ["hub"],
        ["pt", "en", "uk"],
        None,
        True,
        [hours("MO,TU,WE,TH,FR,SA,SU", "20:00", "04:00", "Every night, past midnight")],
        "Mobile outreach through the night: warm drinks, kits, referral on the spot.",
    ),
    (
        "treatment-a",
        "oat",
        "Opioid agonist treatment",
        Stage.TREATMENT,
        ["main"],
        ["pt", "en"],
        12,
        True,
        None,
        "Methadone and buprenorphine induction within 48 hours of referral.",
    ),
    (
        "treatment-a",
        "detox",
        "Residential detox",
        Stage.TREATMENT,
        ["main"],
        ["pt"],
        0,
        False,
        None,
        "Medically supervised withdrawal, 7 to 14 days. Currently full.",
    ),
    (
        "treatment-b",
        "counselling",
        "Outpatient counselling",
        Stage.TREATMENT,
        ["clinic"],
        ["pt", "en", "ar"],
        6,
        True,
        None,
        "Individual and group counselling, evening sessions available.",
    ),
    (
        "treatment-b",
        "intake",
        "24-hour treatment intake",
        Stage.TREATMENT,
        ["clinic"],
        ["pt", "en", "ar"],
        4,
        True,
        [hours("MO,TU,WE,TH,FR,SA,SU", "00:00", "00:00", "Around the clock")],
        "Assessment and a start on treatment at any hour, by phone or at the door.",
    ),
    (
        "treatment-b",
        "peers",
        "Recovery peer support",
        Stage.RECOVERY,
        ["clinic"],
        ["pt", "en"],
        20,
        True,
        [hours("TU,TH", "18:00", "21:00")],
        "Peer-led recovery groups.",
    ),
    (
        "harm-reduction",
        "ssp",
        "Drop-in and syringe service",
        Stage.HARM_REDUCTION,
        ["dropin"],
        ["pt", "en", "ar", "fa"],
        None,
        True,
        None,
        "Sterile supplies, safer-use advice, wound care, drug checking on Fridays.",
    ),
    (
        "harm-reduction",
        "naloxone",
        "Naloxone training",
        Stage.HARM_REDUCTION,
        ["dropin"],
        ["pt", "en"],
        15,
        True,
        [hours("WE", "17:00", "19:00")],
        "Training for people who use drugs, families and peers; kit included.",
    ),
    (
        "testing",
        "rapid",
        "HIV and hepatitis C rapid testing",
        Stage.SCREENING,
        ["walkin"],
        ["pt", "en", "fr"],
        None,
        True,
        None,
        "Rapid tests, results in 20 minutes, linkage to care.",
    ),
    (
        "housing",
        "housing-first",
        "Housing First placements",
        Stage.SOCIAL_SUPPORT,
        ["shelter"],
        ["pt", "en"],
        3,
        True,
        [hours(WEEKDAYS, "09:00", "17:00")],
        "Permanent housing with support for people leaving the street.",
    ),
    (
        "housing",
        "night-shelter",
        "Emergency night shelter",
        Stage.SOCIAL_SUPPORT,
        ["shelter"],
        ["pt", "en", "ar"],
        8,
        True,
        None,
        "Beds from 19:00 to 08:00, no referral needed.",
    ),
]

USERS = [
    # username, org key, role, first, last
    ("officer", "police-central", Role.OFFICER, "Ana", "Ferreira"),
    ("officer2", "police-harbour", Role.OFFICER, "Rui", "Costa"),
    ("volunteer", "red-cross", Role.VOLUNTEER, "Marta", "Silva"),
    ("outreach", "municipality", Role.VOLUNTEER, "João", "Pereira"),
    ("provider", "treatment-a", Role.PROVIDER, "Inês", "Santos"),
    ("provider2", "treatment-b", Role.PROVIDER, "Tiago", "Oliveira"),
    ("harmreduction", "harm-reduction", Role.PROVIDER, "Sofia", "Martins"),
    ("coordinator", "task-force-office", Role.COORDINATOR, "Helena", "Rodrigues"),
    ("orgadmin", "treatment-a", Role.ORG_ADMIN, "Carlos", "Almeida"),
]

ORG_ADMIN_PERMISSIONS = [
    f"{action}_{model}"
    for model in ("service", "location", "schedule", "phone", "language", "serviceatlocation")
    for action in ("view", "add", "change")
] + ["view_organization", "change_organization"]


class Command(BaseCommand):
    help = "Create the Demo City task force, its services and demo users (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--password", help="Password for new demo users (default: demo).")

    def handle(self, *args, password: str | None = None, **options):
        if not password:
            self.stderr.write(
                self.style.WARNING(
                    "No --password given: new demo users get the password 'demo'. "
                    "Never use demo accounts with real data."
                )
            )
            password = "demo"  # noqa: S105 - the documented demo default
        created = seed_demo(password=password)
        # the months of activity the apps above the directory add (contacts, referrals)
        for dotted in getattr(settings, "CONTINUUM_DEMO_SEEDERS", []):
            created += import_string(dotted)()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo City ready ({created} new rows). Users: " + ", ".join(u[0] for u in USERS)
            )
        )


@transaction.atomic
def seed_demo(*, password: str) -> int:
    created = 0
    organizations: dict[str, Organization] = {}
    for key, kind, name, description in ORGANIZATIONS:
        org_id = demo_id("org", key)
        organization = Organization.objects.filter(pk=org_id).first()
        if organization is None:
            organization = services.organization_create(
                id=org_id, name=name, kind=kind, description=description
            )
            created += 1
        organizations[key] = organization

    task_force = TaskForce.objects.filter(name="Demo City").first()
    if task_force is None:
        task_force = services.task_force_create(
            name="Demo City",
            area="Demo City (a Lisbon-like city of 550,000)",
            time_zone=TIME_ZONE,
            organizations=list(organizations.values()),
        )
        created += 1

    locations: dict[tuple[str, str], Location] = {}
    for org_key, key, name, address, lat, lon, location_hours in LOCATIONS:
        location_id = demo_id("location", org_key, key)
        location = Location.objects.filter(pk=location_id).first()
        if location is None:
            location = services.location_create(
                actor=None,
                organization=organizations[org_key],
                id=location_id,
                data={
                    "name": name,
                    "address_1": address,
                    "city": "Demo City",
                    "postal_code": "1100-000",
                    "country": "PT",
                    "latitude": lat,
                    "longitude": lon,
                    "time_zone": TIME_ZONE,
                },
                schedules=location_hours,
            )
            created += 1
        locations[(org_key, key)] = location

    for (
        org_key,
        key,
        name,
        stage,
        location_keys,
        languages,
        capacity,
        accepting,
        own_hours,
        description,
    ) in SERVICES:
        service_id = demo_id("service", org_key, key)
        if Service.objects.filter(pk=service_id).exists():
            continue
        services.service_create(
            actor=None,
            organization=organizations[org_key],
            id=service_id,
            data={
                "name": name,
                "stage": stage,
                "description": description,
                "capacity_available": capacity,
                "accepting_referrals": accepting,
                "eligibility_description": "Adults (18+) in Demo City; no ID needed.",
            },
            location_ids=[locations[(org_key, k)].pk for k in location_keys],
            languages=languages,
            phones=[{"number": f"+351 21 000 {len(name):04d}", "type": "voice"}],
            schedules=own_hours,
        )
        created += 1

    User = get_user_model()
    admin_permissions = list(
        Permission.objects.filter(
            content_type__app_label="services_directory", codename__in=ORG_ADMIN_PERMISSIONS
        )
    )
    for username, org_key, role, first_name, last_name in USERS:
        if User.objects.filter(username=username).exists():
            continue
        user = User.objects.create_user(
            username=username,
            password=password,
            first_name=first_name,
            last_name=last_name,
            email=f"{username}@demo.continuum.invalid",
            is_staff=role == Role.ORG_ADMIN,
        )
        services.membership_set(user=user, organization=organizations[org_key], role=role)
        if role == Role.ORG_ADMIN:
            user.user_permissions.add(*admin_permissions)
        created += 1
    return created
