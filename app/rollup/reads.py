"""The reads: every indicator of a unit (and of its children) over a period, against its
targets, from the kept tables (`CellContext`); `app.rollup.raw` reads the same from raw rows.

The program is passed in by the caller (`app.program.service` says which program applies).
"""
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from app.program.models import Indicator, Program, Target
from app.program.periods import PeriodRange
from app.program.rules import PERCENT_MEASURES
from app.rollup.each import EachJudging
from app.rollup.judging import TargetFacts, evaluate
from app.rollup.rules import (
    CHUNK,
    IndicatorFacts,
    Sums,
    counts_toward,
    entry_depths,
    figure_of,
    max_depth,
    path_ids,
)
from app.rollup.statements import CELLS, COUNTS, OWN_FLOWS, OWN_STOCKS_PG, OWN_STOCKS_SQLITE, fused_statement
from app.rollup.subtree import LazyUnits, children_of, count_expected, light_under
from app.rollup.types import MET, NO_DATA, NOT_MET, Figure, IndicatorResult, TargetResult
from app.units.models import Unit, UnitYear
from app.units.time import period_day


def rollup(session: Session, unit: Unit, period: PeriodRange, program: Program) -> list[IndicatorResult]:
    """Every indicator of the program, in program order, for `unit` over `period`:
    subtree and own figures and the targets that apply at this unit."""
    ctx = CellContext(session, program, program_indicators(session, program), period, scope=unit)
    return ctx.results_for([unit])[unit.id]


def dashboard(session: Session, unit: Unit, period: PeriodRange, program: Program
              ) -> tuple[list[IndicatorResult], list[tuple[Unit, list[IndicatorResult]]]]:
    """`rollup` of the unit and of each child unit, in one pass (the dashboard and its breakdown)."""
    children = children_of(session, unit, period)
    ctx = CellContext(session, program, program_indicators(session, program), period, scope=unit)
    results = ctx.results_for([unit, *children])
    return results[unit.id], [(c, results[c.id]) for c in children]


def breakdown(session: Session, unit: Unit, indicator: Indicator, period: PeriodRange,
              program: Program | None = None) -> list[tuple[Unit, IndicatorResult]]:
    """One row per child unit of `unit` (district → commune → village), in the tree's order."""
    program = program or session.get(Program, indicator.program_id)
    children = children_of(session, unit, period)
    if not children:
        return []
    ctx = CellContext(session, program, [indicator], period, scope=unit)
    results = ctx.results_for(children)
    return [(c, results[c.id][0]) for c in children]


def drill(session: Session, unit: Unit, indicator: Indicator, period: PeriodRange,
          program: Program | None = None) -> tuple[IndicatorResult, list[tuple[Unit, IndicatorResult]]]:
    """One indicator at `unit` and broken down by its child units, in one pass."""
    program = program or session.get(Program, indicator.program_id)
    children = children_of(session, unit, period)
    ctx = CellContext(session, program, [indicator], period, scope=unit)
    results = ctx.results_for([unit, *children])
    return results[unit.id][0], [(c, results[c.id][0]) for c in children]


def program_indicators(session: Session, program: Program) -> list[Indicator]:
    """The program's indicators in program order (number, then id: as the program pages)."""
    return list(session.exec(select(Indicator).where(Indicator.program_id == program.id)
                             .order_by(Indicator.number, Indicator.id)).all())


class ReadContext(EachJudging):
    """One roll-up request: program, indicators, period, the subtree it covers, and caches.

    Subclasses say where subtree figures and expected-unit counts come from.
    """

    def __init__(self, session: Session, program: Program, indicators: list[Indicator],
                 period: PeriodRange, scope: Unit) -> None:
        self.session, self.program, self.period = session, program, period
        self.year, self.day = period.year, period_day(period)  # units in force on `day` count
        self._nr: dict[int, str] | None = None  # unit → new-rural status in `year`
        self.indicators = [IndicatorFacts(i) for i in indicators]
        self.scope = scope  # every unit asked about lies in this unit's subtree
        self.dialect = session.get_bind().dialect.name
        self.by_id = {i.id: i for i in self.indicators}
        self.targets: dict[int, list[TargetFacts]] = defaultdict(list)
        if indicators:
            for t in session.exec(select(Target).where(Target.indicator_id.in_(list(self.by_id)))
                                  .order_by(Target.id)).all():
                self.targets[t.indicator_id].append(TargetFacts(t))
        self.root = session.get(Unit, program.root_unit_id) if program.root_unit_id != scope.id else scope
        self._own: dict[tuple[int, int], Sums] = {}  # (unit, indicator) → own figure
        self._loaded: set[tuple[int, int]] = set()  # (unit, indicator) pairs read
        self._light: dict[int, list[tuple[int, str, str | None]]] = {}  # depth → (id, path, new_rural)
        self._each: dict[int, dict[int, tuple[bool, bool]]] = {}  # target → unit → (has data, meets)
        self._groups: dict[tuple[int, int], dict[int, list]] = {}  # (depth, ancestor depth) → …
        self._below: dict[int, dict[int, int]] = {}  # unit → depth → units at that depth below

    # -- own figures, from data_value ------------------------------------------------------
    def load_own(self, unit_ids: Sequence[int], ind_ids: Sequence[int] | None = None) -> None:
        """Read the own figures of units (by id) for `ind_ids` (default: all), unless read."""
        ind_ids = list(ind_ids or self.by_id)
        ids = list(dict.fromkeys(uid for uid in unit_ids
                                 if any((uid, i) not in self._loaded for i in ind_ids)))
        if not ids:
            return
        self._loaded.update((uid, i) for uid in ids for i in ind_ids)
        flows = [i for i in ind_ids if self.by_id[i].time_rollup == "flow"]
        stocks = [i for i in ind_ids if self.by_id[i].time_rollup != "flow"]
        for i in range(0, len(ids), CHUNK):
            chunk = ids[i:i + CHUNK]
            for uid, iid, v, n, d, r in self._own_rows(chunk, flows, stocks):
                self._own[(uid, iid)] = Sums(v or 0, n or 0, d or 0, r)

    def _own_rows(self, ids: list[int], flows: list[int], stocks: list[int]) -> Iterable[tuple]:
        """(unit, indicator, value, num, den, 1) per unit and indicator with a figure."""
        if flows:
            yield from self.session.execute(OWN_FLOWS, {"uids": ids, "iids": flows,
                                                         "start": self.period.start,
                                                         "end": self.period.end})
        if stocks:
            params = {"uids": ids, "iids": stocks, "start": f"{self.period.year}-01",
                      "end": self.period.end}
            if self.dialect == "postgresql":
                for row in self.session.execute(OWN_STOCKS_PG, params):
                    yield row[0], row[1], row[2], row[3], row[4], 1
            else:
                for row in self.session.execute(OWN_STOCKS_SQLITE, params):
                    yield row[0], row[1], row[2], row[3], row[4], 1

    def own_acc(self, unit_id: int, ind: Indicator) -> Sums | None:
        if (unit_id, ind.id) not in self._loaded:
            self.load_own([unit_id], [ind.id])
        return self._own.get((unit_id, ind.id))

    def nr(self, ind: Indicator, unit_id: int) -> str | None:
        """The unit's new-rural status in the period's year, read only for indicators that
        ask (share_filter "new_rural"); one read of the year's statuses per request."""
        if ind.share_filter != "new_rural":
            return None
        if self._nr is None:
            self._nr = {uid: nr for uid, nr in self.session.execute(
                sa_select(UnitYear.unit_id, UnitYear.new_rural).where(
                    UnitYear.year == self.year, UnitYear.new_rural.is_not(None)))}
        return self._nr.get(unit_id)

    def own_figure(self, unit: Unit, ind: Indicator) -> Figure | None:
        if unit.depth not in entry_depths(ind):
            return None
        expected = None
        if ind.measure == "yes_no":
            expected = 1 if counts_toward(ind, unit.depth, self.nr(ind, unit.id)) else 0
        return figure_of(ind, self.own_acc(unit.id, ind), expected)

    # -- subtree figures (subclasses) --------------------------------------------------------
    def prepare(self, units: list[Unit]) -> None:
        """Read in bulk what `subtree_acc` and `expected` will need for `units`."""

    def subtree_acc(self, unit: Unit, ind: Indicator) -> Sums | None:
        raise NotImplementedError

    def expected(self, unit: Unit, ind: Indicator) -> int:
        raise NotImplementedError

    def subtree_figure(self, unit: Unit, ind: Indicator) -> Figure:
        expected = self.expected(unit, ind) if ind.measure == "yes_no" else None
        return figure_of(ind, self.subtree_acc(unit, ind), expected)

    # -- units of a level ----------------------------------------------------------------------
    def light_under_scope(self, depth: int) -> list[tuple[int, str, str | None]]:
        """(id, path, new_rural) of the units at `depth` in the scope's subtree, in code order."""
        if depth not in self._light:
            if depth == self.scope.depth:
                self._light[depth] = [(self.scope.id, self.scope.path, self._nr_any(self.scope.id))]
            else:
                self._light[depth] = light_under(self.session, self.scope, depth, self.day, self.year)
        return self._light[depth]

    def light_at(self, unit: Unit, depth: int) -> list[tuple[int, str, str | None]]:
        """Units at `depth` in `unit`'s subtree (the unit itself when it sits at that depth)."""
        if depth < unit.depth:
            return []
        if depth == unit.depth:
            return [(unit.id, unit.path, self._nr_any(unit.id))]
        if not unit.path.startswith(self.scope.path):
            return light_under(self.session, unit, depth, self.day, self.year)
        pool = self.light_under_scope(depth)
        if unit.id == self.scope.id:
            return pool
        position = len(path_ids(unit.path)) - 1  # where the unit sits in its descendants' paths
        key = (depth, position)
        groups = self._groups.get(key)
        if groups is None:
            groups = self._groups[key] = defaultdict(list)
            for x in pool:
                ids = path_ids(x[1])
                if len(ids) > position:
                    groups[ids[position]].append(x)
        return groups.get(unit.id, [])

    def _nr_any(self, unit_id: int) -> str | None:
        if self._nr is None:
            self._nr = {uid: nr for uid, nr in self.session.execute(
                sa_select(UnitYear.unit_id, UnitYear.new_rural).where(
                    UnitYear.year == self.year, UnitYear.new_rural.is_not(None)))}
        return self._nr.get(unit_id)

    # -- results -----------------------------------------------------------------------------
    def results_for(self, units: list[Unit]) -> dict[int, list[IndicatorResult]]:
        self.load_own([u.id for u in units])
        self.prepare(units)
        self.prepare_each()
        out: dict[int, list[IndicatorResult]] = {}
        for unit in units:
            results = []
            for ind in self.indicators:
                res = IndicatorResult(indicator=ind.obj, subtree=self.subtree_figure(unit, ind),
                                      own=self.own_figure(unit, ind))
                res.targets = self.evaluate_targets(unit, ind, res)
                results.append(res)
            out[unit.id] = results
        return out

    def evaluate_targets(self, viewed: Unit, ind: Indicator, res: IndicatorResult) -> list[TargetResult]:
        out: list[TargetResult] = []
        below: dict[str, list[tuple[Target, Unit]]] = defaultdict(list)
        for t in self.targets.get(ind.id, ()):
            if t.scope == "each":
                r = self.evaluate_each(viewed, ind, t)
                if r is not None:
                    out.append(r)
                continue
            target_unit = (self.session.get(Unit, t.unit_id) if t.unit_id not in (None, self.root.id)
                           else self.root)
            if target_unit is None:
                continue
            if target_unit.id == viewed.id:
                fig = res.subtree if t.scope == "total" else res.own
                out.append(evaluate(t, ind, fig, self.period))
            elif t.scope == "total" and viewed.path.startswith(target_unit.path):
                # Below the target's unit: a percentage still makes sense for the viewed
                # subtree; an absolute total, or a reduction of the root's figure, does not.
                if ind.measure in PERCENT_MEASURES and t.on == "value":
                    out.append(evaluate(t, ind, res.subtree, self.period))
            elif target_unit.path.startswith(viewed.path):
                below[t.scope].append((t, target_unit))
        for scope, pairs in below.items():
            out.append(self.summarise_targets(ind, pairs, basis="own" if scope == "own" else "subtree"))
        return out

    def _summary(self, t: Target | None, total: int, meeting: int, failing: list[int],
                 any_data: bool) -> TargetResult:
        status = NO_DATA if total == 0 or not any_data else (MET if meeting == total else NOT_MET)
        return TargetResult(target=t.obj if t is not None else None, status=status,
                            actual=meeting if total else None,
                            gap=float(total - meeting) if total else None, units_total=total,
                            units_meeting=meeting, units_failing=LazyUnits(self.session, failing))

    def summarise_targets(self, ind: Indicator, pairs: list[tuple[Target, Unit]],
                          basis: str) -> TargetResult:
        """Targets set on single units below the viewed one: met only if every one is met."""
        if basis == "own":
            self.load_own([u.id for _, u in pairs], [ind.id])
        else:
            self.prepare([u for _, u in pairs])
        meeting, failing, any_data = 0, [], False
        for t, u in pairs:
            fig = (self.own_figure(u, ind) or Figure(value=None)) if basis == "own" \
                else self.subtree_figure(u, ind)
            r = evaluate(t, ind, fig, self.period)
            any_data = any_data or r.status != NO_DATA
            if r.status == MET:
                meeting += 1
            else:
                failing.append(u.id)
        return self._summary(pairs[0][0], len(pairs), meeting, failing, any_data)


class CellContext(ReadContext):
    """Subtree figures from `rollup_cell`, expected counts from `rollup_unit_count`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cells: dict[tuple[int, int], Sums] = {}
        self._counts: dict[tuple[int, int], tuple[int, int]] = {}
        self._prepared: set[int] = set()

    def results_for(self, units: list[Unit]) -> dict[int, list[IndicatorResult]]:
        """Own figures, cells and unit counts of `units` read in one round trip, then the base."""
        if len(units) <= CHUNK:
            self._read_fused([u.id for u in units])
        return super().results_for(units)

    def _read_fused(self, ids: list[int]) -> None:
        all_iids = list(self.by_id)
        own_ids = [uid for uid in dict.fromkeys(ids)
                   if any((uid, i) not in self._loaded for i in all_iids)]
        cell_ids = [uid for uid in dict.fromkeys(ids) if uid not in self._prepared]
        if not own_ids and not cell_ids:
            return
        flows = [i for i, ind in self.by_id.items() if ind.time_rollup == "flow"]
        stocks = [i for i, ind in self.by_id.items() if ind.time_rollup != "flow"]
        need_counts = any(i.measure == "yes_no" for i in self.indicators)
        params = {"own_uids": own_ids, "own_flows": flows if own_ids else [],
                  "own_stocks": stocks if own_ids else [], "start": self.period.start,
                  "end": self.period.end, "ystart": f"{self.period.year}-01",
                  "cell_uids": cell_ids, "cell_iids": all_iids if cell_ids else [],
                  "cell_flows": flows if self.period.first != self.period.last else [],
                  "count_uids": cell_ids if need_counts else []}
        self._loaded.update((uid, i) for uid in own_ids for i in all_iids)
        self._prepared.update(cell_ids)
        for kind, uid, key, a, b, c, d in self.session.execute(fused_statement(self.dialect), params):
            if kind == "n":
                self._counts[(uid, key)] = (int(a), int(b))
            elif kind == "c":
                self._cells[(uid, key)] = Sums(int(a), int(b), int(c), int(d))
            else:
                self._own[(uid, key)] = Sums(int(a or 0), int(b or 0), int(c or 0), int(d))

    def prepare(self, units: list[Unit]) -> None:
        ids = [u.id for u in units if u.id not in self._prepared]
        if not ids:
            return
        self._prepared.update(ids)
        flows = [i for i, ind in self.by_id.items() if ind.time_rollup == "flow"]
        if self.period.first == self.period.last:
            flows = []
        iids = list(self.by_id)
        for i in range(0, len(ids), CHUNK):
            chunk = ids[i:i + CHUNK]
            for uid, iid, v, n, d, r in self.session.execute(CELLS, {
                    "uids": chunk, "iids": iids, "flows": flows, "start": self.period.start,
                    "end": self.period.end}):
                self._cells[(uid, iid)] = Sums(int(v), int(n), int(d), int(r))
        if any(i.measure == "yes_no" for i in self.indicators):
            for i in range(0, len(ids), CHUNK):
                for uid, depth, n, nr in self.session.execute(COUNTS, {"uids": ids[i:i + CHUNK]}):
                    self._counts[(uid, depth)] = (n, nr)

    def subtree_acc(self, unit: Unit, ind: Indicator) -> Sums | None:
        if unit.depth >= max_depth(ind):
            # No cells at the deepest entry level: the subtree figure is the unit's own.
            if not counts_toward(ind, unit.depth, self.nr(ind, unit.id)):
                return None
            return self.own_acc(unit.id, ind)
        if unit.id not in self._prepared:
            self.prepare([unit])
        return self._cells.get((unit.id, ind.id))

    def expected(self, unit: Unit, ind: Indicator) -> int:
        if unit.id not in self._prepared:
            self.prepare([unit])
        new_rural = ind.share_filter == "new_rural"
        total = 1 if counts_toward(ind, unit.depth, self.nr(ind, unit.id)) else 0
        below = [d for d in entry_depths(ind) if d > unit.depth]
        if below and not any((unit.id, d) in self._counts for d in below):
            # No cached count (units added without a rebuild): count the tree.
            return count_expected(self.session, unit, ind, self.day, self.year)
        for depth in below:
            n, nr = self._counts.get((unit.id, depth), (0, 0))
            total += nr if new_rural else n
        return total

