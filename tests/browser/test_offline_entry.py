"""Without signal, in Chromium at 390×844 with the service worker: a figure saved offline is
never lost (reload, closed tab, ended session), and submitting without signal is refused.

Each test works on its own month of commune 04720 (Xã Xuân Long), so none sees another's
figures: CT14 (households helped out of poverty, a count) is the figure typed.
"""
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _kept_offline(page, path: str) -> None:
    """Wait until the service worker controls the page and has kept `path`. A page opened while
    the worker was still installing (the first page after signing in) stays uncontrolled until
    it is loaded again, as in a real browser: it is reloaded then."""
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    if not page.evaluate("() => !!navigator.serviceWorker.controller"):
        page.reload()
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller")
    for _ in range(300):
        if page.evaluate("async (path) => !!(await (await caches.open('mttq-pages-v1')).match(path))", path):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the service worker did not keep {path}")


def _kept_count(page) -> int:
    return page.evaluate("""() => new Promise((resolve, reject) => {
        const req = indexedDB.open('mttq', 1);
        req.onupgradeneeded = () => req.result.createObjectStore('queue', {keyPath: 'url'});
        req.onsuccess = () => { const r = req.result.transaction('queue').objectStore('queue').count();
                                r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); };
        req.onerror = () => reject(req.error); })""")


def _type_and_leave(page, selector: str, text: str) -> None:
    page.fill(selector, "")
    page.type(selector, text)
    page.keyboard.press("Tab")


def test_offline_open_save_reload_close_reopen_online_saved(page_as):
    path = "/entry/04720/2023-09"
    page = page_as("xa.nhaplieu")
    page.goto(path)
    _kept_offline(page, path)
    context = page.context
    context.set_offline(True)
    page.reload()  # without signal: the kept page opens
    assert page.title().startswith("Nhập số liệu · Xã Xuân Long · 9/2023")
    _type_and_leave(page, "#CT14-value", "7")
    page.locator("#f-CT14.is-pending").wait_for()
    # The banner first says the connection is lost, then counts the kept saves (IndexedDB).
    expect(page.locator("#net-status")).to_have_text("1 chưa gửi – sẽ tự gửi khi có mạng.")
    page.reload()
    page.locator("#f-CT14.is-pending").wait_for()  # put back from IndexedDB
    assert page.input_value("#CT14-value") == "7"
    assert _kept_count(page) == 1
    page.close()  # the tab is closed; the save lives in IndexedDB

    context.set_offline(False)
    again = context.new_page()
    again.goto(path)
    again.locator("#f-CT14.is-saved").wait_for()
    expect(again.locator("#net-status")).to_be_hidden()  # hidden once the kept list is read back
    assert _kept_count(again) == 0
    again.reload()  # from the server: the figure is stored
    assert again.input_value("#CT14-value") == "7"
    assert "Đã nhập 1/8 chỉ tiêu." in again.locator("#filled-count").inner_text()


def test_offline_month_change_and_villages_open_from_kept_pages(page_as):
    page = page_as("xa.nhaplieu")
    page.goto("/entry/04720/2023-05")  # keeps April (the previous month) and both villages pages
    _kept_offline(page, "/entry/04720/2023-04/villages")
    _kept_offline(page, "/entry/04720/2023-04")
    page.context.set_offline(True)
    page.select_option("#month-select", "2023-04")
    page.get_by_role("button", name="Mở").click()
    page.wait_for_url(re.compile(r"/entry/04720/2023-04$"))
    assert page.locator("h1").inner_text() == "Số liệu Xã Xuân Long, tháng 4/2023"
    page.goto("/entry/04720/2023-05/villages")
    assert page.locator("details.village").count() == 9
    page.goto("/tasks")  # never opened: the offline page says why
    assert page.locator("h1").inner_text() == "Không có mạng"
    page.context.set_offline(False)


def test_expired_session_keeps_save_asks_sign_in_then_sends(page_as):
    path = "/entry/04720/2023-10"
    page = page_as("xa.nhaplieu")
    page.goto(path)
    _kept_offline(page, path)
    page.context.clear_cookies()  # the session has ended (its cookie expired)
    _type_and_leave(page, "#CT14-value", "3")
    page.locator("#f-CT14.is-pending").wait_for()
    banner = page.locator("#net-status")
    banner.get_by_role("link", name="Đăng nhập để gửi").wait_for()
    assert banner.inner_text().startswith("1 chưa gửi – Phiên đăng nhập đã hết hạn")
    assert _kept_count(page) == 1

    banner.get_by_role("link", name="Đăng nhập để gửi").click()
    page.wait_for_url(re.compile(r"/login\?next="))
    # the banner is filled once the kept saves are read back from IndexedDB
    expect(page.locator("#net-status")).to_contain_text("1 chưa gửi")
    page.fill("input[name=username]", "xa.nhaplieu")
    page.fill("input[name=password]", "demo2023")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(rf"{path}$"))
    page.locator("#f-CT14.is-saved").wait_for()
    expect(page.locator("#net-status")).to_be_hidden()  # hidden once the kept list is read back
    assert _kept_count(page) == 0
    page.reload()
    assert page.input_value("#CT14-value") == "3"


def test_submit_without_signal_refused_with_message(page_as):
    page = page_as("xa.nhaplieu")
    page.goto("/entry/04720/2023-11/submit")
    page.context.set_offline(True)
    page.get_by_role("button", name="Gửi báo cáo tháng 11/2023 lên cấp trên").click()
    banner = page.locator("#net-status")
    banner.wait_for()
    assert banner.inner_text().startswith("Không có mạng: chưa gửi được.")
    assert page.url.endswith("/entry/04720/2023-11/submit")
    page.context.set_offline(False)
    page.goto("/entry/04720/2023-11")
    assert "Chưa gửi" in page.locator("#entry-state").inner_text()
