"""In Chromium at phone width: an administrator creates an API token; the page obeys the CSP."""
import re

import pytest

pytestmark = pytest.mark.browser


def test_create_token_from_phone_shows_secret_once_without_csp_violation(page_as):
    page = page_as("huyen.quantri", {"width": 360, "height": 740})
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    page.goto("/admin/tokens")
    page.fill("input[name=name]", "Cổng dữ liệu huyện")
    page.fill("input[name=unit_code]", "04720")
    page.check("#mode-write", force=True)  # the radio is visually replaced by its label
    page.get_by_role("button", name="Tạo mã truy cập").click()
    page.wait_for_load_state("networkidle")
    secret = page.locator("input.secret").input_value()
    assert re.fullmatch(r"mttq_[\w-]{40,}", secret)
    # The copy button is shown by static/accounts.js: the script ran under the CSP.
    assert page.get_by_role("button", name="Sao chép").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.goto("/admin/tokens")
    assert secret not in page.content() and secret[:12] in page.content()
    assert [m for m in console if "Content Security Policy" in m] == []


def test_reset_password_asks_first_from_phone(page_as):
    page = page_as("xa.quantri")
    # A user of its own, so the shared server's demo accounts keep their passwords for other tests.
    page.goto("/admin/users")
    page.fill("input[name=username]", "xa.thu")
    page.fill("input[name=full_name]", "Người thử xã Xuân Long")
    page.select_option("select[name=role]", "viewer")
    page.get_by_role("button", name="Tạo người dùng").click()
    page.wait_for_load_state("networkidle")
    page.goto("/admin/users")
    row = page.locator("li.user-row", has_text="xa.thu")
    asked: list[str] = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    row.get_by_role("button", name="Đặt lại mật khẩu").click()
    page.wait_for_load_state("networkidle")
    assert asked and asked[0].startswith("Cấp mật khẩu tạm thời mới cho Người thử xã Xuân Long?")
    assert page.url.endswith("/admin/users")  # cancelled: nothing sent
    page.once("dialog", lambda d: d.accept())
    row.get_by_role("button", name="Đặt lại mật khẩu").click()
    page.wait_for_url(re.compile(r"/admin/users/\d+/password$"))
    assert re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", page.locator("input.secret").input_value())
