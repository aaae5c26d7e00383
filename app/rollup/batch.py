"""Set-wise upkeep of the kept roll-up for a batch of changed figures (imports, entry pages).

The rules are those of `app.rollup.service` (its module docstring: effective figures, cell
owners, cumulative own rows, "each" counts, locks); this module applies them to many changes at
once without per-row overhead:

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

from sqlalchemy import text
from sqlmodel import Session

from app.rollup import service as s
from app.rollup.models import RollupCell, RollupOwn

_ZERO = (0, 0, 0, 0)
_MONTHS: dict[int, tuple[str, ...]] = {}


def _months(year: int) -> tuple[str, ...]:
    months = _MONTHS.get(year)
    if months is None:
        months = _MONTHS[year] = tuple(f"{year}-{m:02d}" for m in range(1, 13))
    return months


def apply_changes(session: Session, changes: Iterable["s.ValueChange"]) -> None:
    """`service.on_values_changed`: bring every kept table up to date after the changes."""
    units: dict[int, tuple[int, str, Any]] = {}  # id → depth, path, Unit
    inds: dict[int, s._Ind] = {}
    # (unit, ind, year) → counts toward, owners (new-rural status is per year)
    feeds: dict[tuple[int, int, int], tuple[bool, tuple[int, ...]]] = {}
    groups: dict[tuple[int, int, int], dict[str, tuple[int, int, int] | None]] = {}
    changes = list(changes)
    nr_of = s.new_rural_of(session, {(ch.unit.id, int(ch.period[:4])) for ch in changes
                                     if ch.indicator.share_filter == "new_rural"})
    for ch in changes:
        unit, ind = ch.unit, ch.indicator
        uid, iid, year = unit.id, ind.id, int(ch.period[:4])
        u = units.get(uid)
        if u is None:
            u = units[uid] = (unit.depth, unit.path, unit)
        pi = inds.get(iid)
        if pi is None:
            pi = inds[iid] = s._Ind(ind)
        f = feeds.get((uid, iid, year))
        if f is None:
            counts = s._counts_toward(pi, u[0], nr_of.get((uid, year)))
            f = feeds[(uid, iid, year)] = (counts, tuple(s._owners_from(u[1], u[0], pi)) if counts else ())
        if not f[1] and pi.time_rollup != "flow":
            continue
        old = groups.setdefault((uid, iid, year), {})
        if ch.period not in old:
            old[ch.period] = s._triple(ch.old)  # the first change holds the true "before"
    if not groups:
        return
    session.flush()
    after = s._read_rows(session, groups)
    # Summed per chain of owners first (the villages of a commune share one), then spread.
    chained: dict[tuple[tuple[int, ...], int, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    own_deltas: dict[tuple[int, int, str], tuple[int, int, int, int]] = {}
    each_changes: list[tuple[Any, int, int, dict, dict]] = []
    for (uid, iid, year), old in groups.items():
        pi = inds[iid]
        rows_after = after.get((uid, iid, year), {})
        owners = feeds[(uid, iid, year)][1]
        if pi.time_rollup == "flow":
            monthly: dict[str, tuple[int, int, int, int]] = {}
            for per, b in old.items():
                a = rows_after.get(per)
                d = ((a[0] if a else 0) - (b[0] if b else 0), (a[1] if a else 0) - (b[1] if b else 0),
                     (a[2] if a else 0) - (b[2] if b else 0), (a is not None) - (b is not None))
                if d != _ZERO:
                    monthly[per] = d
            if not monthly:
                continue
            # Cumulative own rows change by the running sum of the monthly deltas.
            first = min(int(p[5:7]) for p in monthly)
            run = _ZERO
            for m in range(first, 13):
                per = f"{year}-{m:02d}"
                d = monthly.get(per)
                if d is not None:
                    run = (run[0] + d[0], run[1] + d[1], run[2] + d[2], run[3] + d[3])
                if run != _ZERO:
                    own_deltas[(uid, iid, per)] = run
            if pi.measure in ("count", "amount") and units[uid][0] > 0:
                # "Each unit of a level" counts: the unit judged on every span, before and after.
                rows_before = dict(rows_after)
                for per, b in old.items():
                    if b is None:
                        rows_before.pop(per, None)
                    else:
                        rows_before[per] = b
                each_changes.append((units[uid][2], iid, year, s._cumulative(rows_after, year),
                                     s._cumulative(rows_before, year)))
            if not owners:
                continue
            for per, d in monthly.items():
                acc = chained[(owners, iid, per)]
                acc[0] += d[0]
                acc[1] += d[1]
                acc[2] += d[2]
                acc[3] += d[3]
            continue
        # A stock: each month carries the latest entry at or before it forward (`_monthly`),
        # after the changes and before them (the changed months put back to their old rows).
        la = lb = None
        for per in _months(year):
            ra = rows_after.get(per)
            if ra is not None:
                la = ra
            if per in old:
                rb = old[per]
                if rb is not None:
                    lb = rb
            elif ra is not None:
                lb = ra
            if la is lb or la == lb:
                continue
            d = ((la[0] if la else 0) - (lb[0] if lb else 0), (la[1] if la else 0) - (lb[1] if lb else 0),
                 (la[2] if la else 0) - (lb[2] if lb else 0), (la is not None) - (lb is not None))
            if d == _ZERO:
                continue
            acc = chained[(owners, iid, per)]
            acc[0] += d[0]
            acc[1] += d[1]
            acc[2] += d[2]
            acc[3] += d[3]
    deltas: dict[tuple[int, int, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for (chain, iid, per), d in chained.items():
        for owner in chain:
            acc = deltas[(owner, iid, per)]
            acc[0] += d[0]
            acc[1] += d[1]
            acc[2] += d[2]
            acc[3] += d[3]
    upsert(session, RollupCell.__table__, deltas)
    upsert(session, RollupOwn.__table__, own_deltas)
    s._update_each(session, each_changes)


def upsert(session: Session, table, deltas: dict[tuple[int, int, str], Any]) -> None:  # noqa: ANN001
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
            f"INSERT INTO {name} {cols} SELECT u, i, p, v, n, d, r FROM unnest("
            "CAST(:u AS integer[]), CAST(:i AS integer[]), CAST(:p AS varchar[]), CAST(:v AS bigint[]), "
            "CAST(:n AS bigint[]), CAST(:d AS bigint[]), CAST(:r AS integer[])) WITH ORDINALITY "
            f"AS t(u, i, p, v, n, d, r, ord) ORDER BY ord {conflict}"),
            {"u": [r[0] for r in rows], "i": [r[1] for r in rows], "p": [r[2] for r in rows],
             "v": [r[3] for r in rows], "n": [r[4] for r in rows], "d": [r[5] for r in rows],
             "r": [r[6] for r in rows]})
    else:
        session.connection().exec_driver_sql(
            f"INSERT INTO {name} {cols} VALUES (?, ?, ?, ?, ?, ?, ?) {conflict}", rows)
