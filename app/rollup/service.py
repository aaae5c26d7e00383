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

Design: pre-aggregated cells, kept up to date in the saving transaction.
A dashboard reads the figures of one unit and its children for every indicator; summing the
raw `data_value` rows of a subtree at read time means touching ~140,000 rows for a province
(~10 million nationally) and picking the latest month per unit for stocks, which costs tens to
hundreds of milliseconds. Instead `rollup_cell` (see `app.rollup.models`) holds, for every unit
that has entering units below it, every indicator and every month, the sum of its subtree's
*effective* figures: a flow's figure of the month, a stock's carried-forward latest figure.
So a period is read as one row per (unit, indicator) for stocks (the period's last month) and
one row per month for flows, whatever the size of the subtree: the province dashboard with its
district breakdown is ~1,000 small rows read by primary key. Units at an indicator's deepest
entry level (villages for village indicators) hold no cells: their figure is their own
`data_value` row, which keeps the table ~10× smaller than `data_value` itself.

A save changes one unit's effective figures for one month (flow) or for the months until its
next entry (stock), so `on_value_changed` reads that unit's ≤ 12 rows of the year, computes the
before/after effective vectors and upserts the differences into the cells of the unit's
ancestors (from `Unit.path`: at most depth × 12 rows), in the caller's transaction: a committed
figure and its roll-up never disagree. The batch form does the same for thousands of changes
with one read and one upsert. `rollup_unit_count` caches, per unit and depth below it, how many
units should report (all, and new-rural ones) for share-of-units denominators. `rebuild`
recomputes both tables from `data_value` (seeding, imports of units, recovery); a change of the
tree (a unit moved, a commune's new-rural status changed) needs a `rebuild`.

`raw_rollup` answers the same questions straight from `data_value` (the straightforward
design); it is the reference the tests compare the cells with, and the benchmark's baseline.
"""
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from sqlalchemy import delete, func, insert, or_, select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from app.program import rules
from app.program.models import Indicator, Program, Target
from app.program.periods import PeriodRange
from app.program.service import current_program, indicators_of
from app.rollup.models import RollupCell, RollupUnitCount
from app.rollup.types import MET, NO_DATA, NOT_MET, Figure, IndicatorResult, TargetResult
from app.units.models import Unit, UnitLevel
from app.values.models import DataValue, PeriodSubmission

NEW_RURAL = ("recognised", "expected")
PERCENT_MEASURES = ("ratio", "yes_no")
_CHUNK = 5000

__all__ = ["rollup", "breakdown", "dashboard", "completeness", "on_value_changed",
           "on_values_changed", "rebuild", "rebuild_unit_counts", "raw_rollup", "evaluate",
           "actual_of", "current_program", "Completeness", "LevelCompleteness", "ValueChange"]


# --------------------------------------------------------------------------------------------
# Public API: reading
# --------------------------------------------------------------------------------------------

def rollup(session: Session, unit: Unit, period: PeriodRange,
           program: Program | None = None) -> list[IndicatorResult]:
    """Every indicator of the program, in program order, for `unit` over `period`:
    subtree and own figures and the targets that apply at this unit."""
    program = program or current_program(session)
    ctx = _CellContext(session, program, indicators_of(session, program), period, scope=unit)
    return ctx.results_for([unit])[unit.id]


def dashboard(session: Session, unit: Unit, period: PeriodRange, program: Program | None = None
              ) -> tuple[list[IndicatorResult], list[tuple[Unit, list[IndicatorResult]]]]:
    """`rollup` of the unit and of each child unit, in one pass (the dashboard and its breakdown)."""
    program = program or current_program(session)
    children = _children(session, unit)
    ctx = _CellContext(session, program, indicators_of(session, program), period, scope=unit)
    results = ctx.results_for([unit, *children])
    return results[unit.id], [(c, results[c.id]) for c in children]


def breakdown(session: Session, unit: Unit, indicator: Indicator, period: PeriodRange,
              program: Program | None = None) -> list[tuple[Unit, IndicatorResult]]:
    """One row per child unit of `unit` (district → commune → village), in the tree's order."""
    program = program or session.get(Program, indicator.program_id)
    children = _children(session, unit)
    if not children:
        return []
    ctx = _CellContext(session, program, [indicator], period, scope=unit)
    results = ctx.results_for(children)
    return [(c, results[c.id][0]) for c in children]


def raw_rollup(session: Session, unit: Unit, period: PeriodRange, program: Program | None = None,
               with_children: bool = False
               ) -> tuple[list[IndicatorResult], list[tuple[Unit, list[IndicatorResult]]]]:
    """The same answer as `dashboard`, computed from raw `data_value` rows at read time."""
    program = program or current_program(session)
    children = _children(session, unit) if with_children else []
    ctx = _RawContext(session, program, indicators_of(session, program), period, scope=unit)
    results = ctx.results_for([unit, *children])
    return results[unit.id], [(c, results[c.id]) for c in children]


def _children(session: Session, unit: Unit) -> list[Unit]:
    return list(session.exec(select(Unit).where(Unit.parent_id == unit.id)
                             .order_by(Unit.sort_order, Unit.name, Unit.id)).all())


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


# --------------------------------------------------------------------------------------------
# Public API: keeping the cells up to date
# --------------------------------------------------------------------------------------------

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
    """Bring every aggregate above `unit` up to date after one figure changed (same transaction).

    Call it after the `data_value` row is written (or deleted); `old` is the row as it was.
    """
    on_values_changed(session, [ValueChange(unit, indicator, period, old, new)])


def on_values_changed(session: Session, changes: Iterable[ValueChange]) -> None:
    """Batch form for imports: call once after all the `data_value` rows are written.

    For every (unit, indicator, year) touched, the effective monthly figures after the changes
    (read from `data_value`) and before them (the same rows with each changed month put back to
    its `old` snapshot) are compared, and the differences added to the ancestors' cells.
    """
    groups: dict[tuple[int, int, int], dict] = {}
    for ch in changes:
        ind, unit = ch.indicator, ch.unit
        if not _counts_toward(ind, unit.depth, unit.new_rural) or not _cell_owners(unit, ind):
            continue
        year = int(ch.period[:4])
        g = groups.setdefault((unit.id, ind.id, year), {"unit": unit, "ind": ind, "old": {}})
        g["old"].setdefault(ch.period, _triple(ch.old))  # the first change holds the true "before"
    if not groups:
        return
    session.flush()
    after = _read_rows(session, groups)
    deltas: dict[tuple[int, int, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for (uid, iid, year), g in groups.items():
        rows_after = after.get((uid, iid, year), {})
        rows_before = dict(rows_after)
        for per, old in g["old"].items():
            if old is None:
                rows_before.pop(per, None)
            else:
                rows_before[per] = old
        va = _monthly(rows_after, g["ind"], year)
        vb = _monthly(rows_before, g["ind"], year)
        owners = _cell_owners(g["unit"], g["ind"])
        for per in va.keys() | vb.keys():
            a, b = va.get(per), vb.get(per)
            d = [(a[0] if a else 0) - (b[0] if b else 0), (a[1] if a else 0) - (b[1] if b else 0),
                 (a[2] if a else 0) - (b[2] if b else 0), (a is not None) - (b is not None)]
            if d == [0, 0, 0, 0]:
                continue
            for owner in owners:
                acc = deltas[(owner, iid, per)]
                for k in range(4):
                    acc[k] += d[k]
    _upsert_deltas(session, deltas)


def rebuild(session: Session) -> None:
    """Recompute every aggregate from the raw `data_value` rows and the unit tree."""
    session.flush()
    rebuild_unit_counts(session)
    session.execute(delete(RollupCell))
    units = {uid: (depth, path, nr) for uid, depth, path, nr in session.execute(
        sa_select(Unit.id, Unit.depth, Unit.path, Unit.new_rural))}
    indicators = {i.id: i for i in session.exec(select(Indicator)).all()}
    cells: dict[tuple[int, int, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    q = (sa_select(DataValue.unit_id, DataValue.indicator_id, DataValue.period, DataValue.value,
                   DataValue.numerator, DataValue.denominator)
         .order_by(DataValue.unit_id, DataValue.indicator_id, DataValue.period)
         .execution_options(yield_per=20000))
    current: tuple[int, int, int] | None = None
    rows: dict[str, tuple[int, int, int]] = {}

    def flush_group() -> None:
        if current is None:
            return
        uid, iid, year = current
        ind = indicators.get(iid)
        depth, path, nr = units[uid]
        if ind is None or not _counts_toward(ind, depth, nr):
            return
        owners = _owners_from(path, depth, ind)
        if not owners:
            return
        for per, eff in _monthly(rows, ind, year).items():
            for owner in owners:
                acc = cells[(owner, iid, per)]
                acc[0] += eff[0]
                acc[1] += eff[1]
                acc[2] += eff[2]
                acc[3] += 1

    for uid, iid, per, v, n, d in session.execute(q):
        key = (uid, iid, int(per[:4]))
        if key != current:
            flush_group()
            current, rows = key, {}
        rows[per] = (v or 0, n or 0, d or 0)
    flush_group()
    _bulk_insert(session, RollupCell.__table__, (
        {"unit_id": u, "indicator_id": i, "period": p, "value_sum": a[0], "num_sum": a[1],
         "den_sum": a[2], "reported_count": a[3]} for (u, i, p), a in cells.items()))


def rebuild_unit_counts(session: Session) -> None:
    """How many units sit at each depth below each unit (all, and new-rural ones)."""
    session.execute(delete(RollupUnitCount))
    counts: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for depth, path, nr in session.execute(sa_select(Unit.depth, Unit.path, Unit.new_rural)):
        ids = _path_ids(path)
        for anc in ids[:-1]:
            c = counts[(anc, depth)]
            c[0] += 1
            c[1] += nr in NEW_RURAL
    _bulk_insert(session, RollupUnitCount.__table__, (
        {"unit_id": u, "depth": d, "units": c[0], "new_rural": c[1]} for (u, d), c in counts.items()))


# --------------------------------------------------------------------------------------------
# Cell maintenance helpers
# --------------------------------------------------------------------------------------------

def _path_ids(path: str) -> list[int]:
    return [int(p) for p in path.strip("/").split("/") if p]


def _max_depth(ind: Indicator) -> int:
    depths = rules.entry_depths(ind)
    return max(depths) if depths else -1


def _owners_from(path: str, depth: int, ind: Indicator) -> list[int]:
    """Units holding cells that a unit's figure feeds: itself and its ancestors above the
    indicator's deepest entry level."""
    ids = _path_ids(path)
    top = min(depth, _max_depth(ind) - 1)
    return ids[:top + 1] if top >= 0 else []


def _cell_owners(unit: Unit, ind: Indicator) -> list[int]:
    return _owners_from(unit.path, unit.depth, ind)


def _triple(snap: dict[str, Any] | None) -> tuple[int, int, int] | None:
    if snap is None:
        return None
    if snap.get("value") is None and snap.get("numerator") is None and snap.get("denominator") is None:
        return None
    return (snap.get("value") or 0, snap.get("numerator") or 0, snap.get("denominator") or 0)


def _monthly(rows: dict[str, tuple[int, int, int]], ind: Indicator,
             year: int) -> dict[str, tuple[int, int, int]]:
    """Effective figure per month of the year: a flow's month as entered; a stock carried
    forward from its latest entry."""
    if ind.time_rollup == "flow":
        return dict(rows)
    out: dict[str, tuple[int, int, int]] = {}
    last = None
    for m in range(1, 13):
        per = f"{year}-{m:02d}"
        if per in rows:
            last = rows[per]
        if last is not None:
            out[per] = last
    return out


def _read_rows(session: Session, groups: dict[tuple[int, int, int], dict]
               ) -> dict[tuple[int, int, int], dict[str, tuple[int, int, int]]]:
    unit_ids = sorted({k[0] for k in groups})
    ind_ids = sorted({k[1] for k in groups})
    years = sorted({k[2] for k in groups})
    out: dict[tuple[int, int, int], dict[str, tuple[int, int, int]]] = defaultdict(dict)
    for i in range(0, len(unit_ids), _CHUNK):
        chunk = unit_ids[i:i + _CHUNK]
        q = sa_select(DataValue.unit_id, DataValue.indicator_id, DataValue.period, DataValue.value,
                      DataValue.numerator, DataValue.denominator).where(
            DataValue.unit_id.in_(chunk) if len(chunk) > 1 else DataValue.unit_id == chunk[0],
            DataValue.indicator_id.in_(ind_ids) if len(ind_ids) > 1 else DataValue.indicator_id == ind_ids[0],
            DataValue.period >= f"{years[0]}-01", DataValue.period <= f"{years[-1]}-12")
        for uid, iid, per, v, n, d in session.execute(q):
            key = (uid, iid, int(per[:4]))
            if key in groups:
                out[key][per] = (v or 0, n or 0, d or 0)
    return out


def _upsert_deltas(session: Session, deltas: dict[tuple[int, int, str], list[int]]) -> None:
    if not deltas:
        return
    table = RollupCell.__table__
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:  # pragma: no cover - the app runs on SQLite or PostgreSQL
        raise NotImplementedError(dialect)
    stmt = dialect_insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.unit_id, table.c.indicator_id, table.c.period],
        set_={c: table.c[c] + stmt.excluded[c]
              for c in ("value_sum", "num_sum", "den_sum", "reported_count")})
    rows = [{"unit_id": u, "indicator_id": i, "period": p, "value_sum": d[0], "num_sum": d[1],
             "den_sum": d[2], "reported_count": d[3]} for (u, i, p), d in sorted(deltas.items())]
    for i in range(0, len(rows), _CHUNK):
        session.execute(stmt, rows[i:i + _CHUNK])


def _bulk_insert(session: Session, table, rows: Iterable[dict]) -> None:  # noqa: ANN001
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= _CHUNK:
            session.execute(insert(table), batch)
            batch = []
    if batch:
        session.execute(insert(table), batch)


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------

@dataclass
class _Acc:
    """Accumulated effective figures of one unit (or many) for one indicator over a period."""

    value: int = 0
    num: int = 0
    den: int = 0
    reported: int = 0  # units with an effective figure (flows: > 0 when anything was entered)


def _effective(rows: Sequence[tuple], indicator: Indicator, period: PeriodRange) -> tuple | None:
    """(value, num, den) of one unit's rows (period, value, num, den) over the period."""
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
        return Figure(value=None)
    reported = acc.reported if indicator.time_rollup == "stock" else None
    if measure == "ratio":
        value = acc.num / acc.den if acc.den else None
        return Figure(value=value, numerator=acc.num, denominator=acc.den, reported=reported)
    return Figure(value=acc.value, reported=reported)


def _counts_toward(indicator: Indicator, unit_depth: int, new_rural: str | None) -> bool:
    """Whether a unit's figure belongs in the indicator's subtree figure."""
    if not rules.enters(indicator, unit_depth):
        return False
    if indicator.measure == "yes_no" and indicator.share_filter == "new_rural":
        return new_rural in NEW_RURAL
    return True


class _Context:
    """One roll-up request: program, indicators, period, the subtree it covers, and caches.

    Subclasses say where subtree figures and expected-unit counts come from.
    """

    def __init__(self, session: Session, program: Program, indicators: list[Indicator],
                 period: PeriodRange, scope: Unit) -> None:
        self.session, self.program, self.indicators, self.period = session, program, indicators, period
        self.scope = scope  # every unit asked about lies in this unit's subtree
        self.by_id = {i.id: i for i in indicators}
        self.targets: dict[int, list[Target]] = defaultdict(list)
        if indicators:
            for t in session.exec(select(Target).where(Target.indicator_id.in_(list(self.by_id)))
                                  .order_by(Target.id)).all():
                self.targets[t.indicator_id].append(t)
        self.root = session.get(Unit, program.root_unit_id)
        self._own: dict[tuple[int, int], _Acc] = {}  # (unit, indicator) → own figure
        self._loaded: set[tuple[int, int]] = set()  # (unit, indicator) pairs read
        self._under: dict[int, list[Unit]] = {}  # depth → units at that depth under scope

    # -- own figures, from data_value ------------------------------------------------------
    def load_own(self, units: Sequence[Unit], ind_ids: Sequence[int] | None = None) -> None:
        """Read the own figures of `units` for `ind_ids` (default: all), unless already read."""
        ind_ids = list(ind_ids or self.by_id)
        ids = [u.id for u in units if any((u.id, i) not in self._loaded for i in ind_ids)]
        if not ids:
            return
        ids = list(dict.fromkeys(ids))
        self._loaded.update((uid, i) for uid in ids for i in ind_ids)
        flows = [i for i in ind_ids if self.by_id[i].time_rollup == "flow"]
        stocks = [i for i in ind_ids if self.by_id[i].time_rollup != "flow"]
        conds = []
        if flows:
            conds.append(DataValue.indicator_id.in_(flows) & (DataValue.period >= self.period.start))
        if stocks:
            conds.append(DataValue.indicator_id.in_(stocks)
                         & (DataValue.period >= f"{self.period.year}-01"))
        rows: dict[tuple[int, int], list[tuple]] = defaultdict(list)
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i:i + _CHUNK]
            q = sa_select(DataValue.unit_id, DataValue.indicator_id, DataValue.period,
                          DataValue.value, DataValue.numerator, DataValue.denominator).where(
                DataValue.unit_id.in_(chunk) if len(chunk) > 1 else DataValue.unit_id == chunk[0],
                DataValue.period <= self.period.end, or_(*conds))
            for uid, iid, per, v, n, d in self.session.execute(q):
                rows[(uid, iid)].append((per, v, n, d))
        for (uid, iid), rs in rows.items():
            eff = _effective(rs, self.by_id[iid], self.period)
            if eff is not None:
                self._own[(uid, iid)] = _Acc(eff[0], eff[1], eff[2], 1)

    def own_acc(self, unit: Unit, ind: Indicator) -> _Acc | None:
        if (unit.id, ind.id) not in self._loaded:
            self.load_own([unit], [ind.id])
        return self._own.get((unit.id, ind.id))

    def own_figure(self, unit: Unit, ind: Indicator) -> Figure | None:
        if not rules.enters(ind, unit.depth):
            return None
        expected = None
        if ind.measure == "yes_no":
            expected = 1 if _counts_toward(ind, unit.depth, unit.new_rural) else 0
        return _figure(ind, self.own_acc(unit, ind), expected)

    # -- subtree figures (subclasses) --------------------------------------------------------
    def prepare(self, units: list[Unit]) -> None:
        """Read in bulk what `subtree_acc` and `expected` will need for `units`."""

    def subtree_acc(self, unit: Unit, ind: Indicator) -> _Acc | None:
        raise NotImplementedError

    def expected(self, unit: Unit, ind: Indicator) -> int:
        raise NotImplementedError

    def subtree_figure(self, unit: Unit, ind: Indicator) -> Figure:
        expected = self.expected(unit, ind) if ind.measure == "yes_no" else None
        return _figure(ind, self.subtree_acc(unit, ind), expected)

    # -- units of a level ----------------------------------------------------------------------
    def units_at(self, unit: Unit, depth: int) -> list[Unit]:
        """Units at `depth` in `unit`'s subtree (the unit itself when it sits at that depth)."""
        if depth < unit.depth:
            return []
        if depth == unit.depth:
            return [unit]
        if not unit.path.startswith(self.scope.path):
            return _units_under(self.session, unit, depth)
        if depth not in self._under:
            self._under[depth] = ([self.scope] if depth == self.scope.depth
                                  else _units_under(self.session, self.scope, depth))
        if unit.id == self.scope.id:
            return self._under[depth]
        return [u for u in self._under[depth] if u.path.startswith(unit.path)]

    # -- results -----------------------------------------------------------------------------
    def results_for(self, units: list[Unit]) -> dict[int, list[IndicatorResult]]:
        self.load_own(units)
        self.prepare(units)
        self.prepare_each(units)
        out: dict[int, list[IndicatorResult]] = {}
        for unit in units:
            results = []
            for ind in self.indicators:
                res = IndicatorResult(indicator=ind, subtree=self.subtree_figure(unit, ind),
                                      own=self.own_figure(unit, ind))
                res.targets = self.evaluate_targets(unit, ind, res)
                results.append(res)
            out[unit.id] = results
        return out

    def prepare_each(self, units: list[Unit]) -> None:
        """Read in one go the own figures of the units that `each` targets will look at."""
        by_depth: dict[int, set[int]] = defaultdict(set)
        for iid, ts in self.targets.items():
            for t in ts:
                if t.scope == "each" and t.depth is not None and t.basis == "own":
                    by_depth[t.depth].add(iid)
        for depth, iids in by_depth.items():
            if depth >= self.scope.depth:
                self.load_own(self.units_at(self.scope, depth), sorted(iids))

    def evaluate_targets(self, viewed: Unit, ind: Indicator, res: IndicatorResult) -> list[TargetResult]:
        out: list[TargetResult] = []
        below: dict[str, list[tuple[Target, Unit]]] = defaultdict(list)
        for t in self.targets.get(ind.id, []):
            if t.scope == "each":
                r = self.evaluate_each(viewed, ind, t)
                if r is not None:
                    out.append(r)
                continue
            target_unit = self.session.get(Unit, t.unit_id) if t.unit_id else self.root
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
            out.append(self.summarise_units(ind, pairs, basis="own" if scope == "own" else "subtree"))
        return out

    def evaluate_each(self, viewed: Unit, ind: Indicator, t: Target) -> TargetResult | None:
        if t.depth is None or viewed.depth > t.depth:
            return None
        scope_unit = self.session.get(Unit, t.unit_id) if t.unit_id else None
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
        if basis == "own":
            self.load_own([u for _, u in pairs])
        meeting, failing, any_data = 0, [], False
        for t, u in pairs:
            fig = (self.own_figure(u, ind) or Figure(value=None)) if basis == "own" \
                else self.subtree_figure(u, ind)
            r = evaluate(t, ind, fig, self.period)
            any_data = any_data or r.status != NO_DATA
            if r.status == MET:
                meeting += 1
            else:
                failing.append(u)
        total = len(pairs)
        status = NO_DATA if total == 0 or not any_data else (MET if meeting == total else NOT_MET)
        return TargetResult(target=pairs[0][0] if pairs else None, status=status,
                            actual=meeting if total else None,
                            gap=(total - meeting) if total else None,
                            units_total=total, units_meeting=meeting, units_failing=failing)


def _units_under(session: Session, unit: Unit, depth: int) -> list[Unit]:
    """Units at `depth` below `unit`, by a chain of parent joins (indexed), in tree order."""
    steps = depth - unit.depth
    if steps <= 0:
        return [unit] if steps == 0 else []
    q = select(Unit)
    child = Unit
    for _ in range(steps - 1):
        parent = aliased(Unit)
        q = q.join(parent, child.parent_id == parent.id)
        child = parent
    q = q.where(child.parent_id == unit.id, Unit.depth == depth).order_by(Unit.path)
    return list(session.exec(q).all())


class _CellContext(_Context):
    """Subtree figures from `rollup_cell`, expected counts from `rollup_unit_count`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cells: dict[tuple[int, int], _Acc] = {}
        self._counts: dict[tuple[int, int], tuple[int, int]] = {}
        self._prepared: set[int] = set()

    def prepare(self, units: list[Unit]) -> None:
        ids = [u.id for u in units if u.id not in self._prepared]
        if not ids:
            return
        self._prepared.update(ids)
        flows = [i for i, ind in self.by_id.items() if ind.time_rollup == "flow"]
        cond = RollupCell.period == self.period.end
        if flows:
            cond = or_(cond, RollupCell.indicator_id.in_(flows)
                       & (RollupCell.period >= self.period.start)
                       & (RollupCell.period < self.period.end))
        q = sa_select(RollupCell.unit_id, RollupCell.indicator_id, RollupCell.value_sum,
                      RollupCell.num_sum, RollupCell.den_sum, RollupCell.reported_count).where(
            RollupCell.unit_id.in_(ids), RollupCell.indicator_id.in_(list(self.by_id)), cond)
        cells = self._cells
        for uid, iid, v, n, d, r in self.session.execute(q):
            acc = cells.get((uid, iid))
            if acc is None:
                cells[(uid, iid)] = _Acc(v, n, d, r)
            else:
                acc.value += v
                acc.num += n
                acc.den += d
                acc.reported += r
        if any(i.measure == "yes_no" for i in self.indicators):
            for uid, depth, n, nr in self.session.execute(
                    sa_select(RollupUnitCount.unit_id, RollupUnitCount.depth, RollupUnitCount.units,
                              RollupUnitCount.new_rural).where(RollupUnitCount.unit_id.in_(ids))):
                self._counts[(uid, depth)] = (n, nr)

    def subtree_acc(self, unit: Unit, ind: Indicator) -> _Acc | None:
        if unit.depth >= _max_depth(ind):
            # No cells at the deepest entry level: the subtree figure is the unit's own.
            if not _counts_toward(ind, unit.depth, unit.new_rural):
                return None
            return self.own_acc(unit, ind)
        if unit.id not in self._prepared:
            self.prepare([unit])
        return self._cells.get((unit.id, ind.id))

    def expected(self, unit: Unit, ind: Indicator) -> int:
        if unit.id not in self._prepared:
            self.prepare([unit])
        new_rural = ind.share_filter == "new_rural"
        total = 1 if _counts_toward(ind, unit.depth, unit.new_rural) else 0
        below = [d for d in rules.entry_depths(ind) if d > unit.depth]
        if below and not any((unit.id, d) in self._counts for d in below):
            # No cached count (units added without a rebuild): count the tree.
            return _count_expected(self.session, unit, ind)
        for depth in below:
            n, nr = self._counts.get((unit.id, depth), (0, 0))
            total += nr if new_rural else n
        return total


class _RawContext(_Context):
    """The straightforward design: subtree figures summed from raw `data_value` at read time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._accs: dict[int, dict[int, _Acc]] = {}
        self._expected: dict[tuple[int, int], int] = {}

    def prepare(self, units: list[Unit]) -> None:
        for unit in units:
            if unit.id not in self._accs:
                self._accs[unit.id] = self._subtree_accs(unit)

    def _subtree_accs(self, unit: Unit) -> dict[int, _Acc]:
        q = (sa_select(DataValue.unit_id, Unit.depth, Unit.new_rural, DataValue.indicator_id,
                       DataValue.period, DataValue.value, DataValue.numerator, DataValue.denominator)
             .join(Unit, Unit.id == DataValue.unit_id)
             .where(Unit.path.startswith(unit.path), DataValue.indicator_id.in_(list(self.by_id)),
                    DataValue.period >= f"{self.period.year}-01", DataValue.period <= self.period.end)
             .order_by(DataValue.unit_id, DataValue.indicator_id))
        rows: dict[tuple[int, int], list[tuple]] = defaultdict(list)
        meta: dict[int, tuple[int, str | None]] = {}
        for uid, depth, nr, iid, per, v, n, d in self.session.execute(q):
            rows[(uid, iid)].append((per, v, n, d))
            meta[uid] = (depth, nr)
        out: dict[int, _Acc] = {}
        for (uid, iid), rs in rows.items():
            ind = self.by_id[iid]
            depth, nr = meta[uid]
            if not _counts_toward(ind, depth, nr):
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

    def subtree_acc(self, unit: Unit, ind: Indicator) -> _Acc | None:
        if unit.id not in self._accs:
            self._accs[unit.id] = self._subtree_accs(unit)
        return self._accs[unit.id].get(ind.id)

    def expected(self, unit: Unit, ind: Indicator) -> int:
        key = (unit.id, ind.id)
        if key not in self._expected:
            self._expected[key] = _count_expected(self.session, unit, ind)
        return self._expected[key]


def _count_expected(session: Session, unit: Unit, ind: Indicator) -> int:
    """Units of `unit`'s subtree (itself included) that should report a share-of-units indicator."""
    q = sa_select(func.count()).select_from(Unit).where(
        Unit.path.startswith(unit.path), Unit.depth.in_(sorted(rules.entry_depths(ind))))
    if ind.share_filter == "new_rural":
        q = q.where(Unit.new_rural.in_(NEW_RURAL))
    return int(session.execute(q).scalar_one())


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
