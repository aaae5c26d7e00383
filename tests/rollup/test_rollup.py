"""Roll-up rules with hand-worked figures (PRODUCT.md "Indicators"; issue #7).

The seeded tree: province 15, 9 districts, 173 communes, 9 demo villages per commune
(1,557 villages), 106 new-rural communes. No demo figures: each test enters its own.
"""
from fractions import Fraction

import pytest
from sqlmodel import select

from app.accounts.deps import Principal
from app.program.models import Indicator, Program, Target
from app.program.periods import PeriodRange
from app.rollup import service as rollup
from app.rollup.types import MET, NO_DATA, NOT_MET, Figure
from app.units.models import Unit
from app.values.models import PeriodSubmission
from app.values.service import Figure as Entry
from app.values.service import save_value


@pytest.fixture
def program(db) -> Program:
    return db.exec(select(Program).where(Program.year == 2023)).one()


@pytest.fixture
def put(db, program):
    """put(unit, "CT07", "2023-03", 5) or put(unit, "CT11", "2023-03", num=1, den=10)."""
    root = db.get(Unit, program.root_unit_id)
    admin = Principal(unit=root, role="admin", via="web")

    def _put(unit: Unit, code: str, period: str, value: int | None = None, *,
             num: int | None = None, den: int | None = None) -> None:
        ind = indicator(db, program, code)
        save_value(db, admin, program, unit, ind, period, Entry(value=value, numerator=num,
                                                                  denominator=den))
        db.flush()

    return _put


def indicator(db, program, code: str) -> Indicator:
    return db.exec(select(Indicator).where(Indicator.program_id == program.id,
                                           Indicator.code == code)).one()


def unit(db, code: str) -> Unit:
    return db.exec(select(Unit).where(Unit.code == code)).one()


def children(db, u: Unit) -> list[Unit]:
    return list(db.exec(select(Unit).where(Unit.parent_id == u.id)
                        .order_by(Unit.sort_order, Unit.name, Unit.id)).all())


def result(db, program, u: Unit, code: str, period: str):
    results = rollup.rollup(db, u, PeriodRange.parse(period), program)
    return next(r for r in results if r.indicator.code == code)


# --- shape ---------------------------------------------------------------------------------

def test_rollup_lists_every_indicator_in_program_order(db, program):
    results = rollup.rollup(db, unit(db, "15"), PeriodRange.ytd("2023-03"), program)
    assert [r.indicator.code for r in results] == [f"CT{n:02d}" for n in range(1, 19)]


def test_rollup_without_figures_is_no_data(db, program):
    r = result(db, program, unit(db, "15"), "CT15", "2023")
    assert r.subtree.value is None
    assert r.status == NO_DATA
    assert {t.status for t in r.targets} == {NO_DATA}


# --- ratios --------------------------------------------------------------------------------

def test_rollup_ratio_is_sum_over_sum_not_average_of_percentages(db, program, put):
    # Two villages of Xuân Long: 10/10 households (100 %) and 70/100 (70 %).
    # Average of percentages = 85 % (would pass ≥ 83 %); Σ80/Σ110 = 72.727… % → not met.
    v1, v2 = children(db, unit(db, "04720"))[:2]
    put(v1, "CT11", "2023-03", num=10, den=10)
    put(v2, "CT11", "2023-03", num=70, den=100)
    r = result(db, program, unit(db, "04720"), "CT11", "2023-03")
    assert (r.subtree.numerator, r.subtree.denominator) == (80, 110)
    assert r.subtree.value == pytest.approx(80 / 110)
    assert r.targets[0].status == NOT_MET
    assert r.targets[0].actual == pytest.approx(800 / 11)  # 72.73 %
    assert r.targets[0].gap == pytest.approx(83 - 800 / 11)  # 10.27 points short


# --- stocks and flows over time ------------------------------------------------------------

def test_rollup_stock_reported_march_and_june_takes_june(db, program, put):
    # CT07 (self-management groups, a stock): March 5, June 8 → Q2 = 8 and the year = 8.
    v = children(db, unit(db, "04720"))[0]
    put(v, "CT07", "2023-03", 5)
    put(v, "CT07", "2023-06", 8)
    assert result(db, program, v, "CT07", "2023-Q2").own.value == 8
    assert result(db, program, unit(db, "04720"), "CT07", "2023").subtree.value == 8


def test_rollup_stock_carries_forward_to_later_months(db, program, put):
    # Entered in March only: still 5 in May, and nothing yet in February.
    v = children(db, unit(db, "04720"))[0]
    put(v, "CT07", "2023-03", 5)
    assert result(db, program, unit(db, "04720"), "CT07", "2023-05").subtree.value == 5
    assert result(db, program, unit(db, "04720"), "CT07", "2023-02").subtree.value is None


def test_rollup_flow_sums_the_months_of_the_period(db, program, put):
    # CT17 supervisions at Xuân Long: Jan 1, Feb 2, Apr 4 → Q1 = 3, YTD April = 7, Feb = 2.
    c = unit(db, "04720")
    put(c, "CT17", "2023-01", 1)
    put(c, "CT17", "2023-02", 2)
    put(c, "CT17", "2023-04", 4)
    assert result(db, program, c, "CT17", "2023-Q1").own.value == 3
    assert result(db, program, c, "CT17", "2023-01..2023-04").own.value == 7
    assert result(db, program, c, "CT17", "2023-02").own.value == 2


def test_rollup_subtree_differs_from_own_figure(db, program, put):
    # CT12 houses: province-led 12 in Q1, Yên Bình district 3 → subtree 15, own 12.
    put(unit(db, "15"), "CT12", "2023-02", 12)
    put(unit(db, "141"), "CT12", "2023-03", 3)
    r = result(db, program, unit(db, "15"), "CT12", "2023-Q1")
    assert (r.subtree.value, r.own.value) == (15, 12)


# --- share of units ------------------------------------------------------------------------

def test_rollup_share_counts_missing_answer_apart_from_no(db, program, put):
    # CT08 at Xuân Long (9 villages): 2 yes, 1 no, 6 not yet answered.
    # value = 2/9 (not 2/3); reported = 3; expected = 9.
    vs = children(db, unit(db, "04720"))
    put(vs[0], "CT08", "2023-02", 1)
    put(vs[1], "CT08", "2023-02", 1)
    put(vs[2], "CT08", "2023-02", 0)
    fig = result(db, program, unit(db, "04720"), "CT08", "2023-02").subtree
    assert (fig.numerator, fig.reported, fig.expected) == (2, 3, 9)
    assert fig.value == pytest.approx(2 / 9)


def test_rollup_share_new_rural_counts_only_new_rural_communes(db, program, put):
    # CT16 province-wide: 106 communes should report; one new-rural commune says yes and one
    # commune outside the programme answers too (its answer does not count) → 1/106.
    from app.units.models import UnitYear

    recognised = select(UnitYear.unit_id).where(UnitYear.year == 2023, UnitYear.new_rural == "recognised")
    listed = select(UnitYear.unit_id).where(UnitYear.year == 2023, UnitYear.new_rural.is_not(None))
    nr = db.exec(select(Unit).where(Unit.depth == 2, Unit.id.in_(recognised))).first()
    other = db.exec(select(Unit).where(Unit.depth == 2, Unit.id.not_in(listed))).first()
    put(nr, "CT16", "2023-03", 1)
    put(other, "CT16", "2023-03", 1)
    fig = result(db, program, unit(db, "15"), "CT16", "2023-Q1").subtree
    assert (fig.numerator, fig.reported, fig.expected) == (1, 1, 106)


def test_rollup_share_without_any_answer_is_no_data(db, program):
    fig = result(db, program, unit(db, "15"), "CT08", "2023-02").subtree
    assert fig.value is None
    assert fig.expected == 1557


# --- targets -------------------------------------------------------------------------------

def _target(**kw) -> Target:
    base = dict(indicator_id=0, scope="total", comparator=">=", value=90, on="value")
    base.update(kw)
    return Target(**base)


def _share_ind() -> Indicator:
    return Indicator(program_id=0, code="X", number=1, name="x", short_name="x", measure="yes_no",
                     entry_depths="3", time_rollup="stock")


def test_evaluate_strict_above_90_at_exactly_90_is_not_met():
    # 9 of 10 villages: exactly 90 %; 0.9 * 100 in floats is 90.00000000000001.
    fig = Figure(value=0.9, numerator=9, denominator=10, reported=10, expected=10)
    r = rollup.evaluate(_target(comparator=">", value=90), _share_ind(), fig, PeriodRange.parse("2023"))
    assert r.status == NOT_MET
    assert r.actual == 90
    assert r.gap == 0


def test_evaluate_at_least_90_at_exactly_90_is_met():
    fig = Figure(value=0.9, numerator=9, denominator=10, reported=10, expected=10)
    r = rollup.evaluate(_target(comparator=">=", value=90), _share_ind(), fig, PeriodRange.parse("2023"))
    assert r.status == MET


def test_evaluate_range_above_upper_bound_is_met_and_exceeded():
    ind = Indicator(program_id=0, code="X", number=1, name="x", short_name="x", measure="count",
                    entry_depths="2", time_rollup="flow", baseline=180)
    t = _target(comparator="range", value=10, value_high=15, on="reduction_pct")
    # Year: 150 cases against 180 → (180 − 150) / 180 = 16.67 % reduction: beyond 15 %.
    r = rollup.evaluate(t, ind, Figure(value=150), PeriodRange.parse("2023"))
    assert (r.status, r.exceeded) == (MET, True)
    assert r.actual == pytest.approx(100 / 6)


def test_evaluate_range_below_lower_bound_is_not_met():
    ind = Indicator(program_id=0, code="X", number=1, name="x", short_name="x", measure="count",
                    entry_depths="2", time_rollup="flow", baseline=180)
    t = _target(comparator="range", value=10, value_high=15, on="reduction_pct")
    # 170 cases: (180 − 170) / 180 = 5.56 % → 4.44 points short of 10 %.
    r = rollup.evaluate(t, ind, Figure(value=170), PeriodRange.parse("2023"))
    assert r.status == NOT_MET
    assert r.gap == pytest.approx(10 - 50 / 9)


def test_rollup_child_marriage_reduction_prorates_baseline_to_quarter(db, program, put):
    # Baseline 180 in 2022 → Q1 share 45. Cases Jan 20 + Feb 10 + Mar 10 = 40.
    # Reduction (45 − 40) / 45 = 11.11 % → within 10–15 % → met.
    c1, c2 = children(db, unit(db, "141"))[:2]
    put(c1, "CT06", "2023-01", 20)
    put(c1, "CT06", "2023-02", 10)
    put(c2, "CT06", "2023-03", 10)
    r = result(db, program, unit(db, "15"), "CT06", "2023-Q1")
    assert r.subtree.value == 40
    assert r.targets[0].status == MET
    assert r.targets[0].actual == pytest.approx(100 / 9)


def test_rollup_each_district_with_3_houses_meets_at_least_3(db, program, put):
    # CT12 each district ≥ 3: Yên Bình (141) enters 1 + 2 = 3 → meets; Văn Yên (136) 2 → not;
    # the other 7 have nothing → not. 1 of 9 meet; status not met.
    put(unit(db, "141"), "CT12", "2023-01", 1)
    put(unit(db, "141"), "CT12", "2023-02", 2)
    put(unit(db, "136"), "CT12", "2023-02", 2)
    r = result(db, program, unit(db, "15"), "CT12", "2023-02")
    each = next(t for t in r.targets if t.target.scope == "each")
    assert each.status == NOT_MET  # only February: 141 has 2 → fails too
    r = result(db, program, unit(db, "15"), "CT12", "2023-01..2023-02")
    each = next(t for t in r.targets if t.target.scope == "each")
    assert (each.units_meeting, each.units_total) == (1, 9)
    assert each.status == NOT_MET
    assert unit(db, "141").id not in {u.id for u in each.units_failing}
    assert unit(db, "136").id in {u.id for u in each.units_failing}
    assert len(each.units_failing) == 8


def test_rollup_each_target_at_district_view_evaluates_the_district_itself(db, program, put):
    # Viewed at Yên Bình (depth 1): "each district ≥ 3" is 1 of 1 when it has 3 houses.
    put(unit(db, "141"), "CT12", "2023-03", 3)
    r = result(db, program, unit(db, "141"), "CT12", "2023-Q1")
    each = next(t for t in r.targets if t.target.scope == "each")
    assert (each.status, each.units_meeting, each.units_total) == (MET, 1, 1)


def test_rollup_each_commune_at_district_view_counts_its_communes(db, program, put):
    # CT17 each commune ≥ 1, viewed at Yên Bình: one commune held one supervision.
    cs = children(db, unit(db, "141"))
    put(cs[0], "CT17", "2023-03", 1)
    r = result(db, program, unit(db, "141"), "CT17", "2023-03")
    each_commune = next(t for t in r.targets if t.target.scope == "each" and t.target.depth == 2)
    assert (each_commune.units_meeting, each_commune.units_total) == (1, len(cs))
    assert each_commune.status == NOT_MET


def test_rollup_province_own_target_uses_own_figure_not_tree(db, program, put):
    # CT15 fund: province 3 tỷ, Yên Bình 5 tỷ, Xuân Long 2 tỷ → all levels 10 tỷ (≥ 10 tỷ met),
    # province's own 3 tỷ (≥ 3 tỷ met).
    put(unit(db, "15"), "CT15", "2023-01", 3 * 10**9)
    put(unit(db, "141"), "CT15", "2023-02", 5 * 10**9)
    put(unit(db, "04720"), "CT15", "2023-03", 2 * 10**9)
    r = result(db, program, unit(db, "15"), "CT15", "2023-Q1")
    total = next(t for t in r.targets if t.target.scope == "total")
    own = next(t for t in r.targets if t.target.scope == "own")
    assert (total.status, total.actual) == (MET, 10 * 10**9)
    assert (own.status, own.actual) == (MET, 3 * 10**9)


def test_rollup_province_own_target_not_met_by_tree(db, program, put):
    # CT12 province-led ≥ 20: the province's own 12 houses, though the tree has 32 → not met.
    put(unit(db, "15"), "CT12", "2023-05", 12)
    put(unit(db, "141"), "CT12", "2023-05", 20)
    r = result(db, program, unit(db, "15"), "CT12", "2023")
    own = next(t for t in r.targets if t.target.scope == "own")
    assert (own.status, own.actual, own.gap) == (NOT_MET, 12, 8)


def test_rollup_below_root_hides_absolute_root_targets(db, program, put):
    # At Yên Bình, the province's 10 tỷ (all levels) and 3 tỷ (own) do not apply.
    put(unit(db, "141"), "CT15", "2023-02", 5 * 10**9)
    r = result(db, program, unit(db, "141"), "CT15", "2023-Q1")
    assert r.subtree.value == 5 * 10**9
    assert r.targets == []


def test_rollup_below_root_evaluates_percentage_targets_on_subtree(db, program, put):
    # CT11 at Xuân Long: 90/100 households → 90 % ≥ 83 % met, on the commune's own tree.
    put(children(db, unit(db, "04720"))[0], "CT11", "2023-01", num=90, den=100)
    r = result(db, program, unit(db, "04720"), "CT11", "2023-01")
    assert [(t.status, t.actual) for t in r.targets] == [(MET, 90)]


def test_rollup_own_target_on_a_commune_is_summarised_above(db, program, put):
    # A per-commune CT14 target (Xuân Long ≥ 5 households) applies at Xuân Long and is
    # summarised at the province as 1 unit with a target, 0 meeting (it has 4).
    c = unit(db, "04720")
    db.add(Target(indicator_id=indicator(db, program, "CT14").id, scope="own", unit_id=c.id,
                  comparator=">=", value=5))
    db.flush()
    put(c, "CT14", "2023-02", 4)
    at_commune = result(db, program, c, "CT14", "2023-Q1").targets
    assert [(t.status, t.actual, t.gap) for t in at_commune] == [(NOT_MET, 4, 1)]
    at_province = result(db, program, unit(db, "15"), "CT14", "2023-Q1").targets
    assert [(t.units_total, t.units_meeting, t.status) for t in at_province] == [(1, 0, NOT_MET)]


# --- changes -------------------------------------------------------------------------------

def test_rollup_follows_an_update_and_a_delete(db, program, put):
    # 5 → 7 → cleared: the province total follows each save.
    c = unit(db, "04720")
    put(c, "CT14", "2023-02", 5)
    put(c, "CT14", "2023-02", 7)
    assert result(db, program, unit(db, "15"), "CT14", "2023-Q1").subtree.value == 7
    put(c, "CT14", "2023-02", None)
    assert result(db, program, unit(db, "15"), "CT14", "2023-Q1").subtree.value is None


def test_rollup_stock_update_in_earlier_month_stops_at_later_entry(db, program, put):
    # Village stock: March 5, June 8; then March changed to 6 → May 6, June still 8.
    v = children(db, unit(db, "04720"))[0]
    put(v, "CT07", "2023-03", 5)
    put(v, "CT07", "2023-06", 8)
    put(v, "CT07", "2023-03", 6)
    c = unit(db, "04720")
    assert result(db, program, c, "CT07", "2023-05").subtree.value == 6
    assert result(db, program, c, "CT07", "2023-06").subtree.value == 8
    assert result(db, program, unit(db, "15"), "CT07", "2023-12").subtree.value == 8


# --- breakdown and completeness ------------------------------------------------------------

def test_breakdown_gives_one_row_per_district(db, program, put):
    # CT14: Yên Bình's Xuân Long 4 → Yên Bình 4, the other 8 districts no data.
    put(unit(db, "04720"), "CT14", "2023-01", 4)
    rows = rollup.breakdown(db, unit(db, "15"), indicator(db, program, "CT14"),
                            PeriodRange.parse("2023-Q1"), program)
    assert len(rows) == 9
    figures = {u.code: r.subtree.value for u, r in rows}
    assert figures["141"] == 4
    assert sum(v is None for v in figures.values()) == 8


def test_breakdown_down_to_villages(db, program, put):
    vs = children(db, unit(db, "04720"))
    put(vs[0], "CT08", "2023-01", 1)
    rows = rollup.breakdown(db, unit(db, "04720"), indicator(db, program, "CT08"),
                            PeriodRange.parse("2023-01"), program)
    assert [u.id for u, _ in rows] == [v.id for v in vs]
    assert rows[0][1].subtree.numerator == 1
    assert rows[0][1].own.value == 1
    assert rows[1][1].own.value is None


def test_completeness_counts_submitted_units_per_level(db, program):
    # Yên Bình: 1 district row is the unit itself (not counted); its communes: 2 submitted,
    # one reopened (not counted).
    d = unit(db, "141")
    cs = children(db, d)
    db.add(PeriodSubmission(unit_id=cs[0].id, period="2023-03"))
    db.add(PeriodSubmission(unit_id=cs[1].id, period="2023-03"))
    db.add(PeriodSubmission(unit_id=cs[2].id, period="2023-03", status="reopened"))
    db.add(PeriodSubmission(unit_id=cs[3].id, period="2023-02"))
    db.flush()
    comp = rollup.completeness(db, d, "2023-03")
    communes = comp.levels[0]
    assert (communes.depth, communes.submitted, communes.total) == (2, 2, len(cs))
    assert cs[2].id in {u.id for u in communes.missing}
    assert cs[0].id not in {u.id for u in communes.missing}
    assert comp.levels[1].depth == 3
    assert comp.levels[1].submitted == 0


def test_evaluate_percentage_uses_exact_fraction():
    # 83 of 100 is exactly 83 % → met on ≥ 83; Fraction avoids 0.83 * 100 = 83.00000000000001.
    ind = Indicator(program_id=0, code="X", number=1, name="x", short_name="x", measure="ratio",
                    entry_depths="3", time_rollup="stock")
    fig = Figure(value=0.83, numerator=83, denominator=100)
    assert rollup.actual_of(_target(value=83), ind, fig, PeriodRange.parse("2023")) == Fraction(83)


def test_rollup_each_commune_at_province_view_counts_communes_exactly_at_target(db, program, put):
    # CT17 each commune ≥ 1, viewed at the province (counted in SQL): Xuân Long held exactly 1
    # (meets "≥ 1"), another commune entered 0 (does not). 1 of 173 communes meet it.
    cs = children(db, unit(db, "141"))
    put(unit(db, "04720"), "CT17", "2023-02", 1)
    other = next(c for c in cs if c.code != "04720")
    put(other, "CT17", "2023-02", 0)
    r = result(db, program, unit(db, "15"), "CT17", "2023-Q1")
    each = next(t for t in r.targets if t.target.scope == "each" and t.target.depth == 2)
    assert (each.units_meeting, each.units_total, each.status) == (1, 173, NOT_MET)
    failing = {u.id for u in each.units_failing}
    assert len(failing) == 172
    assert other.id in failing and unit(db, "04720").id not in failing


def test_rollup_two_each_commune_targets_counted_together(db, program, put):
    # A second "each commune" target (CT14 ≥ 2 households) beside CT17 ≥ 1: Xuân Long has
    # CT14 = 2 (meets) and CT17 = 0 (does not); another commune CT14 = 1 (does not).
    db.add(Target(indicator_id=indicator(db, program, "CT14").id, scope="each", depth=2,
                  comparator=">=", value=2))
    db.flush()
    other = next(c for c in children(db, unit(db, "141")) if c.code != "04720")
    put(unit(db, "04720"), "CT14", "2023-02", 2)
    put(unit(db, "04720"), "CT17", "2023-02", 0)
    put(other, "CT14", "2023-03", 1)
    results = {r.indicator.code: r for r in rollup.rollup(db, unit(db, "15"), PeriodRange.parse("2023-Q1"), program)}
    ct14 = next(t for t in results["CT14"].targets if t.target.scope == "each")
    ct17 = next(t for t in results["CT17"].targets if t.target.scope == "each" and t.target.depth == 2)
    assert (ct14.units_meeting, ct14.units_total, ct14.status) == (1, 173, NOT_MET)
    assert (ct17.units_meeting, ct17.units_total, ct17.status) == (0, 173, NOT_MET)
