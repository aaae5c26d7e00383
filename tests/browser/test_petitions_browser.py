"""In Chromium at phone size (390×844): a commune officer records two petitions at a voter
meeting; the province compiles them into one item of a session summary, sends it, and prints."""
import re

import pytest

pytestmark = pytest.mark.browser

SESSION = "Kỳ họp thứ 7, HĐND tỉnh khóa XIX"


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_commune_records_two_petitions_and_province_compiles_and_prints(page_as):
    province = page_as("tinh.nhaplieu")
    province.goto("/petitions/sessions")
    province.fill("input[name=name]", SESSION)
    province.fill("input[name=held_on]", "10/07/2023")
    province.get_by_role("button", name="Thêm kỳ họp").click()
    province.locator(f"text={SESSION}").first.wait_for()

    commune = page_as("xa.nhaplieu")
    commune.get_by_role("link", name="Kiến nghị", exact=True).click()
    commune.get_by_role("link", name="Ghi nhận kiến nghị").click()
    assert _no_horizontal_scroll(commune)
    # An empty content comes back with the message and nothing saved.
    commune.select_option("select[name=session_id]", label=SESSION)
    commune.fill("input[name=heard_on]", "12/04/2023")
    commune.fill("input[name=place]", "Nhà văn hóa thôn 3")
    commune.get_by_role("button", name="Lưu kiến nghị").click()
    commune.locator(".field-error").first.wait_for()
    assert "Hãy ghi nội dung cử tri, Nhân dân kiến nghị." in commune.locator("form.pet-form").inner_text()
    for name, text in (("Nguyễn Văn An", "Tuyến đường liên xã bị sạt lở sau mưa lũ, đề nghị sửa chữa."),
                       ("Hoàng Thị Bình", "Đề nghị sớm sửa đường liên xã trước mùa mưa.")):
        commune.fill("input[name=raiser_name]", name)
        commune.select_option("select[name=field_id]", label="Hạ tầng, giao thông")
        commune.fill("textarea[name=content]", text)
        commune.select_option("select[name=addressee]", label="Hội đồng nhân dân tỉnh")
        commune.get_by_role("button", name="Lưu kiến nghị").click()
        commune.locator("text=Đã ghi nhận kiến nghị.").wait_for()
        # Where and when stay for the next petition of the same meeting.
        assert commune.input_value("input[name=heard_on]") == "12/04/2023"
        assert commune.input_value("input[name=place]") == "Nhà văn hóa thôn 3"
    assert _no_horizontal_scroll(commune)

    province.goto("/petitions")
    province.select_option("#compile select[name=session_id]", label=SESSION)
    province.get_by_role("button", name="Mở bản tổng hợp").click()
    province.wait_for_url(re.compile(r"/petitions/summaries/\d+$"))
    pending = province.locator("#pending input[name=petition]")
    assert pending.count() == 2
    pending.nth(0).check()
    pending.nth(1).check()
    province.fill("#pending textarea[name=content]", "Cử tri đề nghị sửa chữa tuyến đường liên xã bị sạt lở.")
    province.get_by_role("button", name="Tổng hợp thành một mục").click()
    province.locator("#items li").first.wait_for()
    items = province.locator("#items li")
    assert items.count() == 1
    assert "(2)" in items.first.inner_text()  # one item, two sources
    assert _no_horizontal_scroll(province)
    province.get_by_role("button", name="Gửi và khóa").click()
    province.locator("text=Đã gửi bản tổng hợp: các mục đã được chuyển đi.").wait_for()
    assert province.locator("#pending").count() == 0  # frozen: nothing more to compile

    province.get_by_role("link", name="Bản in").click()
    province.wait_for_url(re.compile(r"/print$"))
    province.set_viewport_size({"width": 1024, "height": 900})
    province.emulate_media(media="print")
    assert not province.locator(".topbar").is_visible()
    assert province.locator("h1.report-title").is_visible()
    body = province.locator("article.report").inner_text()
    assert "Cử tri đề nghị sửa chữa tuyến đường liên xã bị sạt lở." in body
    assert "Nguyễn Văn An" not in body  # no personal data on the printed summary
    pdf = province.pdf(format="A4", prefer_css_page_size=True)
    assert pdf[:4] == b"%PDF"
