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
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from app.accounts.deps import Principal
from app.audit.service import audit
from app.core.i18n import _
from app.core.time import utcnow
from app.program import rules
from app.program.models import Indicator, Program
from app.rollup import service as rollup
from app.units.models import Unit
from app.values.models import DataValue, PeriodSubmission


class EntryError(Exception):
    """A figure that cannot be saved. `message` is English; `text()` is in the user's language."""

    def __init__(self, code: str, message: str, field: str | None = None, /, **params: Any) -> None:
        # Positional-only, so that a message may have a {code} placeholder of its own.
        super().__init__(message.format(**params) if params else message)
        self.code, self.message, self.field, self.params = code, message, field, params

    def text(self) -> str:
        return _(self.message, **self.params)


class Conflict(Exception):
    """The figure changed since the user loaded it: nothing was saved."""

    def __init__(self, current: DataValue) -> None:
        super().__init__(f"Value changed meanwhile (now version {current.version})")
        self.current = current


@dataclass
class Figure:
    """A figure as entered: `value` for counts, amounts and yes/no (1/0); num/den for ratios."""

    value: int | None = None
    numerator: int | None = None
    denominator: int | None = None
    comment: str | None = None

    @property
    def is_empty(self) -> bool:
        return self.value is None and self.numerator is None and self.denominator is None


@dataclass
class SaveResult:
    data_value: DataValue | None
    action: str  # created | updated | unchanged | deleted
    errors: list[EntryError] = field(default_factory=list)


_GROUPING = re.compile(r"[\s._,\u00a0]")
_GROUPED = re.compile(r"^\d{1,3}(?:([.\s\u00a0_])\d{3})(?:\1\d{3})*$")
_YES = {"1", "true", "yes", "co", "có", "y", "on"}
_NO = {"0", "false", "no", "khong", "không", "n", "off"}


def parse_int(raw: Any, field_name: str = "value") -> int | None:
    """Read a whole number as typed: "10.000.000", "10 000 000" and "10000000" are the same."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        return int(raw)
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        if raw != raw or not raw.is_integer():
            raise EntryError("not_whole", "Enter a whole number.", field_name)
        return int(raw)
    text = str(raw).strip()
    if text == "":
        return None
    negative = text.startswith("-")
    body = text.lstrip("-+").strip()
    digits = _GROUPING.sub("", body)
    if not digits.isdigit():
        raise EntryError("not_number", "“{raw}” is not a number. Enter digits only, e.g. 1250.",
                         field_name, raw=text[:30])
    # In Vietnamese "12,5" is twelve and a half and "12.5" a slip: only whole thousands groups.
    if digits != body and not _GROUPED.match(body):
        raise EntryError("not_whole", "“{raw}” is not a whole number. Enter whole numbers only; "
                         "separate thousands with dots, e.g. 10.000.000.", field_name, raw=text[:30])
    if len(digits) > 18:
        raise EntryError("too_large", "The number is far too large.", field_name)
    return -int(digits) if negative else int(digits)


def parse_yes_no(raw: Any) -> int | None:
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None
    text = str(raw).strip().lower()
    if text in _YES:
        return 1
    if text in _NO:
        return 0
    raise EntryError("not_yes_no", "Choose yes or no.", "value")


def parse_figure(indicator: Indicator, raw: dict[str, Any]) -> Figure:
    """Turn form or JSON input into a Figure, raising EntryError on unreadable input."""
    comment = raw.get("comment") or None
    if indicator.measure == "ratio":
        return Figure(numerator=parse_int(raw.get("numerator"), "numerator"),
                      denominator=parse_int(raw.get("denominator"), "denominator"), comment=comment)
    if indicator.measure == "yes_no":
        return Figure(value=parse_yes_no(raw.get("value")), comment=comment)
    return Figure(value=parse_int(raw.get("value")), comment=comment)


def check_period(program: Program, period: str) -> None:
    """Raise unless `period` is a month ("YYYY-MM") of the program's year."""
    parsed = rules.parse_period(period)
    if parsed is None:
        raise EntryError("bad_period", "The month “{period}” is not valid; write it as YYYY-MM.",
                         "period", period=period[:20])
    if parsed[0] != program.year:
        raise EntryError("period_outside_program",
                         "The month {period} is outside the {year} program; enter months "
                         "{year}-01 to {year}-12.", "period", period=period, year=program.year)


def _in_force(unit: Unit, period: str) -> bool:
    """The unit is in force on the month's last day (`app.units.time`)."""
    from app.units.time import is_in_force, month_last_day

    if unit.valid_from is None and unit.valid_to is None:
        return True
    return is_in_force(unit, month_last_day(period))


def check_figure(program: Program, unit: Unit, indicator: Indicator, period: str, fig: Figure) -> None:
    """Raise the first rule the figure breaks; the same rules for forms, API and import."""
    check_period(program, period)
    if indicator.program_id != program.id:
        raise EntryError("indicator_not_in_program", "The indicator is not part of this program.",
                         "indicator")
    if not _in_force(unit, period):
        raise EntryError("unit_not_in_force",
                         "{unit} is not in force in {period}: figures of that month belong to the units of "
                         "the tree in force on the month's last day.", "period", unit=unit.name, period=period)
    if not rules.enters(indicator, unit.depth):
        raise EntryError("level_does_not_enter",
                         "{unit} does not enter indicator {code}; it is entered by another level.",
                         "indicator", unit=unit.name, code=indicator.code)
    if indicator.measure == "ratio":
        if (fig.numerator is None) != (fig.denominator is None):
            raise EntryError("ratio_incomplete", "Enter both numbers of the ratio, or neither.",
                             "denominator" if fig.denominator is None else "numerator")
        for name, n in (("numerator", fig.numerator), ("denominator", fig.denominator)):
            if n is not None and n < 0:
                raise EntryError("negative", "The number cannot be negative; enter 0 or more.", name)
            if n is not None and n > rules.MAX_COUNT:
                raise EntryError("too_large", "{n} is too large; the most allowed is {max}.",
                                 name, n=f"{n:,}".replace(",", "."),
                                 max=f"{rules.MAX_COUNT:,}".replace(",", "."))
        if fig.numerator is not None and fig.denominator is not None:
            if fig.denominator == 0 and fig.numerator == 0:
                raise EntryError("zero_denominator", "The total cannot be 0; enter the total (1 or more), or leave both empty.", "denominator")
            if fig.numerator > fig.denominator:
                raise EntryError("numerator_above_denominator",
                                 "The first number ({num}) cannot be larger than the total ({den}).",
                                 "numerator", num=fig.numerator, den=fig.denominator)
        return
    if fig.value is None:
        return
    if fig.value < 0:
        raise EntryError("negative", "The number cannot be negative; enter 0 or more.", "value")
    if indicator.measure == "yes_no" and fig.value not in (0, 1):
        raise EntryError("not_yes_no", "Choose yes or no.", "value")
    limit = rules.MAX_AMOUNT if indicator.measure == "amount" else rules.MAX_COUNT
    if fig.value > limit:
        if indicator.measure == "amount":
            raise EntryError("amount_too_large",
                             "The amount is too large; the most allowed is 1.000 tỷ đồng "
                             "(1.000.000.000.000 đ). Check for extra zeros.", "value")
        raise EntryError("too_large", "{n} is too large; the most allowed is {max}.", "value",
                         n=f"{fig.value:,}".replace(",", "."), max=f"{limit:,}".replace(",", "."))


def _same_figure(current: DataValue | None, fig: Figure) -> bool:
    if current is None:
        return fig.is_empty
    return (current.value, current.numerator, current.denominator) == (
        fig.value, fig.numerator, fig.denominator)


def snapshot(dv: DataValue | None) -> dict[str, Any] | None:
    if dv is None:
        return None
    return {"value": dv.value, "numerator": dv.numerator, "denominator": dv.denominator,
            "comment": dv.comment, "version": dv.version}


def get_value(session: Session, unit_id: int, indicator_id: int, period: str) -> DataValue | None:
    """The stored figure as committed now (a copy the session already holds is refreshed)."""
    return session.exec(select(DataValue).where(
        DataValue.unit_id == unit_id, DataValue.indicator_id == indicator_id, DataValue.period == period
    ).execution_options(populate_existing=True)).first()


def is_submitted(session: Session, unit_id: int, period: str) -> bool:
    return (session.exec(select(PeriodSubmission.status).where(
        PeriodSubmission.unit_id == unit_id, PeriodSubmission.period == period)).first() == "submitted")


def _value_changed(session: Session, unit: Unit, indicator: Indicator, period: str,
                   old: Any, new: Any, changes: list[Any] | None) -> None:
    if changes is None:
        rollup.on_value_changed(session, unit, indicator, period, old, new)
    else:
        changes.append(rollup.ValueChange(unit, indicator, period, old, new))


def check_save(principal: Principal, program: Program, unit: Unit, indicator: Indicator, period: str,
               fig: Figure) -> None:
    """The rules that need no stored figure: may the caller write the unit, and is the figure
    allowed (PermissionError, EntryError)."""
    if not principal.can_write(unit):
        raise PermissionError(unit.code)
    check_figure(program, unit, indicator, period, fig)


def decide_save(unit: Unit, period: str, fig: Figure, current: Any, expected_version: int | None,
                submitted: "bool | Callable[[], bool]") -> str:
    """What saving `fig` over the stored figure `current` does, writing nothing: "created",
    "updated", "deleted" or "unchanged"; raises Conflict (a stale version), EntryError
    ("deleted_meanwhile", "period_submitted"). `current` is a DataValue, a row with the same
    columns (set-wise imports) or None; `submitted` may be a callable asked only when needed.
    Call `check_save` first. The one place these rules live (`save_value`, `app.values.bulk`)."""
    # A stale version is only a conflict when the save would change what is stored now.
    if expected_version is not None and (current.version if current is not None else 0) != expected_version \
            and not _same_figure(current, fig):
        if current is None:
            raise EntryError("deleted_meanwhile",
                             "This figure was cleared by someone else meanwhile; reload the page.")
        raise Conflict(current)
    if submitted() if callable(submitted) else submitted:
        raise EntryError("period_submitted",
                         "{unit} has submitted {period}; ask the level above to reopen it first.",
                         unit=unit.name, period=period)
    if fig.is_empty:
        return "unchanged" if current is None else "deleted"
    if current is None:
        return "created"
    if (current.value, current.numerator, current.denominator) == (
        fig.value, fig.numerator, fig.denominator
    ) and (fig.comment is None or fig.comment == current.comment):
        return "unchanged"
    return "updated"


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
    check_save(principal, program, unit, indicator, period, fig)
    if existing is False:
        rollup.lock_figures(session, [(unit.id, indicator.id)])  # before reading: see the docstring
        current = get_value(session, unit.id, indicator.id, period)
    else:
        current = existing
    action = decide_save(unit, period, fig, current, expected_version,
                         (lambda: is_submitted(session, unit.id, period)) if submitted is None else submitted)
    old = snapshot(current)
    where = {"unit_id": unit.id, "indicator_id": indicator.id, "period": period}
    if action == "deleted":
        assert current is not None
        session.delete(current)
        _value_changed(session, unit, indicator, period, old, None, changes)
        audit(session, principal, via, "data_value", current.id, "delete", old, None, **where)
        return SaveResult(None, "deleted")
    if action == "unchanged":
        return SaveResult(current, "unchanged")
    now = utcnow()
    if current is None:
        # Timestamps given: SQLModel then skips its slow default-factory path (matters for imports).
        current = DataValue(unit_id=unit.id, indicator_id=indicator.id, period=period,
                            created_at=now, updated_at=now, version=1)
        action = "created"
    else:
        current.version += 1
        action = "updated"
    current.value, current.numerator, current.denominator = fig.value, fig.numerator, fig.denominator
    if fig.comment is not None:
        current.comment = fig.comment
    current.updated_at, current.updated_by_id, current.updated_via = now, principal.user_id, via
    session.add(current)
    if flush:
        session.flush()
    new = snapshot(current)
    _value_changed(session, unit, indicator, period, old, new, changes)
    audit(session, principal, via, "data_value", current.id, "create" if action == "created" else "update",
          old, new, **where)
    return SaveResult(current, action)


# --- Entry pages: what a unit enters for a month, monthly submission, history ---------------


def program_for(session: Session, period: str, unit: Unit | None = None) -> Program | None:
    """The program of the period's year, else the current program of the unit's tree (`unit`
    given), else the latest program (whose rules then refuse it)."""
    parsed = rules.parse_period(period)
    if parsed is not None:
        program = session.exec(select(Program).where(Program.year == parsed[0], Program.status == "published")).first()
        if program is not None:
            return program
    if unit is not None:
        from app.program.service import current_program

        try:
            return current_program(session, unit)
        except LookupError:
            return None
    return session.exec(select(Program).where(Program.status == "published").order_by(Program.year.desc())).first()  # type: ignore[attr-defined]


def entry_indicators(session: Session, program: Program, unit: Unit) -> list[Indicator]:
    """The indicators the unit's level enters, in the program's order."""
    indicators = session.exec(select(Indicator).where(Indicator.program_id == program.id)
                              .order_by(Indicator.number)).all()
    return [i for i in indicators if rules.enters(i, unit.depth)]


def values_for(session: Session, unit_id: int, period: str) -> dict[int, DataValue]:
    """The unit's figures for a month, by indicator id."""
    rows = session.exec(select(DataValue).where(DataValue.unit_id == unit_id,
                                                DataValue.period == period)).all()
    return {dv.indicator_id: dv for dv in rows}


def previous_period(period: str) -> str | None:
    """The month before, within the same year ("2023-01" has none)."""
    parsed = rules.parse_period(period)
    if parsed is None or parsed[1] == 1:
        return None
    return f"{parsed[0]}-{parsed[1] - 1:02d}"


def get_submission(session: Session, unit_id: int, period: str) -> PeriodSubmission | None:
    return session.exec(select(PeriodSubmission).where(
        PeriodSubmission.unit_id == unit_id, PeriodSubmission.period == period
    ).execution_options(populate_existing=True)).first()


def default_period(session: Session, program: Program, unit: Unit) -> str:
    """The earliest month of the program the unit has not submitted; December when all are."""
    submitted = set(session.exec(select(PeriodSubmission.period).where(
        PeriodSubmission.unit_id == unit.id, PeriodSubmission.status == "submitted")).all())
    for period in rules.program_periods(program):
        if period not in submitted:
            return period
    return rules.program_periods(program)[-1]


def submit_period(session: Session, principal: Principal, program: Program, unit: Unit,
                  period: str, *, via: str = "web") -> PeriodSubmission:
    """Mark the unit's month as submitted (audited); later changes need a reopen. No commit."""
    if not principal.can_write(unit):
        raise PermissionError(unit.code)
    check_period(program, period)
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
        assert f.figure is not None
        try:
            save_value(session, principal, program, unit, f.indicator, period, f.figure,
                       expected_version=f.expected_version, via=via, submitted=False, changes=changes)
        except Conflict as c:
            f.conflict, ok = c.current, False
        except EntryError as e:
            f.error, ok = e, False
    if ok and changes:
        rollup.on_values_changed(session, changes)
    return ok


def figure_text(indicator: Indicator, snap: dict[str, Any] | None) -> str:
    """A stored figure as a person reads it: "45/50 (90,0 %)", "Có", "10.000.000 đ", "12"."""
    from app.core.i18n import fmt_number, fmt_percent, fmt_vnd

    if snap is None:
        return "—"
    if indicator.measure == "ratio":
        num, den = snap.get("numerator"), snap.get("denominator")
        if num is None or den is None:
            return "—"
        pct = f" ({fmt_percent(num / den)})" if den else ""
        return f"{fmt_number(num)}/{fmt_number(den)}{pct}"
    value = snap.get("value")
    if value is None:
        return "—"
    if indicator.measure == "yes_no":
        return _("Yes") if value else _("No")
    if indicator.measure == "amount":
        return fmt_vnd(value)
    return fmt_number(value)


@dataclass
class VillageState:
    unit: Unit
    filled: int
    total: int
    submission: PeriodSubmission | None


def village_states(session: Session, program: Program, commune: Unit, period: str) -> list[VillageState]:
    """The commune's villages with how many of their indicators are filled for the month."""
    from sqlalchemy import func

    from app.units.time import in_force_clause, month_last_day

    villages = session.exec(select(Unit).where(Unit.parent_id == commune.id, in_force_clause(month_last_day(period)))
                            .order_by(Unit.sort_order, Unit.name)).all()
    if not villages:
        return []
    ids = [v.id for v in villages]
    indicator_ids = [i.id for i in entry_indicators(session, program, villages[0])]
    counts = dict(session.exec(
        select(DataValue.unit_id, func.count())
        .where(DataValue.unit_id.in_(ids), DataValue.period == period,  # type: ignore[attr-defined]
               DataValue.indicator_id.in_(indicator_ids))  # type: ignore[attr-defined]
        .group_by(DataValue.unit_id)).all()) if indicator_ids else {}
    subs = {s.unit_id: s for s in session.exec(select(PeriodSubmission).where(
        PeriodSubmission.unit_id.in_(ids), PeriodSubmission.period == period)).all()}  # type: ignore[attr-defined]
    return [VillageState(v, counts.get(v.id, 0), len(indicator_ids), subs.get(v.id)) for v in villages]


def all_indicators(session: Session, program: Program) -> list[Indicator]:
    return list(session.exec(select(Indicator).where(Indicator.program_id == program.id)
                             .order_by(Indicator.number)).all())
