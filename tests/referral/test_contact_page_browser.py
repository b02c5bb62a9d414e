"""The contact page's offline queue in a real headless Chromium at 360 px.

"Offline" is real: Chromium reaches the live server through a small TCP relay on another
port, and the test closes the relay (connections refused) and opens it again on the same
port, so the page and its service worker meet a dead network exactly as a phone does."""

from __future__ import annotations

import contextlib
import socket
import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from referral.models import Contact
from tests.browser import TOLERANCE, WIDTH, check_page, replaced_page_errors, sign_in

WAIT = 20  # seconds for the page to do what it says


class Relay:
    """Forwards localhost:<port> to the live server while open; refuses while closed."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = _free_port()
        self.listener: socket.socket | None = None
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()

    def open(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(32)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def close(self) -> None:
        """Down: the port refuses, and open connections are cut."""
        if self.listener is not None:
            # shutdown first: on Linux a bare close() leaves a blocked accept() accepting
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            self.listener = None
        with self.lock:
            for connection in self.connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            self.connections.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(source, sink), daemon=True).start()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    for end in (source, sink):
        with contextlib.suppress(OSError):
            end.shutdown(socket.SHUT_RDWR)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def relay(live_server):
    host, port = live_server.thread.host, live_server.thread.port
    relay = Relay(("127.0.0.1" if host == "localhost" else host, port))
    relay.open()
    yield relay
    relay.close()


def _wait(browser, condition, message):
    from selenium.webdriver.support.ui import WebDriverWait

    # a reload replaces the page under the condition: its old elements go stale meanwhile
    wait = WebDriverWait(browser, WAIT, ignored_exceptions=replaced_page_errors())
    wait.until(lambda b: condition(), message=message)


def _fill(browser, *, place: str, offers: list[str]) -> None:
    from selenium.webdriver.common.by import By

    form = browser.find_element(By.ID, "contact-form")
    form.find_element(By.NAME, "place").send_keys(place)
    for offer in offers:
        form.find_element(By.CSS_SELECTOR, f"input[name=offered][value={offer}]").click()
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def _status(browser) -> str:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.ID, "queue-status").text


@pytest.mark.django_db(transaction=True)
def test_contacts_logged_offline_upload_once_the_connection_is_back(
    browser, relay, world, tmp_path
):
    from selenium.webdriver.common.by import By

    base = f"http://localhost:{relay.port}"
    # given: signed in, the page open once online (the service worker keeps a copy)
    sign_in(browser, base, world.officer.username, "/contacts/new/")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Log a contact"
    _wait(
        browser,
        lambda: browser.execute_script(
            "return !!(navigator.serviceWorker && navigator.serviceWorker.controller)"
        )
        or browser.execute_script("location.reload(); return false;"),
        "the service worker never took control of the page",
    )
    # when: the network goes away and two contacts are logged
    relay.close()
    _fill(browser, place="Central station", offers=["naloxone", "information"])
    _wait(browser, lambda: "1 contact waiting" in _status(browser), "first contact not queued")
    _fill(browser, place="Harbour", offers=["syringes"])
    _wait(browser, lambda: "2 contacts waiting" in _status(browser), "second contact not queued")
    assert "No connection" in _status(browser)
    assert not Contact.objects.exists()
    # the page still opens offline, from the service worker, with the queue intact
    browser.get(f"{base}/contacts/new/")
    _wait(browser, lambda: "2 contacts waiting" in _status(browser), "queue lost on reload")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Log a contact"
    # then: back online, "Upload now" sends them, each exactly once
    relay.open()
    browser.find_element(By.ID, "upload-now").click()
    _wait(browser, lambda: Contact.objects.count() == 2, "contacts not uploaded")
    _wait(browser, lambda: not browser.find_element(By.ID, "queue").is_displayed(), "queue")
    contacts = {c.place: c for c in Contact.objects.all()}
    assert sorted(contacts["Central station"].offered) == ["information", "naloxone"]
    assert contacts["Harbour"].offered == ["syringes"]
    assert all(c.organization == world.police for c in contacts.values())
    assert all(timezone.now() - c.occurred_at < timedelta(minutes=10) for c in contacts.values())
    # a contact logged online goes straight up; a reload uploads nothing again
    _fill(browser, place="Park", offers=[])
    _wait(browser, lambda: Contact.objects.count() == 3, "online contact not uploaded")
    browser.get(f"{base}/contacts/new/")
    browser.find_element(By.ID, "contact-form")
    assert Contact.objects.count() == 3
    # and the page fits the phone
    assert browser.execute_script("return window.innerWidth") == WIDTH
    scroll_width = browser.execute_script("return document.documentElement.scrollWidth")
    assert scroll_width <= WIDTH + TOLERANCE, f"page is {scroll_width}px wide"
    check_page(browser)  # axe-core, touch targets
    assert browser.save_screenshot(str(tmp_path / "contact-page.png"))


@pytest.mark.django_db(transaction=True)
def test_a_contact_the_api_refuses_is_kept_apart_with_its_reason(browser, relay, world):
    from selenium.webdriver.common.by import By

    base = f"http://localhost:{relay.port}"
    sign_in(browser, base, world.officer.username, "/contacts/new/")
    # a time far in the future: the API refuses it (at most 5 minutes ahead)
    browser.execute_script(
        "document.querySelector('[name=occurred_at]').value = '2099-01-01T10:00';"
    )
    _fill(browser, place="Nowhere", offers=[])
    _wait(
        browser,
        lambda: browser.find_element(By.ID, "queue-problem-list").text != "",
        "the refusal was not shown",
    )
    problem = browser.find_element(By.ID, "queue-problem-list").text
    # in the page's words: the field's label and the pathway's name, not the API's codes
    assert "When: " in problem and "Active outreach" in problem, problem
    assert "occurred_at" not in problem and "active_outreach" not in problem, problem
    assert not Contact.objects.exists()
    # it left the upload queue (nothing retries it) and can be discarded
    assert not browser.find_element(By.ID, "queue").is_displayed()
    browser.find_element(By.CSS_SELECTOR, "#queue-problem-list button").click()
    _wait(
        browser,
        lambda: not browser.find_element(By.ID, "queue-problems").is_displayed(),
        "not discarded",
    )
