"""Checking the kept roll-up tables against what a rebuild would write (`python -m app.cli
rollup check`, the load bench, the tests).
"""
from dataclasses import dataclass

from sqlalchemy import select as sa_select
from sqlmodel import Session

from app.rollup.models import RollupCell, RollupOwn, RollupUnitCount
from app.rollup.rebuild import each_rows, recompute, unit_counts
from app.rollup.statements import each_col


@dataclass(frozen=True)
class Difference:
    """One kept row that a rebuild would write differently. `kept`/`expected`: the row's
    figures, (0, …) when the row is absent."""

    table: str
    key: tuple
    kept: tuple
    expected: tuple

    def __str__(self) -> str:
        return f"{self.table} {self.key}: kept {self.kept}, rebuilt {self.expected}"


def check(session: Session) -> list[Difference]:
    """Every difference between the kept roll-up tables and a rebuild from raw values (empty:
    the roll-up is exact). Reads only, in one snapshot: run it while saves go on.

    On PostgreSQL the caller's transaction should be REPEATABLE READ (`app.cli rollup check`
    makes it so), else a save committed between two of its reads shows as a difference.
    Rows of zeros count as absent. `rollup_each` rows are compared where they exist and carry
    the target's current terms (the others are not read: see `RollupEach`)."""
    own_expected: dict[tuple, tuple] = {}

    def collect_own(row: dict) -> None:
        own_expected[(row["unit_id"], row["indicator_id"], row["period"])] = (
            row["value_sum"], row["num_sum"], row["den_sum"], row["reported_count"])

    computed = recompute(session, collect_own)
    diffs: list[Difference] = []

    def compare(table: str, kept: dict[tuple, tuple], expected: dict[tuple, tuple], width: int,
                only_kept: bool = False) -> None:
        zero = (0,) * width
        keys = kept.keys() if only_kept else kept.keys() | expected.keys()
        for key in sorted(keys):
            k, e = kept.get(key, zero), expected.get(key, zero)
            if k != e:
                diffs.append(Difference(table, key, k, e))

    c = RollupCell.__table__.c
    kept_cells = {(r[0], r[1], r[2]): tuple(int(x) for x in r[3:]) for r in session.execute(
        sa_select(c.unit_id, c.indicator_id, c.period, c.value_sum, c.num_sum, c.den_sum,
                  c.reported_count))}
    compare("rollup_cell", kept_cells, {k: tuple(v) for k, v in computed.cells.items()}, 4)
    o = RollupOwn.__table__.c
    kept_own = {(r[0], r[1], r[2]): tuple(int(x) for x in r[3:]) for r in session.execute(
        sa_select(o.unit_id, o.indicator_id, o.period, o.value_sum, o.num_sum, o.den_sum,
                  o.reported_count))}
    compare("rollup_own", kept_own, own_expected, 4)
    n = RollupUnitCount.__table__.c
    kept_counts = {(r[0], r[1], r[2]): (int(r[3]), int(r[4])) for r in session.execute(
        sa_select(n.unit_id, n.depth, n.period, n.units, n.new_rural))}
    compare("rollup_unit_count", kept_counts, unit_counts(session), 2)
    terms = {t.id: (t.comparator, float(t.value)) for ts in computed.each_targets.values() for t in ts}
    kept_each = {(r[0], r[1], r[2], r[3]): (int(r[4]), int(r[5])) for r in session.execute(
        sa_select(each_col.unit_id, each_col.target_id, each_col.period_start, each_col.period_end,
                  each_col.with_data, each_col.meeting, each_col.comparator, each_col.value))
        if terms.get(r[1]) == (r[6], float(r[7]))}
    expected_each = {(r["unit_id"], r["target_id"], r["period_start"], r["period_end"]):
                     (r["with_data"], r["meeting"]) for r in each_rows(computed)}
    compare("rollup_each", kept_each, expected_each, 2, only_kept=True)
    return diffs

