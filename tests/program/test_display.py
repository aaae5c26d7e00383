"""One display vocabulary: the page, the report and the XLSX write a verdict, a quarter and a
target's sign the same way (`app.program.display`)."""
import pytest

from app.core.i18n import current_language, set_language
from app.core.templates import env
from app.program import display
from app.program.models import Indicator, Target
from app.rollup.types import Figure, TargetResult


@pytest.fixture(autouse=True)
def vietnamese():
    before = current_language()
    set_language("vi")
    yield
    set_language(before)  # the language lives in a context variable: leave it as found


def test_the_xlsx_and_the_page_say_no_data_alike():
    from app.reports import xlsx

    assert not hasattr(xlsx, "STATUS_WORDS") and not hasattr(xlsx, "ROMAN")
    assert display.status_word("no_data") == "Chưa có số liệu"
    assert display.status_words()["met"] == "Đạt"


def test_quarter_numerals_are_a_template_filter():
    assert [display.quarter_numeral(q) for q in (1, 2, 3, 4)] == ["I", "II", "III", "IV"]
    assert env.from_string("Quý {{ 3|quarter }}").render() == "Quý III"


def test_comparator_signs_and_a_target_goal():
    assert [display.comparator_sign(c) for c in (">=", ">", "<=", "<", "=", "range")] == \
        ["≥", ">", "≤", "<", "=", "range"]
    ind = Indicator(code="CT01", name="x", measure="ratio", program_id=1, number=1)
    tr = TargetResult(target=Target(indicator_id=1, scope="total", comparator=">=", value=95, on="value"),
                      status="no_data", actual=None, gap=None)
    assert display.target_text(ind, tr) == "≥ 95 %"


def test_a_rollup_figure_and_an_entered_figure():
    ratio = Indicator(code="CT02", name="x", measure="ratio", program_id=1, number=2)
    amount = Indicator(code="CT03", name="x", measure="amount", program_id=1, number=3)
    # 181 of 200 is 90.5 %: the roll-up leads with the share, the entry with the parts.
    assert display.figure_text(ratio, Figure(value=0.905, numerator=181, denominator=200)) == \
        "90,5 % (181/200)"
    assert display.entered_text(ratio, {"numerator": 181, "denominator": 200}) == "181/200 (90,5 %)"
    assert display.entered_text(amount, {"value": 10_000_000}) == "10.000.000 đ"
    assert display.figure_text(amount, None) == display.entered_text(amount, None) == "—"
