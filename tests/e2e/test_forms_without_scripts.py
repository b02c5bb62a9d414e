"""Every main form works with scripts off: a headless Chromium whose pages run no script
(JavaScript blocked in its content settings) logs a contact, records a person and their
consent, makes a named referral through the check-your-answers step, and the provider writes
a note and accepts it; each form shows its result on the next page, at 360 px."""

from __future__ import annotations

import pytest

from referral.models import Consent, Contact, Person, Referral, ReferralNote, ReferralStatus
from tests.browser import check_page, press, wait_for_page


@pytest.mark.django_db(transaction=True)
def test_the_main_forms_work_with_scripts_off(browser_without_scripts, live_server, world):
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser = browser_without_scripts

    def click(css):
        press(browser, browser.find_element(By.CSS_SELECTOR, css))

    def button(text):
        press(
            browser, browser.find_element(By.XPATH, f"//main//button[normalize-space()='{text}']")
        )

    def choose(element_id, value):
        # what picking an option does; Selenium's Select clicks through a script timer
        browser.execute_script(
            "document.getElementById(arguments[0]).value = arguments[1]", element_id, value
        )

    def sign_in(username, next_url):
        browser.get(f"{live_server.url}{next_url}")
        assert "/accounts/login/" in browser.current_url
        fill("id_username", username)
        fill("id_password", "pw-for-tests-1")
        click("form button[type=submit]")
        wait_for_page(browser, next_url.split("?")[0])

    def fill(element_id, value):
        browser.find_element(By.ID, element_id).send_keys(value)

    def main_text():
        # A post without scripts replaces the page: the <main> found may be the old one's by
        # the time its text is read (stale, or "node does not belong to the document"). The
        # wait polls again; what it waits for must still appear.
        try:
            return browser.find_element(By.TAG_NAME, "main").text
        except WebDriverException:
            return ""

    def arrived(fragment):
        wait_for_page(browser, fragment)
        # no script of the page ran: GOV.UK Frontend's marker class is missing
        assert "js-enabled" not in browser.find_element(By.TAG_NAME, "body").get_attribute("class")
        check_page(browser, axe=False)  # scripts off: no timers, so no axe-core here

    # the officer logs a contact: the form posts itself and the page says it is saved
    sign_in(world.officer.username, "/contacts/new/")
    arrived("/contacts/new/")
    fill("c-place", "Central station")
    click("label[for='c-offered-naloxone']")
    click("button.contact-save")
    WebDriverWait(browser, 30).until(lambda _b: "Contact saved." in main_text())
    arrived("/contacts/new/")
    assert Contact.objects.get().place == "Central station"

    # records a person (the names behind a <details>, which opens without scripts)
    browser.get(f"{live_server.url}/people/new/")
    arrived("/people/new/")
    fill("p-display-name", "Lobo")
    click("summary.govuk-details__summary")
    fill("p-given-name", "Ana")
    fill("p-family-name", "Silva")
    button("Record person")
    WebDriverWait(browser, 30).until(lambda _b: Person.objects.exists())
    arrived("/people/")
    person = Person.objects.get()
    assert "Silva" in main_text()

    # and their consent
    press(browser, browser.find_element(By.LINK_TEXT, "Record consent"))
    arrived("/consents/new/")
    first = browser.find_element(By.ID, "c-recipients")
    label = (
        "c-recipients"
        if first.get_attribute("value") == str(world.clinic.pk)
        else f"c-recipient-{world.clinic.pk}"
    )
    click(f"label[for='{label}']")
    fill("c-purpose", "Treatment and follow-up.")
    click("label[for='c-method']")
    button("Record consent")
    WebDriverWait(browser, 30).until(lambda _b: Consent.objects.filter(person=person).exists())
    arrived(f"/people/{person.pk}/")
    assert Consent.objects.filter(person=person).count() == 1

    # refers them named: the form, then check your answers, then sent
    browser.get(f"{live_server.url}/referrals/new/?person={person.pk}")
    arrived("/referrals/new/")
    assert browser.find_element(By.ID, "rq-offline").is_displayed() is False
    choose("n-service", str(world.treatment.pk))
    click("label[for='n-pathway-officer_intervention']")
    fill("n-reason", "Asked for a bed.")
    button("Continue")
    arrived("/referrals/new/")
    assert "Check your answers" in browser.find_element(By.TAG_NAME, "h1").text
    button("Send named referral")
    WebDriverWait(browser, 30).until(lambda _b: Referral.objects.exists())
    referral = Referral.objects.get()
    arrived(f"/referrals/{referral.pk}/")
    assert referral.identified and "Referral sent, named" in main_text()

    # the provider writes a note and accepts
    browser.delete_all_cookies()
    sign_in(world.provider.username, f"/referrals/{referral.pk}/")
    arrived(f"/referrals/{referral.pk}/")
    fill("note-text", "Called ahead.")
    button("Save note")
    WebDriverWait(browser, 30).until(lambda _b: ReferralNote.objects.exists())
    arrived(f"/referrals/{referral.pk}/")
    assert ReferralNote.objects.filter(referral=referral).count() == 1
    assert "Called ahead." in main_text()
    button("Accept")
    WebDriverWait(browser, 30).until(
        lambda _b: Referral.objects.filter(status=ReferralStatus.ACCEPTED).exists()
    )
    arrived(f"/referrals/{referral.pk}/")
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED
    assert "Accepted" in main_text()
