"""The leader's view in Chromium, on a server seeded with the demo figures (January–March 2023):
the reporting band first, trend charts, the scorecard at 1366×768 (within two screens, sticky
header and unit column) and at 390×844 (sideways scroll, unit column fixed), and the province's
monthly report printed to PDF in at most 3 A4 pages with the signature kept with its section."""
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import PHONE, app_server, keep_screenshot, signed_in_page

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def demo_server() -> Iterator[str]:
    """A server of its own whose database holds the demo figures (the shared one has none)."""
    with app_server("leader", demo_values=True, wait_s=180) as base:  # seeding ~140,000 figures
        yield base


@pytest.fixture
def leader(browser, demo_server):
    """A signed-in page on the demo server, from the suite's one Chromium (`browser`)."""
    contexts = []

    def _make(viewport: dict, username: str = "tinh.xem"):
        ctx, page = signed_in_page(browser, demo_server, username, viewport)
        contexts.append(ctx)
        return page

    yield _make
    for ctx in contexts:
        ctx.close()


def _top(page, selector: str) -> float:
    return page.locator(selector).first.bounding_box()["y"]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366x768", "390x844"])
def test_dashboard_band_first_and_trend_charts(leader, viewport):
    page = leader(viewport)
    page.goto("/dashboard")
    # Defaults to the latest month with figures: January–March 2023.
    assert "Quý I/2023" in page.inner_text(".period-line")
    band = page.locator("#reporting")
    assert band.is_visible()
    assert _top(page, "#reporting") < viewport["height"]  # on the first screen
    assert _top(page, "#reporting") < _top(page, "#ind-CT01")
    assert "hạn 20/04/2023" in band.inner_text()
    assert re.search(r"Cấp huyện \d/9 đã gửi", band.inner_text())
    # A small trend on the cards that have figures (all but the November-only ones).
    assert page.locator("#ind-CT15 svg.trend polyline.this").count() == 1
    assert page.locator(".ind svg.trend").count() >= 12
    assert "Phương châm" in page.inner_text(".year-words")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    keep_screenshot(page, f"leader-dashboard-{viewport['width']}.png")


def test_drill_down_chart_and_its_table(leader):
    page = leader(DESKTOP)
    page.goto("/dashboard/15/CT15")
    chart = page.locator(".trend-card svg.trend")
    assert chart.is_visible()
    assert chart.locator("circle.this").count() == 3  # January, February, March
    assert "đường liền, điểm tròn" in page.inner_text(".trend-legend")
    # The figures are in a table for screen readers: 12 months.
    assert page.locator(".trend-card .dash-sr tbody tr").count() == 12


def _sticky_after_sideways_scroll(page) -> tuple[float, float, float, float]:
    return page.evaluate("""() => {
        const wrap = document.querySelector('.sc-wrap');
        wrap.scrollLeft = 400; wrap.scrollTop = 200;
        const cell = document.querySelector('#scorecard tbody th.sc-unit');
        const head = document.querySelector('#scorecard thead th.sc-ind');
        const w = wrap.getBoundingClientRect();
        return [cell.getBoundingClientRect().left - w.left, head.getBoundingClientRect().top - w.top,
                wrap.scrollLeft, wrap.scrollTop];
    }""")


def test_scorecard_fits_two_screens_at_desktop(leader):
    page = leader(DESKTOP)
    page.goto("/dashboard")
    page.click("text=Bảng theo dõi theo đơn vị")
    page.wait_for_url(re.compile(r"/dashboard/15/scorecard"))
    assert page.locator("#scorecard tbody tr").count() == 9
    assert page.locator("#scorecard thead th.sc-ind").count() == 18
    assert page.locator("#scorecard tfoot tr").count() == 2  # own figures, whole tree
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= 2 * DESKTOP["height"], height
    # 18 indicators fit the width: no sideways scroll at 1366 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    widths = page.evaluate("[document.querySelector('.sc-wrap').scrollWidth, document.querySelector('.sc-wrap').clientWidth]")
    assert widths[0] <= widths[1] + 1, widths
    position = page.evaluate("getComputedStyle(document.querySelector('#scorecard thead th')).position")
    assert position == "sticky"
    keep_screenshot(page, "leader-scorecard-1366.png", full_page=True)
    # Sorting is a plain link: largest fund first.
    page.click("#scorecard thead th.sc-ind >> nth=14 >> a")
    page.wait_for_url(re.compile(r"sort=CT15"))
    page.click("#scorecard thead th.sc-ind >> nth=14 >> a")
    page.wait_for_url(re.compile(r"sort=-CT15"))
    funds = page.locator("#scorecard tbody td[data-code=CT15]").all_inner_texts()
    values = [float(re.sub(r"[^\d,]", "", f).replace(",", ".")) for f in funds]
    assert values == sorted(values, reverse=True)
    # A cell opens the drill-down of that indicator.
    page.locator("#scorecard tbody td[data-code=CT15] a").first.click()
    page.wait_for_url(re.compile(r"/dashboard/15/CT15\?period=2023-Q1"))


def test_scorecard_scrolls_sideways_on_a_phone_with_the_unit_column_fixed(leader):
    page = leader(PHONE)
    page.goto("/dashboard/15/scorecard")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    left, top, scrolled_x, _scrolled_y = _sticky_after_sideways_scroll(page)
    assert scrolled_x > 0
    assert abs(left) <= 2  # the unit column stays at the left edge
    keep_screenshot(page, "leader-scorecard-390.png")


def test_scorecard_header_sticks_when_scrolled_down(leader):
    page = leader({"width": 1366, "height": 500})
    page.goto("/dashboard/15/scorecard")
    _left, top, _x, scrolled_y = _sticky_after_sideways_scroll(page)
    assert scrolled_y > 0
    assert abs(top) <= 2  # the header row stays at the top of the table's box


def _pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


@pytest.mark.parametrize("month", ["2023-03", "2023-04", "2023-12"])
def test_province_report_prints_on_at_most_three_pages(leader, month):
    page = leader(DESKTOP)
    page.goto(f"/reports/15/{month}")
    page.wait_for_load_state("networkidle")
    page.emulate_media(media="print")
    family = page.evaluate("getComputedStyle(document.querySelector('.report-table td')).fontFamily")
    assert "MTTQ Noto Serif" in family
    page.evaluate("document.fonts.ready")
    assert page.evaluate("document.fonts.check('12pt \"MTTQ Noto Serif\"', 'Ngày hội Đại đoàn kết')")
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    pages = _pdf_pages(pdf)
    assert 1 <= pages <= 3, pages
    # The signature travels with the last section: hiding it does not save a page, and the
    # block that holds both never breaks across pages.
    assert page.evaluate("getComputedStyle(document.querySelector('.report-end')).breakInside") == "avoid"
    assert page.locator(".report-end .report-sign").count() == 1
    page.evaluate("document.querySelector('.report-sign').style.display = 'none'")
    assert _pdf_pages(page.pdf(format="A4", prefer_css_page_size=True)) == pages
    Path(f"/tmp/leader-report-{month}.pdf").write_bytes(pdf)
