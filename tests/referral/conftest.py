"""A small task force for referral tests: police send, a clinic and a recovery service
receive, a coordinator watches."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.keys import generate_keyring, reset_keyring_cache, write_key_file
from referral import crypto
from referral.models import Consent, Person
from referral.permissions import person_grant_owner
from services_directory.models import OrganizationKind, Role, Stage
from tests.factories import OrganizationFactory, ServiceFactory, TaskForceFactory, member


@pytest.fixture(autouse=True)
def test_keyring(settings, tmp_path):
    """A keyring of the test's own, in a temporary key file: a key rotation or an erasure in
    one test never reaches another. Yields the key file."""
    settings.CONTINUUM_KEYS = ""
    settings.CONTINUUM_KEY_FILE = tmp_path / "keys.json"
    write_key_file(generate_keyring(), settings.CONTINUUM_KEY_FILE)
    reset_keyring_cache()
    yield settings.CONTINUUM_KEY_FILE
    reset_keyring_cache()


class World:
    pass


@pytest.fixture
def world(db):
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


def make_person(*, organization, actor=None, display_name="JD", **identity) -> Person:
    """A person with encrypted identifying fields, as the people service would store them."""
    person = Person(display_name=display_name, organization=organization, created_by=actor)
    raw, wrapped = crypto.data_key_new(person_id=str(person.pk))
    person.wrapped_data_key, person.data_key_id = wrapped.wrapped, wrapped.key_id
    for field, value in identity.items():
        setattr(
            person,
            f"{field}_enc",
            crypto.field_encrypt(
                data_key=raw, person_id=str(person.pk), field=field, value=str(value)
            ),
        )
    person.save()
    person_grant_owner(person=person)
    return person


def make_consent(*, person, recipients=(), stages=(), **fields) -> Consent:
    consent = Consent.objects.create(
        person=person,
        disclosing_organization=person.organization,
        stages=list(stages),
        information="Name, date of birth, phone",
        purpose="Referral to treatment",
        method="written",
        given_at=fields.pop("given_at", timezone.now() - timedelta(minutes=1)),
        **fields,
    )
    consent.recipients.set(recipients)
    return consent
