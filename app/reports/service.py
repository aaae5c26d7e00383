"""The monthly report of a unit (section III of the program): assembled from live data.

Indicator figures are the roll-up engine's own results for the unit and the year to date
(`app.rollup.service.rollup`), never recomputed here; tasks come from the unit's plan with
their state at the end of the month; completeness from `app.rollup.service.completeness`.
The HTML page and the XLSX workbook both render this one `MonthlyReport`.

Targets are read by the on-track rule (`app.rollup.on_track`, through `app.rollup.progress`),
as at the end of the month: in April a year's target is "on track" or "behind", never "not
met". The report's number and date follow the settings (`REPORT_NUMBER_FORMAT`,
`REPORT_DATED`): by default it is dated on the reporting day of the next month at the unit's
level (or today, when that day is still to come).
"""
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from app.core.config import settings
from app.core.time import today_vn
from app.program import service as tasks
from app.program.models import Program
from app.program.periods import PeriodRange
from app.rollup import reporting
from app.rollup import service as rollup_service
from app.rollup.progress import IndicatorProgress, Judge
from app.rollup.types import IndicatorResult
from app.units import tree
from app.units.models import Unit, UnitKind, UnitLevel


@dataclass
class MonthlyReport:
    program: Program
    unit: Unit
    unit_kind: str  # "Tỉnh", "Huyện", "Thành phố" …
    period: str  # "2023-04"
    month: int
    year: int
    as_of: date  # end of the month: the reference date for overdue
    ytd: PeriodRange
    issued_on: date
    indicators: list[IndicatorResult]
    done: list[tasks.TaskView] = field(default_factory=list)
    overdue: list[tasks.TaskView] = field(default_factory=list)
    next_month: list[tasks.TaskView] = field(default_factory=list)
    additions: list[tasks.TaskView] = field(default_factory=list)
    completeness: rollup_service.Completeness | None = None
    progress: list[IndicatorProgress] = field(default_factory=list)  # verdicts, in indicator order
    number: str = ""  # "04/BC-MTTQ-BTT"

    @property
    def next_period(self) -> str | None:
        return f"{self.year}-{self.month + 1:02d}" if self.month < 12 else None

    @property
    def mm(self) -> str:
        return f"{self.month:02d}"


def monthly_report(session: Session, unit: Unit, period: str, program: Program | None = None,
                   issued_on: date | None = None) -> MonthlyReport:
    """Everything the monthly report for `unit` and the month `period` ("YYYY-MM") shows."""
    program = program or tasks.current_program(session)
    month_range = PeriodRange.month(period)  # ValueError on a bad month
    if month_range.year != program.year:
        raise ValueError(f"{period} is outside the {program.year} program")
    ytd = PeriodRange.ytd(period)
    as_of = tasks.period_end(period)
    kind = session.get(UnitKind, unit.kind)
    level = session.get(UnitLevel, unit.depth)
    today = today_vn()
    indicators = rollup_service.rollup(session, unit, ytd, program)
    issued_on = issued_on or report_date(month_range.key, level.key if level else None, today)
    judge = Judge(session, program, ytd, issued_on)  # December, issued in January: final
    report = MonthlyReport(
        program=program, unit=unit, unit_kind=kind.name if kind else "", period=month_range.key,
        month=month_range.first, year=month_range.year, as_of=as_of, ytd=ytd,
        issued_on=issued_on,
        indicators=indicators,
        completeness=rollup_service.completeness(session, unit, month_range.key),
        progress=[judge.indicator(unit, r) for r in indicators],
        number=report_number(month_range.first, month_range.year, unit.code),
    )
    month_start = date(report.year, report.month, 1)
    nxt = report.month + 1
    for v in tasks.flatten(tasks.plan_tasks(session, program, unit, as_of)):
        t = v.task
        if t.status == tasks.DONE and t.done_on and month_start <= t.done_on <= as_of:
            report.done.append(v)
        if v.state == tasks.OVERDUE:
            report.overdue.append(v)
        elif v.state != tasks.DONE and nxt <= 12 and _open_in(t.quarter, t.due_month, nxt) \
                and v.parent is None:
            report.next_month.append(v)
        if t.is_addition and t.added_on and month_start <= t.added_on <= as_of and v.parent is None:
            report.additions.append(v)
    return report


def report_date(month: str, level_key: str | None, today: date) -> date:
    """The date line: the reporting day of the next month (or today, if that is still to come);
    with REPORT_DATED = "today", today."""
    if settings.REPORT_DATED == "today":
        return today
    return min(reporting.due_date(month, level_key), today)


def report_number(month: int, year: int, unit_code: str) -> str:
    """"Số …" of the report, from REPORT_NUMBER_FORMAT ("{month:02d}/BC-MTTQ-BTT" → "04/BC-MTTQ-BTT")."""
    try:
        return settings.REPORT_NUMBER_FORMAT.format(month=month, year=year, unit=unit_code)
    except (KeyError, IndexError, ValueError):
        return settings.REPORT_NUMBER_FORMAT


def _open_in(quarter: int, due_month: int | None, month: int) -> bool:
    """A task still to do in `month`: due that month, or a quarter task of that month's quarter
    (quarter tasks stay open until their quarter ends)."""
    if due_month is not None:
        return due_month == month
    return quarter == (month + 2) // 3


def report_units(session: Session, root: Unit) -> list[Unit]:
    """The units a user can report on from the picker: their own and the level just below."""
    return [root] + tree.children(session, root)


