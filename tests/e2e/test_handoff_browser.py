"""The whole hand-off through the pages alone, in headless Chromium at 360x740 and again at
1280x800: the officer records a person and their consent and refers them
named; the provider sees the disclosed fields,
writes a note, accepts, engages and forwards; the next provider sees its referral (with no
link to the one it may not see) and the officer sees the chain, status only. Every page
passes ``check_page`` (no sideways scrolling, axe-core, 44 px targets)."""

from __future__ import annotations

import pytest

from referral.models import Referral, ReferralNote
from tests.browser import SIZES, check_page, set_size, sign_in, wait_for_page


def _sign_out(browser):
    browser.delete_all_cookies()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", SIZES)
def test_officer_to_provider_to_the_next_provider(browser, live_server, world, size):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    def click(css):
        browser.find_element(By.CSS_SELECTOR, css).click()

    def button(text):
        browser.find_element(By.XPATH, f"//main//button[normalize-space()='{text}']").click()

    def fill(element_id, value):
        field = browser.find_element(By.ID, element_id)
        field.clear()
        field.send_keys(value)

    def checked(fragment=""):
        wait_for_page(browser, fragment)
        check_page(browser)

    set_size(browser, *size)
    # the officer records the person, pseudonym first
    sign_in(browser, live_server.url, world.officer.username, "/people/new/")
    checked("/people/new/")
    fill("p-display-name", "Lobo")
    click("summary.govuk-details__summary")
    fill("p-given-name", "Ana")
    fill("p-family-name", "Silva")
    fill("p-birth-date-day", "3")
    fill("p-birth-date-month", "4")
    fill("p-birth-date-year", "1990")
    button("Record person")
    checked("/people/")
    assert "Silva" in browser.find_element(By.TAG_NAME, "main").text
    # and their consent, the re-disclosure notice on the page
    browser.find_element(By.LINK_TEXT, "Record consent").click()
    checked("/consents/new/")
    assert "42 CFR part 2" in browser.find_element(By.CSS_SELECTOR, ".app-notice").text
    click(
        "label[for='c-recipients']"
        if _first_is(browser, world.clinic)
        else f"label[for='c-recipient-{world.clinic.pk}']"
    )
    fill("c-purpose", "Treatment and follow-up.")
    click("label[for='c-method']")
    button("Record consent")
    checked("/people/")
    # and refers them named (the form is plain HTML: no script takes part in it)
    browser.find_element(By.XPATH, "//main//a[starts-with(normalize-space(), 'Refer')]").click()
    checked("/referrals/new/")
    Select(browser.find_element(By.ID, "n-service")).select_by_value(str(world.treatment.pk))
    click("label[for='n-pathway-officer_intervention']")
    button("Continue")
    checked("/referrals/new/")
    assert "Check your answers" in browser.find_element(By.TAG_NAME, "h1").text
    button("Send named referral")
    checked("/referrals/")
    referral = Referral.objects.get()
    assert referral.identified and referral.person.display_name == "Lobo"

    # the provider: the inbox, the disclosed fields, a note, accept, engage, forward
    _sign_out(browser)
    sign_in(browser, live_server.url, world.provider.username, "/")
    checked("direction=received")
    browser.find_element(By.CSS_SELECTOR, f'a[href="/referrals/{referral.pk}/"]').click()
    checked(f"/referrals/{referral.pk}/")
    who = browser.find_element(By.ID, "identity-title").find_element(By.XPATH, "..").text
    assert "Ana" in who and "Silva" in who
    fill("note-text", "Called ahead; expected Monday.")
    button("Save note")
    checked(f"/referrals/{referral.pk}/")
    assert ReferralNote.objects.filter(referral=referral).count() == 1
    button("Accept")
    checked(f"/referrals/{referral.pk}/")
    button("Record engagement")
    checked(f"/referrals/{referral.pk}/")
    Select(browser.find_element(By.ID, "m-forwarded-service")).select_by_value(
        str(world.recovery.pk)
    )
    fill("m-forwarded-reason", "Ready for the recovery group.")
    button("Forward…")
    checked(f"/referrals/{referral.pk}/")
    child = Referral.objects.get(parent=referral)

    # the next provider sees its referral, without a link to the one it may not see
    _sign_out(browser)
    sign_in(browser, live_server.url, world.recovery_worker.username, f"/referrals/{child.pk}/")
    checked(f"/referrals/{child.pk}/")
    main = browser.find_element(By.TAG_NAME, "main")
    assert not main.find_elements(By.CSS_SELECTOR, f'a[href="/referrals/{referral.pk}/"]')
    assert "an earlier referral of another organisation" in main.text

    # the officer sees the chain, status only
    _sign_out(browser)
    sign_in(browser, live_server.url, world.officer.username, "/referrals/?direction=sent")
    checked("direction=sent")
    chain = browser.find_element(By.CSS_SELECTOR, ".app-chain").text
    assert "Forwarded to Recovery group" in chain and "Sent" in chain
    assert "Ready for the recovery group" not in browser.page_source


def _first_is(browser, organization) -> bool:
    from selenium.webdriver.common.by import By

    first = browser.find_element(By.ID, "c-recipients")
    return first.get_attribute("value") == str(organization.pk)
