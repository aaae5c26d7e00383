"""In Chromium at phone size (390×844): the province administrator copies 2023 into a 2026
draft, enters CT06's baseline, edits a target and publishes; the API then lists both years.

It runs on a server of its own: a published 2026 program is the program in force during 2026,
which would change what the other browser tests' shared server shows.
"""
import re
from collections.abc import Iterator

import pytest

from tests.browser.conftest import app_server, signed_in_page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def own_server() -> Iterator[str]:
    with app_server("browser_prog") as base:
        yield base


@pytest.fixture
def admin_page(browser, own_server):
    ctx, page = signed_in_page(browser, own_server, "tinh.quantri")
    yield page
    ctx.close()


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_province_admin_creates_the_2026_program_from_2023_on_a_phone(admin_page):
    page = admin_page
    page.goto("/admin")
    page.get_by_role("link", name="Chương trình công tác", exact=True).click()
    page.wait_for_url(re.compile(r"/admin/programs$"))
    assert _no_horizontal_scroll(page)

    # Copy 2023, with its tasks, into a 2026 draft.
    page.fill("input[name=year]", "2026")
    page.select_option("select[name=copy_from]", "2023")
    page.check("input[name=with_tasks]")
    page.get_by_role("button", name="Tạo bản nháp").click()
    page.wait_for_url(re.compile(r"/admin/programs/2026\?done=created"))
    assert "Bản nháp" in page.locator("h1").inner_text()
    assert _no_horizontal_scroll(page)

    # Publishing now lists what is missing: CT06's baseline for its reduction target.
    page.get_by_role("button", name="Ban hành chương trình").click()
    page.locator(".alert.error").wait_for()
    assert "Mục tiêu giảm cần có số liệu gốc" in page.locator(".alert.error").inner_text()

    # Enter the 2025 baseline with its source.
    page.get_by_role("link", name=re.compile(r"CT06")).click()
    page.wait_for_url(re.compile(r"/admin/programs/2026/indicators/CT06"))
    page.fill("input[name=baseline]", "150")
    page.fill("input[name=baseline_source]", "Báo cáo năm 2025 của Sở Tư pháp")
    page.get_by_role("button", name="Lưu chỉ tiêu").click()
    page.locator("text=Đã lưu.").wait_for()
    assert _no_horizontal_scroll(page)

    # Edit a target: the province's own supervisions (CT17) from 4 to 6.
    page.goto("/admin/programs/2026/indicators/CT17")
    first = page.locator("article.target").first
    assert first.locator("input[name=value]").input_value() == "4"
    first.locator("input[name=value]").fill("6")
    first.get_by_role("button", name="Lưu mục tiêu").click()
    page.locator("text=Đã lưu mục tiêu.").wait_for()
    assert page.locator("article.target").first.locator("input[name=value]").input_value() == "6"

    # Publish.
    page.goto("/admin/programs/2026")
    page.get_by_role("button", name="Ban hành chương trình").click()
    page.locator("text=Đã ban hành chương trình").wait_for()
    assert "Đã ban hành" in page.locator("h1").inner_text()
    assert "ít nhất 06 cuộc giám sát" not in page.content()  # the label kept the document's words
    assert "≥ 6" in page.locator("#indicators").inner_text()

    # The API (same signed-in browser) lists both years, both in force.
    r = page.request.get("/api/v1/programs")
    assert r.status == 200
    assert [(p["year"], p["status"]) for p in r.json()["data"]] == [(2026, "published"), (2023, "published")]
