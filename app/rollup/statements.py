"""The roll-up's SQL statements, built once (building a statement per request costs more than
running it): own figures, subtree cells, unit counts, the fused first read of a page, the kept
"each unit" counts and the grouped count that stands in for them.
"""

from fractions import Fraction
from typing import Any

from sqlalchemy import bindparam, case, func, literal, or_, union_all
from sqlalchemy import select as sa_select

from app.rollup.comparators import holds
from app.rollup.models import RollupCell, RollupEach, RollupOwn, RollupUnitCount
from app.units.models import Unit
from app.units.time import in_force_clause
from app.values.models import DataValue

value_col = DataValue.__table__.c
cell_col = RollupCell.__table__.c
count_col = RollupUnitCount.__table__.c
_LISTS = {name: bindparam(name, expanding=True) for name in ("uids", "iids", "flows")}
# Own figures (statements built once: building them per request costs more than running them).
OWN_FLOWS = (
    sa_select(
        value_col.unit_id,
        value_col.indicator_id,
        func.sum(value_col.value),
        func.sum(value_col.numerator),
        func.sum(value_col.denominator),
        func.count(),
    )
    .where(
        value_col.unit_id.in_(_LISTS["uids"]),
        value_col.indicator_id.in_(_LISTS["iids"]),
        value_col.period >= bindparam("start"),
        value_col.period <= bindparam("end"),
    )
    .group_by(value_col.unit_id, value_col.indicator_id)
)
_STOCK_WHERE = (
    value_col.unit_id.in_(_LISTS["uids"]),
    value_col.indicator_id.in_(_LISTS["iids"]),
    value_col.period >= bindparam("start"),
    value_col.period <= bindparam("end"),
)
OWN_STOCKS_PG = (
    sa_select(
        value_col.unit_id, value_col.indicator_id, value_col.value, value_col.numerator, value_col.denominator
    )
    .where(*_STOCK_WHERE)
    .distinct(value_col.unit_id, value_col.indicator_id)
    .order_by(value_col.unit_id, value_col.indicator_id, value_col.period.desc())
)
# SQLite: with MAX() the bare columns come from the row holding the maximum.
OWN_STOCKS_SQLITE = (
    sa_select(
        value_col.unit_id,
        value_col.indicator_id,
        value_col.value,
        value_col.numerator,
        value_col.denominator,
        func.max(value_col.period),
    )
    .where(*_STOCK_WHERE)
    .group_by(value_col.unit_id, value_col.indicator_id)
)
# Subtree figures: stocks at the period's last month, flows summed over its months.
CELLS = (
    sa_select(
        cell_col.unit_id,
        cell_col.indicator_id,
        func.sum(cell_col.value_sum),
        func.sum(cell_col.num_sum),
        func.sum(cell_col.den_sum),
        func.sum(cell_col.reported_count),
    )
    .where(
        cell_col.unit_id.in_(_LISTS["uids"]),
        cell_col.indicator_id.in_(_LISTS["iids"]),
        or_(
            cell_col.period == bindparam("end"),
            cell_col.indicator_id.in_(_LISTS["flows"])
            & (cell_col.period >= bindparam("start"))
            & (cell_col.period < bindparam("end")),
        ),
    )
    .group_by(cell_col.unit_id, cell_col.indicator_id)
)
COUNTS = sa_select(count_col.unit_id, count_col.depth, count_col.units, count_col.new_rural).where(
    count_col.unit_id.in_(_LISTS["uids"]), count_col.period == bindparam("end")
)


def fused_statement(dialect: str):
    """One round trip for what a page reads first: the own figures of the asked units (flows
    summed, stocks' latest month), their subtree cells and their unit counts, as rows
    (kind, unit, indicator or depth, a, b, c, d). Built once per dialect."""
    q = _FUSED.get(dialect)
    if q is None:
        q = _FUSED[dialect] = union_all(_fused_flows(), _fused_stocks(dialect), _fused_cells(), _fused_counts())
    return q


def _fused_flows():
    v = value_col
    return (sa_select(literal("f").label("k"), v.unit_id, v.indicator_id, func.sum(v.value),
                      func.sum(v.numerator), func.sum(v.denominator), func.count())
            .where(v.unit_id.in_(bindparam("own_uids", expanding=True)),
                   v.indicator_id.in_(bindparam("own_flows", expanding=True)),
                   v.period >= bindparam("start"), v.period <= bindparam("end"))
            .group_by(v.unit_id, v.indicator_id))


def _fused_stocks(dialect: str):
    v = value_col
    where = (v.unit_id.in_(bindparam("own_uids", expanding=True)),
             v.indicator_id.in_(bindparam("own_stocks", expanding=True)),
             v.period >= bindparam("ystart"), v.period <= bindparam("end"))
    if dialect == "postgresql":
        latest = (sa_select(v.unit_id, v.indicator_id, v.value, v.numerator, v.denominator)
                  .where(*where).distinct(v.unit_id, v.indicator_id)
                  .order_by(v.unit_id, v.indicator_id, v.period.desc()).subquery())
    else:  # SQLite: with MAX() the bare columns come from the row holding the maximum
        latest = (sa_select(v.unit_id, v.indicator_id, v.value, v.numerator, v.denominator,
                            func.max(v.period).label("p"))
                  .where(*where).group_by(v.unit_id, v.indicator_id).subquery())
    c = latest.c
    return sa_select(literal("s"), c.unit_id, c.indicator_id, c.value, c.numerator, c.denominator, literal(1))


def _fused_cells():
    c = cell_col
    return (sa_select(literal("c"), c.unit_id, c.indicator_id, func.sum(c.value_sum), func.sum(c.num_sum),
                      func.sum(c.den_sum), func.sum(c.reported_count))
            .where(c.unit_id.in_(bindparam("cell_uids", expanding=True)),
                   c.indicator_id.in_(bindparam("cell_iids", expanding=True)),
                   or_(c.period == bindparam("end"),
                       c.indicator_id.in_(bindparam("cell_flows", expanding=True))
                       & (c.period >= bindparam("start")) & (c.period < bindparam("end"))))
            .group_by(c.unit_id, c.indicator_id))


def _fused_counts():
    c = count_col
    return (sa_select(literal("n"), c.unit_id, c.depth, c.units, c.new_rural, literal(0), literal(0))
            .where(c.unit_id.in_(bindparam("count_uids", expanding=True)), c.period == bindparam("end")))


_FUSED: dict[str, Any] = {}


each_col = RollupEach.__table__.c
EACH_TERMS = (
    sa_select(
        each_col.unit_id,
        each_col.target_id,
        each_col.indicator_id,
        each_col.depth,
        each_col.comparator,
        each_col.value,
        each_col.period_start,
    )
    .distinct()
    .where(
        each_col.unit_id.in_(bindparam("roots", expanding=True)),
        each_col.indicator_id.in_(bindparam("iids", expanding=True)),
        # the whole-year span: one row per target and year
        each_col.period_start.in_(bindparam("starts", expanding=True)),
        each_col.period_end.in_(bindparam("ends", expanding=True)),
    )
)
EACH_UPDATE = (
    RollupEach.__table__.update()
    .where(
        each_col.unit_id == bindparam("u"),
        each_col.target_id == bindparam("tid"),
        each_col.period_start == bindparam("ps"),
        each_col.period_end == bindparam("pe"),
        each_col.comparator == bindparam("cmp"),
        each_col.value == bindparam("val"),
    )
    .values(with_data=each_col.with_data + bindparam("dw"), meeting=each_col.meeting + bindparam("dm"))
)


EACH_READ = sa_select(
    RollupEach.__table__.c.unit_id,
    RollupEach.__table__.c.target_id,
    RollupEach.__table__.c.indicator_id,
    RollupEach.__table__.c.depth,
    RollupEach.__table__.c.comparator,
    RollupEach.__table__.c.value,
    RollupEach.__table__.c.with_data,
    RollupEach.__table__.c.meeting,
).where(
    RollupEach.__table__.c.target_id.in_(bindparam("tids", expanding=True)),
    RollupEach.__table__.c.period_start == bindparam("ps"),
    RollupEach.__table__.c.period_end == bindparam("pe"),
    RollupEach.__table__.c.unit_id.in_(
        sa_select(Unit.__table__.c.id).where(
            or_(
                Unit.__table__.c.parent_id == bindparam("scope_id"),
                Unit.__table__.c.id == bindparam("scope_id"),
            )
        )
    ),
)
_EACH_STATEMENTS: dict[tuple, Any] = {}


def each_count_statement(steps: int, shape: tuple[tuple[int, str, Fraction], ...], span: bool):
    """The grouped "each unit of a level" count, built once per shape (levels between the scope
    and the units, the targets' indicators/comparators/thresholds, whether the span starts after
    January) and reused with bound parameters: building it costs more than running it.

    From the scope down the parent chain to the units of the level, then one or two cumulative
    rows per unit (`rollup_own`): Σ over [first..last] = cumulative(last) − cumulative(first − 1).
    """
    key = (steps, shape, span)
    q = _EACH_STATEMENTS.get(key)
    if q is not None:
        return q
    u0 = Unit.__table__.alias("u0")
    frm = u0
    cur = u0
    for i in range(steps - 1):
        p = Unit.__table__.alias(f"p{i}")
        frm = frm.join(p, p.c.id == cur.c.parent_id)
        cur = p
    ro = RollupOwn.__table__.c
    end = bindparam("end")
    periods = [end, bindparam("prev")] if span else [end]
    sign = case((ro.period == end, 1), else_=-1) if span else literal(1)
    iids = sorted({x[0] for x in shape})
    frm = frm.join(
        RollupOwn.__table__, (ro.unit_id == u0.c.id) & ro.indicator_id.in_(iids) & ro.period.in_(periods)
    )
    per_unit = (
        sa_select(
            cur.c.id.label("anc"), ro.indicator_id.label("iid"), func.sum(sign * ro.value_sum).label("s")
        )
        .select_from(frm)
        .where(
            u0.c.depth == bindparam("depth"),
            cur.c.parent_id == bindparam("scope_id"),
            in_force_clause(bindparam("day"), u0.c),
        )
        .group_by(u0.c.id, cur.c.id, ro.indicator_id)
        .having(func.sum(sign * ro.reported_count) > 0)
        .subquery()
    )
    cols = []
    for iid, comparator, v in shape:
        cond = holds(comparator, per_unit.c.s * v.denominator, v.numerator)  # the comparator table
        cols.append(func.sum(case(((per_unit.c.iid == iid) & cond, 1), else_=0)))
    q = sa_select(per_unit.c.anc, per_unit.c.iid, func.count(), *cols).group_by(
        per_unit.c.anc, per_unit.c.iid
    )
    _EACH_STATEMENTS[key] = q
    return q
