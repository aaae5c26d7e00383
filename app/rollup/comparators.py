"""The comparators a target may use, one table read by Python and by SQL.

A target compares an actual figure a with its threshold v exactly: both are fractions, and
`a ? v` is decided as `a_num · v_den ? v_num · a_den` (denominators > 0), so the same operator
applies to two Python integers (`judging.meets`) and to two SQL expressions (the grouped
"each unit" count in `statements.each_count_statement`).
"""
import operator
from collections.abc import Callable
from typing import Any

#: comparator → the operator deciding `lhs ? rhs`; "range" (at least v, "exceeded" above
#: value_high) is judged in `judging.meets` from two of these.
PLAIN: dict[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "=": operator.eq,
}
RANGE = "range"


def holds(comparator: str, lhs: Any, rhs: Any) -> Any:
    """`lhs ? rhs` for a plain comparator: a bool for integers, a condition for SQL columns."""
    return PLAIN[comparator](lhs, rhs)
