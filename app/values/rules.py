"""The rules of one entered figure, pure (no database): reading what was typed, what a figure may
be, and what saving it over the stored one does. The same rules for web forms, the API and
imports (`app.values.service.save_value`, `app.values.bulk`)."""
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from app.accounts.principal import Principal
from app.core.errors import InputError
from app.program import rules
from app.program.models import Indicator, Program
from app.units.models import Unit
from app.units.time import is_in_force, month_last_day
from app.values.models import DataValue


class EntryError(InputError):
    """A figure that cannot be saved: an `InputError` with a stable `code` for the API."""

    def __init__(self, code: str, message: str, field: str | None = None, /, **params: Any) -> None:
        # Positional-only, so that a message may have a {code} placeholder of its own.
        super().__init__(message, field, **params)
        self.code = code


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
    if unit.valid_from is None and unit.valid_to is None:
        return True
    return is_in_force(unit, month_last_day(period))

def check_figure(program: Program, unit: Unit, indicator: Indicator, period: str, fig: Figure) -> None:
    """Raise the first rule the figure breaks; the same rules for forms, API and import."""
    check_place(program, unit, indicator, period)
    check_numbers(indicator, fig)

def check_place(program: Program, unit: Unit, indicator: Indicator, period: str) -> None:
    """The rules of `check_figure` about where the figure goes (month, indicator, unit), not its
    numbers. Each depends only on (program, indicator, unit's depth, month) or on (unit, month):
    a batch remembers the places found right (`app.values.bulk`)."""
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

def check_numbers(indicator: Indicator, fig: Figure) -> None:
    """The rules of `check_figure` about the figure's numbers."""
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

# A reopening of a unit's closed year covers the unit and the units it enters for: a commune
# enters its villages' figures (depth 3 is the village level).
VILLAGE_DEPTH = 3

Reopened = Collection[int] | Callable[[], Collection[int]]


def year_open_for(program: Program, unit: Unit, reopened: Reopened = ()) -> bool:
    """May the unit's figures (submissions, tasks of its plan) change in the program's year?
    Yes until the province closes the year; after that only where the level above reopened it:
    `reopened` holds the ids of the reopened units (a callable is asked only for a closed year)."""
    if program.closed_at is None:
        return True
    ids = reopened() if callable(reopened) else reopened
    return unit.id in ids or (unit.depth == VILLAGE_DEPTH and unit.parent_id in ids)


def check_year_open(program: Program, unit: Unit, reopened: Reopened = ()) -> None:
    """The one rule of a finished year: raise EntryError "year_closed" unless `year_open_for`."""
    if not year_open_for(program, unit, reopened):
        raise EntryError("year_closed",
                         "The year {year} is closed: its figures, submissions and tasks are read-only. "
                         "To correct {unit}, ask the level above to reopen its year.",
                         None, year=program.year, unit=unit.name)


def check_save(principal: Principal, program: Program, unit: Unit, indicator: Indicator, period: str,
               fig: Figure, *, reopened: Reopened = ()) -> None:
    """The rules that need no stored figure: may the caller write the unit, is the year still
    open for it (`check_year_open`), and is the figure allowed (PermissionError, EntryError)."""
    if not principal.can_write(unit):
        raise PermissionError(unit.code)
    check_year_open(program, unit, reopened)
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
