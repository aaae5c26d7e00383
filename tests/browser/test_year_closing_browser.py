"""In Chromium at phone size (390×844): the province administrator closes 2023 with the
confirmation step; the commune's entry page of 2023 then shows "Năm 2023 đã kết thúc" and no
input that can be edited.

It runs on a server of its own: a closed 2023 would make the other browser tests' shared
server refuse their saves.
"""
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import app_server, signed_in_page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def own_server() -> Iterator[str]:
    with app_server("browser_close") as base:
        yield base


def test_after_closing_2023_the_entry_page_shows_the_notice_and_no_input(browser, own_server):
    ctx, page = signed_in_page(browser, own_server, "tinh.quantri")
    page.goto("/admin/programs/2023")
    page.locator("#close-year").click()
    page.wait_for_url(re.compile(r"/admin/programs/2023/close$"))
    expect(page.locator("#confirm-close")).to_have_text("Đồng ý kết thúc năm 2023")
    page.locator("#confirm-close").click()
    page.wait_for_url(re.compile(r"/admin/programs/2023\?done=closed"))
    expect(page.locator("#year-closed-badge")).to_have_text("Năm 2023 đã kết thúc.")
    ctx.close()

    ctx, page = signed_in_page(browser, own_server, "xa.nhaplieu")
    page.goto("/entry/04720/2023-03")
    expect(page.locator("#year-closed")).to_contain_text("Năm 2023 đã kết thúc.")
    expect(page.locator("#year-closed")).to_be_visible()
    editable = page.locator("#entry-form input:not([type=hidden]):enabled, #entry-form textarea:enabled, "
                            "#entry-form button:enabled")
    expect(editable).to_have_count(0)
    assert page.locator("#entry-form input:not([type=hidden])").count() > 0  # the figures are shown, disabled
    expect(page.locator("#submit-month")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    ctx.close()
