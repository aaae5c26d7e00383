"""Judging a figure against a target: what the target compares (a count, an amount, a
percentage, a reduction against the baseline), met or not met, by exact integer arithmetic.
"""
from fractions import Fraction

from app.program.models import Indicator, Target
from app.program.periods import PeriodRange
from app.rollup.comparators import PLAIN, RANGE, holds
from app.rollup.rules import Sums
from app.rollup.types import MET, NO_DATA, NOT_MET, Figure, TargetResult


class TargetFacts:
    """Plain copy of a Target's fields, with its bounds as exact fractions."""

    __slots__ = ("obj", "id", "indicator_id", "scope", "unit_id", "depth", "basis", "comparator",
                 "value", "value_high", "on", "label", "frac", "frac_high")

    def __init__(self, t: Target) -> None:
        self.obj = t
        for name in ("id", "indicator_id", "scope", "unit_id", "depth", "basis", "comparator",
                     "value", "value_high", "on", "label"):
            setattr(self, name, getattr(t, name))
        self.frac = Fraction(t.value)
        self.frac_high = Fraction(t.value_high) if t.value_high is not None else self.frac


class Terms:
    """A kept target's comparator and threshold (a `rollup_each` row's terms), as `meets` reads them."""

    __slots__ = ("comparator", "value", "value_high")

    def __init__(self, comparator: str, value: float) -> None:
        self.comparator, self.value, self.value_high = comparator, value, None


# --------------------------------------------------------------------------------------------
# Comparing a figure with a target: exact integer arithmetic
# --------------------------------------------------------------------------------------------

def actual_parts(target: Target, indicator: Indicator, acc: "Sums | Figure | None",
                  expected: int | None, period: PeriodRange) -> tuple[int, int] | None:
    """What the target compares, as an exact fraction (numerator, denominator > 0)."""
    if acc is None:
        return None
    if isinstance(acc, Figure):
        if not acc.has_data:
            return None
        value, num, den = acc.value, acc.numerator, acc.denominator
        expected = acc.expected
    else:
        if not acc.reported:
            return None
        value, num, den = acc.value, acc.num, acc.den
    measure = indicator.measure
    if measure == "ratio":
        if not den:
            return None
        a = (num * 100, den)
    elif measure == "yes_no":
        if not expected:
            return None
        a = ((num if isinstance(acc, Figure) else value) * 100, expected)
    else:
        a = (int(value), 1)
    if target.on == "reduction_pct":
        if not indicator.baseline:
            return None
        base = indicator.baseline * (period.last - period.first + 1)  # × 1/12, cancels below
        # (base/12 − x) / (base/12) × 100 = (base − 12·x) × 100 / base
        return ((base * a[1] - 12 * a[0]) * 100, base * a[1])
    return a


def meets(target: Target, a_num: int, a_den: int) -> tuple[bool, bool]:
    """(met, exceeded) comparing a_num/a_den with the target by integer cross-multiplication."""
    v = target.frac if type(target) is TargetFacts else Fraction(target.value)
    lhs, rhs = a_num * v.denominator, v.numerator * a_den  # a ? v  ⇔  lhs ? rhs (a_den > 0)
    c = target.comparator
    if c in PLAIN:
        return holds(c, lhs, rhs), False
    if c == RANGE:
        if lhs < rhs:
            return False, False
        if type(target) is TargetFacts:
            high = target.frac_high
        else:
            high = Fraction(target.value_high) if target.value_high is not None else v
        if a_num * high.denominator > high.numerator * a_den:
            return True, True
        return True, False
    raise ValueError(f"unknown comparator {c!r}")


def actual_of(target: Target, indicator: Indicator, fig: Figure | None,
              period: PeriodRange) -> Fraction | None:
    """What the target compares, exactly: a count, an amount, or a percentage 0–100.

    For `on == "reduction_pct"` (child marriage against the previous year) the actual is
    (baseline − figure) / baseline × 100, where for a part of the year the baseline is
    pro-rated to the months covered: baseline × months / 12 (Q1 is compared with a quarter of
    the 2022 cases). No baseline → None (no data).
    """
    parts = actual_parts(target, indicator, fig, None, period)
    return None if parts is None else Fraction(parts[0], parts[1])


def evaluate(target: Target, indicator: Indicator, fig: Figure | None,
             period: PeriodRange) -> TargetResult:
    """One figure against one target. gap: positive = short of the target (same unit as actual).

    Met/not met is decided exactly (integers); `actual` and `gap` are for display.
    """
    parts = actual_parts(target, indicator, fig, None, period)
    if parts is None:
        return TargetResult(target=getattr(target, "obj", target), status=NO_DATA, actual=None, gap=None)
    met, exceeded = meets(target, *parts)
    a_num, a_den = parts
    actual: float | int = a_num // a_den if a_num % a_den == 0 else a_num / a_den
    c, v = target.comparator, target.value
    if c in (">=", ">"):
        gap = v - actual
    elif c in ("<=", "<"):
        gap = actual - v
    elif c == "=":
        gap = abs(actual - v)
    elif exceeded:
        gap = (target.value_high if target.value_high is not None else v) - actual
    elif met:
        gap = 0.0
    else:
        gap = v - actual
    return TargetResult(target=getattr(target, "obj", target), status=MET if met else NOT_MET,
                        actual=actual, gap=float(gap), exceeded=exceeded)
