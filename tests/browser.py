"""Real headless Chromium for page tests, at phone width (360 px).

Needs Debian's ``chromium`` and ``chromium-driver`` and the ``selenium`` dev dependency; skipped
without them, except in CI (``CONTINUUM_REQUIRE_SERVICES=1``), where that is a failure. The
``browser`` fixture is imported into ``tests/conftest.py`` for every test.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
WIDTH = 360
TOLERANCE = 2  # px: rounding of sub-pixel layout


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    for name, where in (("chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER)):
        if shutil.which(where) is None:
            return f"{name} not found at {where} (apt-get install chromium chromium-driver)"
    return None


def _chromium(profile_dir, *, scripts: bool = True):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    class Chromium(webdriver.Chrome):
        """Remembers the origins it opened, so that a reset can clear what they stored."""

        def get(self, url: str) -> None:
            parts = urlsplit(url)
            if parts.scheme in {"http", "https"}:
                self.origins.add(f"{parts.scheme}://{parts.netloc}")
            super().get(url)

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile_dir}",
        f"--window-size={WIDTH},800",
    ):
        options.add_argument(argument)
    # The console log, read after each test for Content-Security-Policy violations.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.add_experimental_option(
        "mobileEmulation", {"deviceMetrics": {"width": WIDTH, "height": 800, "pixelRatio": 1}}
    )
    if not scripts:
        # the page's own scripts never run (the driver's still can, to measure the page)
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    driver = Chromium(options=options, service=Service(CHROMEDRIVER))
    driver.origins = set()
    driver.set_page_load_timeout(30)
    return driver


def _reset(driver) -> None:
    """Leave nothing of one test for the next: cookies (the session), local storage,
    IndexedDB (the contact queue), caches and service workers of every origin opened."""
    driver.get("about:blank")
    for origin in driver.origins:
        driver.execute_cdp_cmd(
            "Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "all"}
        )
    driver.origins.clear()
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    # and the phone it was: online, 360 px wide (a test may have gone offline or to a laptop)
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    set_size(driver, WIDTH, 800)


@pytest.fixture(scope="session")
def _shared_chromium(tmp_path_factory):
    """One Chromium for every page test of a test process (each xdist worker has its own)."""
    from tests.conftest import services_required

    missing = _missing()
    if missing:
        if services_required():
            pytest.fail(f"the browser test is required in CI: {missing}")
        pytest.skip(missing)
    holder = {"driver": _chromium(tmp_path_factory.mktemp("chromium") / "profile")}
    yield holder
    holder["driver"].quit()


@pytest.fixture
def browser_without_scripts(tmp_path):
    """A second headless Chromium at 360 px in which pages' scripts are switched off, for
    "the page works with scripts off where it is a form"; its own profile, for one test."""
    from tests.conftest import services_required

    missing = _missing()
    if missing:
        if services_required():
            pytest.fail(f"the browser test is required in CI: {missing}")
        pytest.skip(missing)
    driver = _chromium(tmp_path / "profile-no-scripts", scripts=False)
    driver.set_script_timeout(10)
    yield driver
    driver.quit()


def press(driver, element) -> None:
    """A real click (mouse down and up at the element's centre, through the DevTools
    protocol), for pages without scripts: chromedriver's own click waits on a script timer
    that never fires there."""
    x, y = driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center'});"
        "const box = arguments[0].getBoundingClientRect();"
        "return [box.x + box.width / 2, box.y + box.height / 2];",
        element,
    )
    for kind in ("mousePressed", "mouseReleased"):
        driver.execute_cdp_cmd(
            "Input.dispatchMouseEvent",
            {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1},
        )


def csp_violations(driver) -> list[str]:
    """Console messages since the last call that report a Content-Security-Policy
    violation (Chromium logs each refused script, style or connection as an error)."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if "Content Security Policy" in entry["message"]
    ]


@pytest.fixture
def browser(_shared_chromium, tmp_path_factory):
    """Headless Chromium at 360 px, through chromedriver (Debian's packages), clean for
    each test: the shared browser is reset after use, and replaced if it broke. A test
    whose pages broke the Content-Security-Policy fails (errors) at teardown."""
    driver = _shared_chromium["driver"]
    with contextlib.suppress(Exception):
        csp_violations(driver)  # drain what an earlier test left in the log
    yield driver
    violations: list[str] = []
    try:
        violations = csp_violations(driver)
        _reset(driver)
    except Exception:  # noqa: BLE001 - a browser a test broke is replaced, not reused
        with contextlib.suppress(Exception):
            driver.quit()
        _shared_chromium["driver"] = _chromium(tmp_path_factory.mktemp("chromium") / "profile")
    assert not violations, f"Content-Security-Policy violations: {violations}"


def sign_in(browser, base_url: str, username: str, next_url: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{base_url}{next_url}")
    # not signed in: the dashboard sends us to the login form, which brings us back
    assert "/accounts/login/" in browser.current_url
    browser.find_element(By.ID, "id_username").send_keys(username)
    browser.find_element(By.ID, "id_password").send_keys("pw-for-tests-1")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 20).until(
        lambda b: "/accounts/login/" not in b.current_url
        and b.execute_script("return document.readyState") == "complete"
        and b.find_elements(By.CSS_SELECTOR, "main h1")
    )


AXE = Path(__file__).resolve().parent.parent / "static" / "vendor" / "axe" / "axe.min.js"
TARGET = 44  # px, WCAG 2.5.5 (AAA) and GOV.UK's touch target
# Interactive elements a finger has to hit; an inline link inside a sentence is exempt
# (WCAG 2.5.8's inline exception), as are elements not shown.
_TARGETS_JS = """
const small = [];
for (const el of document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary')) {
  const style = getComputedStyle(el);
  if (style.visibility === 'hidden' || style.display === 'none') continue;
  if (el.closest('.govuk-visually-hidden, .govuk-skip-link, [hidden]')) continue;
  const box = el.getBoundingClientRect();
  if (box.width === 0 && box.height === 0) continue;
  if (el.tagName === 'A' && style.display === 'inline') {
    const parent = el.parentElement;
    const text = parent ? parent.textContent.replace(el.textContent, '').trim() : '';
    if (text.length > 0) continue;
  }
  if (box.width < arguments[0] - 0.5 || box.height < arguments[0] - 0.5) {
    const name = (el.textContent || el.name || '').trim().slice(0, 30);
    const size = `${Math.round(box.width)}x${Math.round(box.height)}`;
    small.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${name}" ${size}`);
  }
}
return small;
"""


def check_page(browser, *, width: int | None = None, axe: bool = True) -> None:
    """What every page of the browser tests must hold: no horizontal scrolling, axe-core
    (vendored from npm, injected from the repo's static files) finds no serious or critical
    violation, and every touch target is at least 44 x 44 px. ``axe=False`` where pages run
    no scripts: timers never fire there, so axe-core cannot (the same pages are checked
    with scripts on)."""
    where = browser.current_url
    width = width or browser.execute_script("return window.innerWidth")
    scroll_width = browser.execute_script("return document.documentElement.scrollWidth")
    assert scroll_width <= width + TOLERANCE, f"{where}: {scroll_width}px wide at {width}px"
    if axe:
        _check_axe(browser, where)
    small = browser.execute_script(_TARGETS_JS, TARGET)
    assert small == [], f"{where}: touch targets under {TARGET}px: {small}"


def _check_axe(browser, where: str) -> None:
    if not browser.execute_script("return typeof window.axe !== 'undefined'"):
        browser.execute_script(AXE.read_text())
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(r.violations.filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', '))))"
        ".catch(e => done(['axe failed: ' + e]));"
    )
    assert result == [], f"{where}: axe-core found {result}"


# The two devices every main path is walked on: a phone in the street, a laptop at a desk.
SIZES = [pytest.param((360, 740), id="360x740"), pytest.param((1280, 800), id="1280x800")]


def set_size(browser, width: int, height: int) -> None:
    """Emulate a device of this size (360x740 phone, 1280x800 laptop)."""
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def replaced_page_errors() -> tuple[type[Exception], ...]:
    """What a wait across a page replacement (a post, a redirect, a reload) polls again on: an
    element of the old page gone stale, or Chromium's "node does not belong to the document"
    (a plain WebDriverException, the base of both). What the wait waits for must still
    appear."""
    from selenium.common.exceptions import WebDriverException

    return (WebDriverException,)


def wait_for_page(browser, path_fragment: str = "") -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 20, ignored_exceptions=replaced_page_errors()).until(
        lambda b: path_fragment in b.current_url
        and b.execute_script("return document.readyState") == "complete"
        and b.find_elements(By.CSS_SELECTOR, "main h1")
    )
