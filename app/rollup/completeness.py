"""Completeness of a month: per level below a unit, how many units submitted and which not."""
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from app.rollup.models import RollupUnitCount
from app.rollup.subtree import LazyUnits
from app.units.models import Unit, UnitLevel
from app.units.time import in_force_clause, period_day
from app.values.models import PeriodSubmission


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
    """Per level below `unit`: how many units submitted the month `period`, and which have not.

    Only the units in force on the month's last day count. Totals come from the cached unit
    counts; `missing` lists are read when first used."""
    day = period_day(period)
    names = {lv.depth: lv.name for lv in session.exec(select(UnitLevel)).all()}
    totals = {d: n for d, n in session.execute(
        sa_select(RollupUnitCount.depth, RollupUnitCount.units).where(
            RollupUnitCount.unit_id == unit.id, RollupUnitCount.period == period[:7]))}
    if not totals:  # no cached counts (units added without a rebuild, a year without a program)
        totals = {d: n for d, n in session.execute(
            sa_select(Unit.depth, func.count()).where(Unit.path.startswith(unit.path), in_force_clause(day),
                                                      Unit.depth > unit.depth).group_by(Unit.depth))}
    done: dict[int, list[int]] = defaultdict(list)
    for uid, depth in session.execute(
            sa_select(Unit.id, Unit.depth).join(PeriodSubmission, PeriodSubmission.unit_id == Unit.id)
            .where(PeriodSubmission.period == period, PeriodSubmission.status == "submitted",
                   Unit.path.startswith(unit.path), Unit.depth > unit.depth, in_force_clause(day))):
        done[depth].append(uid)
    result = Completeness(unit=unit, period=period)
    for depth in sorted(totals):
        submitted = done.get(depth, [])
        missing = LazyUnits(session, length=totals[depth] - len(submitted),
                             loader=_missing_loader(session, unit, depth, submitted, day))
        result.levels.append(LevelCompleteness(depth, names.get(depth, str(depth)), len(submitted),
                                               totals[depth], missing))
    return result


def _missing_loader(session: Session, unit: Unit, depth: int, submitted: list[int], day):
    def load() -> list[Unit]:
        q = select(Unit).where(Unit.path.startswith(unit.path), Unit.depth == depth, in_force_clause(day))
        done = set(submitted)
        return [u for u in session.exec(q.order_by(Unit.code)).all() if u.id not in done]
    return load

