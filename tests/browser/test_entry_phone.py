"""In Chromium at 390×844: a commune cadre enters a month for the commune and two villages, one
save without signal is kept and sent when the connection returns, the month is submitted, and
the commune's and the province's roll-ups show the new totals.

Figures (month 2023-06, commune 04720 Xã Xuân Long; nobody else enters June in these tests):
  commune:  CT15 fund 12.500.000 đ, CT17 supervisions 2
  Thôn 1:   CT07 groups 3, CT08 Great Unity Day held: yes, CT11 households 80/100
  Thôn 2:   CT07 groups 2 (saved offline), CT08 no, CT11 households 60/90
Expected roll-ups for 2023-06 (the only figures in the province that month):
  CT15 12.500.000 đ; CT17 2; CT07 3 + 2 = 5; CT11 (80 + 60)/(100 + 90) = 140/190 = 73,7 %;
  CT08 1 village of Xuân Long's 9 held it (1/9 = 11,1 %; province: 1 of all villages).
"""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import keep_screenshot

pytestmark = pytest.mark.browser
MONTH = "2023-06"


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _type_and_leave(page, selector: str, text: str) -> None:
    page.fill(selector, "")
    page.type(selector, text)
    page.keyboard.press("Tab")


def _saved(page, code: str) -> None:
    page.locator(f"#f-{code}.is-saved").wait_for()


def _enter_village(page, name: str, groups: str, held: bool, households: tuple[str, str],
                   offline_groups: bool = False) -> None:
    section = page.locator("details.village", has_text=name).first
    if section.get_attribute("open") is None:
        section.locator("summary").click()
    page.get_by_role("link", name=f"Trang riêng của {name}").click()
    page.wait_for_url(re.compile(rf"/entry/04720-\d\d/{MONTH}$"))
    assert re.findall(r'id="f-(CT\d\d)"', page.content()) == ["CT04", "CT07", "CT08", "CT09", "CT10", "CT11"]
    page.click("label[for=CT08-yes]" if held else "label[for=CT08-no]")
    _saved(page, "CT08")
    page.fill("#CT11-num", households[0])
    page.keyboard.press("Tab")  # half a ratio is not sent yet
    _type_and_leave(page, "#CT11-den", households[1])
    _saved(page, "CT11")
    if offline_groups:
        page.context.set_offline(True)
        _type_and_leave(page, "#CT07-value", groups)
        page.locator("#f-CT07.is-pending").wait_for()
        assert page.locator("#s-CT07").inner_text() == "Chưa gửi được – sẽ tự gửi khi có mạng"
        expect(page.locator("#net-status")).to_contain_text("1 chưa gửi – sẽ tự gửi khi có mạng.")
        keep_screenshot(page, "entry-phone-offline.png", full_page=False)
        page.context.set_offline(False)  # the `online` event sends it
        _saved(page, "CT07")
        expect(page.locator("#net-status")).to_be_hidden()
    else:
        _type_and_leave(page, "#CT07-value", groups)
        _saved(page, "CT07")
    assert _no_horizontal_scroll(page)


def test_enter_month_commune_and_villages_from_phone(page_as):
    page = page_as("xa.nhaplieu")
    page.goto("/entry")
    page.wait_for_url(re.compile(r"/entry/04720/2023-\d\d$"))
    page.select_option("#month-select", MONTH)
    page.get_by_role("button", name="Mở").click()
    page.wait_for_url(re.compile(rf"/entry/04720/{MONTH}$"))
    assert _no_horizontal_scroll(page)

    # The commune's own figures: grouping appears as typed; each field saves on leaving it.
    _type_and_leave(page, "#CT15-value", "12500000")
    assert page.input_value("#CT15-value") == "12.500.000"
    _saved(page, "CT15")
    _type_and_leave(page, "#CT17-value", "-2")
    page.locator("#f-CT17.has-error").wait_for()
    assert page.locator("#s-CT17").inner_text() == "Số không được âm; hãy nhập 0 hoặc số lớn hơn."
    page.locator("#f-CT17").scroll_into_view_if_needed()
    keep_screenshot(page, "entry-phone-error.png")
    _type_and_leave(page, "#CT17-value", "2")
    _saved(page, "CT17")
    keep_screenshot(page, "entry-phone-commune.png", full_page=True)

    # Two villages, from the commune's list; one save goes out with no signal.
    page.get_by_role("link", name="Nhập cho thôn, tổ dân phố").click()
    page.wait_for_url(re.compile(rf"/entry/04720/{MONTH}/villages$"))
    _enter_village(page, "Thôn 1", "3", True, ("80", "100"))
    page.get_by_role("link", name="Thôn, tổ dân phố", exact=True).click()  # breadcrumb: back to the list
    page.wait_for_url(re.compile(rf"/entry/04720/{MONTH}/villages$"))
    assert "Đã nhập 3/6" in page.locator("#v-04720-01 summary").inner_text()
    _enter_village(page, "Thôn 2", "2", False, ("60", "90"), offline_groups=True)

    # Submit the commune's month: read-only afterwards, with who and when.
    page.goto(f"/entry/04720/{MONTH}")
    page.get_by_role("link", name="Gửi báo cáo tháng 6/2023…").click()
    page.wait_for_url(re.compile(rf"/entry/04720/{MONTH}/submit$"))
    page.get_by_role("button", name="Gửi báo cáo tháng 6/2023 lên cấp trên").click()
    page.wait_for_url(re.compile(rf"/entry/04720/{MONTH}$"))
    assert "Cán bộ nhập liệu xã Xuân Long đã gửi lúc" in page.locator("#entry-state").inner_text()
    assert page.locator("#CT17-value").is_disabled()
    keep_screenshot(page, "entry-phone-submitted.png")
    assert _no_horizontal_scroll(page)

    # The roll-ups for June: the commune's dashboard (as the cadre) and the province's (as a
    # province user: the province is outside a commune user's scope).
    province = page_as("tinh.xem")
    for unit, reader in (("04720", page), ("15", province)):
        reader.goto(f"/dashboard/{unit}?period={MONTH}")
        keep_screenshot(reader, f"entry-phone-dashboard-{unit}.png", full_page=True)
        assert "12.500.000 đ" in _row(reader, "CT15")
        assert re.search(r"(?<![\d.,])2(?![\d.,])", _row(reader, "CT17"))
        assert re.search(r"(?<![\d.,])5(?![\d.,])", _row(reader, "CT07"))
        assert "73,7 %" in _row(reader, "CT11")


def _row(page, code: str) -> str:
    """The text of the dashboard's card for an indicator."""
    return page.locator(f"#ind-{code}").inner_text()


def test_replay_after_offline_conflict_shows_both(page_as):
    # July, commune 04720, CT14: the cadre saves 4 offline; meanwhile the commune admin saves 5.
    page = page_as("xa.nhaplieu")
    page.goto("/entry/04720/2023-07")
    page.context.set_offline(True)
    _type_and_leave(page, "#CT14-value", "4")
    page.locator("#f-CT14.is-pending").wait_for()
    other = page_as("xa.quantri")
    other.goto("/entry/04720/2023-07")
    _type_and_leave(other, "#CT14-value", "5")
    _saved(other, "CT14")
    page.context.set_offline(False)
    page.locator("#f-CT14.has-conflict").wait_for()
    conflict = page.locator("#f-CT14 .conflict").inner_text()
    assert "Số của người kia: 5 — Quản trị xã Xuân Long" in conflict and "Số của bạn: 4" in conflict
    page.locator("#f-CT14").scroll_into_view_if_needed()
    keep_screenshot(page, "entry-phone-conflict.png")
    page.get_by_role("button", name="Giữ số của tôi").click()
    _saved(page, "CT14")
    assert page.input_value("#CT14-value") == "4"


def test_save_page_without_javascript(browser, live_server):
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, base_url=live_server,
                              java_script_enabled=False)
    try:
        page = ctx.new_page()
        page.goto("/login")
        page.fill("input[name=username]", "xa.nhaplieu")
        page.fill("input[name=password]", "demo2023")
        page.click("button[type=submit]")
        page.goto("/entry/04720/2023-08")
        page.fill("#CT06-value", "1")
        page.fill("#CT17-value", "12,5")
        page.get_by_role("button", name="Lưu tất cả").click()
        # All or nothing: the page comes back with the error beside CT17 and both typed values.
        assert "Chưa lưu số liệu nào" in page.locator(".alert.error").inner_text()
        assert "“12,5” không phải là số nguyên" in page.locator("#s-CT17").inner_text()
        assert page.input_value("#CT06-value") == "1"
        page.locator("#f-CT17").scroll_into_view_if_needed()
        keep_screenshot(page, "entry-nojs-error.png")
        page.fill("#CT17-value", "12")
        page.get_by_role("button", name="Lưu tất cả").click()
        page.wait_for_url("**/entry/04720/2023-08?saved=1")
        assert page.input_value("#CT06-value") == "1" and page.input_value("#CT17-value") == "12"
        assert _no_horizontal_scroll(page)
    finally:
        ctx.close()
