"""The on-track rule: pure edges of the pace and the verdict, then the rule applied to real
figures at the month and year edges (runs on SQLite and PostgreSQL)."""
from datetime import date
from fractions import Fraction

import pytest
from sqlmodel import select

from app.accounts.deps import Principal
from app.program.models import Indicator, Program, Task, TaskIndicator
from app.program.periods import PeriodRange
from app.rollup import on_track
from app.rollup import service as rollup
from app.rollup.on_track import BEHIND, FLOW, MET, NO_DATA, NOT_MET, ON_TRACK, PRORATED, STOCK, pace, verdict
from app.rollup.progress import Judge
from app.units.models import Unit
from app.values.service import Figure as Entry
from app.values.service import save_value

APRIL = PeriodRange(2023, 1, 4)
DURING = date(2023, 5, 10)
AFTER = date(2024, 1, 1)


# --- pace ------------------------------------------------------------------------------------

def test_pace_pro_rates_by_months_covered():
    assert pace(APRIL, DURING).share == Fraction(4, 12)
    assert pace(PeriodRange.quarter(2023, 2), DURING).share == Fraction(3, 12)
    assert pace(PeriodRange(2023, 1, 1), DURING).share == Fraction(1, 12)


def test_pace_uses_due_month_of_a_task():
    # Due in June: by April 4/6 of the target; from June on all of it.
    assert pace(APRIL, DURING, due_month=6).share == Fraction(4, 6)
    assert pace(PeriodRange(2023, 1, 6), DURING, due_month=6).share == 1
    assert pace(PeriodRange(2023, 1, 8), DURING, due_month=6).share == 1
    # A span after the due month expects nothing more.
    assert pace(PeriodRange(2023, 7, 9), DURING, due_month=6).share == 0


def test_pace_is_final_only_after_the_last_day_of_the_year():
    year = PeriodRange(2023, 1, 12)
    assert not pace(year, date(2023, 12, 31)).final
    assert pace(year, date(2024, 1, 1)).final
    assert not pace(PeriodRange(2023, 1, 11), AFTER).final  # November is not the year's end


# --- verdict ---------------------------------------------------------------------------------

def test_flow_at_exact_pace_is_on_track_and_one_short_is_behind():
    # ≥ 12 by December; March (3 months) expects exactly 3.
    march = pace(PeriodRange(2023, 1, 3), DURING)
    assert verdict(Fraction(3), ">=", Fraction(12), FLOW, march) == ON_TRACK
    assert verdict(Fraction(2), ">=", Fraction(12), FLOW, march) == BEHIND
    # Strict ">": exactly the pace is not enough.
    assert verdict(Fraction(3), ">", Fraction(12), FLOW, march) == BEHIND


def test_fund_in_april_reads_on_track_not_short_of_a_year():
    # ≥ 10 tỷ: by April 10 × 4/12 = 3,333… tỷ is due; 3,34 tỷ is on track, 3,33 tỷ behind.
    p = pace(APRIL, DURING)
    assert verdict(Fraction(3_340_000_000), ">=", Fraction(10**10), FLOW, p) == ON_TRACK
    assert verdict(Fraction(3_330_000_000), ">=", Fraction(10**10), FLOW, p) == BEHIND


def test_flow_already_at_target_is_met_before_the_year_ends():
    assert verdict(Fraction(20), ">=", Fraction(20), FLOW, pace(APRIL, DURING)) == MET


def test_year_end_says_met_or_not_met_only():
    year = PeriodRange(2023, 1, 12)
    assert verdict(Fraction(19), ">=", Fraction(20), FLOW, pace(year, AFTER)) == NOT_MET
    assert verdict(Fraction(20), ">=", Fraction(20), FLOW, pace(year, AFTER)) == MET
    # The same December figure read on 31/12 is still behind, not "not met".
    assert verdict(Fraction(19), ">=", Fraction(20), FLOW, pace(year, date(2023, 12, 31))) == BEHIND


def test_stock_or_share_is_judged_as_it_stands():
    p = pace(APRIL, DURING)
    assert verdict(Fraction(85), ">=", Fraction(90), STOCK, p) == BEHIND
    assert verdict(Fraction(90), ">=", Fraction(90), STOCK, p) == MET


def test_ceiling_holds_on_track_and_a_running_total_above_it_has_failed():
    p = pace(APRIL, DURING)
    assert verdict(Fraction(3), "<=", Fraction(5), FLOW, p) == ON_TRACK
    assert verdict(Fraction(6), "<=", Fraction(5), FLOW, p) == NOT_MET
    assert verdict(Fraction(6), "<=", Fraction(5), STOCK, p) == BEHIND


def test_reduction_already_pro_rated_is_on_track_or_behind():
    p = pace(APRIL, DURING)
    assert verdict(Fraction(12), "range", Fraction(10), PRORATED, p) == ON_TRACK
    assert verdict(Fraction(5), "range", Fraction(10), PRORATED, p) == BEHIND
    assert verdict(None, "range", Fraction(10), PRORATED, p) == NO_DATA


def test_combine_many_units():
    assert on_track.combine([MET, MET], final=False) == MET
    assert on_track.combine([MET, ON_TRACK], final=False) == ON_TRACK
    assert on_track.combine([MET, BEHIND], final=False) == BEHIND
    assert on_track.combine([MET, ON_TRACK], final=True) == NOT_MET
    assert on_track.combine([NO_DATA, NO_DATA], final=False) == NO_DATA
    assert on_track.worst([MET, ON_TRACK, BEHIND]) == BEHIND
    assert on_track.worst([]) == NO_DATA


# --- applied to the engine's results (both databases) ----------------------------------------

DISTRICTS = ["132", "133", "135", "136", "137", "138", "139", "140", "141"]


@pytest.fixture
def put(db):
    program = db.exec(select(Program).where(Program.year == 2023)).one()
    root = db.get(Unit, program.root_unit_id)
    admin = Principal(unit=root, role="admin", via="web")

    def _put(code: str, ind: str, period: str, value=None, num=None, den=None) -> None:
        unit = db.exec(select(Unit).where(Unit.code == code)).one()
        indicator = db.exec(select(Indicator).where(Indicator.code == ind)).one()
        save_value(db, admin, program, unit, indicator, period,
                   Entry(value=value, numerator=num, denominator=den))
        db.commit()

    return _put


def _judge(db, code: str, ind_code: str, period: PeriodRange, as_of: date):
    program = db.exec(select(Program).where(Program.year == 2023)).one()
    unit = db.exec(select(Unit).where(Unit.code == code)).one()
    results = rollup.rollup(db, unit, period, program)
    res = next(r for r in results if r.indicator.code == ind_code)
    return Judge(db, program, period, as_of).indicator(unit, res)


def _each(progress):
    return next(t for t in progress.targets if t.result.target.scope == "each")


def test_each_district_at_month_edges(db, put):
    # CT12 each district ≥ 3 houses by December; every district built 1 house in March.
    for code in DISTRICTS:
        put(code, "CT12", "2023-03", 1)
    # Jan–Apr expects 3 × 4/12 = 1: exactly on pace → on track, 9 of 9.
    t = _each(_judge(db, "15", "CT12", PeriodRange(2023, 1, 4), DURING))
    assert (t.verdict, t.units_on_track) == (ON_TRACK, 9)
    # Jan–May expects 1,25: one house is behind in every district.
    t = _each(_judge(db, "15", "CT12", PeriodRange(2023, 1, 5), DURING))
    assert (t.verdict, t.units_on_track) == (BEHIND, 0)
    # Jan–Feb: no district has entered anything yet → no data, not "behind".
    t = _each(_judge(db, "15", "CT12", PeriodRange(2023, 1, 2), DURING))
    assert t.verdict == NO_DATA


def test_each_district_at_year_edge(db, put):
    for code in DISTRICTS:
        put(code, "CT12", "2023-03", 1)
    put("141", "CT12", "2023-12", 2)  # Yên Bình reaches 3
    year = PeriodRange(2023, 1, 12)
    t = _each(_judge(db, "15", "CT12", year, date(2023, 12, 31)))
    assert t.verdict == BEHIND  # still December: 8 districts short of 3, none has failed yet
    t = _each(_judge(db, "15", "CT12", year, AFTER))
    assert (t.verdict, t.result.units_meeting) == (NOT_MET, 1)
    # The district that reached 3 reads met on its own page, before and after the year's end.
    assert _each(_judge(db, "141", "CT12", year, date(2023, 12, 31))).verdict == MET
    assert _each(_judge(db, "141", "CT12", year, AFTER)).verdict == MET


def test_province_fund_in_april_on_track(db, put):
    # CT15 all levels ≥ 10 tỷ: 3,4 tỷ by April ≥ 3,333… tỷ → on track; own ≥ 3 tỷ already met.
    put("15", "CT15", "2023-02", 3_400_000_000)
    prog = _judge(db, "15", "CT15", APRIL, DURING)
    by_scope = {t.result.target.scope: t.verdict for t in prog.targets}
    assert by_scope == {"total": ON_TRACK, "own": MET}
    assert prog.verdict == ON_TRACK
    # A month later the pace is 4,166… tỷ: behind.
    assert _judge(db, "15", "CT15", PeriodRange(2023, 1, 5), DURING).verdict == BEHIND


def test_due_month_of_a_linked_task_sets_the_pace(db, put):
    # Q2 (7) "build 20 great-unity houses" drives CT12; give it a due month, June.
    program = db.exec(select(Program).where(Program.year == 2023)).one()
    ind = db.exec(select(Indicator).where(Indicator.code == "CT12")).one()
    task = db.exec(select(Task).where(Task.program_id == program.id, Task.quarter == 2,
                                      Task.number == 7, Task.parent_id == None)).first()  # noqa: E711
    task.due_month = 6
    db.add(task)
    assert db.get(TaskIndicator, (task.id, ind.id)) is not None
    db.commit()
    # Province-led houses ≥ 20 by June: by April 20 × 4/6 = 13,33… are due.
    put("15", "CT12", "2023-04", 14)
    own = next(t for t in _judge(db, "15", "CT12", APRIL, DURING).targets if t.result.target.scope == "own")
    assert own.verdict == ON_TRACK
    assert own.expected_now == Fraction(40, 3)
    put("15", "CT12", "2023-04", 13)
    own = next(t for t in _judge(db, "15", "CT12", APRIL, DURING).targets if t.result.target.scope == "own")
    assert own.verdict == BEHIND
