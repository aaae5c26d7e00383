"""Entering a figure: the one place its rules live, for web forms, the API and imports.

`save_value` validates, refuses a stale version as a conflict, writes the value, its audit
row and brings the roll-up up to date, in the caller's transaction (the caller commits, so a
batch is all-or-nothing).
"""
import json
import re
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from app.accounts.deps import Principal
from app.core.i18n import _
from app.core.time import utcnow
from app.program import rules
from app.program.models import Indicator, Program
from app.rollup import service as rollup
from app.units.models import Unit
from app.values.models import AuditLog, DataValue, PeriodSubmission


class EntryError(Exception):
    """A figure that cannot be saved. `message` is English; `text()` is in the user's language."""

    def __init__(self, code: str, message: str, field: str | None = None, **params: Any) -> None:
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
    digits = _GROUPING.sub("", text.lstrip("-+"))
    if not digits.isdigit():
        raise EntryError("not_number", "“{raw}” is not a number. Enter digits only, e.g. 1250.",
                         field_name, raw=text[:30])
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


def check_figure(program: Program, unit: Unit, indicator: Indicator, period: str, fig: Figure) -> None:
    """Raise the first rule the figure breaks; the same rules for forms, API and import."""
    parsed = rules.parse_period(period)
    if parsed is None:
        raise EntryError("bad_period", "The month “{period}” is not valid; write it as YYYY-MM.",
                         "period", period=period[:20])
    if parsed[0] != program.year:
        raise EntryError("period_outside_program",
                         "The month {period} is outside the {year} program; enter months "
                         "{year}-01 to {year}-12.", "period", period=period, year=program.year)
    if indicator.program_id != program.id:
        raise EntryError("indicator_not_in_program", "The indicator is not part of this program.",
                         "indicator")
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
                raise EntryError("negative", "The number cannot be negative.", name)
            if n is not None and n > rules.MAX_COUNT:
                raise EntryError("too_large", "{n} is too large; the most allowed is {max}.",
                                 name, n=f"{n:,}".replace(",", "."),
                                 max=f"{rules.MAX_COUNT:,}".replace(",", "."))
        if fig.numerator is not None and fig.denominator is not None:
            if fig.denominator == 0 and fig.numerator == 0:
                raise EntryError("zero_denominator", "The total cannot be 0.", "denominator")
            if fig.numerator > fig.denominator:
                raise EntryError("numerator_above_denominator",
                                 "The first number ({num}) cannot be larger than the total ({den}).",
                                 "numerator", num=fig.numerator, den=fig.denominator)
        return
    if fig.value is None:
        return
    if fig.value < 0:
        raise EntryError("negative", "The number cannot be negative.", "value")
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


def snapshot(dv: DataValue | None) -> dict[str, Any] | None:
    if dv is None:
        return None
    return {"value": dv.value, "numerator": dv.numerator, "denominator": dv.denominator,
            "comment": dv.comment, "version": dv.version}


def get_value(session: Session, unit_id: int, indicator_id: int, period: str) -> DataValue | None:
    return session.exec(select(DataValue).where(
        DataValue.unit_id == unit_id, DataValue.indicator_id == indicator_id, DataValue.period == period
    )).first()


def is_submitted(session: Session, unit_id: int, period: str) -> bool:
    sub = session.exec(select(PeriodSubmission).where(
        PeriodSubmission.unit_id == unit_id, PeriodSubmission.period == period)).first()
    return sub is not None and sub.status == "submitted"


def audit(session: Session, principal: Principal | None, via: str, entity: str, entity_id: int | None,
          action: str, old: Any, new: Any, **where: Any) -> None:
    session.add(AuditLog(
        user_id=principal.user_id if principal else None,
        token_id=principal.token_id if principal else None,
        via=via, entity=entity, entity_id=entity_id, action=action,
        old=None if old is None else json.dumps(old, ensure_ascii=False, default=str),
        new=None if new is None else json.dumps(new, ensure_ascii=False, default=str),
        **where,
    ))


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
) -> SaveResult:
    """Validate and save one figure (an empty figure clears it). Does not commit.

    expected_version: the version the user saw (0 when they saw no value); None skips the check.
    existing: the current row if the caller already loaded it (None for "known absent").
    Raises EntryError, Conflict, or PermissionError when the caller may not write the unit.
    """
    if not principal.can_write(unit):
        raise PermissionError(unit.code)
    check_figure(program, unit, indicator, period, fig)
    current = get_value(session, unit.id, indicator.id, period) if existing is False else existing
    if expected_version is not None and (current.version if current else 0) != expected_version:
        if current is None:
            raise EntryError("deleted_meanwhile",
                             "This figure was cleared by someone else meanwhile; reload the page.")
        raise Conflict(current)
    if is_submitted(session, unit.id, period):
        raise EntryError("period_submitted",
                         "{unit} has submitted {period}; ask the level above to reopen it first.",
                         unit=unit.name, period=period)
    old = snapshot(current)
    where = {"unit_id": unit.id, "indicator_id": indicator.id, "period": period}
    if fig.is_empty:
        if current is None:
            return SaveResult(None, "unchanged")
        session.delete(current)
        rollup.on_value_changed(session, unit, indicator, period, old, None)
        audit(session, principal, via, "data_value", current.id, "delete", old, None, **where)
        return SaveResult(None, "deleted")
    if current is not None and (current.value, current.numerator, current.denominator) == (
        fig.value, fig.numerator, fig.denominator
    ) and (fig.comment is None or fig.comment == current.comment):
        return SaveResult(current, "unchanged")
    now = utcnow()
    if current is None:
        current = DataValue(unit_id=unit.id, indicator_id=indicator.id, period=period,
                            created_at=now, version=1)
        action = "created"
    else:
        current.version += 1
        action = "updated"
    current.value, current.numerator, current.denominator = fig.value, fig.numerator, fig.denominator
    if fig.comment is not None:
        current.comment = fig.comment
    current.updated_at, current.updated_by_id, current.updated_via = now, principal.user_id, via
    session.add(current)
    session.flush()
    new = snapshot(current)
    rollup.on_value_changed(session, unit, indicator, period, old, new)
    audit(session, principal, via, "data_value", current.id, "create" if action == "created" else "update",
          old, new, **where)
    return SaveResult(current, action)
