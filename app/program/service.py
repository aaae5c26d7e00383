"""Reading the program: which year's program is in force; its tasks and their follow-up."""
import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, col, func, select

from app.accounts.principal import Principal
from app.audit.service import audit
from app.core.errors import InputError
from app.core.time import today_vn, utcnow
from app.program.closing import require_year_open
from app.program.models import Indicator, Program, Task, TaskIndicator, TaskNote
from app.program.periods import quarter_of
from app.units import tree
from app.units.models import Unit


def current_program(session: Session, unit: Unit | None = None) -> Program:
    """The program of the current year if there is one, else the latest program; with `unit`,
    among the programs whose tree holds it (a Yên Bái account follows the 2023 program on the
    2023 tree, a Lào Cai account the 2026 one on the two-tier tree).

    Raises LookupError when no program has been seeded.
    """
    year = utcnow().year
    q = select(Program).where(Program.status == "published")
    if unit is not None:
        root = Unit.__table__.alias("root")
        q = q.join(root, root.c.id == Program.root_unit_id).where(func.substr(unit.path, 1, func.length(root.c.path))
                                                                  == root.c.path)
    program = session.exec(q.where(Program.year == year)).first()
    if program is None:
        program = session.exec(q.order_by(Program.year.desc())).first()
    if program is None and unit is not None:
        return current_program(session)
    if program is None:
        raise LookupError("No work program has been set up yet.")
    return program


def indicators_of(session: Session, program: Program) -> list[Indicator]:
    """The program's indicators in program order."""
    return list(session.exec(select(Indicator).where(Indicator.program_id == program.id)
                             .order_by(Indicator.number, Indicator.id)).all())


# --------------------------------------------------------------------------------------------
# Tasks (section II) and their follow-up (section III)
# --------------------------------------------------------------------------------------------
# Status is stored (not started / in progress / done); "overdue" is computed, never stored: a
# task not done by the end of its due month, or of its quarter when it names no month.

NOT_STARTED, IN_PROGRESS, DONE, OVERDUE = "not_started", "in_progress", "done", "overdue"
STATUSES = (NOT_STARTED, IN_PROGRESS, DONE)
TITLE_MAX = 300
TEXT_MAX = 5000
NOTE_MAX = 2000


def month_end(year: int, month: int) -> date:
    """The last day of a month: month_end(2023, 2) → 28/02/2023."""
    return date(year, month, calendar.monthrange(year, month)[1])


def period_end(period: str) -> date:
    """"2023-04" → 30/04/2023: the reference date of the monthly report for that month."""
    year, month = int(period[:4]), int(period[5:7])
    return month_end(year, month)


def due_date(year: int, quarter: int, due_month: int | None) -> date:
    """The last day a task is on time: the end of its due month, else of its quarter."""
    return month_end(year, due_month if due_month else 3 * quarter)


def is_done_by(status: str, done_on: date | None, on: date) -> bool:
    """Done as of `on`: marked done, on or before that day (a later completion does not count)."""
    return status == DONE and (done_on is None or done_on <= on)


def is_overdue(year: int, quarter: int, due_month: int | None, status: str, done_on: date | None,
               on: date) -> bool:
    """Not done by `on`, and `on` is after the last day of its due month (or quarter).
    A past year's task is judged as at the end of its year: done counts only by 31/12."""
    return not is_done_by(status, done_on, as_judged(year, on)) and on > due_date(year, quarter, due_month)


def as_judged(year: int, on: date) -> date:
    """The day a program year's work is judged on: `on`, or 31/12 of the year once it is over."""
    return min(on, date(year, 12, 31))


def state_of(task: Task, year: int, on: date) -> str:
    """What to show: done | overdue | in_progress | not_started, as of `on` (at most the end
    of the program year: a 2023 task done in 2024 reads overdue on the 2023 program)."""
    if is_done_by(task.status, task.done_on, as_judged(year, on)):
        return DONE
    if is_overdue(year, task.quarter, task.due_month, task.status, task.done_on, on):
        return OVERDUE
    return IN_PROGRESS if task.status in (IN_PROGRESS, DONE) else NOT_STARTED


class TaskError(InputError):
    """A task, note or plan that cannot be saved; `code` is the API's error type."""

    def __init__(self, code: str, message: str, field: str | None = None, **params: Any) -> None:
        super().__init__(message, field, **params)
        self.code = code


class StaleTask(Exception):
    """The task changed since the user loaded it: nothing was saved."""

    def __init__(self, current: Task) -> None:
        super().__init__(f"Task changed meanwhile (now version {current.version})")
        self.current = current


@dataclass
class TaskView:
    """A task as pages and the report show it, with its state as of a date."""

    task: Task
    state: str
    lead: Unit
    indicators: list[Indicator] = field(default_factory=list)
    children: list["TaskView"] = field(default_factory=list)
    parent: Task | None = None

    @property
    def label(self) -> str:
        """"(6)" for a task, "(6.2)" for the second sub-item of task 6."""
        if self.parent is not None:
            return f"({self.parent.number}.{self.task.number})"
        return f"({self.task.number})"

    @property
    def overdue(self) -> bool:
        return self.state == OVERDUE


def plan_tasks(session: Session, program: Program, plan_unit: Unit, on: date) -> list[TaskView]:
    """The plan's top-level tasks (with sub-items), by quarter then number, additions last."""
    tasks = list(session.exec(select(Task).where(
        Task.program_id == program.id, Task.plan_unit_id == plan_unit.id)
        .order_by(Task.quarter, Task.is_addition, Task.number, Task.id)).all())
    return _views(session, program, tasks, on)


def plans_above(session: Session, program: Program, unit: Unit) -> list[Unit]:
    """The units at or above `unit` that have a plan of tasks, from the root down."""
    ids = [int(x) for x in unit.path.strip("/").split("/") if x]
    with_plan = set(session.exec(select(Task.plan_unit_id).where(
        Task.program_id == program.id, col(Task.plan_unit_id).in_(ids)).distinct()).all())
    units = {u.id: u for u in session.exec(select(Unit).where(col(Unit.id).in_(with_plan)))}
    return [units[i] for i in ids if i in units]


def default_plan(session: Session, program: Program, unit: Unit) -> Unit:
    """The plan a unit follows: its own if it has one, else the nearest above it (a commune
    follows its district's plan, or the province program)."""
    plans = plans_above(session, program, unit)
    return plans[-1] if plans else unit


def task_view(session: Session, program: Program, task: Task, on: date) -> TaskView:
    """One task with its sub-items (or, for a sub-item, its parent)."""
    tasks = [task] + list(session.exec(select(Task).where(Task.parent_id == task.id)
                                       .order_by(Task.number, Task.id)).all())
    view = _views(session, program, tasks, on)[0]
    if task.parent_id is not None:
        view.parent = session.get(Task, task.parent_id)
    return view


def _views(session: Session, program: Program, tasks: list[Task], on: date) -> list[TaskView]:
    ids = [t.id for t in tasks]
    links: dict[int, list[Indicator]] = defaultdict(list)
    if ids:
        for task_id, ind in session.exec(
            select(TaskIndicator.task_id, Indicator).join(Indicator, Indicator.id == TaskIndicator.indicator_id)
            .where(TaskIndicator.task_id.in_(ids)).order_by(Indicator.number)).all():
            links[task_id].append(ind)
    unit_ids = {t.lead_unit_id for t in tasks}
    units = {u.id: u for u in session.exec(select(Unit).where(Unit.id.in_(unit_ids))).all()} if unit_ids else {}
    views = {t.id: TaskView(t, state_of(t, program.year, on), units[t.lead_unit_id], links[t.id])
             for t in tasks}
    top: list[TaskView] = []
    for t in tasks:
        v = views[t.id]
        if t.parent_id is not None and t.parent_id in views:
            v.parent = views[t.parent_id].task
            views[t.parent_id].children.append(v)
        else:
            top.append(v)
    return top


def flatten(views: list[TaskView]) -> list[TaskView]:
    """Tasks and their sub-items in reading order."""
    out: list[TaskView] = []
    for v in views:
        out.append(v)
        out.extend(v.children)
    return out


def by_quarter(views: list[TaskView]) -> dict[int, list[TaskView]]:
    grouped: dict[int, list[TaskView]] = {q: [] for q in (1, 2, 3, 4)}
    for v in views:
        grouped.setdefault(v.task.quarter, []).append(v)
    return grouped


def can_edit_task(principal: Principal, lead: Unit) -> bool:
    """Editors and admins of the lead unit (the user's own unit or, when allowed, below it)."""
    return principal.role in ("admin", "editor") and principal.can_write(lead)


def can_plan(principal: Principal, plan_unit: Unit) -> bool:
    """Adding tasks to a plan, or building a district's plan, is for its admins and editors."""
    return principal.role in ("admin", "editor") and principal.can_write(plan_unit)


def require_plan_open(session: Session, program: Program | None, plan_unit: Unit | None) -> None:
    """Tasks and notes of a closed year are read-only, except in a plan whose unit's year the
    level above reopened: the one rule of `app.values.rules.check_year_open`, as a TaskError."""
    if program is None or plan_unit is None or program.closed_at is None:
        return
    try:
        require_year_open(session, program, plan_unit)
    except InputError as e:
        raise TaskError("year_closed", e.message, None, **e.params) from None


def _require_task_open(session: Session, task: Task) -> None:
    require_plan_open(session, session.get(Program, task.program_id), session.get(Unit, task.plan_unit_id))


def _snapshot(task: Task) -> dict[str, Any]:
    return {"status": task.status, "done_on": task.done_on.isoformat() if task.done_on else None,
            "version": task.version}


def set_status(session: Session, principal: Principal, task: Task, status: str,
               done_on: date | None, *, expected_version: int, today: date | None = None,
               via: str = "web") -> Task:
    """Change a task's status (with the date it was done). Audited; does not commit.

    Raises PermissionError (not an editor of the lead unit), StaleTask (someone changed it since
    `expected_version`) or TaskError (bad status or date).
    """
    lead = session.get(Unit, task.lead_unit_id)
    if lead is None or not can_edit_task(principal, lead):
        raise PermissionError(task.id)
    _require_task_open(session, task)
    if task.version != expected_version:
        raise StaleTask(task)
    if status not in STATUSES:
        raise TaskError("bad_status", "Choose not started, in progress or done.", "status")
    today = today or today_vn()
    if status == DONE:
        if done_on is None:
            raise TaskError("done_on_missing", "Enter the date the task was done (dd/mm/yyyy).", "done_on")
        if done_on > today:
            raise TaskError("done_on_future", "The date done cannot be in the future.", "done_on")
        program = session.get(Program, task.program_id)
        if program is not None and done_on.year < program.year:
            raise TaskError("done_on_before_program",
                            "The date done is before the {year} program began.", "done_on",
                            year=program.year)
    else:
        done_on = None
    if task.status == status and task.done_on == done_on:
        return task
    old = _snapshot(task)
    task.status, task.done_on = status, done_on
    task.version += 1
    task.updated_at = utcnow()
    session.add(task)
    session.flush()
    audit(session, principal, via, "task", task.id, "update", old, _snapshot(task),
          unit_id=task.plan_unit_id)
    return task


def add_note(session: Session, principal: Principal, task: Task, noted_on: date | None, text: str,
             *, today: date | None = None, via: str = "web") -> TaskNote:
    """A dated progress note. Audited; does not commit. Raises PermissionError or TaskError."""
    lead = session.get(Unit, task.lead_unit_id)
    if lead is None or not can_edit_task(principal, lead):
        raise PermissionError(task.id)
    _require_task_open(session, task)
    text = (text or "").strip()
    if not text:
        raise TaskError("note_empty", "Write what was done.", "text")
    if len(text) > NOTE_MAX:
        raise TaskError("note_too_long", "The note is too long (at most {max} characters).", "text",
                        max=NOTE_MAX)
    if noted_on is None:
        raise TaskError("noted_on_missing", "Enter the date (dd/mm/yyyy).", "noted_on")
    if noted_on > (today or today_vn()):
        raise TaskError("noted_on_future", "The date cannot be in the future.", "noted_on")
    note = TaskNote(task_id=task.id, noted_on=noted_on, text=text, author_id=principal.user_id)
    session.add(note)
    task.updated_at = utcnow()
    session.add(task)
    session.flush()
    audit(session, principal, via, "task_note", note.id, "create", None,
          {"task_id": task.id, "noted_on": noted_on.isoformat(), "text": text},
          unit_id=task.plan_unit_id)
    return note


def notes_of(session: Session, task: Task) -> list[TaskNote]:
    """Progress notes, newest first."""
    return list(session.exec(select(TaskNote).where(TaskNote.task_id == task.id)
                             .order_by(TaskNote.noted_on.desc(), TaskNote.id.desc())).all())


def add_task(session: Session, principal: Principal, program: Program, plan_unit: Unit, *,
             quarter: int | None, title: str, text: str, due_month: int | None,
             lead_department: str | None, reason: str, added_on: date | None,
             indicator_ids: list[int] | None = None, today: date | None = None,
             via: str = "web") -> Task:
    """A task added mid-year (section III), with its reason and date. Audited; does not commit."""
    if not can_plan(principal, plan_unit):
        raise PermissionError(plan_unit.code)
    require_plan_open(session, program, plan_unit)
    title, text, reason = (title or "").strip(), (text or "").strip(), (reason or "").strip()
    lead_department = (lead_department or "").strip() or None
    if quarter not in (1, 2, 3, 4):
        raise TaskError("bad_quarter", "Choose the quarter (I to IV).", "quarter")
    if not title:
        raise TaskError("title_missing", "Enter a short title.", "title")
    if len(title) > TITLE_MAX:
        raise TaskError("title_too_long", "The title is too long (at most {max} characters).", "title",
                        max=TITLE_MAX)
    if len(text) > TEXT_MAX:
        raise TaskError("text_too_long", "The text is too long (at most {max} characters).", "text",
                        max=TEXT_MAX)
    if due_month is not None and quarter_of(due_month) != quarter:
        raise TaskError("month_outside_quarter", "Month {month} is not in quarter {quarter}.",
                        "due_month", month=due_month, quarter=quarter)
    if not reason:
        raise TaskError("reason_missing", "Say why the task is added.", "reason")
    if len(reason) > NOTE_MAX:
        raise TaskError("reason_too_long", "The reason is too long (at most {max} characters).",
                        "reason", max=NOTE_MAX)
    added_on = added_on or (today or today_vn())
    if added_on > (today or today_vn()):
        raise TaskError("added_on_future", "The date cannot be in the future.", "added_on")
    if lead_department and len(lead_department) > 120:
        raise TaskError("department_too_long", "The department name is too long.", "lead_department")
    last = session.exec(select(func.max(Task.number)).where(
        Task.program_id == program.id, Task.plan_unit_id == plan_unit.id,
        Task.quarter == quarter, Task.parent_id.is_(None))).one()
    task = Task(program_id=program.id, plan_unit_id=plan_unit.id, quarter=quarter,
                number=(last or 0) + 1, title=title, text=text or title, due_month=due_month,
                lead_unit_id=plan_unit.id, lead_department=lead_department, is_addition=True,
                addition_reason=reason, added_on=added_on)
    session.add(task)
    session.flush()
    valid = {i.id for i in indicators_of(session, program)}
    for ind_id in sorted(set(indicator_ids or []) & valid):
        session.add(TaskIndicator(task_id=task.id, indicator_id=ind_id))
    audit(session, principal, via, "task", task.id, "create", None,
          {"quarter": quarter, "number": task.number, "title": title, "due_month": due_month,
           "is_addition": True, "reason": reason, "added_on": added_on.isoformat()},
          unit_id=plan_unit.id)
    session.flush()
    return task


def is_district_plan(program: Program, unit: Unit) -> bool:
    """Section III.2: the districts (the level just below the province) build their own plans."""
    return unit.parent_id == program.root_unit_id


def adoptable_tasks(session: Session, program: Program, on: date) -> list[TaskView]:
    """The province plan's tasks a district can take on."""
    root = session.get(Unit, program.root_unit_id)
    return plan_tasks(session, program, root, on)


def adopted_sources(session: Session, program: Program, plan_unit: Unit) -> set[int]:
    """Ids of province tasks already copied into `plan_unit`'s plan."""
    return set(session.exec(select(Task.source_task_id).where(
        Task.program_id == program.id, Task.plan_unit_id == plan_unit.id,
        Task.source_task_id.is_not(None))).all())


def adopt_tasks(session: Session, principal: Principal, program: Program, plan_unit: Unit,
                task_ids: list[int], *, via: str = "web") -> list[Task]:
    """Copy the chosen province tasks (with their sub-items and links) into a unit's own plan.

    The copies are led by the unit and followed separately from the originals. Tasks already
    taken on are skipped, so choosing again changes nothing. Audited; does not commit.
    """
    if not is_district_plan(program, plan_unit):
        raise TaskError("not_district", "Only a unit just below the province builds its plan from the "
                        "province's.", "unit")
    if not can_plan(principal, plan_unit):
        raise PermissionError(plan_unit.code)
    require_plan_open(session, program, plan_unit)
    taken = adopted_sources(session, program, plan_unit)
    wanted = [i for i in dict.fromkeys(task_ids) if i not in taken]
    if not wanted:
        return []
    sources = list(session.exec(select(Task).where(
        Task.id.in_(wanted), Task.program_id == program.id,
        Task.plan_unit_id == program.root_unit_id, Task.parent_id.is_(None))
        .order_by(Task.quarter, Task.number)).all())
    if len(sources) != len(wanted):
        raise TaskError("not_province_task", "Only tasks of the province plan can be taken on.", "task_ids")
    children: dict[int, list[Task]] = defaultdict(list)
    for c in session.exec(select(Task).where(Task.parent_id.in_(wanted))
                          .order_by(Task.number, Task.id)).all():
        children[c.parent_id].append(c)
    copies: list[Task] = []
    for src in sources:
        copy = _copy(session, src, plan_unit, None)
        for child in children[src.id]:
            _copy(session, child, plan_unit, copy.id)
        audit(session, principal, via, "task", copy.id, "create", None,
              {"source_task_id": src.id, "quarter": src.quarter, "number": src.number,
               "plan_unit": plan_unit.code}, unit_id=plan_unit.id)
        copies.append(copy)
    session.flush()
    return copies


def _copy(session: Session, src: Task, plan_unit: Unit, parent_id: int | None) -> Task:
    copy = Task(program_id=src.program_id, plan_unit_id=plan_unit.id, parent_id=parent_id,
                source_task_id=src.id, quarter=src.quarter, number=src.number, title=src.title,
                text=src.text, due_month=src.due_month, due_note=src.due_note,
                lead_unit_id=plan_unit.id, lead_department=None, is_addition=src.is_addition,
                addition_reason=src.addition_reason, added_on=src.added_on)
    session.add(copy)
    session.flush()
    for link in session.exec(select(TaskIndicator).where(TaskIndicator.task_id == src.id)).all():
        session.add(TaskIndicator(task_id=copy.id, indicator_id=link.indicator_id))
    return copy


@dataclass
class PlanProgress:
    unit: Unit
    taken: int  # top-level tasks in its plan
    done: int
    in_progress: int
    overdue: int

    @property
    def not_started(self) -> int:
        return self.taken - self.done - self.in_progress - self.overdue


def plans_progress(session: Session, program: Program, parent: Unit, on: date) -> list[PlanProgress]:
    """One row per unit just below `parent` (the province's districts): its plan's progress."""
    units = tree.children(session, parent)
    rows = session.exec(select(Task.plan_unit_id, Task.quarter, Task.due_month, Task.status, Task.done_on)
                        .join(Unit, Unit.id == Task.plan_unit_id)
                        .where(Task.program_id == program.id, Task.parent_id.is_(None),
                               tree.children_clause(parent))).all()
    acc: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for plan_unit_id, quarter, due_month, status, done_on in rows:
        a = acc[plan_unit_id]
        a[0] += 1
        if is_done_by(status, done_on, on):
            a[1] += 1
        elif is_overdue(program.year, quarter, due_month, status, done_on, on):
            a[3] += 1
        elif status in (IN_PROGRESS, DONE):
            a[2] += 1
    return [PlanProgress(u, *acc[u.id]) for u in units]
