"""Set-wise upkeep of the kept roll-up for a batch of changed figures (imports, entry pages).

The rules are those of `app.rollup.rules` and `app.rollup.each` (in words: the docstring of
`app.rollup.service`: effective figures, cell owners, cumulative own rows, "each" counts,
locks); this module applies them to many changes at once without per-row overhead:

- every (unit, indicator) fact the rules need (entry depths, cell owners, whether the unit
  counts toward the indicator) is worked out once per unit and indicator, not once per change;
- a flow's changes are turned into deltas straight from the changed months (its cells change
  only in those months; its cumulative own rows by the running sum of the deltas from the first
  changed month); a stock's effective months are carried forward as before;
- the deltas are summed per kept row, so each `rollup_cell` / `rollup_own` row is written once
  per batch, in one statement per table on PostgreSQL (`INSERT … SELECT FROM unnest … ON
  CONFLICT DO UPDATE`, in key order) and one executemany on SQLite.
"""
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy import text
from sqlmodel import Session

from app.rollup.each import update_each
from app.rollup.models import RollupCell, RollupOwn
from app.rollup.rules import CHUNK, IndicatorFacts, counts_toward, cumulative, owners_from, triple
from app.rollup.types import ValueChange
from app.units.models import Unit
from app.units.time import new_rural_of
from app.values.models import DataValue

_ZERO = (0, 0, 0, 0)
_MONTHS: dict[int, tuple[str, ...]] = {}
Quad = tuple[int, int, int, int]
Triple = tuple[int, int, int]
GroupKey = tuple[int, int, int]  # (unit, indicator, year)


def _months(year: int) -> tuple[str, ...]:
    months = _MONTHS.get(year)
    if months is None:
        months = _MONTHS[year] = tuple(f"{year}-{m:02d}" for m in range(1, 13))
    return months


def _zeros4() -> list[int]:
    return [0, 0, 0, 0]


def _add(acc: list[int], d: Iterable[int]) -> None:
    for k, x in enumerate(d):
        acc[k] += x


def _delta(a: Triple | None, b: Triple | None) -> Quad:
    """After − before of one effective figure, with the change in "units reporting"."""
    return ((a[0] if a else 0) - (b[0] if b else 0), (a[1] if a else 0) - (b[1] if b else 0),
            (a[2] if a else 0) - (b[2] if b else 0), (a is not None) - (b is not None))


def apply_changes(session: Session, changes: Iterable[ValueChange], *,
                  after: dict[GroupKey, dict[str, Triple]] | None = None) -> None:
    """`service.on_values_changed`: bring every kept table up to date after the changes.
    `after`: the stored figures of every changed (unit, indicator, year) once changed, as
    `read_rows` reads them, when the caller knows them already (an import read them under its
    locks); else they are read."""
    batch = _Batch()
    batch.collect(session, list(changes))
    if not batch.groups:
        return
    session.flush()
    if after is None:
        after = read_rows(session, batch.groups)
    for key, old in batch.groups.items():
        rows_after = after.get(key, {})
        if batch.inds[key[1]].time_rollup == "flow":
            batch.flow(key, old, rows_after)
        else:
            batch.stock(key, old, rows_after)
    upsert(session, RollupCell.__table__, batch.spread())
    upsert(session, RollupOwn.__table__, batch.own_deltas)
    update_each(session, batch.each_changes)


class _Batch:
    """The changes of one batch, grouped per (unit, indicator, year), and their deltas."""

    def __init__(self) -> None:
        self.units: dict[int, tuple[int, str, Any]] = {}  # id → depth, path, Unit
        self.inds: dict[int, IndicatorFacts] = {}
        # (unit, ind, year) → counts toward, owners (new-rural status is per year)
        self.feeds: dict[GroupKey, tuple[bool, tuple[int, ...]]] = {}
        self.groups: dict[GroupKey, dict[str, Triple | None]] = {}  # the changed months' "before"
        # Summed per chain of owners first (the villages of a commune share one), then spread.
        self.chained: dict[tuple[tuple[int, ...], int, str], list[int]] = defaultdict(_zeros4)
        # A stock's deltas as steps: (chain, indicator, year) → month → change of the delta from
        # that month on (a stock's delta is the same from one entry to the next).
        self.steps: dict[tuple[tuple[int, ...], int, int], dict[int, list[int]]] = defaultdict(dict)
        self.owners: dict[tuple[int, int], tuple[int, ...]] = {}  # (unit, deepest entry level) → owners
        self.own_deltas: dict[tuple[int, int, str], Quad] = {}
        self.each_changes: list[tuple[Unit, int, int, dict, dict]] = []

    def collect(self, session: Session, changes: list[ValueChange]) -> None:
        """Group the changes; the first change of a month holds the true "before"."""
        unit_of: dict[int, tuple[int, int, str, Any]] = {}  # id(Unit) → id, depth, path, Unit
        facts_of: dict[int, IndicatorFacts] = {}  # id(Indicator) → its facts
        for ch in changes:  # each unit and indicator object read once (ORM attributes are slow)
            if id(ch.unit) not in unit_of:
                unit = ch.unit
                unit_of[id(unit)] = (unit.id, unit.depth, unit.path, unit)
            if id(ch.indicator) not in facts_of:
                facts = facts_of[id(ch.indicator)] = self.inds.get(ch.indicator.id) or IndicatorFacts(ch.indicator)
                self.inds[facts.id] = facts
        nr_of = new_rural_of(session, {(unit_of[id(ch.unit)][0], int(ch.period[:4])) for ch in changes
                                       if facts_of[id(ch.indicator)].share_filter == "new_rural"})
        years: dict[str, int] = {}
        groups, feeds = self.groups, self.feeds
        for ch in changes:
            uid, depth, path, unit = unit_of[id(ch.unit)]
            facts = facts_of[id(ch.indicator)]
            per = ch.period
            year = years.get(per)
            if year is None:
                year = years[per] = int(per[:4])
            key = (uid, facts.id, year)
            f = feeds.get(key)
            if f is None:
                f = self._feed(key, depth, path, unit, facts, nr_of.get((uid, year)))
            if not f[1] and facts.time_rollup != "flow":
                continue
            old = groups.get(key)
            if old is None:
                old = groups[key] = {}
            if per not in old:
                old[per] = triple(ch.old)

    def _feed(self, key: GroupKey, depth: int, path: str, unit: Any, facts: IndicatorFacts,
              new_rural: Any) -> tuple[bool, tuple[int, ...]]:
        """Whether a (unit, indicator, year)'s figures count, and the owners of the cells they feed."""
        uid = key[0]
        if uid not in self.units:
            self.units[uid] = (depth, path, unit)
        counts = counts_toward(facts, depth, new_rural)
        owners: tuple[int, ...] = ()
        if counts:
            owners = self.owners.get((uid, facts.maxd))
            if owners is None:
                owners = self.owners[(uid, facts.maxd)] = tuple(owners_from(path, depth, facts))
        f = self.feeds[key] = (counts, owners)
        return f

    def flow(self, key: GroupKey, old: dict[str, Triple | None], rows_after: dict[str, Triple]) -> None:
        """A flow's cells change only in the changed months; its cumulative own rows by the
        running sum of the monthly deltas from the first changed month."""
        uid, iid, year = key
        monthly: dict[str, Quad] = {}
        for per, b in old.items():
            d = _delta(rows_after.get(per), b)
            if d != _ZERO:
                monthly[per] = d
        if not monthly:
            return
        run = _ZERO
        for per in _months(year)[min(int(p[5:7]) for p in monthly) - 1:]:
            d = monthly.get(per)
            if d is not None:
                run = (run[0] + d[0], run[1] + d[1], run[2] + d[2], run[3] + d[3])
            if run != _ZERO:
                self.own_deltas[(uid, iid, per)] = run
        if self.inds[iid].measure in ("count", "amount") and self.units[uid][0] > 0:
            # "Each unit of a level" counts: the unit judged on every span, before and after.
            rows_before = dict(rows_after)
            for per, b in old.items():
                if b is None:
                    rows_before.pop(per, None)
                else:
                    rows_before[per] = b
            self.each_changes.append((self.units[uid][2], iid, year, cumulative(rows_after, year),
                                      cumulative(rows_before, year)))
        owners = self.feeds[key][1]
        if owners:
            for per, d in monthly.items():
                _add(self.chained[(owners, iid, per)], d)

    def stock(self, key: GroupKey, old: dict[str, Triple | None], rows_after: dict[str, Triple]) -> None:
        """Each month carries the latest entry at or before it forward (`rules.monthly`), after
        the changes and before them (the changed months put back to their old rows). Between
        two months with an entry (before or after) the delta stays the same, so it is recorded
        only where it changes (`steps`), and summed month by month per chain in `spread`."""
        _uid, iid, year = key
        steps = None
        la = lb = None
        prev = _ZERO
        for per in sorted(rows_after.keys() | old.keys()):  # months of one year: text order is month order
            ra = rows_after.get(per)
            if ra is not None:
                la = ra
            if per in old:
                rb = old[per]
                if rb is not None:
                    lb = rb
            elif ra is not None:
                lb = ra
            d = _ZERO if la is lb or la == lb else _delta(la, lb)
            if d != prev:
                if steps is None:
                    steps = self.steps[(self.feeds[key][1], iid, year)]
                step = steps.get(int(per[5:7]))
                if step is None:
                    step = steps[int(per[5:7])] = [0, 0, 0, 0]
                step[0] += d[0] - prev[0]
                step[1] += d[1] - prev[1]
                step[2] += d[2] - prev[2]
                step[3] += d[3] - prev[3]
                prev = d

    def spread(self) -> dict[tuple[int, int, str], list[int]]:
        """The chained deltas added to every owner of the chain: one delta per kept cell."""
        chained = self.chained
        for (chain, iid, year), steps in self.steps.items():
            r0 = r1 = r2 = r3 = 0
            for m, per in enumerate(_months(year), start=1):
                step = steps.get(m)
                if step is not None:
                    r0, r1, r2, r3 = r0 + step[0], r1 + step[1], r2 + step[2], r3 + step[3]
                if r0 or r1 or r2 or r3:
                    acc = chained[(chain, iid, per)]
                    acc[0] += r0
                    acc[1] += r1
                    acc[2] += r2
                    acc[3] += r3
        self.steps.clear()
        deltas: dict[tuple[int, int, str], list[int]] = defaultdict(_zeros4)
        for (chain, iid, per), (d0, d1, d2, d3) in chained.items():
            for owner in chain:
                acc = deltas[(owner, iid, per)]
                acc[0] += d0
                acc[1] += d1
                acc[2] += d2
                acc[3] += d3
        return deltas


def read_rows(session: Session, groups: dict[GroupKey, dict]) -> dict[GroupKey, dict[str, Triple]]:
    """The `data_value` rows of the batch's (unit, indicator, year) groups, after the changes."""
    unit_ids = sorted({k[0] for k in groups})
    ind_ids = sorted({k[1] for k in groups})
    years = sorted({k[2] for k in groups})
    out: dict[tuple[int, int, int], dict[str, tuple[int, int, int]]] = defaultdict(dict)
    for i in range(0, len(unit_ids), CHUNK):
        chunk = unit_ids[i:i + CHUNK]
        q = sa_select(DataValue.unit_id, DataValue.indicator_id, DataValue.period, DataValue.value,
                      DataValue.numerator, DataValue.denominator).where(
            DataValue.unit_id.in_(chunk) if len(chunk) > 1 else DataValue.unit_id == chunk[0],
            DataValue.indicator_id.in_(ind_ids) if len(ind_ids) > 1 else DataValue.indicator_id == ind_ids[0],
            DataValue.period >= f"{years[0]}-01", DataValue.period <= f"{years[-1]}-12")
        for uid, iid, per, v, n, d in session.connection().execute(q):  # flushed by the caller
            key = (uid, iid, int(per[:4]))
            if key in groups:
                out[key][per] = (v or 0, n or 0, d or 0)
    return out


def upsert(session: Session, table, deltas: dict[tuple[int, int, str], Any]) -> None:
    """Add the deltas to the kept rows (created when absent), in (unit, indicator, period) order:
    one statement on PostgreSQL, one executemany on SQLite."""
    rows = [(k[0], k[1], k[2], d[0], d[1], d[2], d[3]) for k, d in sorted(deltas.items())
            if d[0] or d[1] or d[2] or d[3]]
    if not rows:
        return
    name = table.name
    conflict = (f"ON CONFLICT (unit_id, indicator_id, period) DO UPDATE SET "
                f"value_sum = {name}.value_sum + excluded.value_sum, "
                f"num_sum = {name}.num_sum + excluded.num_sum, "
                f"den_sum = {name}.den_sum + excluded.den_sum, "
                f"reported_count = {name}.reported_count + excluded.reported_count")
    cols = "(unit_id, indicator_id, period, value_sum, num_sum, den_sum, reported_count)"
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(
            f"INSERT INTO {name} {cols} SELECT u, i, p, v, n, d, r FROM unnest("  # noqa: S608 - our table, bound values
            "CAST(:u AS integer[]), CAST(:i AS integer[]), CAST(:p AS varchar[]), CAST(:v AS bigint[]), "
            "CAST(:n AS bigint[]), CAST(:d AS bigint[]), CAST(:r AS integer[])) WITH ORDINALITY "
            f"AS t(u, i, p, v, n, d, r, ord) ORDER BY ord {conflict}"),
            {"u": [r[0] for r in rows], "i": [r[1] for r in rows], "p": [r[2] for r in rows],
             "v": [r[3] for r in rows], "n": [r[4] for r in rows], "d": [r[5] for r in rows],
             "r": [r[6] for r in rows]})
    else:
        session.connection().exec_driver_sql(
            f"INSERT INTO {name} {cols} VALUES (?, ?, ?, ?, ?, ?, ?) {conflict}", rows)  # noqa: S608 - our table
