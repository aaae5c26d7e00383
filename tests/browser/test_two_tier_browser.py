"""In Chromium at 390×844, on a fresh start with both years (SEED_DEMO_2026, demo figures off):
a commune of the two-tier tree (Xã Cảm Nhân, 04726, directly under Tỉnh Lào Cai from
01/07/2025) enters a 2026 figure and the province sees it; the Yên Bái accounts still follow
2023 on the 2023 tree.

Figures: Cảm Nhân enters CT17 (supervisions) = 4 for 2026-04, the only 2026 figure: the
province's CT17 for April 2026 is 4.
"""
import re

import pytest

from tests.browser.conftest import keep_screenshot, signed_in_page

pytestmark = pytest.mark.browser
MONTH = "2026-04"



def test_commune_of_the_new_tree_enters_2026_and_the_province_sees_it(browser, two_year_server):
    ctx, page = signed_in_page(browser, two_year_server, "camnhan.nhaplieu")
    try:
        page.goto(f"/entry/04726/{MONTH}")
        assert "Cảm Nhân" in page.content()
        page.fill("#CT17-value", "")
        page.type("#CT17-value", "4")
        page.keyboard.press("Tab")
        page.locator("#f-CT17.is-saved").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        ctx.close()
    ctx, page = signed_in_page(browser, two_year_server, "laocai.xem")
    try:
        page.goto(f"/dashboard/15?period={MONTH}")
        assert "Lào Cai" in page.content()
        card = page.locator("#ind-CT17").inner_text()
        assert re.search(r"(?<![\d.,])4(?![\d.,])", card), card
        keep_screenshot(page, "two-tier-province-2026.png", full_page=False)
    finally:
        ctx.close()
    # The Yên Bái province account still reads the 2023 program on the 2023 tree.
    ctx, page = signed_in_page(browser, two_year_server, "tinh.xem")
    try:
        page.goto("/dashboard/15?period=2023-04")
        assert "Yên Bái" in page.content() and "2023" in page.content()
    finally:
        ctx.close()
