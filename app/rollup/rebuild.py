"""The rebuild: every kept table (`rollup_cell`, `rollup_own`, `rollup_each`,
`rollup_unit_count`) recomputed from `data_value` and the unit tree, under the exclusive
roll-up lock (seeding, imports of units, recovery; `app.rollup.check` compares with it).
"""
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import delete, insert
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from app.program.models import Indicator, Program
from app.rollup.each import each_targets_by_level, span_statuses
from app.rollup.judging import TargetFacts
from app.rollup.models import RollupCell, RollupEach, RollupOwn, RollupUnitCount
from app.rollup.rules import CHUNK, SPANS, counts_toward, cumulative, monthly, owners_from, path_ids
from app.rollup.save import lock_everything
from app.units.models import Unit, UnitYear
from app.units.time import NEW_RURAL, in_force_months
from app.values.models import DataValue


def rebuild(session: Session) -> None:
    """Recompute every aggregate from the raw `data_value` rows and the unit tree.

    Takes the exclusive roll-up lock (PostgreSQL): saves wait until the rebuild commits."""
    lock_everything(session)
    session.flush()
    rebuild_unit_counts(session)
    session.execute(delete(RollupCell))
    session.execute(delete(RollupOwn))
    session.execute(delete(RollupEach))
    own_rows: list[dict] = []

    def write_own(row: dict) -> None:
        own_rows.append(row)
        if len(own_rows) >= CHUNK:
            session.execute(insert(RollupOwn), own_rows)
            own_rows.clear()

    computed = recompute(session, write_own)
    if own_rows:
        session.execute(insert(RollupOwn), own_rows)
    bulk_insert(session, RollupEach.__table__, each_rows(computed))
    bulk_insert(session, RollupCell.__table__, (
        {"unit_id": u, "indicator_id": i, "period": p, "value_sum": a[0], "num_sum": a[1],
         "den_sum": a[2], "reported_count": a[3]} for (u, i, p), a in computed.cells.items()))


def _zeros4() -> list[int]:
    return [0, 0, 0, 0]


def _zeros2() -> list[int]:
    return [0, 0]


@dataclass
class Recomputed:
    """What a rebuild would write (the cumulative own rows aside: they go to a sink)."""

    units: dict[int, tuple[int, str, str | None]]  # id → depth, path, (unused)
    each_targets: dict[tuple[int, int], list[TargetFacts]]  # (indicator, depth) → kept targets
    cells: dict[tuple[int, int, str], list[int]] = field(default_factory=lambda: defaultdict(_zeros4))
    each_counts: dict[tuple[int, int, int, int, int], list[int]] = field(
        default_factory=lambda: defaultdict(_zeros2))  # (ancestor, target, year, a, b) → with data, meeting
    each_years: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))  # indicator → years


def recompute(session: Session, own_sink: Callable[[dict], None]) -> Recomputed:
    """Every kept figure from `data_value` and the tree: the cells and "each" counts returned,
    the cumulative own rows handed to `own_sink` one by one (they are the bulkiest)."""
    units = {uid: (depth, path, None) for uid, depth, path in session.execute(
        sa_select(Unit.id, Unit.depth, Unit.path))}
    nr_by_year = {(uid, year): nr for uid, year, nr in session.execute(
        sa_select(UnitYear.unit_id, UnitYear.year, UnitYear.new_rural).where(UnitYear.new_rural.is_not(None)))}
    indicators = {i.id: i for i in session.exec(select(Indicator)).all()}
    out = Recomputed(units, each_targets_by_level(session, indicators))
    q = (sa_select(DataValue.unit_id, DataValue.indicator_id, DataValue.period, DataValue.value,
                   DataValue.numerator, DataValue.denominator)
         .order_by(DataValue.unit_id, DataValue.indicator_id, DataValue.period)
         .execution_options(yield_per=20000))
    for (uid, iid, year), rows in _groups(session.execute(q)):
        ind = indicators.get(iid)
        if ind is not None:
            _add_group(out, ind, uid, year, rows, nr_by_year.get((uid, year)), own_sink)
    return out


def _groups(result: Iterable[tuple]) -> Iterator[tuple[tuple[int, int, int], dict[str, tuple[int, int, int]]]]:
    """Raw rows ordered by (unit, indicator, period) → one group per (unit, indicator, year)."""
    current: tuple[int, int, int] | None = None
    rows: dict[str, tuple[int, int, int]] = {}
    for uid, iid, per, v, n, d in result:
        key = (uid, iid, int(per[:4]))
        if key != current:
            if current is not None:
                yield current, rows
            current, rows = key, {}
        rows[per] = (v or 0, n or 0, d or 0)
    if current is not None:
        yield current, rows


def _add_group(out: Recomputed, ind: Indicator, uid: int, year: int, rows: dict[str, tuple[int, int, int]],
               new_rural: str | None, own_sink: Callable[[dict], None]) -> None:
    """One unit's figures of one indicator and year: its cumulative own rows and "each" verdicts
    (flows), and its effective monthly figures added to the cells of their owners."""
    depth, path, _ = out.units[uid]
    if ind.time_rollup == "flow":
        cum = cumulative(rows, year)
        _count_each(out, ind.id, depth, path, year, cum)
        for per, c in cum.items():
            own_sink({"unit_id": uid, "indicator_id": ind.id, "period": per, "value_sum": c[0],
                      "num_sum": c[1], "den_sum": c[2], "reported_count": c[3]})
    if not counts_toward(ind, depth, new_rural):
        return
    owners = owners_from(path, depth, ind)
    for per, eff in monthly(rows, ind, year).items():
        for owner in owners:
            acc = out.cells[(owner, ind.id, per)]
            acc[0] += eff[0]
            acc[1] += eff[1]
            acc[2] += eff[2]
            acc[3] += 1


def _count_each(out: Recomputed, iid: int, depth: int, path: str, year: int,
                cum: dict[str, tuple[int, int, int, int]]) -> None:
    """Add one unit's verdict on every span to the "each" counts of its ancestors."""
    out.each_years[iid].add(year)
    for t in out.each_targets.get((iid, depth), ()):
        ancestors = path_ids(path)[:-1]
        for (a, b), (has, ok) in span_statuses(cum, year, t).items():
            if has:
                for anc in ancestors:
                    acc = out.each_counts[(anc, t.id, year, a, b)]
                    acc[0] += 1
                    acc[1] += ok


def count_years(session: Session) -> list[int]:
    """The years whose months get kept unit counts: every year with a program in force
    (publishing a program counts its year's units: `app.program.lifecycle.publish`)."""
    return sorted({int(y) for y in session.execute(
        sa_select(Program.year).where(Program.status == "published")).scalars()})


def unit_counts(session: Session) -> dict[tuple[int, int, str], tuple[int, int]]:
    """(unit, depth below it, month) → (units at that depth in its subtree in force on the
    month's last day, new-rural ones that year), for every month of every program year.

    Units are grouped by the months of the year they are in force (a bit mask), so each unit
    adds once per year and ancestor, however many months."""
    years = count_years(session)
    if not years:
        return {}
    units = session.execute(sa_select(Unit.id, Unit.depth, Unit.path, Unit.valid_from, Unit.valid_to)).all()
    nr_by_year = {(uid, year) for uid, year, nr in session.execute(
        sa_select(UnitYear.unit_id, UnitYear.year, UnitYear.new_rural).where(UnitYear.year.in_(years)))
        if nr in NEW_RURAL}
    out: dict[tuple[int, int, str], tuple[int, int]] = {}
    for year in years:
        by_mask: dict[tuple[int, int, int], list[int]] = defaultdict(lambda: [0, 0])
        masks: dict[tuple, int] = {}
        for uid, depth, path, vf, vt in units:
            ids = path_ids(path)
            if len(ids) < 2:
                continue
            mask = masks.get((vf, vt))
            if mask is None:
                mask = masks[(vf, vt)] = in_force_months(vf, vt, year)
            if not mask:
                continue
            nr = (uid, year) in nr_by_year
            for anc in ids[:-1]:
                c = by_mask[(anc, depth, mask)]
                c[0] += 1
                c[1] += nr
        acc: dict[tuple[int, int, str], list[int]] = defaultdict(lambda: [0, 0])
        for (anc, depth, mask), (n, nr) in by_mask.items():
            for m in range(1, 13):
                if mask >> (m - 1) & 1:
                    a = acc[(anc, depth, f"{year}-{m:02d}")]
                    a[0] += n
                    a[1] += nr
        out.update({k: (v[0], v[1]) for k, v in acc.items()})
    return out


def rebuild_unit_counts(session: Session) -> None:
    """How many units in force sit at each depth below each unit, per month of every program
    year (all, and new-rural ones that year)."""
    session.execute(delete(RollupUnitCount))
    bulk_insert(session, RollupUnitCount.__table__, (
        {"unit_id": u, "depth": d, "period": p, "units": c[0], "new_rural": c[1]}
        for (u, d, p), c in unit_counts(session).items()))


def bulk_insert(session: Session, table, rows: Iterable[dict]) -> None:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            session.execute(insert(table), batch)
            batch = []
    if batch:
        session.execute(insert(table), batch)


def each_rows(computed: Recomputed) -> Iterable[dict]:
    """Rows for every ancestor of the units at each kept target's depth, every span of every
    year with figures (zeros included: a row's presence says the counts are kept)."""
    by_depth: dict[int, set[int]] = defaultdict(set)
    for _uid, (depth, path, _nr) in computed.units.items():
        if any(d == depth for (_i, d) in computed.each_targets):
            by_depth[depth].update(path_ids(path)[:-1])
    for (iid, depth), targets in computed.each_targets.items():
        for t in targets:
            for year in sorted(computed.each_years.get(iid, ())):
                for anc in by_depth.get(depth, ()):
                    for a, b in SPANS:
                        c = computed.each_counts.get((anc, t.id, year, a, b), (0, 0))
                        yield {"unit_id": anc, "target_id": t.id,
                               "period_start": f"{year}-{a:02d}", "period_end": f"{year}-{b:02d}",
                               "indicator_id": iid, "depth": depth, "comparator": t.comparator,
                               "value": t.value, "with_data": c[0], "meeting": c[1]}
