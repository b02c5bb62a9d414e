"""The dashboard in a real headless Chromium at phone width (360 px): signed in through the
login form, the pictures are there and nothing is wider than the screen.

Needs Debian's ``chromium`` and ``chromium-driver`` and the ``selenium`` dev dependency; skipped
without them, except in CI (``CONTINUUM_REQUIRE_SERVICES=1``), where that is a failure.
"""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import services_required
from tests.coordination.flows_data import period

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


@pytest.fixture
def browser(tmp_path):
    missing = _missing()
    if missing:
        if services_required():
            pytest.fail(f"the browser test is required in CI: {missing}")
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

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
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--window-size={WIDTH},800",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "mobileEmulation", {"deviceMetrics": {"width": WIDTH, "height": 800, "pixelRatio": 1}}
    )
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _sign_in(browser, base_url: str, username: str, next_url: str) -> None:
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


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("who", ["coordinator", "recovery_worker"])
def test_the_dashboard_fits_a_360px_phone_and_shows_its_pictures(
    browser, live_server, flows_world, tmp_path, who
):
    from urllib.parse import urlencode

    from selenium.webdriver.common.by import By

    # given
    user = getattr(flows_world, who)
    # when
    _sign_in(browser, live_server.url, user.username, f"/dashboard/?{urlencode(period())}")
    # then
    assert "/dashboard/" in browser.current_url, browser.current_url
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Flows")
    pictures = browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert len(pictures) >= 8
    for picture in pictures:
        box = picture.rect
        assert box["width"] > 0 and box["height"] > 0
        assert box["x"] + box["width"] <= WIDTH + TOLERANCE
    assert browser.execute_script("return window.innerWidth") == WIDTH
    scroll_width = browser.execute_script("return document.documentElement.scrollWidth")
    assert scroll_width <= WIDTH + TOLERANCE, f"page is {scroll_width}px wide"
    screenshot = tmp_path / f"dashboard-{who}.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 1000


@pytest.mark.django_db(transaction=True)
def test_the_board_fits_a_360px_phone_and_an_item_is_taken_from_it(
    browser, live_server, world, tmp_path
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from coordination.models import BoardItemState

    # given: a service that is not accepting referrals is on the board (world.closed)
    _sign_in(browser, live_server.url, world.coordinator.username, "/board/")
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Board")
    anchor = f"item-no_capacity-service-{world.closed.pk}"
    item = browser.find_element(By.ID, anchor)
    # when: the coordinator takes it with the item's own form
    Select(item.find_element(By.NAME, "assigned_to")).select_by_value(str(world.coordinator.pk))
    item.find_element(By.CSS_SELECTOR, "button[value=assign]").click()
    WebDriverWait(browser, 20).until(lambda b: b.current_url.endswith(f"#{anchor}"))
    # then
    state = BoardItemState.objects.get(target_id=str(world.closed.pk))
    assert state.assigned_to_id == world.coordinator.pk
    assert "Saved." in browser.find_element(By.CSS_SELECTOR, ".messages").text
    assert browser.execute_script("return window.innerWidth") == WIDTH
    scroll_width = browser.execute_script("return document.documentElement.scrollWidth")
    assert scroll_width <= WIDTH + TOLERANCE, f"page is {scroll_width}px wide"
    screenshot = tmp_path / "board.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 1000
