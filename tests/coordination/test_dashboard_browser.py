"""The dashboard and the board in a real headless Chromium at phone width (360 px): signed in
through the login form, the pictures are there and nothing is wider than the screen
(the ``browser`` fixture: ``tests/browser.py``)."""

from __future__ import annotations

import pytest

from tests.browser import TOLERANCE, WIDTH, check_page, replaced_page_errors, sign_in
from tests.coordination.flows_data import period


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
    sign_in(browser, live_server.url, user.username, f"/dashboard/?{urlencode(period())}")
    # then
    assert "/dashboard/" in browser.current_url, browser.current_url
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Flows")
    pictures = browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert len(pictures) >= 8
    for picture in pictures:
        box = picture.rect
        assert box["width"] > 0 and box["height"] > 0
        if "chart-wide" in picture.get_attribute("class"):
            # the Sankey keeps its labels readable and scrolls sideways in its own frame
            frame = picture.find_element(By.XPATH, "..").rect
            assert frame["x"] + frame["width"] <= WIDTH + TOLERANCE
            label_px = browser.execute_script(
                "const t = arguments[0].querySelector('text');"
                "return t.getBoundingClientRect().height;",
                picture,
            )
            assert label_px >= 12, f"Sankey labels are {label_px}px"
        else:
            assert box["x"] + box["width"] <= WIDTH + TOLERANCE
    assert browser.execute_script("return window.innerWidth") == WIDTH
    check_page(browser)  # no sideways scrolling, axe-core, touch targets
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
    sign_in(browser, live_server.url, world.coordinator.username, "/board/")
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Board")
    anchor = f"item-no_capacity-service-{world.closed.pk}"
    item = browser.find_element(By.ID, anchor)
    # when: the coordinator takes it with the item's own form
    Select(item.find_element(By.NAME, "assigned_to")).select_by_value(str(world.coordinator.pk))
    item.find_element(By.CSS_SELECTOR, "button[value=assign]").click()
    WebDriverWait(browser, 20, ignored_exceptions=replaced_page_errors()).until(
        lambda b: b.current_url.endswith(f"#{anchor}")
        and "Saved." in b.find_element(By.CSS_SELECTOR, ".messages").text
    )
    # then
    state = BoardItemState.objects.get(target_id=str(world.closed.pk))
    assert state.assigned_to_id == world.coordinator.pk
    assert browser.execute_script("return window.innerWidth") == WIDTH
    check_page(browser)
    screenshot = tmp_path / "board.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 1000
