"""The scorecard: the units one level down × every indicator, each cell a figure and its
on-track verdict, plus the viewed unit's own figures and its whole-tree total.

One call of the roll-up engine (`service.dashboard`: the unit and its children in one pass),
judged by `app.rollup.progress`; sorting happens here on numbers, not on formatted text, so
the page, its exports and a screen reader all see the same order. Sort keys: "" (the tree's
order), "lag" (most indicators behind or not met first), "name", or an indicator code, with a
leading "-" for descending ("-CT15": largest fund first). Units without a figure sort last
either way.
"""
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select as sa_select
from sqlmodel import Session

from app.program.models import Indicator, Program
from app.program.periods import PeriodRange
from app.rollup import on_track
from app.rollup import service as rollup
from app.rollup.progress import IndicatorProgress, Judge
from app.rollup.types import Figure
from app.units.models import Unit

LAGGING = (on_track.BEHIND, on_track.NOT_MET)


@dataclass
class Cell:
    indicator: Indicator
    figure: Figure | None
    verdict: str  # on_track verdict, or "" when no target applies here
    progress: IndicatorProgress | None = None

    @property
    def sort_value(self) -> float | None:
        return None if self.figure is None or self.figure.value is None else float(self.figure.value)


@dataclass
class Row:
    unit: Unit
    kind: str  # child | own | total
    cells: list[Cell] = field(default_factory=list)
    has_children: bool = False

    @property
    def lagging(self) -> int:
        return sum(1 for c in self.cells if c.verdict in LAGGING)


@dataclass
class Scorecard:
    unit: Unit
    period: PeriodRange
    indicators: list[Indicator]
    rows: list[Row]  # one per child unit, sorted
    own: Row  # the viewed unit's own figures
    total: Row  # the viewed unit's whole tree
    sort: str


def _own_verdict(p: IndicatorProgress) -> str:
    own = [t.verdict for t in p.targets if t.result.target.scope == "own" and t.result.units_total is None]
    return on_track.worst(own) if own else ""


def build(session: Session, program: Program, unit: Unit, period: PeriodRange, as_of: date,
          sort: str = "") -> Scorecard:
    results, children = rollup.dashboard(session, unit, period, program)
    judge = Judge(session, program, period, as_of)
    indicators = [r.indicator for r in results]
    top = [judge.indicator(unit, r) for r in results]
    total = Row(unit, "total", [Cell(p.result.indicator, p.result.subtree,
                                     p.verdict if p.result.targets else "", p) for p in top])
    own = Row(unit, "own", [Cell(p.result.indicator, p.result.own, _own_verdict(p), p) for p in top])
    parents = rollup_parents(session, [c for c, _ in children])
    rows = []
    for child, res in children:
        cells = []
        for r in res:
            p = judge.indicator(child, r)
            cells.append(Cell(r.indicator, r.subtree, p.verdict if r.targets else "", p))
        rows.append(Row(child, "child", cells, child.id in parents))
    return Scorecard(unit, period, indicators, sort_rows(rows, sort, indicators), own, total, sort)


def rollup_parents(session: Session, units: list[Unit]) -> set[int]:
    """The ids among `units` that have units below them (their cells link to a drill-down)."""
    ids = [u.id for u in units]
    if not ids:
        return set()
    return {pid for (pid,) in session.execute(
        sa_select(Unit.parent_id).where(Unit.parent_id.in_(ids)).distinct())}


def sort_rows(rows: list[Row], sort: str, indicators: list[Indicator]) -> list[Row]:
    key = (sort or "").strip()
    desc = key.startswith("-")
    key = key.lstrip("-")
    if key == "name":
        return sorted(rows, key=lambda r: r.unit.name, reverse=desc)
    if key == "lag":
        # Most lagging first (desc is the natural reading); ties in the tree's order.
        return sorted(rows, key=lambda r: r.lagging, reverse=not desc)
    codes = [i.code for i in indicators]
    if key in codes:
        i = codes.index(key)
        with_value = [r for r in rows if r.cells[i].sort_value is not None]
        without = [r for r in rows if r.cells[i].sort_value is None]
        return sorted(with_value, key=lambda r: r.cells[i].sort_value, reverse=desc) + without
    return rows
