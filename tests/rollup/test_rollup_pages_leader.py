"""The leader's dashboard: the year's words, the reporting band with late units against the
reporting day, on-track words and legend, trend series (this year and last) drawn as SVG with a
data table, and the default period."""
import re
from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from app.accounts.deps import Principal
from app.core.config import settings
from app.program.models import Indicator, Program
from app.rollup import reporting, trends
from app.rollup.models import RollupCell
from app.units.models import Unit
from app.values.models import PeriodSubmission
from app.values.service import Figure as Entry
from app.values.service import save_value


@pytest.fixture
def put(db):
    program = db.exec(select(Program).where(Program.year == 2023)).one()
    root = db.get(Unit, program.root_unit_id)
    admin = Principal(unit=root, role="admin", via="web")

    def _put(code: str, ind: str, period: str, value=None, num=None, den=None) -> None:
        unit = db.exec(select(Unit).where(Unit.code == code)).one()
        indicator = db.exec(select(Indicator).where(Indicator.program_id == program.id,
                                                    Indicator.code == ind)).one()
        save_value(db, admin, program, unit, indicator, period,
                   Entry(value=value, numerator=num, denominator=den))
        db.commit()

    return _put


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _unit(db, code: str) -> Unit:
    return db.exec(select(Unit).where(Unit.code == code)).one()


def test_dashboard_shows_theme_and_motto(login, db):
    program = db.exec(select(Program).where(Program.year == 2023)).one()
    r = login("tinh.xem").get("/dashboard/15?period=2023-01")
    assert r.status_code == 200
    text = _text(r.text)
    assert "Chủ đề năm" in text and program.theme[:60] in text
    assert "Phương châm" in text and program.motto in text


def test_dashboard_band_comes_before_the_indicators(login):
    r = login("tinh.xem").get("/dashboard/15?period=2023-03")
    assert r.text.index('id="reporting"') < r.text.index('id="ind-CT01"')
    assert "hạn 20/04/2023 (ngày 20 tháng sau)" in _text(r.text)


def _submit(db, unit: Unit, period: str, when: datetime) -> None:
    db.add(PeriodSubmission(unit_id=unit.id, period=period, submitted_at=when))


def test_reporting_band_counts_late_against_the_reporting_day(db):
    # Yên Bình's communes, March 2023 (due 20/04/2023, Việt Nam time):
    # one sent 20/04 at 23:00 VN (16:00 UTC): on time; one sent 21/04 at 00:30 VN (20/04 17:30
    # UTC): late; the rest not sent.
    district = _unit(db, "141")
    communes = db.exec(select(Unit).where(Unit.parent_id == district.id).order_by(Unit.code)).all()
    _submit(db, communes[0], "2023-03", datetime(2023, 4, 20, 16, 0, tzinfo=UTC))
    _submit(db, communes[1], "2023-03", datetime(2023, 4, 20, 17, 30, tzinfo=UTC))
    db.commit()
    n = len(communes)
    on_due_day = {lv.depth: lv for lv in reporting.status(db, district, "2023-03", date(2023, 4, 20))}
    lv = on_due_day[2]
    assert (lv.submitted, lv.submitted_late, lv.total, lv.due) == (2, 1, n, date(2023, 4, 20))
    assert lv.late == 1  # the missing ones are not late yet on the due day itself
    after = {lv.depth: lv for lv in reporting.status(db, district, "2023-03", date(2023, 4, 21))}
    assert after[2].late == 1 + (n - 2)


def test_reporting_day_is_a_setting_per_level(db, monkeypatch):
    monkeypatch.setattr(settings, "REPORTING_DAYS", {"commune": 15})
    assert reporting.due_date("2023-03", "commune") == date(2023, 4, 15)
    assert reporting.due_date("2023-03", "district") == date(2023, 4, 20)
    # December's report falls due in January of the next year; a 31 in a 30-day month → 30.
    assert reporting.due_date("2023-12", "district") == date(2024, 1, 20)
    monkeypatch.setattr(settings, "REPORTING_DAY", 31)
    assert reporting.due_date("2023-03", "district") == date(2023, 4, 30)


def test_dashboard_says_on_track_with_its_legend(login, put):
    # Province fund ≥ 10 tỷ, Jan–Apr: 3,4 tỷ ≥ 10 × 4/12 → "Đúng tiến độ", not "Chưa đạt".
    put("15", "CT15", "2023-02", 3_400_000_000)
    r = login("tinh.xem").get("/dashboard/15?period=2023-01..2023-04")
    card = _text(r.text.split('id="ind-CT15"')[1].split("</li>")[0])
    assert "Đúng tiến độ" in card
    assert "Chưa đạt" not in card
    assert "tiến độ cần đạt đến nay: 3,33 tỷ đồng" in card
    assert "Cách đánh giá chỉ tiêu khi chưa hết năm" in r.text
    assert "mục tiêu × số tháng đã qua / 12" in r.text


def test_year_view_after_the_year_says_not_met(login, put):
    # The whole year 2023, read in a later year: 3,4 tỷ < 10 tỷ → "Chưa đạt".
    put("15", "CT15", "2023-02", 3_400_000_000)
    r = login("tinh.xem").get("/dashboard/15?period=2023")
    card = _text(r.text.split('id="ind-CT15"')[1].split("</li>")[0])
    assert "Chưa đạt" in card


def test_trend_series_runs_a_flow_and_stands_a_stock(db, put):
    program = db.exec(select(Program).where(Program.year == 2023)).one()
    province = _unit(db, "15")
    put("15", "CT15", "2023-01", 1_000_000_000)
    put("15", "CT15", "2023-03", 2_000_000_000)
    put("15", "CT01", "2023-01", num=30, den=60)
    put("15", "CT01", "2023-03", num=45, den=60)
    inds = {i.code: i for i in db.exec(select(Indicator).where(Indicator.program_id == program.id))}
    s = trends.series_for(db, province, program, [inds["CT15"], inds["CT01"]], 4)
    # Flow: running total 1, 1, 3, 3 tỷ; nothing drawn after April.
    assert s[inds["CT15"].id].this_year[:5] == [1e9, 1e9, 3e9, 3e9, None]
    # Stock (ratio): 50 % in January carried to February, 75 % from March.
    assert s[inds["CT01"].id].this_year[:4] == [50.0, 50.0, 75.0, 75.0]
    assert s[inds["CT15"].id].last_year is None


def test_trend_draws_last_year_where_the_indicator_maps(db, put):
    program = db.exec(select(Program).where(Program.year == 2023)).one()
    province = _unit(db, "15")
    prev = Program(year=2022, title="2022", theme="", motto="", root_unit_id=province.id)
    db.add(prev)
    db.flush()
    ct15 = db.exec(select(Indicator).where(Indicator.program_id == program.id, Indicator.code == "CT15")).one()
    old = Indicator(program_id=prev.id, code="CT15", number=15, name=ct15.name, short_name=ct15.short_name,
                    measure="amount", entry_depths=ct15.entry_depths, time_rollup="flow")
    db.add(old)
    db.flush()
    db.add(RollupCell(unit_id=province.id, indicator_id=old.id, period="2022-02", value_sum=500, reported_count=1))
    db.add(RollupCell(unit_id=province.id, indicator_id=old.id, period="2022-05", value_sum=700, reported_count=1))
    db.commit()
    put("15", "CT15", "2023-01", 100)
    s = trends.series_for(db, province, program, [ct15], 2, targets={ct15.id: 10_000.0})[ct15.id]
    assert s.last_year == [None, 500.0, 500.0, 500.0, 1200.0] + [1200.0] * 7
    svg = str(trends.svg(s, 640, 220, {"title": "Quỹ", "target": "Mục tiêu"}, axis=True))
    assert svg.count("<polyline") == 2
    assert '<polyline class="last"' in svg and '<polyline class="this"' in svg
    assert svg.count("<rect") == 11 and svg.count("<circle") == 2  # Feb–Dec 2022, Jan–Feb 2023
    assert '<line class="target"' in svg and ">Mục tiêu</text>" in svg


def test_drill_page_has_chart_and_its_table(login, put):
    put("15", "CT15", "2023-01", 1_000_000_000)
    put("15", "CT15", "2023-02", 2_000_000_000)
    r = login("tinh.xem").get("/dashboard/15/CT15?period=2023-02")
    assert r.status_code == 200
    assert '<svg class="trend"' in r.text and 'role="img"' in r.text
    table = r.text.split('<div class="dash-sr"><table>')[1].split("</table>")[0]
    cells = re.findall(r"<td>([^<]*)</td>", table)
    assert cells[:3] == ["1.000.000.000,0", "3.000.000.000,0", "—"]


def test_dashboard_cards_carry_a_sparkline_and_its_table(login, put):
    put("15", "CT15", "2023-01", 1_000_000_000)
    r = login("tinh.xem").get("/dashboard/15?period=2023-01")
    card = r.text.split('id="ind-CT15"')[1].split("</li>")[0]
    assert '<svg class="trend"' in card and '<div class="dash-sr"><table>' in card


def test_dashboard_default_period_is_latest_month_with_figures(login, put):
    put("15", "CT15", "2023-05", 1_000_000_000)
    r = login("tinh.xem").get("/dashboard/15")
    assert "Lũy kế từ tháng 01 đến tháng 05/2023" in _text(r.text)
