"""Factories for tests. Directory rows are made through the services, as production does,
so groups, derived unit vectors and opening hours are always in step."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

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
