"""The on-track rule (`app.rollup.on_track`) applied to the roll-up engine's results.

The engine (`app.rollup.service`) answers "met / not met" for the figure of a period; this
module turns each of its `TargetResult`s into a verdict of the year: met, on track, behind,
not met, no data. It reads, never writes; the engine's own tables answer the two things the
engine's result does not carry:

- the due month of the tasks that drive an indicator (`task_indicator` → `task.due_month`):
  the latest one sets the pace of the indicator's flow targets;
- for a target over many units ("each district ≥ 3"), every unit's own running total from
  `rollup_own` (cumulative from January, one row per unit: `row(last) − row(first − 1)`), so
  each unit is judged by the same rule and the target is on track when every unit is.
"""
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from sqlalchemy import and_, bindparam, func
from sqlalchemy import select as sa_select
from sqlmodel import Session

from app.program.models import Indicator, Program, Target, Task, TaskIndicator
from app.program.periods import PeriodRange
from app.rollup import on_track
from app.rollup.models import RollupOwn
from app.rollup.service import actual_of
from app.rollup.types import MET, NO_DATA, IndicatorResult, TargetResult
from app.units.models import Unit
from app.units.time import in_force_clause, period_day


@dataclass
class TargetProgress:
    result: TargetResult
    verdict: str
    units_on_track: int | None = None  # many units: those met or on track
    expected_now: Fraction | None = None  # a flow's pro-rated threshold, when not final


@dataclass
class IndicatorProgress:
    result: IndicatorResult
    verdict: str
    targets: list[TargetProgress]


def due_months(session: Session, program: Program) -> dict[int, int]:
    """indicator id → the latest due month of the program's tasks that drive it."""
    q = (sa_select(TaskIndicator.indicator_id, func.max(Task.due_month))
         .join(Task, Task.id == TaskIndicator.task_id)
         .where(Task.program_id == program.id, Task.due_month.is_not(None))
         .group_by(TaskIndicator.indicator_id))
    return {iid: int(m) for iid, m in session.execute(q)}


def kind_of(indicator: Indicator, target: Target) -> str:
    if target.on == "reduction_pct":
        return on_track.PRORATED
    if indicator.time_rollup == "flow" and indicator.measure in ("count", "amount"):
        return on_track.FLOW
    return on_track.STOCK


class Judge:
    """Judges the results of one unit (or of several units of one page) over one period."""

    def __init__(self, session: Session, program: Program, period: PeriodRange, as_of: date,
                 due: dict[int, int] | None = None) -> None:
        self.session, self.program, self.period, self.as_of = session, program, period, as_of
        self.due = due_months(session, program) if due is None else due

    def pace(self, indicator: Indicator) -> on_track.Pace:
        return on_track.pace(self.period, self.as_of, self.due.get(indicator.id))

    def indicator(self, unit: Unit, res: IndicatorResult) -> IndicatorProgress:
        targets = [self.target(unit, res, tr) for tr in res.targets]
        return IndicatorProgress(res, on_track.worst([t.verdict for t in targets]), targets)

    def target(self, unit: Unit, res: IndicatorResult, tr: TargetResult) -> TargetProgress:
        ind, t = res.indicator, tr.target
        p, kind = self.pace(ind), kind_of(ind, t)
        threshold = Fraction(str(t.value))
        expected = threshold * p.share if kind == on_track.FLOW and not p.final else None
        if tr.units_total is None:
            fig = res.own if t.scope == "own" else res.subtree
            actual = actual_of(t, ind, fig, self.period) if tr.status != NO_DATA else None
            return TargetProgress(tr, on_track.verdict(actual, t.comparator, threshold, kind, p),
                                  expected_now=expected)
        # Many units, each against the target.
        if tr.units_total and tr.units_meeting == tr.units_total:
            return TargetProgress(tr, MET, tr.units_meeting, expected)
        if p.final or tr.status == NO_DATA:
            return TargetProgress(tr, tr.status, tr.units_meeting, expected)
        if kind == on_track.FLOW and t.scope == "each" and t.basis == "own" and t.depth is not None:
            if unit.depth == t.depth:  # the one unit of that level is the viewed one: its own figure
                own = actual_of(t, ind, res.own, self.period) if res.own is not None else None
                totals = [own if own is not None else Fraction(0)]
            else:
                totals = [Fraction(v) for v in self._own_totals(unit, ind, t)]
            verdicts = [on_track.verdict(v, t.comparator, threshold, kind, p) for v in totals]
            on = sum(1 for v in verdicts if v in (MET, on_track.ON_TRACK))
            return TargetProgress(tr, on_track.combine(verdicts, p.final), on, expected)
        # A standing figure per unit, or targets set unit by unit: judged as they stand.
        return TargetProgress(tr, on_track.BEHIND, tr.units_meeting, expected)

    def _own_totals(self, viewed: Unit, ind: Indicator, t: Target) -> list[int]:
        """Each unit's own running total over the period, for the units the target looks at
        under `viewed` (a unit without figures has done nothing yet: 0)."""
        scope_path = viewed.path
        if t.unit_id is not None and t.unit_id != self.program.root_unit_id:
            scope = self.session.get(Unit, t.unit_id)
            if scope is not None and scope.path.startswith(viewed.path):
                scope_path = scope.path
        first = self.period.first
        params = {"iid": ind.id, "end": self.period.end, "depth": t.depth,
                  "prev": f"{self.period.year}-{first - 1:02d}" if first > 1 else "",
                  "path": scope_path + "%",  # a path is digits and slashes: no LIKE wildcards
                  "day": period_day(self.period)}
        return [int(a) - int(b) for a, b in self.session.execute(_OWN_TOTALS, params)]


_unit, _end, _prev = Unit.__table__, RollupOwn.__table__.alias("own_end"), RollupOwn.__table__.alias("own_prev")
# Built once: every unit at a depth under a path, with its cumulative own flow at the period's
# last month and at the month before its first (0 where the unit has entered nothing yet).
_OWN_TOTALS = (
    sa_select(func.coalesce(_end.c.value_sum, 0), func.coalesce(_prev.c.value_sum, 0))
    .select_from(_unit
                 .outerjoin(_end, and_(_end.c.unit_id == _unit.c.id, _end.c.indicator_id == bindparam("iid"),
                                       _end.c.period == bindparam("end")))
                 .outerjoin(_prev, and_(_prev.c.unit_id == _unit.c.id, _prev.c.indicator_id == bindparam("iid"),
                                        _prev.c.period == bindparam("prev"))))
    .where(_unit.c.path.like(bindparam("path")), _unit.c.depth == bindparam("depth"),
           in_force_clause(bindparam("day"), _unit.c)))  # the units in force in the period
