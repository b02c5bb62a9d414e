"""The coordinator and the org admin, each on their main path through the pages alone in
headless Chromium at 360x740 and at 1280x800; every page passes ``check_page``."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from coordination.models import AgendaItem
from services_directory.models import Membership, OpeningHours, Role
from services_directory.selectors import service_is_open
from tests.browser import SIZES, check_page, set_size, sign_in, wait_for_page
from tests.factories import UserFactory, member


def _button(browser, text):
    from selenium.webdriver.common.by import By

    browser.find_element(By.XPATH, f"//main//button[normalize-space()='{text}']").click()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", SIZES)
def test_the_coordinator_plans_a_conference_from_the_board(browser, live_server, world, size):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    set_size(browser, *size)
    sign_in(browser, live_server.url, world.coordinator.username, "/")
    wait_for_page(browser, "/board/")
    check_page(browser)
    browser.find_element(By.CSS_SELECTOR, "nav a[href='/conferences/']").click()
    wait_for_page(browser, "/conferences/")
    check_page(browser)
    browser.find_element(By.ID, "cf-title").send_keys("Weekly review")
    browser.execute_script("document.getElementById('cf-held-on').value = '2026-12-07'")
    _button(browser, "Plan conference")
    wait_for_page(browser, "/conferences/")
    check_page(browser)
    _button(browser, "Add to agenda")  # the first board item: the full service
    # the URL stays /conferences/<id>/: wait for the item rather than for the page
    WebDriverWait(browser, 30).until(lambda _b: AgendaItem.objects.exists())
    wait_for_page(browser, "/conferences/")
    assert "Full house" in AgendaItem.objects.get().title
    browser.find_element(By.PARTIAL_LINK_TEXT, "Print the agenda").click()
    wait_for_page(browser, "/agenda/")
    check_page(browser)
    assert "Full house" in browser.find_element(By.TAG_NAME, "main").text


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", SIZES)
def test_the_org_admin_adds_a_member_and_sets_hours(browser, live_server, world, size):
    from selenium.webdriver.common.by import By

    admin = member(organization=world.clinic, role=Role.ORG_ADMIN, username="clinic-admin")
    newcomer = UserFactory(username="newcomer")
    set_size(browser, *size)
    sign_in(browser, live_server.url, admin.username, "/")
    wait_for_page(browser, "/organization/")
    check_page(browser)
    browser.find_element(By.ID, "o-identifier").send_keys("newcomer")
    _button(browser, "Add member")
    wait_for_page(browser, "/organization/")
    check_page(browser)
    assert Membership.objects.get(user=newcomer).organization == world.clinic
    browser.find_element(By.CSS_SELECTOR, "label[for='o-hours']").click()
    pk = world.treatment.pk
    browser.execute_script(
        "document.getElementById(arguments[0]).value = '09:00';"
        "document.getElementById(arguments[1]).value = '17:00';",
        f"o-opens-{pk}",
        f"o-closes-{pk}",
    )
    browser.find_element(
        By.XPATH, "//main//button[starts-with(normalize-space(), 'Add hours')]"
    ).click()
    wait_for_page(browser, "/organization/")
    check_page(browser)
    assert world.treatment.schedules.get().byday == "MO"

    # and open_now honours them: open on a Monday at 10:00 in the hours' zone, shut at 18:00
    # and on Tuesday
    zones = OpeningHours.objects.filter(service=world.treatment).values_list("time_zone")
    monday = datetime(2026, 11, 30, tzinfo=ZoneInfo(zones.distinct().get()[0]))
    assert service_is_open(service=world.treatment, at=monday.replace(hour=10))
    assert not service_is_open(service=world.treatment, at=monday.replace(hour=18))
    assert not service_is_open(service=world.treatment, at=monday.replace(day=1, month=12, hour=10))


@pytest.mark.django_db(transaction=True)
def test_the_org_admin_gives_an_imported_service_its_stage(browser, live_server, world):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from services_directory.models import Service
    from tests.factories import ServiceFactory

    # given a service of the clinic imported without a stage
    imported = ServiceFactory(organization=world.clinic, name="Imported drop-in", stage="")
    admin = member(organization=world.clinic, role=Role.ORG_ADMIN, username="clinic-admin")
    set_size(browser, 360, 740)
    sign_in(browser, live_server.url, admin.username, "/")
    wait_for_page(browser, "/organization/")

    # then it is on the to-do list, and the page passes at phone width
    assert "To do: services without a stage" in browser.find_element(By.TAG_NAME, "main").text
    check_page(browser)

    # when the admin chooses its stage
    Select(browser.find_element(By.ID, "o-stage")).select_by_value("harm_reduction")
    browser.find_element(
        By.XPATH, "//main//button[starts-with(normalize-space(), 'Save stage')]"
    ).click()
    wait_for_page(browser, "/organization/")

    # then it has one and the to-do list is gone
    check_page(browser)
    assert Service.objects.get(pk=imported.pk).stage == "harm_reduction"
    assert "To do" not in browser.find_element(By.TAG_NAME, "main").text
