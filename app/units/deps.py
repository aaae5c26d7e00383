"""Load a unit by GSO code within the caller's scope; 404 alike for missing and out of scope."""
from sqlmodel import Session, select

from app.accounts.deps import Principal
from app.core.problems import Problem
from app.units.models import Unit


def unit_by_code(session: Session, code: str) -> Unit | None:
    return session.exec(select(Unit).where(Unit.code == code)).first()


def readable_unit(session: Session, principal: Principal, code: str) -> Unit:
    unit = unit_by_code(session, code)
    if unit is None or not principal.can_read(unit):
        raise Problem(404, "Not Found", f"No unit with code {code!r} in your scope.")
    return unit


def writable_unit(session: Session, principal: Principal, code: str) -> Unit:
    unit = readable_unit(session, principal, code)
    if not principal.can_write(unit):
        raise Problem(403, "Forbidden", f"You may read unit {code!r} but not change its data.")
    return unit
