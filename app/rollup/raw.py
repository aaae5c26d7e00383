"""The raw reference: the same answers as `app.rollup.reads`, computed from raw `data_value`
rows at read time (the straightforward design). The tests compare the kept cells with it and
the benchmark takes it as its baseline.
"""
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session

from app.program.models import Indicator, Program
from app.program.periods import PeriodRange
from app.rollup.reads import ReadContext, program_indicators
from app.rollup.rules import Sums, counts_toward, effective
from app.rollup.subtree import children_of, count_expected
from app.rollup.types import IndicatorResult
from app.units.models import Unit, UnitYear
from app.values.models import DataValue


def raw_rollup(session: Session, unit: Unit, period: PeriodRange, program: Program,
               with_children: bool = False
               ) -> tuple[list[IndicatorResult], list[tuple[Unit, list[IndicatorResult]]]]:
    """The same answer as `dashboard`, computed from raw `data_value` rows at read time."""
    children = children_of(session, unit, period) if with_children else []
    ctx = RawContext(session, program, program_indicators(session, program), period, scope=unit)
    results = ctx.results_for([unit, *children])
    return results[unit.id], [(c, results[c.id]) for c in children]


class RawContext(ReadContext):
    """The straightforward design: subtree figures summed from raw `data_value` at read time."""

    sql_each = False  # every unit of an "each" level judged in Python: the tests' reference

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._accs: dict[int, dict[int, Sums]] = {}
        self._expected: dict[tuple[int, int], int] = {}

    def _own_rows(self, ids: list[int], flows: list[int], stocks: list[int]) -> Iterable[tuple]:
        """Own figures picked in Python from every raw row (a check on the SQL of the base)."""
        dv = DataValue
        rows: dict[tuple[int, int], list[tuple]] = defaultdict(list)
        q = sa_select(dv.unit_id, dv.indicator_id, dv.period, dv.value, dv.numerator,
                      dv.denominator).where(dv.unit_id.in_(ids), dv.indicator_id.in_(flows + stocks),
                                            dv.period >= f"{self.period.year}-01",
                                            dv.period <= self.period.end)
        for uid, iid, per, v, n, d in self.session.execute(q):
            rows[(uid, iid)].append((per, v, n, d))
        for (uid, iid), rs in rows.items():
            eff = effective(rs, self.by_id[iid], self.period)
            if eff is not None:
                yield uid, iid, eff[0], eff[1], eff[2], 1

    def prepare(self, units: list[Unit]) -> None:
        for unit in units:
            if unit.id not in self._accs:
                self._accs[unit.id] = self._subtree_accs(unit)

    def _subtree_accs(self, unit: Unit) -> dict[int, Sums]:
        """Aggregate queries over the subtree's raw rows: flows summed, stocks' latest month
        picked with a window function, grouped by level and new-rural flag."""
        dv, u, uy = DataValue.__table__.c, Unit.__table__.c, UnitYear.__table__.c
        joined = DataValue.__table__.join(Unit.__table__, u.id == dv.unit_id).outerjoin(
            UnitYear.__table__, (uy.unit_id == u.id) & (uy.year == self.year))
        flows = [i for i, ind in self.by_id.items() if ind.time_rollup == "flow"]
        stocks = [i for i, ind in self.by_id.items() if ind.time_rollup != "flow"]
        rows: list[tuple] = []
        in_tree = (u.path.startswith(unit.path),)
        if flows:
            rows += self.session.execute(
                sa_select(dv.indicator_id, u.depth, uy.new_rural, func.sum(dv.value),
                          func.sum(dv.numerator), func.sum(dv.denominator),
                          func.count(dv.unit_id.distinct()))
                .select_from(joined)
                .where(*in_tree, dv.indicator_id.in_(flows), dv.period >= self.period.start,
                       dv.period <= self.period.end)
                .group_by(dv.indicator_id, u.depth, uy.new_rural)).all()
        if stocks:
            rn = func.row_number().over(partition_by=(dv.unit_id, dv.indicator_id),
                                        order_by=dv.period.desc()).label("rn")
            latest = (sa_select(dv.indicator_id, u.depth, uy.new_rural, dv.value, dv.numerator,
                                dv.denominator, rn)
                      .select_from(joined)
                      .where(*in_tree, dv.indicator_id.in_(stocks),
                             dv.period >= f"{self.period.year}-01", dv.period <= self.period.end)
                      .subquery())
            c = latest.c
            rows += self.session.execute(
                sa_select(c.indicator_id, c.depth, c.new_rural, func.sum(c.value), func.sum(c.numerator),
                          func.sum(c.denominator), func.count())
                .where(c.rn == 1).group_by(c.indicator_id, c.depth, c.new_rural)).all()
        out: dict[int, Sums] = {}
        for iid, depth, nr, v, n, d, count in rows:
            ind = self.by_id[iid]
            if not counts_toward(ind, depth, nr):
                continue
            acc = out.setdefault(iid, Sums())
            acc.value += int(v or 0)
            acc.num += int(n or 0)
            acc.den += int(d or 0)
            acc.reported += int(count)
        return out

    def subtree_acc(self, unit: Unit, ind: Indicator) -> Sums | None:
        if unit.id not in self._accs:
            self._accs[unit.id] = self._subtree_accs(unit)
        return self._accs[unit.id].get(ind.id)

    def expected(self, unit: Unit, ind: Indicator) -> int:
        key = (unit.id, ind.id)
        if key not in self._expected:
            self._expected[key] = count_expected(self.session, unit, ind, self.day, self.year)
        return self._expected[key]

