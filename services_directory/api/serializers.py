"""Output shapes of the directory API and the input shapes of its writes."""

from __future__ import annotations

import re

from rest_framework import serializers

from core.api.params import (
    CoordinatesField,
    StrictBodySerializer,
    StrictBooleanField,
    StrictQuerySerializer,
    validate_language,
)
from services_directory.models import (
    WEEKDAYS,
    Language,
    Location,
    LocationType,
    Organization,
    OrganizationKind,
    Phone,
    Schedule,
    Service,
    ServiceStatus,
    Stage,
    TaskForce,
)
from services_directory.selectors import (
    CARD_LISTS,
    LANGUAGE_CARD_FIELDS,
    LOCATION_CARD_FIELDS,
    PHONE_CARD_FIELDS,
    SCHEDULE_CARD_FIELDS,
    SERVICE_CARD_FIELDS,
    distance_km,
)
from services_directory.services import WeeklyHours

# --- output --------------------------------------------------------------------------------


class LanguageOutput(serializers.ModelSerializer):
    class Meta:
        model = Language
        fields = list(LANGUAGE_CARD_FIELDS)


class PhoneOutput(serializers.ModelSerializer):
    class Meta:
        model = Phone
        fields = list(PHONE_CARD_FIELDS)


class ScheduleOutput(serializers.ModelSerializer):
    class Meta:
        model = Schedule
        fields = list(SCHEDULE_CARD_FIELDS)


class OrganizationSummary(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "kind"]


class TaskForceOutput(serializers.ModelSerializer):
    class Meta:
        model = TaskForce
        fields = ["id", "name", "area", "time_zone"]


class OrganizationOutput(serializers.ModelSerializer):
    phones = PhoneOutput(many=True, read_only=True)
    task_forces = TaskForceOutput(many=True, read_only=True)

    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "alternate_name",
            "kind",
            "description",
            "email",
            "website",
            "year_incorporated",
            "legal_status",
            "uri",
            "parent_organization",
            "phones",
            "task_forces",
        ]


class LocationOutput(serializers.ModelSerializer):
    schedules = ScheduleOutput(many=True, read_only=True)

    class Meta:
        model = Location
        fields = [*LOCATION_CARD_FIELDS, "schedules"]


class ServiceOutput(serializers.ModelSerializer):
    organization = OrganizationSummary(read_only=True)
    languages = LanguageOutput(many=True, read_only=True)
    phones = PhoneOutput(many=True, read_only=True)
    schedules = ScheduleOutput(many=True, read_only=True)
    locations = LocationOutput(many=True, read_only=True)
    distance_km = serializers.SerializerMethodField()

    class Meta:
        model = Service
        # the card fields of service_cards, which a test holds to this serializer
        fields = [*SERVICE_CARD_FIELDS, *CARD_LISTS]

    def get_distance_km(self, service: Service) -> float | None:
        """Great-circle distance to the nearest (open, with open_now) location; only with
        ``near``."""
        value = distance_km(getattr(service, "proximity", None))
        return None if value is None else round(value, 3)


# --- query parameters ----------------------------------------------------------------------


class ServiceListParams(StrictQuerySerializer):
    stage = serializers.ChoiceField(choices=Stage.choices, required=False)
    accepting = StrictBooleanField(required=False)
    open_now = StrictBooleanField(required=False)
    near = CoordinatesField(required=False)
    language = serializers.CharField(required=False, max_length=40, validators=[validate_language])
    q = serializers.CharField(required=False, max_length=200, trim_whitespace=True)
    organization = serializers.UUIDField(required=False)

    def validate_organization(self, value):
        if not Organization.objects.filter(pk=value).exists():
            raise serializers.ValidationError("No such organisation.")
        return value


class OrganizationListParams(StrictQuerySerializer):
    kind = serializers.ChoiceField(choices=OrganizationKind.choices, required=False)
    q = serializers.CharField(required=False, max_length=200)


class LocationListParams(StrictQuerySerializer):
    organization = serializers.UUIDField(required=False)


# --- input ---------------------------------------------------------------------------------

BYDAY_RE = re.compile(rf"^(?:{'|'.join(WEEKDAYS)})(?:,(?:{'|'.join(WEEKDAYS)}))*$")


class WeeklyHoursInput(StrictBodySerializer):
    byday = serializers.RegexField(
        BYDAY_RE, error_messages={"invalid": "Days as MO,TU,WE,TH,FR,SA,SU, comma-separated."}
    )
    opens_at = serializers.TimeField()
    closes_at = serializers.TimeField(
        help_text="At or before opens_at means the hours run past midnight."
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=500)
    valid_from = serializers.DateField(required=False, allow_null=True)
    valid_to = serializers.DateField(required=False, allow_null=True)

    def validate(self, attrs):
        if (
            attrs.get("valid_from")
            and attrs.get("valid_to")
            and attrs["valid_to"] < attrs["valid_from"]
        ):
            raise serializers.ValidationError({"valid_to": ["Must not be before valid_from."]})
        return attrs


class PhoneInput(StrictBodySerializer):
    number = serializers.RegexField(
        r"^[0-9+() .\-/]{3,50}$", error_messages={"invalid": "Digits, spaces and + ( ) - . /."}
    )
    extension = serializers.CharField(required=False, allow_blank=True, max_length=20)
    type = serializers.ChoiceField(
        required=False, choices=["text", "voice", "fax", "cell", "video", "pager", "textphone"]
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=200)


class ServiceInput(StrictBodySerializer):
    name = serializers.CharField(max_length=200)
    alternate_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    url = serializers.URLField(required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=ServiceStatus.choices, required=False)
    interpretation_services = serializers.CharField(required=False, allow_blank=True)
    application_process = serializers.CharField(required=False, allow_blank=True)
    fees_description = serializers.CharField(required=False, allow_blank=True)
    eligibility_description = serializers.CharField(required=False, allow_blank=True)
    minimum_age = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=130
    )
    maximum_age = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=130
    )
    alert = serializers.CharField(required=False, allow_blank=True)
    wait_time = serializers.CharField(required=False, allow_blank=True, max_length=200)
    stated_wait_days = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=365,
        help_text="The wait for a place the service states, in days: the board flags people "
        "waiting longer (14 days when not stated).",
    )
    stage = serializers.ChoiceField(choices=Stage.choices)
    accepting_referrals = serializers.BooleanField(required=False)
    capacity_available = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    referral_sla_hours = serializers.IntegerField(required=False, min_value=1, max_value=24 * 90)
    location_ids = serializers.ListField(child=serializers.UUIDField(), required=False)
    languages = serializers.ListField(
        child=serializers.CharField(max_length=20, validators=[validate_language]), required=False
    )
    phones = PhoneInput(many=True, required=False)
    schedules = WeeklyHoursInput(many=True, required=False)

    def validate_schedules(self, value):
        return validate_schedules(value)

    def validate(self, attrs):
        low, high = attrs.get("minimum_age"), attrs.get("maximum_age")
        if low is not None and high is not None and high < low:
            raise serializers.ValidationError({"maximum_age": ["Must not be below minimum_age."]})
        return attrs


class LocationInput(StrictBodySerializer):
    location_type = serializers.ChoiceField(choices=LocationType.choices, required=False)
    name = serializers.CharField(max_length=200)
    alternate_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    transportation = serializers.CharField(required=False, allow_blank=True)
    url = serializers.URLField(required=False, allow_blank=True)
    latitude = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
    longitude = serializers.FloatField(
        required=False, allow_null=True, min_value=-180, max_value=180
    )
    time_zone = serializers.CharField(required=False, max_length=64)
    address_1 = serializers.CharField(required=False, allow_blank=True, max_length=200)
    address_2 = serializers.CharField(required=False, allow_blank=True, max_length=200)
    city = serializers.CharField(required=False, allow_blank=True, max_length=100)
    region = serializers.CharField(required=False, allow_blank=True, max_length=100)
    state_province = serializers.CharField(required=False, allow_blank=True, max_length=100)
    postal_code = serializers.CharField(required=False, allow_blank=True, max_length=20)
    country = serializers.RegexField(r"^[A-Z]{2}$", required=False, allow_blank=True)
    schedules = WeeklyHoursInput(many=True, required=False)

    def validate_schedules(self, value):
        return validate_schedules(value)

    def validate_time_zone(self, value):
        from services_directory.models import validate_time_zone

        try:
            validate_time_zone(value)
        except Exception as exc:  # Django's ValidationError -> DRF's
            raise serializers.ValidationError(str(exc.messages[0])) from exc
        return value


def validate_schedules(value: list[dict]) -> list[dict]:
    """Each weekly-hours entry whole, also in a PATCH (where DRF makes nested fields optional)."""
    for entry in value:
        missing = [name for name in ("byday", "opens_at", "closes_at") if name not in entry]
        if missing:
            raise serializers.ValidationError(f"Each schedule needs {', '.join(missing)}.")
    return value


def pop_schedules(attrs: dict) -> list[WeeklyHours] | None:
    """The weekly hours given (removed from ``attrs``), or None when none were given."""
    if "schedules" not in attrs:
        return None
    return [WeeklyHours(**s) for s in attrs.pop("schedules")]


def split_service_input(attrs: dict) -> tuple[dict, dict]:
    """Scalar fields for the service row, and the related lists that replace stored ones."""
    related = {}
    for key in ("location_ids", "languages", "phones"):
        if key in attrs:
            related[key] = attrs.pop(key)
    if (schedules := pop_schedules(attrs)) is not None:
        related["schedules"] = schedules
    return attrs, related


class TokenInput(StrictBodySerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(
        max_length=1024, trim_whitespace=False, style={"input_type": "password"}
    )
    device = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text="A name for this device, shown in the list of signed-in devices.",
    )
    otp = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        help_text=(
            "The second factor (authenticator app code or a recovery code): required for "
            "coordinators, org admins and superusers when CONTINUUM_2FA_REQUIRED is on."
        ),
    )


class TokenOutput(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")
    expiry = serializers.DateTimeField(
        allow_null=True, help_text="Moves forward each time the token is used."
    )


class DeviceTokenOutput(serializers.Serializer):
    id = serializers.CharField(source="token_key")
    device = serializers.CharField()
    created = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    expiry = serializers.DateTimeField(allow_null=True)
    current = serializers.SerializerMethodField()

    def get_current(self, token) -> bool:
        current = self.context.get("current")
        return current is not None and token.pk == current.pk


class PasswordChangeInput(serializers.Serializer):
    old_password = serializers.CharField(max_length=1024, trim_whitespace=False)
    new_password = serializers.CharField(max_length=1024, trim_whitespace=False)


class MeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.CharField()
    is_superuser = serializers.BooleanField()
    organization = OrganizationSummary(allow_null=True)
    role = serializers.CharField(allow_null=True)
    task_forces = TaskForceOutput(many=True)
