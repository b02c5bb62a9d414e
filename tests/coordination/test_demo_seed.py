"""``seed_demo`` shows the product on first run: months of pseudonymous contacts and
referrals in every state, for the board and the dashboard, and the README's example search
finds a service at any hour."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from referral.models import Contact, Referral, ReferralStatus
from tests.factories import api_client_for

pytestmark = pytest.mark.django_db
README_SEARCH = (
    "/api/v1/services/?stage=treatment&accepting=true&open_now=true&near=38.71,-9.14&language=ar"
)


def test_seed_demo_adds_months_of_activity_in_every_state_once(django_user_model):
    call_command("seed_demo", password="demo-pass-123", stdout=None)
    statuses = set(Referral.objects.values_list("status", flat=True))
    assert statuses == set(ReferralStatus.values)
    assert not Referral.objects.filter(identified=True).exists()  # pseudonymous only
    oldest = Contact.objects.order_by("occurred_at").first().occurred_at
    assert timezone.now() - oldest > dt.timedelta(days=60)
    assert Referral.objects.filter(parent__isnull=False).exists()  # forwards have children
    counts = (Contact.objects.count(), Referral.objects.count())
    call_command("seed_demo", password="demo-pass-123", stdout=None)
    assert (Contact.objects.count(), Referral.objects.count()) == counts


@pytest.mark.parametrize("hour", [3, 15, 23])
def test_the_readme_search_finds_a_service_at_any_hour(settings, time_machine, hour):
    settings.CONTINUUM_DEMO_SEEDERS = []
    call_command("seed_demo", password="demo-pass-123", stdout=None)
    from django.contrib.auth import get_user_model

    officer = get_user_model().objects.get(username="officer")
    lisbon = zoneinfo.ZoneInfo("Europe/Lisbon")
    time_machine.move_to(dt.datetime(2026, 12, 6, hour, 30, tzinfo=lisbon))  # a Sunday
    response = api_client_for(officer).get(README_SEARCH)
    assert response.status_code == 200, response.content
    names = [service["name"] for service in response.json()["results"]]
    assert "24-hour treatment intake" in names
