"""Who may change a program (the province's administrators, never a token), and what follows
a change of its targets or indicators: on a published program, the kept roll-up rebuilt in the
same transaction. (Every change is also audited, with `app.audit.service.audit`.)"""
from sqlmodel import Session, col, select

from app.accounts.principal import Principal
from app.program.models import Indicator, Program, Target, Task
from app.program.spec import DRAFT, PUBLISHED, ProgramError
from app.rollup.service import rebuild
from app.values.models import DataValue


def program_by_year(session: Session, year: int) -> Program | None:
    """A year's program, draft or published."""
    return session.exec(select(Program).where(Program.year == year)).first()


def indicator_in(session: Session, program: Program, code: str) -> Indicator | None:
    """The program's indicator with this code."""
    return session.exec(select(Indicator).where(Indicator.program_id == program.id,
                                                Indicator.code == code)).first()


def target_in(session: Session, program: Program, target_id: int) -> Target | None:
    """The target, when it belongs to one of the program's indicators."""
    target = session.get(Target, target_id)
    indicator = session.get(Indicator, target.indicator_id) if target else None
    return target if indicator is not None and indicator.program_id == program.id else None


def province_task_in(session: Session, program: Program, task_id: int) -> Task | None:
    """The task, when it is in the program's own plan (the province's, not a district's)."""
    task = session.get(Task, task_id)
    if task is None or task.program_id != program.id or task.plan_unit_id != program.root_unit_id:
        return None
    return task


def all_programs(session: Session) -> list[Program]:
    return list(session.exec(select(Program).order_by(col(Program.year).desc())).all())


def can_manage(principal: Principal) -> bool:
    """Programs belong to the province: an administrator signed in at the root unit."""
    return (principal.role == "admin" and principal.token is None and principal.unit.parent_id is None)


def require_manager(principal: Principal, program: Program | None = None) -> None:
    if not can_manage(principal) or (program is not None and program.root_unit_id != principal.unit.id):
        raise PermissionError("programs")


def require_draft(program: Program) -> None:
    if program.status != DRAFT:
        raise ProgramError("published", "The {year} program is published: this change is only possible in a draft.",
                           status=409, year=program.year)


def has_figures(session: Session, indicator: Indicator) -> bool:
    return session.exec(select(DataValue.id).where(DataValue.indicator_id == indicator.id).limit(1)).first() \
        is not None


def refresh_rollup(session: Session, program: Program, *scopes: str) -> None:
    """A published program's targets or indicators changed: rebuild the kept roll-up now, in
    the caller's transaction ('each unit' counts carry the targets' terms; unit counts follow
    which units should report). A target edit passes its scopes before and after: only 'each'
    targets have kept counts; whole-area and own-figure targets are judged when a page is read,
    so their edits need no rebuild (which reads every figure of every year)."""
    if scopes and "each" not in scopes:
        return
    if program.status == PUBLISHED:
        session.flush()
        rebuild(session)


