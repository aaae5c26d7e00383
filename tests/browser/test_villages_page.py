"""A commune enters a month for its nine villages on one page (Chromium, 390×844), then the
submit step lists what is empty.

Month 2023-02 of commune 04720 (no other test enters it). Village i (Thôn i, i = 1 … 9):
CT07 groups = i, CT08 held = yes for odd i, CT11 households = (60 + i)/(70 + i).
So: every village 3 of 6 filled; CT07 total 1 + … + 9 = 45; CT08 held in 5 of 9 villages
(1, 3, 5, 7, 9); CT11 (Σ 61…69)/(Σ 71…79) = 585/675 = 86,7 %.
"""
import re

import pytest

pytestmark = pytest.mark.browser
MONTH = "2023-02"


def test_nine_villages_entered_on_one_page(page_as):
    page = page_as("xa.nhaplieu")
    page.goto(f"/entry/04720/{MONTH}/villages")
    sections = page.locator("details.village")
    assert sections.count() == 9
    for i in range(1, 10):
        v = f"04720-{i:02d}"
        section = page.locator(f"#v-{v}")
        if section.get_attribute("open") is None:
            section.locator("summary").click()
        groups = page.locator(f"#v{v}-CT07-value")
        assert groups.get_attribute("inputmode") == "numeric"
        groups.fill(str(i))
        page.keyboard.press("Tab")  # leaving the cell saves it
        page.locator(f"#f-v{v}-CT07.is-saved").wait_for()
        page.click(f"label[for=v{v}-CT08-{'yes' if i % 2 else 'no'}]")
        page.locator(f"#f-v{v}-CT08.is-saved").wait_for()
        page.fill(f"#v{v}-CT11-num", str(60 + i))
        page.keyboard.press("Tab")  # the natural path: from the households reached to their total
        assert page.evaluate("document.activeElement.id") == f"v{v}-CT11-den"
        page.keyboard.type(str(70 + i))
        page.keyboard.press("Tab")
        page.locator(f"#f-v{v}-CT11.is-saved").wait_for()
        assert page.locator(f"#v{v}-CT11-pct").inner_text() == f"{(60 + i) / (70 + i) * 100:.1f}".replace(".", ",") + " %"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.reload()
    states = [page.locator(f"#v-04720-{i:02d} summary").inner_text() for i in range(1, 10)]
    assert all("Đã nhập 3/6" in s for s in states)
    assert [page.input_value(f"#v04720-{i:02d}-CT07-value") for i in range(1, 10)] == [str(i) for i in range(1, 10)]

    province = page_as("tinh.xem")
    province.goto(f"/dashboard/04720?period={MONTH}")
    assert re.search(r"(?<![\d.,])45(?![\d.,])", province.locator("#ind-CT07").inner_text())
    assert "86,7 %" in province.locator("#ind-CT11").inner_text()


def test_submit_step_shows_empty_indicators(page_as):
    page = page_as("xa.nhaplieu")
    page.goto("/entry/04720/2023-03")
    page.fill("#CT17-value", "1")
    page.keyboard.press("Tab")
    page.locator("#f-CT17.is-saved").wait_for()
    page.get_by_role("link", name="Gửi báo cáo tháng 3/2023…").click()
    page.wait_for_url(re.compile(r"/entry/04720/2023-03/submit$"))
    check = page.locator("#submit-check")
    assert "Còn 7/8 chỉ tiêu chưa nhập" in check.inner_text()
    assert "17. Cuộc giám sát" not in check.inner_text() and "14. Hộ được giúp đỡ thoát nghèo" in check.inner_text()
    assert "9 thôn, tổ dân phố chưa nhập" in check.inner_text()
    page.get_by_role("button", name="Gửi báo cáo tháng 3/2023 lên cấp trên").click()
    page.wait_for_url(re.compile(r"/entry/04720/2023-03$"))
    assert "Đã gửi" in page.locator("#entry-state").inner_text()
