"""Which units are in force on a date, in a month, in a period; their attributes for a year.

Rule (one for every read): a unit is in force on a day when `valid_from ≤ day ≤ valid_to`
(a missing bound is open). A month belongs to the units in force on the month's **last day**,
and a period of months (a quarter, a year to date) to the units in force on the last day of its
last month. So June 2025 is entered and counted on the old tree (Yên Bái's communes end on
30/06/2025) and July 2025 on the two-tier one (from 01/07/2025); a quarter or a year read in
December counts the units of December.

Per-year attributes (new-rural status, province-led, households, population) are rows of
`unit_year`; a unit without a row for the year has none (not new-rural, not led, unknown).
"""
import calendar
from collections.abc import Iterable
from datetime import date

from sqlalchemy import and_, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.units.models import Unit, UnitYear

NEW_RURAL = ("recognised", "expected")


def month_last_day(period: str) -> date:
    """"2023-02" → 28/02/2023 (any period string starting with YYYY-MM)."""
    year, month = int(period[:4]), int(period[5:7])
    return date(year, month, calendar.monthrange(year, month)[1])


def period_day(period) -> date:
    """The day whose units a period reads: the last day of its last month."""
    end = period if isinstance(period, str) else period.end
    return month_last_day(end)


def in_force_clause(day: date, columns=None):
    """SQL condition: the unit (table columns `columns`, default Unit's) is in force on `day`."""
    c = columns if columns is not None else Unit.__table__.c
    return and_(or_(c.valid_from.is_(None), c.valid_from <= day),
                or_(c.valid_to.is_(None), c.valid_to >= day))


def overlaps_clause(start: date | None, end: date | None, columns=None):
    """SQL condition: the unit's validity shares at least a day with [start, end]."""
    c = columns if columns is not None else Unit.__table__.c
    conds = []
    if end is not None:
        conds.append(or_(c.valid_from.is_(None), c.valid_from <= end))
    if start is not None:
        conds.append(or_(c.valid_to.is_(None), c.valid_to >= start))
    return and_(*conds) if conds else True


def is_in_force(unit: Unit, day: date) -> bool:
    return (unit.valid_from is None or unit.valid_from <= day) and (unit.valid_to is None or unit.valid_to >= day)


def overlaps(a_from: date | None, a_to: date | None, b_from: date | None, b_to: date | None) -> bool:
    """Two validity ranges (None: open) share at least one day."""
    return (a_to is None or b_from is None or b_from <= a_to) and (b_to is None or a_from is None or a_from <= b_to)


def in_force_months(unit_from: date | None, unit_to: date | None, year: int) -> int:
    """Bit m-1 set when the unit is in force on the last day of month m of `year`."""
    mask = 0
    for m in range(1, 13):
        day = date(year, m, calendar.monthrange(year, m)[1])
        if (unit_from is None or unit_from <= day) and (unit_to is None or unit_to >= day):
            mask |= 1 << (m - 1)
    return mask


def units_in_force(session: Session, day: date, *, under: Unit | None = None, depth: int | None = None,
                   children_of: Unit | None = None) -> list[Unit]:
    """Units in force on `day`, in the tree's order; within a subtree (`under`, itself excluded),
    at a level, or the children of a unit."""
    q = select(Unit).where(in_force_clause(day))
    if under is not None:
        q = q.where(col(Unit.path).startswith(under.path), Unit.id != under.id)
    if children_of is not None:
        q = q.where(Unit.parent_id == children_of.id)
    if depth is not None:
        q = q.where(Unit.depth == depth)
    return list(session.exec(q.order_by(Unit.depth, Unit.sort_order, Unit.name, Unit.id)).all())


def unit_by_code_on(session: Session, code: str, day: date) -> Unit | None:
    """The unit that carries `code` on `day` (codes are unique among units in force together)."""
    return session.exec(select(Unit).where(Unit.code == code, in_force_clause(day))).first()


def year_attributes(session: Session, year: int, unit_ids: Iterable[int] | None = None) -> dict[int, UnitYear]:
    """unit id → its attributes for `year` (only units that have a row)."""
    q = select(UnitYear).where(UnitYear.year == year)
    ids = None if unit_ids is None else sorted(set(unit_ids))
    if ids is not None:
        if not ids:
            return {}
        q = q.where(col(UnitYear.unit_id).in_(ids))
    return {a.unit_id: a for a in session.exec(q).all()}


def new_rural_of(session: Session, pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], str | None]:
    """(unit id, year) → new-rural status that year, for the asked pairs (missing: None)."""
    pairs = set(pairs)
    if not pairs:
        return {}
    ids, years = sorted({u for u, _ in pairs}), sorted({y for _, y in pairs})
    out: dict[tuple[int, int], str | None] = {}
    for i in range(0, len(ids), 5000):
        for uid, year, nr in session.execute(
                sa_select(UnitYear.unit_id, UnitYear.year, UnitYear.new_rural)
                .where(col(UnitYear.unit_id).in_(ids[i:i + 5000]), col(UnitYear.year).in_(years))):
            out[(uid, year)] = nr
    return out


def set_year_attributes(session: Session, unit: Unit, year: int, **values) -> UnitYear:
    """Create or change a unit's attributes for one year."""
    row = session.get(UnitYear, (unit.id, year))
    if row is None:
        row = UnitYear(unit_id=unit.id, year=year)
    for k, v in values.items():
        setattr(row, k, v)
    session.add(row)
    return row
