"""A finished year: the province closes it, and it is read-only except where the level above
reopens a unit's year for corrections.

Why an explicit close: a year's figures are read for years after (baselines, last year's
trend), so once the province has reported them they must not move by accident. The year does
not close itself at midnight on 31/12: December's figures come in during January. The province
closes it when its report is done, once the calendar year is over in Việt Nam (`today_vn`).

What it stops: every write of the year's data — figures (entry page, field, villages grid, API
import), submitting and reopening a month, and task edits and notes — refused by one rule,
`app.values.rules.check_year_open` (called by `check_save` for every figure, and here by
`require_year_open` for submissions and tasks). The rule reads `program.closed_at` and the set
of reopened units.

Reopening: an account of the level above a unit (`Principal.can_reopen`, the same right as
reopening a submitted month) reopens that unit's year with a reason (`year_reopening`: who,
when, why; audited); the unit's own figures and its villages' become editable again, through
the same save path, so the roll-up stays exact. The level above closes it again (the row is
deleted, audited), or the province re-closes the whole year, which ends every reopening.
Services never commit: the caller owns the transaction.

A save and a close at the same moment: every write of the year's data first reads the year's
`closed_at` under a share lock of the program row (`hold_year`: PostgreSQL's FOR KEY SHARE,
once per transaction and program), and a close, or the end of a reopening, first locks that row
FOR UPDATE (`_lock_for_closing`). The two lock modes conflict, so a close waits for the saves
in flight to commit, and a save that asks after the close has locked the row waits for the close
and then reads the year closed (READ COMMITTED re-reads the row's newest version) — refused with
"year_closed", never landing in a closed year; the reopened units are read after the lock too.
Saves do not wait for each other (share locks) nor for other edits of the program row (an
UPDATE of its other columns takes FOR NO KEY UPDATE, which KEY SHARE does not conflict with).
No deadlock: a close takes no other lock before the program row, and writers never wait for a
close while holding a lock the close needs. SQLite has one writer at a time (`begin_write`), so
the same order holds without row locks. Cost: one small locking SELECT per write transaction
on PostgreSQL; in a closed year one more reads the reopened units (once per batch for imports).
"""
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from app.accounts.models import User
from app.accounts.principal import Principal
from app.audit.service import audit
from app.core.errors import InputError
from app.core.time import today_vn, utcnow
from app.program.changes import can_manage
from app.program.models import Program, YearReopening
from app.units.models import Unit
from app.values.rules import check_year_open, year_open_for

REASON_MAX = 1000


class ClosingError(InputError):
    """A close or reopening that cannot be done; `code` is the API's error type, `status` its HTTP status."""

    def __init__(self, code: str, message: str, field: str | None = None, /, *, status: int = 409,
                 **params: Any) -> None:
        super().__init__(message, field, **params)
        self.code, self.status = code, status


def reopened_unit_ids(session: Session, program: Program) -> frozenset[int]:
    """The units whose closed year the level above has reopened."""
    return frozenset(session.exec(select(YearReopening.unit_id)
                                  .where(YearReopening.program_id == program.id)).all())


def is_open_for(session: Session, program: Program, unit: Unit) -> bool:
    """Pages: may the unit's data of the year change (the rule of `check_year_open`)?"""
    return year_open_for(program, unit, lambda: reopened_unit_ids(session, program))


def hold_year(session: Session, program: Program) -> None:
    """Before a write of the year's data: read the year's `closed_at` again under a share lock
    that a close waits for (module docstring). Once per transaction and program; PostgreSQL only."""
    if session.get_bind().dialect.name != "postgresql":
        return
    held = session.info.setdefault("years_held", {})
    transaction = session.get_transaction()
    if transaction is not None and held.get(program.id) is transaction:
        return
    session.refresh(program, ["closed_at"], with_for_update={"read": True, "key_share": True})
    held[program.id] = session.get_transaction()


def _lock_for_closing(session: Session, program: Program) -> None:
    """Before a close or the end of a reopening: wait for the saves in flight (module docstring)."""
    if session.get_bind().dialect.name == "postgresql":
        session.refresh(program, ["closed_at", "closed_by_id"], with_for_update=True)


def require_year_open(session: Session, program: Program, unit: Unit) -> None:
    """Raise EntryError "year_closed" unless the unit's year is open (not closed, or reopened),
    read under the year's share lock (`hold_year`)."""
    hold_year(session, program)
    check_year_open(program, unit, lambda: reopened_unit_ids(session, program))


def can_close(principal: Principal, program: Program) -> bool:
    """Closing the year belongs to the province: an administrator of the program's root unit."""
    return can_manage(principal) and program.root_unit_id == principal.unit.id


def close_refusal(program: Program, today: date | None = None, reopened: int = 0) -> ClosingError | None:
    """Why the year cannot be closed now (not the caller's right), or None. A closed year with
    `reopened` units may be closed again: that ends every reopening."""
    if program.status != "published":
        return ClosingError("program_draft", "The {year} program is a draft: only a published program is closed.",
                            year=program.year)
    if program.closed_at is not None and not reopened:
        return ClosingError("already_closed", "The year {year} is already closed.", year=program.year)
    if (today or today_vn()).year <= program.year:
        return ClosingError("year_not_over",
                            "The year {year} is not over yet: it can be closed from 01/01/{next} (Việt Nam time).",
                            status=422, year=program.year, next=program.year + 1)
    return None


def close_year(session: Session, principal: Principal, program: Program, *, today: date | None = None,
               via: str = "web") -> Program:
    """Close the year (the province's administrators, once the year is over); closing it again
    ends every reopening. Audited; does not commit. Raises PermissionError or ClosingError."""
    if not can_close(principal, program):
        raise PermissionError("programs")
    _lock_for_closing(session, program)
    ended = sorted(reopened_unit_ids(session, program))
    refusal = close_refusal(program, today, len(ended))
    if refusal is not None:
        raise refusal
    before = program.closed_at.isoformat() if program.closed_at else None
    session.execute(delete(YearReopening).where(col(YearReopening.program_id) == program.id))
    program.closed_at, program.closed_by_id = utcnow(), principal.user_id
    session.add(program)
    session.flush()
    audit(session, principal, via, "program", program.id, "close", {"closed_at": before},
          {"closed_at": program.closed_at.isoformat(), "reopenings_ended": ended}, unit_id=program.root_unit_id)
    return program


def _require_reopener(principal: Principal, unit: Unit) -> None:
    """The level above the unit (admins and editors above it in its branch), as for a month."""
    if not principal.can_reopen(unit):
        raise PermissionError(unit.code)


def reopen_unit(session: Session, principal: Principal, program: Program, unit: Unit, reason: str, *,
                via: str = "web") -> YearReopening:
    """Reopen one unit's closed year for corrections (the level above; a reason is required).
    Audited; does not commit. Raises PermissionError or ClosingError."""
    _require_reopener(principal, unit)
    if program.closed_at is None:
        raise ClosingError("year_open", "The year {year} is not closed: there is nothing to reopen.",
                           year=program.year)
    reason = (reason or "").strip()
    if not reason:
        raise ClosingError("reason_missing", "Say why the year is reopened.", "reason", status=422)
    if len(reason) > REASON_MAX:
        raise ClosingError("reason_too_long", "The reason is too long (at most {max} characters).", "reason",
                           status=422, max=REASON_MAX)
    if unit.id in reopened_unit_ids(session, program):
        raise ClosingError("already_reopened", "The year {year} of {unit} is already reopened.",
                           year=program.year, unit=unit.name)
    row = YearReopening(program_id=program.id, unit_id=unit.id, reopened_by_id=principal.user_id,
                        reopened_at=utcnow(), reason=reason)
    session.add(row)
    session.flush()
    audit(session, principal, via, "year_reopening", row.id, "reopen", None,
          {"year": program.year, "unit": unit.code, "reason": reason}, unit_id=unit.id)
    return row


def close_unit(session: Session, principal: Principal, program: Program, unit: Unit, *,
               via: str = "web") -> None:
    """Close a reopened unit's year again (the level above). Audited; does not commit."""
    _require_reopener(principal, unit)
    _lock_for_closing(session, program)
    row = session.exec(select(YearReopening).where(YearReopening.program_id == program.id,
                                                    YearReopening.unit_id == unit.id)).first()
    if row is None:
        raise ClosingError("not_reopened", "The year {year} of {unit} is not reopened.", status=404,
                           year=program.year, unit=unit.name)
    audit(session, principal, via, "year_reopening", row.id, "close",
          {"year": program.year, "unit": unit.code, "reason": row.reason}, None, unit_id=unit.id)
    session.delete(row)
    session.flush()


@dataclass
class ReopeningView:
    unit: Unit
    by: str
    at: datetime
    reason: str


def reopenings(session: Session, program: Program) -> list[ReopeningView]:
    """The year's reopened units, with who reopened them, when and why (by unit code)."""
    rows = session.exec(select(YearReopening, Unit, User.full_name)
                        .join(Unit, YearReopening.unit_id == Unit.id)  # type: ignore[arg-type]
                        .join(User, YearReopening.reopened_by_id == User.id, isouter=True)  # type: ignore[arg-type]
                        .where(YearReopening.program_id == program.id).order_by(Unit.code)).all()
    return [ReopeningView(unit, name or "—", row.reopened_at, row.reason) for row, unit, name in rows]
