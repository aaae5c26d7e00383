"""Entering a figure: the one place its rules live, for web forms, the API and imports.

`save_value` validates, refuses a stale version as a conflict, writes the value, its audit
row and brings the roll-up up to date, in the caller's transaction (the caller commits, so a
batch is all-or-nothing).

Concurrency: a figure is read only after its lock is held (`rollup.lock_figures`: on
PostgreSQL an advisory lock per unit and indicator, on SQLite the database's write lock), and
re-read from the database even if the session holds an older copy. So the version check, the
"submitted" check and the roll-up's "before" all see the last committed state, and two saves
of one figure are serialised: the second answers a conflict instead of overwriting. A
transaction takes all its locks in one call (`save_fields`, `submit_period`, imports), which
keeps the order of locks the same everywhere.
"""
from dataclasses import dataclass, field
from typing import Any, cast

from sqlmodel import Session

from app.accounts.principal import Principal
from app.audit.service import audit
from app.core.time import utcnow
from app.program.closing import hold_year, reopened_unit_ids, require_year_open
from app.program.models import Indicator, Program
from app.rollup import service as rollup
from app.units.models import Unit
from app.values.models import DataValue, PeriodSubmission
from app.values.queries import all_indicators, get_submission, get_value, is_submitted
from app.values.rules import (
    Conflict,
    EntryError,
    Figure,
    check_figure,
    check_period,
    check_save,
    decide_save,
    parse_figure,
    snapshot,
)


@dataclass
class SaveResult:
    data_value: DataValue | None
    action: str  # created | updated | unchanged | deleted
    errors: list[EntryError] = field(default_factory=list)


def _value_changed(session: Session, unit: Unit, indicator: Indicator, period: str,
                   old: Any, new: Any, changes: list[Any] | None) -> None:
    if changes is None:
        rollup.on_value_changed(session, unit, indicator, period, old, new)
    else:
        changes.append(rollup.ValueChange(unit, indicator, period, old, new))


def save_value(
    session: Session,
    principal: Principal,
    program: Program,
    unit: Unit,
    indicator: Indicator,
    period: str,
    fig: Figure,
    *,
    expected_version: int | None = None,
    via: str = "web",
    existing: DataValue | None | bool = False,
    submitted: bool | None = None,
    changes: list[Any] | None = None,
    flush: bool = True,
) -> SaveResult:
    """Validate and save one figure (an empty figure clears it). Does not commit.

    expected_version: the version the user saw (0 when they saw no value); None skips the check.
    existing: the current row if the caller already loaded it, holding its lock (None for
    "known absent"); otherwise the figure is locked, then read.
    submitted: whether the unit's month is submitted, if the caller already knows (batches).
    changes: a batch collects roll-up changes here for one `rollup.on_values_changed` call.
    flush: False lets a batch flush once at its end; a new figure's audit row then has no
    entity_id until the batch fills it in (`app.values.bulk`).
    Raises EntryError, Conflict, or PermissionError when the caller may not write the unit.
    """
    hold_year(session, program)  # whether the year is closed, read under the lock a close waits for
    check_save(principal, program, unit, indicator, period, fig,
               reopened=lambda: reopened_unit_ids(session, program))
    if existing is False:
        rollup.lock_figures(session, [(unit.id, indicator.id)])  # before reading: see the docstring
        current = get_value(session, unit.id, indicator.id, period)
    else:
        current = existing
    action = decide_save(unit, period, fig, current, expected_version,
                         (lambda: is_submitted(session, unit.id, period)) if submitted is None else submitted)
    old = snapshot(current)
    where = {"unit_id": unit.id, "indicator_id": indicator.id, "period": period}
    if action == "deleted" and current is not None:  # "deleted" is only ever said of a stored row
        session.delete(current)
        _value_changed(session, unit, indicator, period, old, None, changes)
        audit(session, principal, via, "data_value", current.id, "delete", old, None, **where)
        return SaveResult(None, "deleted")
    if action == "unchanged":
        return SaveResult(current, "unchanged")
    created = current is None
    current = _written(current, unit, indicator, period, fig, principal, via)
    session.add(current)
    if flush:
        session.flush()
    new = snapshot(current)
    _value_changed(session, unit, indicator, period, old, new, changes)
    audit(session, principal, via, "data_value", current.id, "create" if created else "update",
          old, new, **where)
    return SaveResult(current, action)


def _written(current: DataValue | None, unit: Unit, indicator: Indicator, period: str, fig: Figure,
             principal: Principal, via: str) -> DataValue:
    """The stored row with `fig` written over it (a new row at version 1, else the version up)."""
    now = utcnow()
    if current is None:
        # Timestamps given: SQLModel then skips its slow default-factory path (matters for imports).
        current = DataValue(unit_id=unit.id, indicator_id=indicator.id, period=period,
                            created_at=now, updated_at=now, version=1)
    else:
        current.version += 1
    current.value, current.numerator, current.denominator = fig.value, fig.numerator, fig.denominator
    if fig.comment is not None:
        current.comment = fig.comment
    current.updated_at, current.updated_by_id, current.updated_via = now, principal.user_id, via
    return current


def submit_period(session: Session, principal: Principal, program: Program, unit: Unit,
                  period: str, *, via: str = "web") -> PeriodSubmission:
    """Mark the unit's month as submitted (audited); later changes need a reopen. No commit."""
    if not principal.can_write(unit):
        raise PermissionError(unit.code)
    check_period(program, period)
    require_year_open(session, program, unit)
    # A save in flight finishes first; a second submit waits, then finds the month submitted.
    rollup.lock_figures(session, [(unit.id, i.id) for i in all_indicators(session, program)])
    sub = get_submission(session, unit.id, period)
    if sub is not None and sub.status == "submitted":
        raise EntryError("already_submitted", "{unit} has already submitted {period}.",
                         unit=unit.name, period=period)
    old = None if sub is None else {"status": sub.status}
    now = utcnow()
    if sub is None:
        sub = PeriodSubmission(unit_id=unit.id, period=period)
    sub.status, sub.submitted_at, sub.submitted_by_id = "submitted", now, principal.user_id
    session.add(sub)
    session.flush()
    audit(session, principal, via, "submission", sub.id, "submit", old,
          {"status": "submitted"}, unit_id=unit.id, period=period)
    return sub


def reopen_period(session: Session, principal: Principal, program: Program, unit: Unit,
                  period: str, *, via: str = "web") -> PeriodSubmission:
    """Reopen a submitted month: only the level above may (audited). No commit."""
    if not principal.can_reopen(unit):
        raise PermissionError(unit.code)
    check_period(program, period)
    require_year_open(session, program, unit)
    sub = get_submission(session, unit.id, period)
    if sub is None or sub.status != "submitted":
        raise EntryError("not_submitted", "{unit} has not submitted {period}; there is nothing to reopen.",
                         unit=unit.name, period=period)
    sub.status, sub.reopened_at, sub.reopened_by_id = "reopened", utcnow(), principal.user_id
    session.add(sub)
    session.flush()
    audit(session, principal, via, "submission", sub.id, "reopen", {"status": "submitted"},
          {"status": "reopened"}, unit_id=unit.id, period=period)
    return sub


@dataclass
class FieldInput:
    """One indicator's part of a posted entry form: the raw strings and the version seen."""

    indicator: Indicator
    raw: dict[str, Any]
    expected_version: int | None
    present: bool = True  # False when the form did not carry the field at all: left as is
    figure: Figure | None = None
    error: EntryError | None = None
    conflict: DataValue | None = None


def read_field(indicator: Indicator, form: Any) -> FieldInput:
    """Read `<code>.value|numerator|denominator|version` from a form (a Mapping)."""
    code = indicator.code
    raw = {k: form.get(f"{code}.{k}") for k in ("value", "numerator", "denominator")}
    if form.get(f"{code}.comment"):
        raw["comment"] = form.get(f"{code}.comment")  # why a questioned figure is right
    version_text = str(form.get(f"{code}.version") or "").strip()
    version = int(version_text) if version_text.isdigit() else None
    present = any(f"{code}.{k}" in form for k in ("value", "numerator", "denominator"))
    return FieldInput(indicator, raw, version, present)


def save_fields(session: Session, principal: Principal, program: Program, unit: Unit, period: str,
                fields: list[FieldInput], *, via: str = "web") -> bool:
    """Save a whole entry page all-or-nothing. No commit.

    Every field is parsed and checked first; if any is invalid or in conflict, the errors are
    set on the fields and nothing is written (the caller rolls back). Returns True when saved.
    """
    if not principal.can_write(unit):
        raise PermissionError(unit.code)
    check_period(program, period)
    require_year_open(session, program, unit)
    fields = [f for f in fields if f.present]
    rollup.lock_figures(session, [(unit.id, f.indicator.id) for f in fields])
    if is_submitted(session, unit.id, period):
        raise EntryError("period_submitted",
                         "{unit} has submitted {period}; ask the level above to reopen it first.",
                         unit=unit.name, period=period)
    ok = True
    for f in fields:
        try:
            f.figure = parse_figure(f.indicator, f.raw)
            check_figure(program, unit, f.indicator, period, f.figure)
        except EntryError as e:
            f.error, ok = e, False
    if not ok:
        return False
    changes: list[Any] = []  # one roll-up pass for the page: rows are written in key order
    for f in fields:
        try:
            save_value(session, principal, program, unit, f.indicator, period, cast(Figure, f.figure),
                       expected_version=f.expected_version, via=via, submitted=False, changes=changes)
        except Conflict as c:
            f.conflict, ok = c.current, False
        except EntryError as e:
            f.error, ok = e, False
    if ok and changes:
        rollup.on_values_changed(session, changes)
    return ok
