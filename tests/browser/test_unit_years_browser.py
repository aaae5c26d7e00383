"""In Chromium at phone size (390×844): the province administrator sets one more commune
new-rural for 2023 on the communes-by-year page, and CT16's count of communes that should report
goes from 106 to 107 on the dashboard; the commune's demo label goes with the save.

On a server of its own: it changes who should report in 2023, which the shared server's other
tests read."""
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import app_server, signed_in_page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def own_server() -> Iterator[str]:
    with app_server("browser_unityears") as base:
        yield base


@pytest.fixture
def admin_page(browser, own_server):
    ctx, page = signed_in_page(browser, own_server, "tinh.quantri")
    yield page
    ctx.close()


def _ct16_should_report(page, n: int) -> None:
    page.goto("/dashboard/15?period=2023-01")
    expect(page.locator("body")).to_contain_text(f"{n} đơn vị phải báo cáo")


def test_province_admin_sets_a_commune_new_rural_and_ct16_counts_it(admin_page):
    page = admin_page
    _ct16_should_report(page, 106)

    page.goto("/admin")
    page.get_by_role("link", name="Xã theo từng năm", exact=True).click()
    page.wait_for_url(re.compile(r"/admin/units/years$"))
    page.select_option("select[name=year]", "2023")
    page.get_by_role("button", name="Xem").click()
    page.wait_for_url(re.compile(r"year=2023"))
    expect(page.locator("#demo-note")).to_contain_text("dữ liệu mẫu")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # The first commune the demo left out of the new-rural list.
    code = page.evaluate("""() => [...document.querySelectorAll('ul.unit-years li')]
        .find(li => li.querySelector('select').value === '').dataset.code""")
    page.fill("input[name=q]", code)
    page.get_by_role("button", name="Xem").click()
    row = page.locator(f"li[data-code='{code}']")
    expect(page.locator("ul.unit-years > li")).to_have_count(1)
    expect(row.locator(".demo-label")).to_be_visible()
    row.locator("select").select_option("recognised")
    page.get_by_role("button", name=re.compile("Lưu 1 xã")).click()
    expect(page.locator("#done")).to_contain_text("Đã lưu: 1 xã thay đổi.")
    expect(row.locator(".demo-label")).to_have_count(0)
    expect(page.locator("#counts")).to_contain_text("107 xã nông thôn mới")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    _ct16_should_report(page, 107)
