"""Load a unit by GSO code within the caller's scope; 404 alike for missing and out of scope.

A code names one unit at a time, but may name several over the years (15 was Yên Bái until
30/06/2025 and is Lào Cai from 01/07/2025). Among the units carrying a code, the caller's scope
decides first (a Yên Bái account reading "15" means Yên Bái), then the day asked for, then the
year a page reads (the unit in force at that year's end among those in force during it), then
the unit in force today, then the latest.
"""
from datetime import date

from sqlmodel import Session, select

from app.accounts.deps import Principal
from app.core.problems import Problem
from app.units.models import Unit
from app.units.time import is_in_force, overlaps


def _pick(units: list[Unit], day: date | None, year: int | None = None) -> Unit | None:
    if not units:
        return None
    if len(units) == 1 and day is None:
        return units[0]
    if day is not None:
        units = [u for u in units if is_in_force(u, day)]
        if not units:
            return None
    if year is not None and len(units) > 1:
        units = [u for u in units if overlaps(u.valid_from, u.valid_to, date(year, 1, 1), date(year, 12, 31))] or units
        units = sorted(units, key=lambda u: (u.valid_to or date.max, u.id))[-1:]
    if len(units) > 1:
        from app.program.service import today_vn

        today = [u for u in units if is_in_force(u, today_vn())]
        units = today or sorted(units, key=lambda u: (u.valid_from or date.min, u.id))[-1:]
    return units[0]


def unit_by_code(session: Session, code: str, day: date | None = None,
                 principal: Principal | None = None, year: int | None = None) -> Unit | None:
    units = list(session.exec(select(Unit).where(Unit.code == code)).all())
    if principal is not None and len(units) > 1:
        units = [u for u in units if principal.can_follow(u)] or units
    return _pick(units, day, year)


def readable_unit(session: Session, principal: Principal, code: str, day: date | None = None,
                  year: int | None = None) -> Unit:
    unit = unit_by_code(session, code, day, principal, year)
    if unit is None or not principal.can_read(unit):
        raise Problem(404, "Not Found", f"No unit with code {code!r} in your scope.")
    return unit


def writable_unit(session: Session, principal: Principal, code: str, day: date | None = None) -> Unit:
    unit = readable_unit(session, principal, code, day)
    if not principal.can_write(unit):
        raise Problem(403, "Forbidden", f"You may read unit {code!r} but not change its data.")
    return unit
