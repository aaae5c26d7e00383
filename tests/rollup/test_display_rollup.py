"""The dashboard speaks `app.program.display` (issue 11, item 3): its status words, classes and
marks, figure and cell texts and target goals are the display module's, so the dashboard, the
scorecard, the report and the XLSX say a verdict and a goal the same way."""
from pathlib import Path

import pytest

from app.core.i18n import current_language, set_language
from app.program import display
from app.program.models import Indicator, Target
from app.rollup import pages
from app.rollup.types import Figure, TargetResult

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def vietnamese():
    before = current_language()
    set_language("vi")
    yield
    set_language(before)


def _result(target: Target) -> TargetResult:
    return TargetResult(target=target, status="no_data", actual=None, gap=None)


def test_the_dashboard_keeps_no_vocabulary_of_its_own():
    for name in ("STATUS_WORDS", "COMPARATORS", "status_text", "figure_text", "cell_text", "fmt_pct_points",
                 "_value_text", "_has_children"):
        assert not hasattr(pages, name), name
    assert pages.STATUS_CLASS is display.STATUS_CLASS and pages.STATUS_MARK is display.STATUS_MARK


def test_templates_say_status_words_through_the_display_module():
    """No template spells out its own verdict words (they drifted: "No data" beside "No data yet")."""
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for word in ('_("Met")', "_('Met')", '_("No data")', '_("No data yet")', "_('No data yet')"):
            assert word not in text, (path.name, word)


def test_a_reduction_goal_reads_alike_on_the_dashboard_and_in_the_report():
    ind = Indicator(code="CT06", name="x", measure="ratio", program_id=1, number=6)
    at_least = Target(indicator_id=1, scope="total", comparator=">=", value=10, on="reduction_pct")
    between = Target(indicator_id=1, scope="total", comparator="range", value=10, value_high=15,
                     on="reduction_pct")
    assert display.goal_text(ind, at_least) == display.target_text(ind, _result(at_least)) == "giảm ≥ 10 %"
    assert display.goal_text(ind, between) == display.target_text(ind, _result(between)) == "giảm 10 % – 15 %"


def test_money_goal_in_words_on_the_dashboard_in_full_in_the_report():
    ind = Indicator(code="CT16", name="x", measure="amount", program_id=1, number=16)
    t = Target(indicator_id=1, scope="total", comparator=">=", value=3_250_000_000, on="value")
    assert display.goal_text(ind, t) == "≥ 3,25 tỷ đồng"
    assert display.target_text(ind, _result(t)) == "≥ 3.250.000.000 đ"


def test_figure_note_and_cell_texts():
    share = Indicator(code="CT01", name="x", measure="ratio", program_id=1, number=1)
    fig = Figure(value=8 / 11, numerator=8, denominator=11, reported=3, expected=3)
    assert display.figure_and_note(share, fig) == ("72,7 %", "8 / 11")
    assert display.cell_text(share, fig) == "72,7 %"
    answer = Indicator(code="CT09", name="x", measure="yes_no", program_id=1, number=9)
    assert display.cell_text(answer, Figure(value=1.0, numerator=1, denominator=1, reported=1, expected=1)) == "Có"
    assert display.figure_and_note(answer, Figure(value=None, numerator=None, denominator=None, reported=0,
                                                  expected=1)) == ("—", "Chưa trả lời")
