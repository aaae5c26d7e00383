"""The roll-up engine's rooms (issue #11): one comparator table read by Python and by SQL, one
rule for which "each unit" targets are counted in SQL, and the front door re-exporting them.

Expected figures are worked out by hand in the comments.
"""
from fractions import Fraction
from types import SimpleNamespace

import pytest
from sqlalchemy import case, literal, select

from app.rollup import service
from app.rollup.comparators import PLAIN, holds
from app.rollup.each import EachJudging, counted_in_sql
from app.rollup.judging import TargetFacts, Terms, meets

# (actual a_num/a_den, threshold) → verdict per comparator, by hand:
#   2 against 2.5: 2·2 = 4 vs 5·1 = 5 → below
#   5/2 against 2.5: 5·2 = 10 vs 5·2 = 10 → equal
#   3 against 2.5: 3·2 = 6 vs 5 → above
CASES = [
    ((2, 1), 2.5, {">=": False, ">": False, "<=": True, "<": True, "=": False}),
    ((5, 2), 2.5, {">=": True, ">": False, "<=": True, "<": False, "=": True}),
    ((3, 1), 2.5, {">=": True, ">": True, "<=": False, "<": False, "=": False}),
]


def test_the_table_names_exactly_the_plain_comparators():
    assert sorted(PLAIN) == ["<", "<=", "=", ">", ">="]


@pytest.mark.parametrize(("actual", "threshold", "verdicts"), CASES)
def test_python_judging_reads_the_table(actual, threshold, verdicts):
    for comparator, expected in verdicts.items():
        assert meets(Terms(comparator, threshold), *actual) == (expected, False)
        target = SimpleNamespace(comparator=comparator, value=threshold, value_high=None)
        assert meets(target, *actual) == (expected, False)


@pytest.mark.parametrize(("actual", "threshold", "verdicts"), CASES)
def test_sql_and_python_read_the_same_table(db, actual, threshold, verdicts):
    """The grouped "each unit" count compares `s · v_den ? v_num` in SQL with the same
    operator as Python: both sides agree on every comparator."""
    v = Fraction(threshold)
    a_num, a_den = actual
    for comparator, expected in verdicts.items():
        lhs, rhs = a_num * v.denominator, v.numerator * a_den
        sql = db.execute(select(case((holds(comparator, literal(lhs), literal(rhs)), 1), else_=0))).scalar_one()
        assert (sql == 1, holds(comparator, lhs, rhs)) == (expected, expected), comparator


def test_range_is_judged_apart_from_the_table():
    # at least 2, exceeded above 4: 3 → met; 5 → met and exceeded; 1 → not met
    t = SimpleNamespace(comparator="range", value=2, value_high=4)
    assert (meets(t, 3, 1), meets(t, 5, 1), meets(t, 1, 1)) == ((True, False), (True, True), (False, False))
    with pytest.raises(ValueError, match="unknown comparator"):
        meets(SimpleNamespace(comparator="!=", value=1, value_high=None), 1, 1)


def _target(**kw):
    base = dict(id=1, indicator_id=1, scope="each", basis="own", unit_id=None, depth=3, comparator=">=",
                value=1.0, value_high=None, on="value", label=None)
    return TargetFacts(SimpleNamespace(**{**base, **kw}))


FLOW_COUNT = SimpleNamespace(time_rollup="flow", measure="count")


@pytest.mark.parametrize(("change", "counted"), [
    ({}, True),
    ({"comparator": "range"}, False),       # judged in Python: "exceeded" needs the figure
    ({"basis": "subtree"}, False),
    ({"unit_id": 7}, False),                # on the units of one named unit only
    ({"on": "reduction_pct"}, False),
    ({"scope": "total"}, False),
])
def test_one_rule_says_which_each_targets_sql_counts(change, counted):
    assert counted_in_sql(_target(**change), FLOW_COUNT) is counted


def test_a_read_counts_in_sql_only_two_levels_down_and_never_for_the_raw_reference():
    class Read(EachJudging):
        sql_each = True

        def __init__(self, scope_depth):
            self.scope = SimpleNamespace(depth=scope_depth)

    t = _target(depth=3)
    # scope at the province (depth 1): communes (3) are two levels down → SQL
    assert Read(1)._sql_each_applies(FLOW_COUNT, t) is True
    # scope at the district (2): one level down → judged in Python
    assert Read(2)._sql_each_applies(FLOW_COUNT, t) is False
    # a stock is never counted in SQL, however deep
    assert Read(0)._sql_each_applies(SimpleNamespace(time_rollup="stock", measure="count"), t) is False
    raw = Read(0)
    raw.sql_each = False
    assert raw._sql_each_applies(FLOW_COUNT, t) is False


def test_the_front_door_still_answers_every_name_it_lists():
    missing = [name for name in service.__all__ if not hasattr(service, name)]
    assert missing == []
    for name in ("rollup", "dashboard", "breakdown", "drill", "raw_rollup", "rebuild", "check",
                 "on_value_changed", "on_values_changed", "lock_figures", "completeness", "evaluate"):
        assert name in service.__all__
