"""axe-core (bundled by axe-playwright-python) in Chromium at 390×844: no violations on the
entry page, the villages page, the dashboard, tasks and the monthly report; the phone layout's
header height and tap targets.

Pages are read as the commune cadre (entry, villages) and the province viewer (dashboard, tasks,
report). Every axe rule runs, at every impact level: the expected count is 0.
"""
import pytest

from tests.browser.conftest import signed_in_page

pytestmark = pytest.mark.browser
MONTH = "2023-08"
PAGES = [
    ("xa.nhaplieu", f"/entry/04720/{MONTH}"),
    ("xa.nhaplieu", f"/entry/04720/{MONTH}/villages"),
    ("xa.nhaplieu", f"/entry/04720/{MONTH}/submit"),
    ("tinh.xem", f"/dashboard/15?period={MONTH}"),
    ("tinh.xem", "/tasks"),
    ("tinh.xem", f"/reports/15/{MONTH}"),
]


@pytest.fixture(scope="module")
def page_of(browser, live_server):
    """page_of("xa.nhaplieu") → that user's signed-in page at phone size, one per user for the
    module: these tests only open pages and read them."""
    signed_in: dict = {}

    def _page(username: str):
        if username not in signed_in:
            signed_in[username] = signed_in_page(browser, live_server, username)
        return signed_in[username][1]

    yield _page
    for ctx, _ in signed_in.values():
        ctx.close()


def _violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {len(v['nodes'])} × {v['nodes'][0]['target']}"
            for v in results.response["violations"]]


@pytest.mark.parametrize(("user", "path"), PAGES, ids=[p for _u, p in PAGES])
def test_axe_no_violations(page_of, user, path):
    page = page_of(user)
    page.goto(path)
    page.wait_for_load_state("networkidle")
    assert _violations(page) == []


def test_header_at_most_twelve_percent_of_phone_screen(page_of):
    page = page_of("xa.nhaplieu")
    page.goto(f"/entry/04720/{MONTH}")
    height = page.evaluate("document.querySelector('header.topbar').getBoundingClientRect().height")
    assert height <= 0.12 * 844  # 101 px


def test_tap_targets_at_least_44_px(page_of):
    page = page_of("xa.nhaplieu")
    page.goto("/entry/04720-01/" + MONTH)  # a village page: breadcrumb of two links
    small = page.evaluate("""() => Array.from(document.querySelectorAll(
        'header a, header button, .breadcrumb a, .entry-field input, .entry-field label, .history-link, #submit-month, .month-picker select, .month-picker button'))
      .filter(e => e.offsetParent !== null && !(e.type === 'radio'))
      .map(e => { const r = e.getBoundingClientRect(); return [e.textContent.trim() || e.name || e.id, r.width, r.height]; })
      .filter(([_, w, h]) => h < 44 || w < 44)""")
    assert small == []


def test_sign_out_apart_from_account_link(page_of):
    page = page_of("xa.nhaplieu")
    page.goto(f"/entry/04720/{MONTH}")
    gap = page.evaluate("""() => {
      const a = document.querySelector('header .who').getBoundingClientRect();
      const b = document.querySelector('header .signout button').getBoundingClientRect();
      return b.left - a.right; }""")
    assert gap >= 8


def test_axe_reports_a_planted_violation(page_of):
    """The harness can fail: the old green badge (#17803d on #e5f5ea, 4.43:1) is reported."""
    page = page_of("xa.nhaplieu")
    page.goto(f"/entry/04720/{MONTH}")
    page.evaluate("""() => { const s = document.createElement('span');
      s.textContent = 'Đạt'; s.style.cssText = 'color:#17803d;background:#e5f5ea;font-size:13px';
      document.querySelector('main').appendChild(s); }""")
    assert [v.split(" ")[0] for v in _violations(page)] == ["color-contrast"]
