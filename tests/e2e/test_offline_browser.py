"""The volunteer in the street, in headless Chromium at 360x740 and at 1280x800: with the
phone offline (Chromium's own network emulation, ``Network.emulateNetworkConditions``) they
open the
contact and referral pages from the service worker's copy, log a contact and two referrals
(one for a person already on the phone's page, one for someone new, by street name), and
when the connection comes back each arrives exactly once, also when the phone sends its
queue again as after a dropped answer. Nothing that identifies the person is ever in the
browser's storage: local storage, IndexedDB and Cache Storage are read and searched. Once
they sign out, the pages kept for them are gone from the phone (the assets stay)."""

from __future__ import annotations

import json

import pytest

from referral.models import Contact, Person, Referral
from services_directory.models import OrganizationKind, Role
from tests.browser import SIZES, check_page, set_size, sign_in, wait_for_page
from tests.factories import (
    OrganizationFactory,
    TaskForceFactory,
    member,
    person_create_for,
)

# What the volunteer knows of Lobo and typed, none of which may reach the phone's storage.
IDENTIFYING = ("Ana", "Silva", "1990-04-03", "15112345678", "sleeps at the pier")

_STORAGE_JS = """
const done = arguments[arguments.length - 1];
(async () => {
  const found = {localStorage: {}, indexedDB: {}, caches: {}};
  for (let i = 0; i < localStorage.length; i++) {
    const key = localStorage.key(i);
    found.localStorage[key] = localStorage.getItem(key);
  }
  for (const info of (await indexedDB.databases())) {
    const db = await new Promise((ok, fail) => {
      const open = indexedDB.open(info.name);
      open.onsuccess = () => ok(open.result);
      open.onerror = () => fail(open.error);
    });
    for (const name of db.objectStoreNames) {
      const rows = await new Promise((ok, fail) => {
        const all = db.transaction(name).objectStore(name).getAll();
        all.onsuccess = () => ok(all.result);
        all.onerror = () => fail(all.error);
      });
      found.indexedDB[info.name + "/" + name] = JSON.stringify(rows);
    }
    db.close();
  }
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const response = await cache.match(request);
      found.caches[new URL(request.url).pathname] = await response.text();
    }
  }
  return found;
})().then(done, (error) => done({error: String(error)}));
"""


def _storage(browser) -> dict:
    found = browser.execute_async_script(_STORAGE_JS)
    assert "error" not in found, found
    return found


def _network(browser, *, offline: bool) -> None:
    """Chromium's own network emulation (DevTools' "Offline"): the page, its fetches and
    its service worker's fall-back requests see no network. While a page is replaced,
    Chromium tells the old one it is online again: the pages start no upload once left."""
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )


def _queued(browser, what: str) -> list:
    return json.loads(
        browser.execute_script(f"return localStorage.getItem('continuum.{what}.queue.volunteer-t')")
        or "[]"
    )


def _until(browser, condition, message: str, timeout: float = 30) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, timeout, poll_frequency=0.25).until(
        lambda _b: condition(), message=message
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", SIZES)
def test_the_volunteer_logs_a_contact_and_referrals_offline_and_each_arrives_once(
    browser, live_server, world, size
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    red_cross = OrganizationFactory(name="Red Cross", kind=OrganizationKind.RED_CROSS)
    TaskForceFactory(organizations=[red_cross, world.clinic])
    volunteer = member(organization=red_cross, role=Role.VOLUNTEER, username="volunteer-t")
    lobo = person_create_for(
        volunteer,
        display_name="Lobo",
        given_name="Ana",
        family_name="Silva",
        birth_date="1990-04-03",
        phone="+4915112345678",
    )

    set_size(browser, *size)
    # online: the volunteer opens their pages once, and the worker keeps a copy of each
    sign_in(browser, live_server.url, volunteer.username, "/contacts/new/")
    browser.execute_async_script(
        "navigator.serviceWorker.ready.then(() => arguments[arguments.length - 1](true))"
    )
    browser.get(f"{live_server.url}/people/{lobo.pk}/")  # identity on screen, never kept
    wait_for_page(browser, f"/people/{lobo.pk}/")
    assert "Silva" in browser.find_element(By.TAG_NAME, "main").text
    for page in ("/referrals/new/", "/directory/", "/contacts/new/"):
        browser.get(f"{live_server.url}{page}")
        wait_for_page(browser, page)
    _until(
        browser,
        lambda: {"/contacts/new/", "/referrals/new/", "/directory/"}
        <= set(_storage(browser)["caches"]),
        "the service worker did not keep the three pages",
    )

    # offline: the contact page from the phone's copy
    _network(browser, offline=True)
    assert browser.execute_script("return navigator.onLine") is False
    browser.get(f"{live_server.url}/contacts/new/")
    wait_for_page(browser, "/contacts/new/")
    check_page(browser)
    browser.find_element(By.ID, "c-place").send_keys("Harbour")
    browser.find_element(By.CSS_SELECTOR, "label[for='c-offered-naloxone']").click()
    browser.find_element(By.ID, "c-notes").send_keys("Ana sleeps at the pier")
    browser.find_element(By.CSS_SELECTOR, "button.contact-save").click()
    # notes are never kept on the phone: without a connection the form says so, unchanged
    notes_problem = browser.find_element(By.ID, "c-notes-offline")
    _until(browser, notes_problem.is_displayed, "no word that notes need a connection")
    assert browser.find_element(By.ID, "c-place").get_attribute("value") == "Harbour"
    browser.find_element(By.ID, "c-notes").clear()
    browser.find_element(By.CSS_SELECTOR, "button.contact-save").click()
    status = browser.find_element(By.ID, "queue-status")
    _until(browser, lambda: "1 contact waiting" in status.text, "the contact was not queued")
    check_page(browser)

    # offline: the referral page from the phone's copy, for someone new and for Lobo
    browser.get(f"{live_server.url}/referrals/new/?service={world.treatment.pk}")
    wait_for_page(browser, "/referrals/new/")
    assert browser.find_element(By.ID, "rq-offline").is_displayed()
    assert browser.find_element(By.ID, "n-reason").get_attribute("disabled")
    check_page(browser)
    assert Select(browser.find_element(By.ID, "n-service")).first_selected_option.get_attribute(
        "value"
    ) == str(world.treatment.pk)  # the directory's choice, made by the page's script
    browser.find_element(By.ID, "n-new-person").send_keys("Kite")
    browser.find_element(By.CSS_SELECTOR, "label[for='n-pathway-active_outreach']").click()
    browser.find_element(By.XPATH, "//main//button[normalize-space()='Continue']").click()
    referral_status = browser.find_element(By.ID, "rq-status")
    _until(browser, lambda: "1 referral waiting" in referral_status.text, "not queued")
    Select(browser.find_element(By.ID, "n-person")).select_by_visible_text("Lobo")
    Select(browser.find_element(By.ID, "n-service")).select_by_value(str(world.treatment.pk))
    browser.find_element(By.CSS_SELECTOR, "label[for='n-pathway-active_outreach']").click()
    browser.find_element(By.XPATH, "//main//button[normalize-space()='Continue']").click()
    _until(browser, lambda: "2 referrals waiting" in referral_status.text, "not queued")
    check_page(browser)
    assert Contact.objects.count() == 0 and Referral.objects.count() == 0

    # what the phone holds: the queues and the pages, nothing that identifies anyone
    stored = _storage(browser)
    everything = json.dumps(stored)
    for text in IDENTIFYING:
        assert text not in everything, f"{text!r} is in the browser's storage"
    assert f"/people/{lobo.pk}/" not in stored["caches"]
    queued = {key: value for key, value in stored["localStorage"].items() if "queue" in key}
    assert len(json.loads(queued["continuum.contacts.queue.volunteer-t"])) == 1
    assert len(json.loads(queued["continuum.referrals.queue.volunteer-t"])) == 2

    # online again: the referral page sends its queue at once, the contact page its own
    _network(browser, offline=False)
    _until(browser, lambda: Referral.objects.count() == 2, "the referrals did not arrive")
    _until(browser, lambda: _queued(browser, "referrals") == [], "a referral stayed queued")
    assert "2 referrals sent" in browser.find_element(By.ID, "rq-saved-text").text
    browser.get(f"{live_server.url}/contacts/new/")
    wait_for_page(browser, "/contacts/new/")
    _until(browser, lambda: Contact.objects.count() == 1, "the contact did not arrive")
    _until(browser, lambda: _queued(browser, "contacts") == [], "the contact stayed queued")

    # the phone sends the same queue again (its answer was lost): nothing arrives twice
    browser.execute_script(
        "localStorage.setItem('continuum.contacts.queue.volunteer-t', arguments[0]);"
        "localStorage.setItem('continuum.referrals.queue.volunteer-t', arguments[1]);",
        queued["continuum.contacts.queue.volunteer-t"],
        queued["continuum.referrals.queue.volunteer-t"],
    )
    for page, queue in (("/contacts/new/", "contacts"), ("/referrals/new/", "referrals")):
        browser.get(f"{live_server.url}{page}")
        wait_for_page(browser, page)
        _until(
            browser,
            lambda queue=queue: _queued(browser, queue) == [],
            f"the replayed {queue} did not leave the queue",
        )
    assert browser.find_element(By.ID, "rq-problems").is_displayed() is False

    contact = Contact.objects.get()
    assert (contact.place, contact.offered, contact.notes_enc) == ("Harbour", ["naloxone"], None)
    assert contact.organization == red_cross
    kite = Person.objects.get(display_name="Kite")
    assert kite.organization == red_cross and not kite.blind_index
    by_person = {r.person.display_name: r for r in Referral.objects.select_related("person")}
    assert set(by_person) == {"Kite", "Lobo"} and Referral.objects.count() == 2
    for referral in by_person.values():
        assert (referral.to_service, referral.sender) == (world.treatment, volunteer)
    assert Person.objects.filter(display_name="Kite").count() == 1

    # the volunteer signs out: the pages kept for them go (the picker named Lobo), the
    # assets stay, and offline the phone no longer opens the contact page of the last member
    lobo_on_page = browser.find_element(By.ID, "n-person").text
    assert "Lobo" in lobo_on_page
    assert any("Lobo" in text for text in _storage(browser)["caches"].values())
    browser.find_element(By.CSS_SELECTOR, ".app-header__signout button").click()
    _until(
        browser,
        lambda: browser.execute_script(
            "return document.documentElement.dataset.offlineCopies === 'forgotten'"
        ),
        "the login page did not have the kept pages forgotten",
    )
    kept = _storage(browser)["caches"]
    assert not {"/contacts/new/", "/referrals/new/", "/directory/"} & set(kept), set(kept)
    assert kept and all(path.startswith(("/static/", "/i18n/")) for path in kept), set(kept)
    assert not any("Lobo" in text for text in kept.values())
    from selenium.common.exceptions import WebDriverException

    _network(browser, offline=True)
    try:
        browser.get(f"{live_server.url}/contacts/new/")
    except WebDriverException as error:  # no copy to answer with: Chromium's "no connection"
        assert "net::ERR_" in error.msg, error.msg
    assert not browser.find_elements(By.ID, "contact-form")
    assert "Lobo" not in browser.page_source
    _network(browser, offline=False)


@pytest.mark.django_db(transaction=True)
def test_a_queued_referral_the_service_no_longer_takes_is_kept_apart_in_plain_words(
    browser, live_server, world
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from services_directory.models import Service

    red_cross = OrganizationFactory(name="Red Cross", kind=OrganizationKind.RED_CROSS)
    TaskForceFactory(organizations=[red_cross, world.clinic])
    volunteer = member(organization=red_cross, role=Role.VOLUNTEER, username="volunteer-t")
    person_create_for(volunteer, display_name="Lobo")
    set_size(browser, 360, 740)
    sign_in(browser, live_server.url, volunteer.username, "/referrals/new/")
    browser.execute_async_script(
        "navigator.serviceWorker.ready.then(() => arguments[arguments.length - 1](true))"
    )
    browser.get(f"{live_server.url}/referrals/new/")
    wait_for_page(browser, "/referrals/new/")
    _until(
        browser,
        lambda: "/referrals/new/" in _storage(browser)["caches"],
        "the service worker did not keep the referral page",
    )
    # offline, the volunteer refers Lobo to the treatment service
    _network(browser, offline=True)
    browser.get(f"{live_server.url}/referrals/new/")
    wait_for_page(browser, "/referrals/new/")
    Select(browser.find_element(By.ID, "n-person")).select_by_visible_text("Lobo")
    Select(browser.find_element(By.ID, "n-service")).select_by_value(str(world.treatment.pk))
    browser.find_element(By.CSS_SELECTOR, "label[for='n-pathway-active_outreach']").click()
    browser.find_element(By.XPATH, "//main//button[normalize-space()='Continue']").click()
    status = browser.find_element(By.ID, "rq-status")
    _until(browser, lambda: "1 referral waiting" in status.text, "not queued")
    # meanwhile the service stops taking referrals; back online, the API refuses it
    Service.objects.filter(pk=world.treatment.pk).update(accepting_referrals=False)
    _network(browser, offline=False)
    problems = browser.find_element(By.ID, "rq-problem-list")
    _until(browser, lambda: problems.text.strip() != "", "the refusal was not shown")
    assert _queued(browser, "referrals") == []  # out of the queue: nothing retries it
    text = problems.text
    # the page's words: the service and person by name, the field by its label
    assert world.treatment.name in text and "Lobo" in text, text
    assert "To: Not accepting referrals." in text, text
    assert "to_service" not in text and str(world.treatment.pk) not in text, text
    assert Referral.objects.count() == 0
    check_page(browser)
