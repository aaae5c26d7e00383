"""Roll-up engine: every indicator of a unit's subtree over a period, against its targets.

Rules (PRODUCT.md, section "Indicators"):
- a unit's own figure over a period: flows sum the months of the period; stocks (and every
  yes/no) take the latest month entered at or before the period's last month, within the
  program year (a stock entered in March still stands in May; March and June → June wins);
- a subtree figure runs over the units of the subtree at the indicator's entry depths:
  count/amount Σ own figures; ratio Σnumerator / Σdenominator (never an average of
  percentages); yes/no = share of units: yes / units that should report (every unit at the
  entry depths, or only new-rural communes for share_filter "new_rural"), with the units that
  answered counted apart so "not yet reported" is never shown as "no";
- targets are evaluated by scope (total / own / each) with exact arithmetic (Fractions).
"""
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from sqlalchemy import and_, func, select as sa_select
from sqlmodel import Session, select

from app.program import rules
from app.program.models import Indicator, Program, Target
from app.program.periods import PeriodRange
from app.program.service import current_program, indicators_of
from app.rollup.types import MET, NO_DATA, NOT_MET, Figure, IndicatorResult, TargetResult
from app.units.models import Unit, UnitLevel
from app.values.models import DataValue, PeriodSubmission

NEW_RURAL = ("recognised", "expected")
PERCENT_MEASURES = ("ratio", "yes_no")

__all__ = ["rollup", "breakdown", "completeness", "on_value_changed", "on_values_changed",
           "rebuild", "current_program", "Completeness", "LevelCompleteness", "ValueChange"]


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------

def rollup(session: Session, unit: Unit, period: PeriodRange,
           program: Program | None = None) -> list[IndicatorResult]:
    """Every indicator of the program, in program order, for `unit`'s subtree over `period`."""
    program = program or current_program(session)
    indicators = indicators_of(session, program)
    ctx = _Context(session, program, indicators, period)
    return ctx.results_for([unit])[unit.id]


def breakdown(session: Session, unit: Unit, indicator: Indicator, period: PeriodRange,
              program: Program | None = None) -> list[tuple[Unit, IndicatorResult]]:
    """One row per child unit of `unit` (district → commune → village), in the tree's order."""
    program = program or session.get(Program, indicator.program_id)
    children = list(session.exec(select(Unit).where(Unit.parent_id == unit.id)
                                 .order_by(Unit.sort_order, Unit.name, Unit.id)).all())
    if not children:
        return []
    ctx = _Context(session, program, [indicator], period)
    results = ctx.results_for(children)
    return [(c, results[c.id][0]) for c in children]


@dataclass
class LevelCompleteness:
    depth: int
    level: str  # the level's name, e.g. "Cấp xã"
    submitted: int
    total: int
    missing: list[Unit] = field(default_factory=list)  # units that have not submitted


@dataclass
class Completeness:
    unit: Unit
    period: str  # a month "YYYY-MM"
    levels: list[LevelCompleteness] = field(default_factory=list)

    @property
    def submitted(self) -> int:
        return sum(lv.submitted for lv in self.levels)

    @property
    def total(self) -> int:
        return sum(lv.total for lv in self.levels)


def completeness(session: Session, unit: Unit, period: str) -> Completeness:
    """Per level below `unit`: how many units submitted the month `period`, and which have not."""
    names = {lv.depth: lv.name for lv in session.exec(select(UnitLevel)).all()}
    below = list(session.exec(
        select(Unit).where(Unit.path.startswith(unit.path), Unit.depth > unit.depth)
        .order_by(Unit.depth, Unit.path, Unit.sort_order)).all())
    done = set(session.exec(
        select(PeriodSubmission.unit_id).join(Unit, Unit.id == PeriodSubmission.unit_id)
        .where(PeriodSubmission.period == period, PeriodSubmission.status == "submitted",
               Unit.path.startswith(unit.path))).all())
    by_depth: dict[int, list[Unit]] = defaultdict(list)
    for u in below:
        by_depth[u.depth].append(u)
    result = Completeness(unit=unit, period=period)
    for depth in sorted(by_depth):
        units = by_depth[depth]
        missing = [u for u in units if u.id not in done]
        result.levels.append(LevelCompleteness(depth, names.get(depth, str(depth)),
                                               len(units) - len(missing), len(units), missing))
    return result


@dataclass
class ValueChange:
    """One figure changed: `old`/`new` are snapshots ({value, numerator, denominator}) or None."""

    unit: Unit
    indicator: Indicator
    period: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None


def on_value_changed(session: Session, unit: Unit, indicator: Indicator, period: str,
                     old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
    """Bring every aggregate above `unit` up to date after one figure changed (same transaction)."""
    on_values_changed(session, [ValueChange(unit, indicator, period, old, new)])


def on_values_changed(session: Session, changes: Iterable[ValueChange]) -> None:
    """Batch form of `on_value_changed` for imports (one pass, same transaction)."""
    # First version reads raw values at query time: nothing to maintain.
    return None


def rebuild(session: Session) -> None:
    """Recompute every aggregate from the raw `data_value` rows."""
    return None


# --------------------------------------------------------------------------------------------
# Own and subtree figures from raw values
# --------------------------------------------------------------------------------------------

@dataclass
class _Acc:
    """Accumulated own entries of one unit (or many) for one indicator over a period."""

    value: int = 0
    num: int = 0
    den: int = 0
    reported: int = 0  # units with an (effective) entry


def _effective(rows: Sequence[tuple], indicator: Indicator, period: PeriodRange) -> tuple | None:
    """(value, num, den) of one unit's rows (period, value, num, den) sorted by period."""
    if indicator.time_rollup == "flow":
        inside = [r for r in rows if period.start <= r[0] <= period.end]
        if not inside:
            return None
        return (sum(r[1] or 0 for r in inside), sum(r[2] or 0 for r in inside),
                sum(r[3] or 0 for r in inside))
    upto = [r for r in rows if f"{period.year}-01" <= r[0] <= period.end]
    if not upto:
        return None
    last = max(upto, key=lambda r: r[0])
    return (last[1] or 0, last[2] or 0, last[3] or 0)


def _figure(indicator: Indicator, acc: _Acc | None, expected: int | None = None) -> Figure:
    measure = indicator.measure
    if measure == "yes_no":
        yes = acc.value if acc else 0
        reported = acc.reported if acc else 0
        exp = expected if expected is not None else reported
        value = (yes / exp if exp else None) if reported else None
        return Figure(value=value, numerator=yes, denominator=exp, reported=reported, expected=exp)
    if acc is None or acc.reported == 0:
        return Figure(value=None, reported=0)
    if measure == "ratio":
        value = acc.num / acc.den if acc.den else None
        return Figure(value=value, numerator=acc.num, denominator=acc.den, reported=acc.reported)
    return Figure(value=acc.value, reported=acc.reported)


def _counts_toward(indicator: Indicator, unit_depth: int, new_rural: str | None) -> bool:
    """Whether a unit's answer belongs in the indicator's subtree figure."""
    if not rules.enters(indicator, unit_depth):
        return False
    if indicator.measure == "yes_no" and indicator.share_filter == "new_rural":
        return new_rural in NEW_RURAL
    return True


class _Context:
    """One roll-up request: the program, the indicators, the period, and what was read."""

    def __init__(self, session: Session, program: Program, indicators: list[Indicator],
                 period: PeriodRange) -> None:
        self.session, self.program, self.indicators, self.period = session, program, indicators, period
        self.by_id = {i.id: i for i in indicators}
        self.targets: dict[int, list[Target]] = defaultdict(list)
        if indicators:
            for t in session.exec(select(Target).where(Target.indicator_id.in_(list(self.by_id)))
                                  .order_by(Target.id)).all():
                self.targets[t.indicator_id].append(t)
        self.root = session.get(Unit, program.root_unit_id)
        self._units: dict[int, Unit] = {}

    # -- reading raw values ------------------------------------------------------------------
    def _rows(self, prefix: str, exact_unit_ids: list[int] | None = None,
              depth: int | None = None) -> dict[tuple[int, int], list[tuple]]:
        """Raw rows (period, value, num, den) per (unit, indicator) in a subtree, up to the end."""
        q = (sa_select(DataValue.unit_id, DataValue.indicator_id, DataValue.period, DataValue.value,
                       DataValue.numerator, DataValue.denominator)
             .join(Unit, Unit.id == DataValue.unit_id)
             .where(DataValue.indicator_id.in_(list(self.by_id)),
                    DataValue.period >= f"{self.period.year}-01", DataValue.period <= self.period.end))
        if exact_unit_ids is not None:
            q = q.where(DataValue.unit_id.in_(exact_unit_ids))
        else:
            q = q.where(Unit.path.startswith(prefix))
        if depth is not None:
            q = q.where(Unit.depth == depth)
        out: dict[tuple[int, int], list[tuple]] = defaultdict(list)
        for uid, iid, per, v, n, d in self.session.execute(q):
            out[(uid, iid)].append((per, v, n, d))
        return out

    def own_accs(self, units: list[Unit]) -> dict[tuple[int, int], _Acc]:
        rows = self._rows("", exact_unit_ids=[u.id for u in units])
        out: dict[tuple[int, int], _Acc] = {}
        for (uid, iid), rs in rows.items():
            eff = _effective(rs, self.by_id[iid], self.period)
            if eff is not None:
                out[(uid, iid)] = _Acc(eff[0], eff[1], eff[2], 1)
        return out

    def subtree_accs(self, unit: Unit) -> dict[int, _Acc]:
        units = {u.id: u for u in self.session.exec(
            select(Unit).where(Unit.path.startswith(unit.path))).all()}
        rows = self._rows(unit.path)
        out: dict[int, _Acc] = {}
        for (uid, iid), rs in rows.items():
            ind, u = self.by_id[iid], units[uid]
            if not _counts_toward(ind, u.depth, u.new_rural):
                continue
            eff = _effective(rs, ind, self.period)
            if eff is None:
                continue
            acc = out.setdefault(iid, _Acc())
            acc.value += eff[0]
            acc.num += eff[1]
            acc.den += eff[2]
            acc.reported += 1
        return out

    def expected(self, unit: Unit, indicator: Indicator) -> int:
        depths = sorted(rules.entry_depths(indicator))
        q = sa_select(func.count()).select_from(Unit).where(
            Unit.path.startswith(unit.path), Unit.depth.in_(depths))
        if indicator.share_filter == "new_rural":
            q = q.where(Unit.new_rural.in_(NEW_RURAL))
        return int(self.session.execute(q).scalar_one())

    def units_at(self, unit: Unit, depth: int) -> list[Unit]:
        if depth == unit.depth:
            return [unit]
        if depth < unit.depth:
            return []
        return list(self.session.exec(select(Unit).where(
            Unit.path.startswith(unit.path), Unit.depth == depth)
            .order_by(Unit.path, Unit.sort_order)).all())

    # -- results -----------------------------------------------------------------------------
    def subtree_figure(self, unit: Unit, indicator: Indicator,
                       accs: dict[int, _Acc] | None = None) -> Figure:
        if accs is None:
            accs = self.subtree_accs(unit)
        expected = self.expected(unit, indicator) if indicator.measure == "yes_no" else None
        return _figure(indicator, accs.get(indicator.id), expected)

    def own_figure(self, unit: Unit, indicator: Indicator,
                   owns: dict[tuple[int, int], _Acc]) -> Figure | None:
        if not rules.enters(indicator, unit.depth):
            return None
        acc = owns.get((unit.id, indicator.id))
        expected = 1 if indicator.measure == "yes_no" else None
        if indicator.measure == "yes_no" and not _counts_toward(indicator, unit.depth, unit.new_rural):
            expected = 0
        return _figure(indicator, acc, expected)

    def results_for(self, units: list[Unit]) -> dict[int, list[IndicatorResult]]:
        owns = self.own_accs(units)
        out: dict[int, list[IndicatorResult]] = {}
        for unit in units:
            accs = self.subtree_accs(unit)
            results = []
            for ind in self.indicators:
                res = IndicatorResult(indicator=ind, subtree=self.subtree_figure(unit, ind, accs),
                                      own=self.own_figure(unit, ind, owns))
                res.targets = self.evaluate_targets(unit, ind, res)
                results.append(res)
            out[unit.id] = results
        return out

    # -- targets -----------------------------------------------------------------------------
    def unit(self, unit_id: int) -> Unit | None:
        if unit_id not in self._units:
            self._units[unit_id] = self.session.get(Unit, unit_id)
        return self._units[unit_id]

    def evaluate_targets(self, viewed: Unit, ind: Indicator, res: IndicatorResult) -> list[TargetResult]:
        out: list[TargetResult] = []
        below: dict[str, list[tuple[Target, Unit]]] = defaultdict(list)
        for t in self.targets.get(ind.id, []):
            if t.scope == "each":
                r = self.evaluate_each(viewed, ind, t)
                if r is not None:
                    out.append(r)
                continue
            target_unit = self.unit(t.unit_id) if t.unit_id else self.root
            if target_unit is None:
                continue
            if target_unit.id == viewed.id:
                fig = res.subtree if t.scope == "total" else res.own
                out.append(evaluate(t, ind, fig, self.period))
            elif t.scope == "total" and viewed.path.startswith(target_unit.path):
                # Below the target's unit: a percentage still makes sense for the viewed
                # subtree; an absolute total or a reduction of the root's figure does not.
                if ind.measure in PERCENT_MEASURES and t.on == "value":
                    out.append(evaluate(t, ind, res.subtree, self.period))
            elif target_unit.path.startswith(viewed.path):
                below[t.scope].append((t, target_unit))
        for scope, pairs in below.items():
            out.append(self.summarise_units(ind, pairs, basis="own" if scope == "own" else "subtree"))
        return out

    def figure_of(self, unit: Unit, ind: Indicator, basis: str) -> Figure:
        if basis == "subtree":
            return self.subtree_figure(unit, ind)
        owns = self.own_accs([unit])
        return self.own_figure(unit, ind, owns) or Figure(value=None)

    def evaluate_each(self, viewed: Unit, ind: Indicator, t: Target) -> TargetResult | None:
        if t.depth is None or viewed.depth > t.depth:
            return None
        scope_unit = self.unit(t.unit_id) if t.unit_id else None
        if scope_unit is not None and not (viewed.path.startswith(scope_unit.path)
                                           or scope_unit.path.startswith(viewed.path)):
            return None
        units = self.units_at(viewed, t.depth)
        if scope_unit is not None:
            units = [u for u in units if u.path.startswith(scope_unit.path)]
        return self.summarise_units(ind, [(t, u) for u in units], basis=t.basis)

    def summarise_units(self, ind: Indicator, pairs: list[tuple[Target, Unit]],
                        basis: str) -> TargetResult:
        """Many units each against a target: met only if every one meets it."""
        units = [u for _, u in pairs]
        if basis == "own":
            owns = self.own_accs(units)
            figs = [self.own_figure(u, ind, owns) or Figure(value=None) for u in units]
        else:
            figs = [self.subtree_figure(u, ind) for u in units]
        meeting, failing, any_data = 0, [], False
        for (t, u), fig in zip(pairs, figs, strict=True):
            r = evaluate(t, ind, fig, self.period)
            any_data = any_data or r.status != NO_DATA
            if r.status == MET:
                meeting += 1
            else:
                failing.append(u)
        total = len(pairs)
        if total == 0 or not any_data:
            status = NO_DATA
        else:
            status = MET if meeting == total else NOT_MET
        return TargetResult(target=pairs[0][0] if pairs else None, status=status,
                            actual=meeting if total else None,
                            gap=(total - meeting) if total else None,
                            units_total=total, units_meeting=meeting, units_failing=failing)


# --------------------------------------------------------------------------------------------
# Comparing a figure with a target: exact arithmetic
# --------------------------------------------------------------------------------------------

def actual_of(target: Target, indicator: Indicator, fig: Figure | None,
              period: PeriodRange) -> Fraction | None:
    """What the target compares, exactly: a count, an amount, or a percentage 0–100.

    For `on == "reduction_pct"` (child marriage against the previous year) the actual is
    (baseline − figure) / baseline × 100, where for a part of the year the baseline is
    pro-rated to the months covered: baseline × months / 12 (Q1 is compared with a quarter of
    the 2022 cases). No baseline → None (no data).
    """
    if fig is None or not fig.has_data:
        return None
    if indicator.measure == "ratio":
        if not fig.denominator:
            return None
        value = Fraction(fig.numerator * 100, fig.denominator)
    elif indicator.measure == "yes_no":
        if not fig.expected:
            return None
        value = Fraction((fig.numerator or 0) * 100, fig.expected)
    else:
        value = Fraction(int(fig.value))
    if target.on == "reduction_pct":
        if not indicator.baseline:
            return None
        months = period.last - period.first + 1
        base = Fraction(indicator.baseline * months, 12)
        return (base - value) / base * 100
    return value


def evaluate(target: Target, indicator: Indicator, fig: Figure | None,
             period: PeriodRange) -> TargetResult:
    """One figure against one target. gap: positive = short of the target (same unit as actual)."""
    a = actual_of(target, indicator, fig, period)
    if a is None:
        return TargetResult(target=target, status=NO_DATA, actual=None, gap=None)
    v = Fraction(target.value)
    c = target.comparator
    exceeded = False
    if c == ">=":
        met, gap = a >= v, v - a
    elif c == ">":
        met, gap = a > v, v - a
    elif c == "<=":
        met, gap = a <= v, a - v
    elif c == "<":
        met, gap = a < v, a - v
    elif c == "=":
        met, gap = a == v, abs(a - v)
    elif c == "range":
        high = Fraction(target.value_high) if target.value_high is not None else v
        if a < v:
            met, gap = False, v - a
        elif a > high:
            met, gap, exceeded = True, high - a, True
        else:
            met, gap = True, Fraction(0)
    else:
        raise ValueError(f"unknown comparator {c!r}")
    actual: float | int = int(a) if a.denominator == 1 else float(a)
    return TargetResult(target=target, status=MET if met else NOT_MET, actual=actual,
                        gap=float(gap), exceeded=exceeded)
