"""Factories for tests. Directory rows are made through the services, as production does,
so groups, derived unit vectors and opening hours are always in step."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

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


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.invalid")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-1")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy hook
        if create:
            obj.save()


class OrganizationFactory(factory.Factory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = OrganizationKind.TREATMENT
    description = "An organisation of the task force."

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.organization_create(**kwargs)


class TaskForceFactory(factory.Factory):
    class Meta:
        model = TaskForce

    name = factory.Sequence(lambda n: f"Task force {n}")
    area = "Test City"
    time_zone = "Europe/Berlin"

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.task_force_create(**kwargs)


def member(*, organization: Organization, role: str = Role.PROVIDER, **user_fields):
    user = UserFactory(**user_fields)
    services.membership_set(user=user, organization=organization, role=role)
    user.refresh_from_db()
    return user


class LocationFactory(factory.Factory):
    class Meta:
        model = Location

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Location {n}")
    latitude = 52.52
    longitude = 13.405
    time_zone = "Europe/Berlin"

    @classmethod
    def _create(cls, model_class, organization, schedules=None, **data):
        return services.location_create(
            actor=None, organization=organization, data=data, schedules=schedules
        )


class ServiceFactory(factory.Factory):
    class Meta:
        model = Service

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Service {n}")
    stage = Stage.TREATMENT

    @classmethod
    def _create(
        cls,
        model_class,
        organization,
        locations=None,
        languages=None,
        schedules=None,
        phones=None,
        **data,
    ):
        return services.service_create(
            actor=None,
            organization=organization,
            data=data,
            location_ids=[loc.pk for loc in locations] if locations is not None else None,
            languages=languages,
            schedules=schedules,
            phones=phones,
        )


def person_create_for(user, *, display_name: str = "J.D.", **identity):
    """A person recorded by ``user``'s organisation through the service, as the API does."""
    from referral.services.people import person_create

    return person_create(actor=user, display_name=display_name, **identity)


def consent_create_for(user, person, *, recipients=(), stages=(), **fields):
    """A consent recorded by ``user`` (of the organisation that recorded ``person``)."""
    from referral.services.consents import consent_create

    values = {
        "information": "Names, date of birth and phone number.",
        "purpose": "Treatment referral.",
        "method": "verbal_witnessed",
        **fields,
    }
    return consent_create(
        actor=user,
        person=person,
        recipients=[o.pk for o in recipients],
        stages=list(stages),
        **values,
    )


def care_network():
    """A task force of four organisations with one member each, plus a stranger outside it:
    outreach (records people), clinic (receives referrals), police, and a coordinator at the
    municipality. Returns a namespace of organisations and users."""
    from types import SimpleNamespace

    outreach = OrganizationFactory(name="Street Outreach", kind=OrganizationKind.RED_CROSS)
    clinic = OrganizationFactory(name="Clinic", kind=OrganizationKind.TREATMENT)
    police = OrganizationFactory(name="Police", kind=OrganizationKind.POLICE)
    municipality = OrganizationFactory(name="Municipality", kind=OrganizationKind.MUNICIPALITY)
    elsewhere = OrganizationFactory(name="Elsewhere", kind=OrganizationKind.NGO)
    TaskForceFactory(organizations=[outreach, clinic, police, municipality])
    return SimpleNamespace(
        outreach=outreach,
        clinic=clinic,
        police=police,
        municipality=municipality,
        elsewhere=elsewhere,
        volunteer=member(organization=outreach, role=Role.VOLUNTEER),
        provider=member(organization=clinic, role=Role.PROVIDER),
        officer=member(organization=police, role=Role.OFFICER),
        coordinator=member(organization=municipality, role=Role.COORDINATOR),
        stranger=member(organization=elsewhere, role=Role.PROVIDER),
        clinic_service=ServiceFactory(organization=clinic, stage=Stage.TREATMENT),
    )


def referral_sent(person=None, *, sender, service, pathway=None, **fields):
    """A referral made through the referral service, with its grants, first event, audit
    event and notification; identified only if a consent covers the receiver."""
    from referral.models import Pathway
    from referral.services.referrals import referral_create

    referral, _ = referral_create(
        sender=sender,
        service=service,
        pathway=pathway or Pathway.ACTIVE_OUTREACH,
        person=person,
        **fields,
    )
    return referral


# --- a small task force and its people (shared by referral and coordination tests) ----


class World:
    pass


def care_world() -> World:
    """Police send, a clinic and a recovery service receive, a coordinator watches, an
    outsider sees nothing."""
    w = World()
    w.police = OrganizationFactory(name="Police", kind=OrganizationKind.POLICE)
    w.clinic = OrganizationFactory(name="Clinic", kind=OrganizationKind.TREATMENT)
    w.recovery_org = OrganizationFactory(name="Recovery", kind=OrganizationKind.TREATMENT)
    w.outsider_org = OrganizationFactory(name="Elsewhere", kind=OrganizationKind.NGO)
    w.office = OrganizationFactory(name="Task force office", kind=OrganizationKind.MUNICIPALITY)
    w.task_force = TaskForceFactory(
        organizations=[w.police, w.clinic, w.recovery_org, w.office], time_zone="Europe/Berlin"
    )
    w.treatment = ServiceFactory(organization=w.clinic, name="Treatment", stage=Stage.TREATMENT)
    w.recovery = ServiceFactory(
        organization=w.recovery_org, name="Recovery group", stage=Stage.RECOVERY
    )
    w.closed = ServiceFactory(
        organization=w.recovery_org,
        name="Full house",
        stage=Stage.RECOVERY,
        accepting_referrals=False,
    )
    w.officer = member(organization=w.police, role=Role.OFFICER, username="officer-t")
    w.officer_colleague = member(organization=w.police, role=Role.OFFICER, username="officer-c")
    w.provider = member(organization=w.clinic, role=Role.PROVIDER, username="provider-t")
    w.recovery_worker = member(organization=w.recovery_org, role=Role.PROVIDER, username="rw-t")
    w.outsider = member(organization=w.outsider_org, role=Role.PROVIDER, username="outsider-t")
    w.coordinator = member(organization=w.office, role=Role.COORDINATOR, username="coord-t")
    return w


def api_client_for(user) -> APIClient:
    """An API client that authenticates with a device token of ``user`` (the phones' way
    in), issued as a sign-in issues it; the raw token is kept on ``client.token``."""
    from services_directory.accounts import token_issue

    client = APIClient()
    _, token = token_issue(user=user, device="tests")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    client.token = token
    return client
