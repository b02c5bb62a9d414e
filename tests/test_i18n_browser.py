"""Arabic, right to left, in a real headless Chromium at phone width (360 px): the page
mirrors (navigation on the right), nothing scrolls sideways, and the page passes what every
page of the browser tests must (``tests/browser.py``: axe-core, touch targets)."""

from __future__ import annotations

import pytest

from services_directory.services import membership_language_set
from tests.browser import WIDTH, check_page, sign_in, wait_for_page


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("who", "page"), [("officer", "/referrals/new/"), ("coordinator", "/board/")]
)
def test_arabic_mirrors_at_360px_with_the_navigation_on_the_right(
    browser, live_server, world, who, page
):
    from selenium.webdriver.common.by import By

    # given a member who chose Arabic
    user = getattr(world, who)
    membership_language_set(user=user, language="ar")
    # when they sign in and open their page
    sign_in(browser, live_server.url, user.username, page)
    wait_for_page(browser, page)
    # then it reads right to left
    html = browser.find_element(By.TAG_NAME, "html")
    assert html.get_attribute("lang") == "ar" and html.get_attribute("dir") == "rtl"
    assert browser.execute_script("return getComputedStyle(document.body).direction") == "rtl"
    # the navigation starts at the right edge: its first link is the rightmost of its row
    links = browser.find_elements(By.CSS_SELECTOR, ".app-nav__link")
    assert links, "no navigation"
    first = links[0].rect
    assert first["x"] + first["width"] >= WIDTH - 40, first
    row = [link.rect for link in links if abs(link.rect["y"] - first["y"]) < 2]
    assert max(r["x"] for r in row) == first["x"]
    # the heading is on the right too
    heading = browser.find_element(By.CSS_SELECTOR, "main h1").rect
    assert heading["x"] + heading["width"] >= WIDTH - 40
    # no sideways scrolling, axe-core clean, 44 px targets
    check_page(browser)
    # and the switcher takes them back to English without a script
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element(By.ID, "app-language")).select_by_value("en")
    browser.find_element(By.CSS_SELECTOR, ".app-language button").click()
    wait_for_page(browser, page)
    html = browser.find_element(By.TAG_NAME, "html")
    assert html.get_attribute("lang") == "en" and html.get_attribute("dir") == "ltr"
    check_page(browser)
