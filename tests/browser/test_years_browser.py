"""In Chromium at 390×844, on a fresh start with both years (SEED_DEMO_2026, demo figures off):
the Lào Cai province account (2025 tree) opens its dashboard on 2026, switches to 2023 with the
year switcher and sees the Yên Bái figures of 2023 (it reads its predecessor's tree); the address
keeps `year=2023`, also after a drill-down; the page never scrolls sideways.

Figure: the Yên Bái province editor enters its own CT17 (supervisions) = 7 for 2023-04, the only
2023 figure: Yên Bái's CT17 year to date April 2023 is 7.
"""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import keep_screenshot, signed_in_page

pytestmark = pytest.mark.browser
NO_SIDEWAYS = "document.documentElement.scrollWidth <= window.innerWidth"



def test_lao_cai_switches_to_2023_and_sees_yen_bai(browser, two_year_server):
    ctx, page = signed_in_page(browser, two_year_server, "tinh.nhaplieu")
    try:
        page.goto("/entry/15/2023-04")
        page.fill("#CT17-value", "")
        page.type("#CT17-value", "7")
        page.keyboard.press("Tab")
        page.locator("#f-CT17.is-saved").wait_for()
    finally:
        ctx.close()
    ctx, page = signed_in_page(browser, two_year_server, "laocai.xem")
    try:
        page.goto("/dashboard")
        years = page.locator("nav.years")
        expect(years.locator("a[aria-current=page]")).to_have_text("2026")
        expect(page.locator("h1")).to_contain_text("Lào Cai")
        assert page.evaluate(NO_SIDEWAYS)
        years.get_by_role("link", name="2023").click()
        page.wait_for_url(re.compile(r"[?&]year=2023"))
        expect(page.locator("h1")).to_contain_text("Yên Bái")
        expect(years.locator("a[aria-current=page]")).to_have_text("2023")
        expect(page.locator("#ind-CT17 .fig")).to_have_text(re.compile(r"^7\b"))
        assert page.evaluate(NO_SIDEWAYS)
        keep_screenshot(page, "years-lao-cai-2023.png", full_page=False)
        page.locator("#ind-CT17 h2 a").click()  # the drill-down, swapped in by htmx
        page.wait_for_url(re.compile(r"/dashboard/15/CT17\?period=2023-[^&]+&year=2023"))
        expect(page.locator(".breadcrumb [aria-current=page]")).to_contain_text("Yên Bái")
        expect(page.locator("h1")).to_contain_text("Cuộc giám sát")
        assert page.evaluate(NO_SIDEWAYS)
    finally:
        ctx.close()
