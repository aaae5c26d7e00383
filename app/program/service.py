"""Reading the program: which year's program is in force."""
from sqlmodel import Session, select

from app.core.time import utcnow
from app.program.models import Indicator, Program, Target


def current_program(session: Session) -> Program:
    """The program of the current year if there is one, else the latest program.

    Raises LookupError when no program has been seeded.
    """
    year = utcnow().year
    program = session.exec(select(Program).where(Program.year == year)).first()
    if program is None:
        program = session.exec(select(Program).order_by(Program.year.desc())).first()
    if program is None:
        raise LookupError("No work program has been set up yet.")
    return program


def indicators_of(session: Session, program: Program) -> list[Indicator]:
    """The program's indicators in program order."""
    return list(session.exec(select(Indicator).where(Indicator.program_id == program.id)
                             .order_by(Indicator.number, Indicator.id)).all())


def targets_of(session: Session, program: Program) -> list[Target]:
    return list(session.exec(select(Target).join(Indicator, Target.indicator_id == Indicator.id)
                             .where(Indicator.program_id == program.id).order_by(Target.id)).all())
