"""In Chromium at phone width: follow a task, change its status; the monthly report prints without nav."""
import re

import pytest

pytestmark = pytest.mark.browser


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_update_task_status_from_phone(page_as):
    page = page_as("tinh.nhaplieu")
    page.goto("/tasks?month=2023-05")
    assert _no_horizontal_scroll(page)
    page.get_by_role("link", name=re.compile(r"\(7\)\s+Xây dựng mới 20 nhà đại đoàn kết")).click()
    page.wait_for_url(re.compile(r"/tasks/\d+$"))
    # A bad date comes back in place, through htmx, with the form still there.
    page.check("input[name=status][value=done]")
    page.fill("input[name=done_on]", "31/02/2023")
    page.get_by_role("button", name="Lưu tình trạng").click()
    page.locator(".field-error").wait_for()
    assert "dd/mm/yyyy" in page.locator(".field-error").inner_text()
    page.fill("input[name=done_on]", "28/06/2023")
    page.get_by_role("button", name="Lưu tình trạng").click()
    page.locator("text=Đã lưu tình trạng.").wait_for()
    assert page.locator(".badges .status.done").inner_text() == "Hoàn thành"
    assert "28/06/2023" in page.locator(".task-facts").inner_text()
    assert _no_horizontal_scroll(page)


def test_report_print_hides_navigation(page_as):
    page = page_as("tinh.xem", {"width": 1024, "height": 900})
    page.goto("/reports/15/2023-04")
    assert page.locator(".topbar").is_visible()
    page.emulate_media(media="print")
    assert not page.locator(".topbar").is_visible()
    assert not page.locator(".report-tools").is_visible()
    assert page.locator("h1.report-title").is_visible()
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    assert pdf[:4] == b"%PDF"
