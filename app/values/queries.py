"""Reading entered figures and submissions: a unit's figures of a month, its submission, the
program a month belongs to, the commune's villages and how far each has got."""
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from app.program import rules
from app.program.models import Indicator, Program
from app.program.service import current_program
from app.units import tree
from app.units.models import Unit
from app.units.time import month_last_day
from app.values.models import DataValue, PeriodSubmission


def get_value(session: Session, unit_id: int, indicator_id: int, period: str) -> DataValue | None:
    """The stored figure as committed now (a copy the session already holds is refreshed)."""
    return session.exec(select(DataValue).where(
        DataValue.unit_id == unit_id, DataValue.indicator_id == indicator_id, DataValue.period == period
    ).execution_options(populate_existing=True)).first()


def is_submitted(session: Session, unit_id: int, period: str) -> bool:
    return (session.exec(select(PeriodSubmission.status).where(
        PeriodSubmission.unit_id == unit_id, PeriodSubmission.period == period)).first() == "submitted")


def program_for(session: Session, period: str, unit: Unit | None = None) -> Program | None:
    """The program of the period's year, else the current program of the unit's tree (`unit`
    given), else the latest program (whose rules then refuse it)."""
    parsed = rules.parse_period(period)
    if parsed is not None:
        program = session.exec(select(Program).where(Program.year == parsed[0], Program.status == "published")).first()
        if program is not None:
            return program
    if unit is not None:
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


@dataclass
class VillageState:
    unit: Unit
    filled: int
    total: int
    submission: PeriodSubmission | None


def village_states(session: Session, program: Program, commune: Unit, period: str) -> list[VillageState]:
    """The commune's villages with how many of their indicators are filled for the month."""
    villages = tree.children(session, commune, month_last_day(period))
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
