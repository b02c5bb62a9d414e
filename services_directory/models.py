"""The task force's network and its services directory, in the HSDS 3.0 vocabulary.

HSDS entities (organization, service, location, service_at_location, phone, language,
schedule) keep HSDS field names and UUID ids so that import/export round-trips by id.
Continuum's own fields (organisation ``kind``, service ``stage``, referral capacity and SLA,
location time zone) are extensions, exported under a ``continuum`` key.
"""

from __future__ import annotations

import functools
import math
import uuid
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from knox.models import AbstractAuthToken

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@functools.cache
def _iana_zones() -> frozenset[str]:
    # available_timezones() walks the zone database on disk: once per process, not per row.
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in _iana_zones():
        raise ValidationError(f"{value!r} is not an IANA time zone (e.g. Europe/Berlin).")


class OrganizationKind(models.TextChoices):
    POLICE = "police", "Police"
    RED_CROSS = "red_cross", "Red Cross / Red Crescent"
    MUNICIPALITY = "municipality", "Municipality"
    TREATMENT = "treatment", "Treatment provider"
    HARM_REDUCTION = "harm_reduction", "Harm reduction"
    HEALTH = "health", "Health"
    SOCIAL = "social", "Social services"
    NGO = "ngo", "NGO"


class Role(models.TextChoices):
    VOLUNTEER = "volunteer", "Outreach volunteer"
    OFFICER = "officer", "Deflection officer"
    PROVIDER = "provider", "Provider staff"
    COORDINATOR = "coordinator", "Task-force coordinator"
    ORG_ADMIN = "org_admin", "Organisation admin"


class Stage(models.TextChoices):
    """The continuum of care, street to recovery, in order."""

    OUTREACH = "outreach", "Outreach"
    SCREENING = "screening", "Screening"
    HARM_REDUCTION = "harm_reduction", "Harm reduction"
    TREATMENT = "treatment", "Treatment"
    RECOVERY = "recovery", "Recovery"
    SOCIAL_SUPPORT = "social_support", "Social support"


class ServiceStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    DEFUNCT = "defunct", "Defunct"
    TEMPORARILY_CLOSED = "temporarily closed", "Temporarily closed"


class LocationType(models.TextChoices):
    PHYSICAL = "physical", "Physical"
    POSTAL = "postal", "Postal"
    VIRTUAL = "virtual", "Virtual"


class Organization(models.Model):
    """An agency of the task force (HSDS organization). Its members share one auth group."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    alternate_name = models.CharField(max_length=200, blank=True)
    description = models.TextField()
    # Blank when an imported feed does not say (stock HSDS has no such field).
    kind = models.CharField(max_length=20, choices=OrganizationKind.choices, blank=True)
    email = models.EmailField(blank=True)
    website = models.URLField(blank=True)
    year_incorporated = models.PositiveSmallIntegerField(null=True, blank=True)
    legal_status = models.CharField(max_length=200, blank=True)
    uri = models.URLField(blank=True)
    parent_organization = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="organization")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["kind"])]

    def __str__(self) -> str:
        return self.name


class TaskForce(models.Model):
    """A local set of organisations with a coverage area and the time zone it works in."""

    name = models.CharField(max_length=200, unique=True)
    area = models.CharField(max_length=200, help_text="Coverage area, e.g. a city or district.")
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    organizations = models.ManyToManyField(Organization, related_name="task_forces", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's place in the task force: one organisation, one role."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "role"])]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.organization})"


class Location(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="locations"
    )
    location_type = models.CharField(
        max_length=10, choices=LocationType.choices, default=LocationType.PHYSICAL
    )
    name = models.CharField(max_length=200, blank=True)
    alternate_name = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    transportation = models.TextField(blank=True)
    url = models.URLField(blank=True)
    latitude = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    longitude = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    # One postal address, HSDS address fields.
    address_1 = models.CharField(max_length=200, blank=True)
    address_2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    state_province = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    # The point on the unit sphere. For a query point q, ordering by x*qx + y*qy + z*qz
    # (descending) is exactly ordering by great-circle distance, with plain arithmetic that
    # SQLite and PostgreSQL both evaluate natively. Kept in step with latitude/longitude.
    unit_x = models.FloatField(null=True, blank=True, editable=False)
    unit_y = models.FloatField(null=True, blank=True, editable=False)
    unit_z = models.FloatField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name or f"Location {self.id}"

    def save(self, *args, **kwargs) -> None:
        # Derived columns only; no business rules here (those live in services).
        self.set_unit_vector()
        super().save(*args, **kwargs)

    def set_unit_vector(self) -> None:
        if self.latitude is None or self.longitude is None:
            self.unit_x = self.unit_y = self.unit_z = None
            return
        self.unit_x, self.unit_y, self.unit_z = unit_vector(self.latitude, self.longitude)


def unit_vector(latitude: float, longitude: float) -> tuple[float, float, float]:
    lat, lon = math.radians(latitude), math.radians(longitude)
    return (math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat))


class Service(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="services"
    )
    name = models.CharField(max_length=200)
    alternate_name = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    url = models.URLField(blank=True)
    email = models.EmailField(blank=True)
    status = models.CharField(
        max_length=20, choices=ServiceStatus.choices, default=ServiceStatus.ACTIVE
    )
    interpretation_services = models.TextField(blank=True)
    application_process = models.TextField(blank=True)
    fees_description = models.TextField(blank=True)
    eligibility_description = models.TextField(blank=True)
    minimum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    maximum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    alert = models.TextField(blank=True)
    wait_time = models.CharField(max_length=200, blank=True)
    # The wait the service states for a place, in days (the board flags people waiting
    # longer; 14 days when not stated), and its current wait as the referral service keeps
    # it: how many wait now and the median days from joining the list to the expected start.
    stated_wait_days = models.PositiveSmallIntegerField(null=True, blank=True)
    waiting_count = models.PositiveIntegerField(default=0, editable=False)
    current_wait_days = models.PositiveIntegerField(null=True, blank=True, editable=False)
    # Blank is "unclassified": a service imported from a feed that says nothing Continuum can
    # read as a stage. It is listed in the directory but not offered for referrals until an
    # organisation admin gives it a stage (``services_unclassified`` is their to-do list).
    stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    accepting_referrals = models.BooleanField(default=True)
    capacity_available = models.PositiveIntegerField(
        null=True, blank=True, help_text="Free places now; empty means not tracked."
    )
    referral_sla_hours = models.PositiveIntegerField(
        default=48, validators=[MinValueValidator(1), MaxValueValidator(24 * 90)]
    )
    locations = models.ManyToManyField(
        Location, through="ServiceAtLocation", related_name="services", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["stage", "name"]),
            models.Index(fields=["accepting_referrals", "stage"]),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def classified(self) -> bool:
        return bool(self.stage)


class ServiceAtLocation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="service_at_locations"
    )
    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, related_name="service_at_locations"
    )
    description = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "location"], name="unique_service_location")
        ]

    def __str__(self) -> str:
        return f"{self.service} at {self.location}"


class Phone(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    service_at_location = models.ForeignKey(
        ServiceAtLocation, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    number = models.CharField(max_length=50)
    extension = models.CharField(max_length=20, blank=True)
    type = models.CharField(max_length=20, blank=True, help_text="text, voice, fax, cell, …")
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["number", "id"]

    def __str__(self) -> str:
        return self.number


class Language(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="languages"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="languages"
    )
    phone = models.ForeignKey(
        Phone, null=True, blank=True, on_delete=models.CASCADE, related_name="languages"
    )
    name = models.CharField(max_length=100, blank=True)
    code = models.CharField(max_length=20, blank=True, help_text="ISO 639 code, lower case")
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["code", "name", "id"]
        indexes = [models.Index(fields=["code"]), models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.code or self.name


class Schedule(models.Model):
    """Opening hours: a weekly rule (HSDS schedule, RFC 5545 style) for a service, a location
    or a service at a location. ``closes_at`` at or before ``opens_at`` means past midnight."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="schedules"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="schedules"
    )
    service_at_location = models.ForeignKey(
        ServiceAtLocation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="schedules",
    )
    freq = models.CharField(
        max_length=10, choices=[("WEEKLY", "Weekly"), ("MONTHLY", "Monthly")], default="WEEKLY"
    )
    byday = models.CharField(max_length=40, blank=True, help_text="e.g. MO,TU,WE")
    opens_at = models.TimeField(null=True, blank=True)
    closes_at = models.TimeField(null=True, blank=True)
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    description = models.TextField(blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.byday} {self.opens_at}-{self.closes_at}"

    def days(self) -> list[int]:
        return [WEEKDAYS.index(d) for d in self.byday.split(",") if d in WEEKDAYS]

    def weekly_intervals(self) -> list[tuple[int, int]]:
        """Minute-of-week intervals [opens, closes), Monday 00:00 = 0.

        An interval may end past the end of the week (Sunday 22:00 to Monday 02:00 ends at
        10200): queries test both the minute ``m`` and ``m + MINUTES_PER_WEEK``.
        """
        if self.freq != "WEEKLY" or self.opens_at is None or self.closes_at is None:
            return []
        opens = self.opens_at.hour * 60 + self.opens_at.minute
        closes = self.closes_at.hour * 60 + self.closes_at.minute
        if closes <= opens:  # past midnight; equal times mean open around the clock
            closes += MINUTES_PER_DAY
        return [
            (day * MINUTES_PER_DAY + opens, day * MINUTES_PER_DAY + closes) for day in self.days()
        ]


OPEN_AT_COLUMNS = [
    "time_zone",
    "opens_minute",
    "closes_minute",
    "valid_from",
    "valid_to",
    "service",
    "location",
    "unit_x",
    "unit_y",
    "unit_z",
]


class OpeningHours(models.Model):
    """Derived from schedules: when each service is open at each location, in that
    location's time zone. Rebuilt by ``opening_hours_rebuild`` whenever a schedule, a
    service's locations or a location's time zone change; never edited by hand."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="opening_hours")
    location = models.ForeignKey(
        Location, null=True, on_delete=models.CASCADE, related_name="opening_hours"
    )
    time_zone = models.CharField(max_length=64)
    # The service's stage, copied here so that "open now, at this stage" is one range scan of
    # the stage's part of an index instead of every open row joined to its service. Kept in
    # step by opening_hours_rebuild and by service_update when the stage changes.
    stage = models.CharField(max_length=20, choices=Stage.choices, default="")
    # The location's point on the unit sphere, copied here so that "open now, nearest first"
    # reads one covering index and never joins the locations.
    unit_x = models.FloatField(null=True)
    unit_y = models.FloatField(null=True)
    unit_z = models.FloatField(null=True)
    opens_minute = models.PositiveIntegerField()
    closes_minute = models.PositiveIntegerField()
    valid_from = models.DateField(null=True)
    valid_to = models.DateField(null=True)

    class Meta:
        # Covering indexes for "open at minute m" (and at a stage): the range scan answers
        # without the table.
        indexes = [
            models.Index(fields=OPEN_AT_COLUMNS, name="opening_hours_open_at"),
            models.Index(fields=["stage", *OPEN_AT_COLUMNS], name="opening_hours_stage_open_at"),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} {self.opens_minute}-{self.closes_minute} {self.time_zone}"


class DeviceToken(AbstractAuthToken):
    """An API token for one device sign-in (django-rest-knox, ``KNOX_TOKEN_MODEL``).

    Only a SHA-512 digest of the token is stored; the token itself is shown once, in the
    sign-in answer. ``token_key`` (its first 15 characters) finds the row and names the
    device in the token list. The expiry moves forward on use (knox ``AUTO_REFRESH``)."""

    device = models.CharField(max_length=100, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.device or 'device'} of {self.user_id}"
