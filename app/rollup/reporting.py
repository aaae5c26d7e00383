"""Who has reported a month, and who is late against the program's reporting day.

A unit's report for month M is due on the reporting day of month M + 1 (the 20th unless the
settings say otherwise, per level: `REPORTING_DAY`, `REPORTING_DAYS`). On a given day a unit
is *late* when it has not submitted and the due day has passed, or when it submitted after
the due day. Totals and the missing units come from `app.rollup.service.completeness`; this
module adds the due day and the late count (one grouped query on `period_submission`).
"""
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session

from app.core.config import settings
from app.rollup import service as rollup
from app.units.models import Unit, UnitLevel
from app.units.time import in_force_clause, month_last_day
from app.values.models import PeriodSubmission

VN_OFFSET = timedelta(hours=7)  # submitted_at is stored in UTC; the due day is Việt Nam's


def reporting_day(level_key: str | None) -> int:
    return settings.REPORTING_DAYS.get(level_key or "", settings.REPORTING_DAY)


def due_date(month: str, level_key: str | None) -> date:
    """The report for `month` ("2023-04") is due on the reporting day of the next month,
    or that month's last day when it is shorter (day 31 in a 30-day month)."""
    y, m = int(month[:4]), int(month[5:7])
    y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    last = month_last_day(f"{y}-{m:02d}").day
    return date(y, m, min(reporting_day(level_key), last))


@dataclass
class LevelStatus:
    depth: int
    level: str
    due: date
    day: int
    submitted: int
    submitted_late: int
    total: int
    missing: list  # lazily loaded units that have not submitted
    overdue: bool  # the due day has passed

    @property
    def not_submitted(self) -> int:
        return self.total - self.submitted

    @property
    def late(self) -> int:
        """Late now: submitted after the due day, or not yet submitted once it has passed."""
        return self.submitted_late + (self.not_submitted if self.overdue else 0)


def status(session: Session, unit: Unit, month: str, today: date) -> list[LevelStatus]:
    """Per level below `unit`: submitted, late, due day for `month`, read on `today`."""
    comp = rollup.completeness(session, unit, month)
    keys = {lv.depth: lv.key for lv in session.exec(sa_select(UnitLevel)).scalars()}
    out = []
    for lv in comp.levels:
        due = due_date(month, keys.get(lv.depth))
        cutoff = datetime(due.year, due.month, due.day, tzinfo=UTC) + timedelta(days=1) - VN_OFFSET
        late = session.execute(
            sa_select(func.count()).select_from(PeriodSubmission)
            .join(Unit, Unit.id == PeriodSubmission.unit_id)
            .where(PeriodSubmission.period == month, PeriodSubmission.status == "submitted",
                   PeriodSubmission.submitted_at >= cutoff, Unit.path.startswith(unit.path),
                   Unit.depth == lv.depth, in_force_clause(month_last_day(month)))).scalar_one()
        out.append(LevelStatus(lv.depth, lv.level, due, reporting_day(keys.get(lv.depth)),
                               lv.submitted, int(late), lv.total, lv.missing, today > due))
    return out
