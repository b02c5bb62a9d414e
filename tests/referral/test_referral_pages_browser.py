"""The provider's inbox in a real headless Chromium at 360 px: open the referral from the
list, accept it with its button, and nothing is wider than the phone."""

from __future__ import annotations

import pytest

from referral.services.referrals import referral_create
from tests.browser import TOLERANCE, WIDTH, replaced_page_errors, sign_in


@pytest.mark.django_db(transaction=True)
def test_a_provider_accepts_a_referral_from_a_phone(browser, live_server, world, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    referral, _ = referral_create(
        sender=world.officer, service=world.treatment, pathway="naloxone_plus"
    )
    sign_in(browser, live_server.url, world.provider.username, "/referrals/")
    browser.find_element(By.CSS_SELECTOR, f'a[href="/referrals/{referral.pk}/"]').click()
    WebDriverWait(browser, 20).until(lambda b: b.current_url.endswith(f"/referrals/{referral.pk}/"))
    browser.find_element(By.XPATH, "//button[normalize-space()='Accept']").click()
    # the page is replaced by the redirect: elements of the old one go stale meanwhile
    WebDriverWait(browser, 20, ignored_exceptions=replaced_page_errors()).until(
        lambda b: "Done: the referral is now accepted." in b.find_element(By.TAG_NAME, "main").text
    )
    referral.refresh_from_db()
    assert referral.status == "accepted"
    assert browser.execute_script("return window.innerWidth") == WIDTH
    scroll_width = browser.execute_script("return document.documentElement.scrollWidth")
    assert scroll_width <= WIDTH + TOLERANCE, f"page is {scroll_width}px wide"
    assert browser.save_screenshot(str(tmp_path / "referral.png"))
