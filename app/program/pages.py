"""Task pages: the program's tasks by quarter, one task (status, notes), additions, and a
district's own plan built from the province's. Thin: every rule is in `app.program.service`.

Forms post for real (303 on success; the same page with errors in place otherwise, 422/409, or
200 to an htmx request so that it swaps the errors in). The year is `?year=` (else the current
year) through `app.program.years.ProgramDep`; one task's page is its program's year.
"""
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.accounts.deps import Principal, WebUser, verify_csrf
from app.core.db import SessionDep
from app.core.i18n import _
from app.core.problems import Problem
from app.core.templates import render
from app.program import closing
from app.program import service as tasks
from app.program.display import QUARTER_NUMERALS, figure_text
from app.program.models import Indicator, Program, Task
from app.program.periods import PeriodRange
from app.program.years import PageProgram, ProgramDep
from app.units import tree
from app.units.deps import readable_unit, unit_by_code
from app.units.models import Unit

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])

QUARTERS = QUARTER_NUMERALS


def _error_status(request: Request, status: int) -> int:
    """htmx swaps only 2xx answers: give it the re-rendered form with 200."""
    return 200 if request.headers.get("HX-Request") == "true" else status


def parse_date(raw: str | None) -> date | None:
    """dd/mm/yyyy (also d/m/yyyy and yyyy-mm-dd from a date picker); None when empty.
    Raises ValueError on anything else."""
    text = (raw or "").strip()
    if not text:
        return None
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def _month_or_default(program: Program, month: str | None) -> tuple[str, date, bool]:
    """The month the page looks at, its reference date and whether the user chose it.

    Without a choice: today (the figures for the program year up to this month, capped at
    December of the program's year)."""
    if month:
        try:
            rng = PeriodRange.month(month)
        except ValueError:
            rng = None
        if rng is not None and rng.year == program.year:
            return rng.key, tasks.period_end(rng.key), True
    today = tasks.today_vn()
    if today.year == program.year:
        return f"{program.year}-{today.month:02d}", today, False
    last = 12 if today.year > program.year else 1
    return f"{program.year}-{last:02d}", today, False


def _task_in_scope(session: Session, principal: Principal, task_id: int) -> tuple[Task, Unit]:
    task = session.get(Task, task_id)
    plan_unit = session.get(Unit, task.plan_unit_id) if task else None
    if task is None or plan_unit is None or not principal.can_follow(plan_unit):
        raise Problem(404, "Not Found", f"No task {task_id} in your scope.")
    return task, plan_unit


def _followed_plan(session: Session, principal: Principal, code: str, year: int) -> Unit:
    unit = unit_by_code(session, code, principal=principal, year=year)
    if unit is None or not principal.can_follow(unit):
        raise Problem(404, "Not Found", f"No plan of unit {code!r} in your scope.")
    return unit


def _live_figures(session: Session, unit: Unit, month: str, program: Program) -> dict[int, object]:
    """Indicator id → its roll-up result for the plan's unit, year to date (live)."""
    from app.rollup.service import rollup

    return {r.indicator.id: r for r in rollup(session, unit, PeriodRange.ytd(month), program)}


def _month_choices(program: Program) -> list[str]:
    return [f"{program.year}-{m:02d}" for m in range(1, 13)]


# --- the program page ---------------------------------------------------------------------

@router.get("/tasks")
def tasks_page(request: Request, session: SessionDep, principal: WebUser, pp: ProgramDep,
               plan: str | None = None, month: str | None = None):
    program = pp.program
    plan_unit = _followed_plan(session, principal, plan, pp.year) if plan else tasks.default_plan(
        session, program, pp.home)
    month_key, as_of, chosen = _month_or_default(program, month)
    views = tasks.plan_tasks(session, program, plan_unit, as_of)
    # Live figures are the plan unit's where the caller may read them, else the caller's own.
    figure_unit = principal.figures_unit(plan_unit)
    figures = _live_figures(session, figure_unit, month_key, program) if views else {}
    root = session.get(Unit, program.root_unit_id)
    plan_choices: list[Unit] = []
    progress = []
    if principal.can_read(root):
        plan_choices = [root] + tree.children(session, root)
    else:
        plan_choices = tasks.plans_above(session, program, pp.home)
    if plan_unit.id == root.id and principal.can_read(root):
        progress = tasks.plans_progress(session, program, root, as_of)
    all_views = tasks.flatten(views)
    counts = {s: sum(1 for v in views if v.state == s)
              for s in (tasks.DONE, tasks.IN_PROGRESS, tasks.OVERDUE, tasks.NOT_STARTED)}
    return render(request, "program/tasks.html", {
        "program": program, "pp": pp, "plan_unit": plan_unit, "root": root, "month": month_key,
        "as_of": as_of, "chosen": chosen, "quarters": tasks.by_quarter(views), "QUARTERS": QUARTERS,
        "figures": figures, "figure_text": figure_text, "plan_choices": plan_choices,
        "months": _month_choices(program), "progress": progress, "counts": counts,
        "total": len(views), "all_views": all_views,
        "year_open": (year_open := closing.is_open_for(session, program, plan_unit)),
        "can_plan": tasks.can_plan(principal, plan_unit) and year_open,
        "can_adopt": tasks.is_district_plan(program, plan_unit) and tasks.can_plan(principal, plan_unit)
        and year_open,
    }, block="task_list")


# --- one task -----------------------------------------------------------------------------

def _task_context(session: Session, principal: Principal, task: Task, plan_unit: Unit,
                  **extra: object) -> dict[str, object]:
    program = session.get(Program, task.program_id)
    as_of = tasks.today_vn()
    view = tasks.task_view(session, program, task, as_of)
    month_key, _as_of, _c = _month_or_default(program, None)
    # A commune following a province task sees its own figures, never the province's.
    figures_unit = principal.figures_unit(plan_unit)
    figures = _live_figures(session, figures_unit, month_key, program) if view.indicators or any(
        c.indicators for c in view.children) else {}
    source = session.get(Task, task.source_task_id) if task.source_task_id else None
    ctx: dict[str, object] = {
        "program": program, "task": task, "view": view, "plan_unit": plan_unit,
        "notes": tasks.notes_of(session, task), "figures": figures, "figure_text": figure_text,
        "figures_unit": figures_unit,
        "month": month_key, "source": source, "QUARTERS": QUARTERS, "today": as_of,
        "due_date": tasks.due_date(program.year, task.quarter, task.due_month),
        "year_open": (year_open := closing.is_open_for(session, program, plan_unit)),
        "can_edit": tasks.can_edit_task(principal, view.lead) and year_open,
        "errors": {}, "form": {}, "stale": None, "note_errors": {}, "note_form": {},
    }
    ctx.update(extra)
    return ctx


@router.get("/tasks/{task_id:int}")
def task_page(request: Request, session: SessionDep, principal: WebUser, task_id: int):
    task, plan_unit = _task_in_scope(session, principal, task_id)
    return render(request, "program/task.html", _task_context(session, principal, task, plan_unit))


@router.post("/tasks/{task_id:int}/status")
def task_status(request: Request, session: SessionDep, principal: WebUser, task_id: int,
                status: Annotated[str, Form()] = "", done_on: Annotated[str, Form()] = "",
                version: Annotated[int, Form()] = 0) -> Response:
    task, plan_unit = _task_in_scope(session, principal, task_id)
    form = {"status": status, "done_on": done_on}
    try:
        when = parse_date(done_on)
    except ValueError:
        ctx = _task_context(session, principal, task, plan_unit, form=form,
                            errors={"done_on": _("Write the date as dd/mm/yyyy, e.g. 15/04/2023.")})
        return render(request, "program/task.html", ctx, status_code=_error_status(request, 422))
    if status == tasks.DONE and when is None:
        when = tasks.today_vn()
    try:
        tasks.set_status(session, principal, task, status, when, expected_version=version)
    except PermissionError:
        raise Problem(403, "Forbidden", _("Only editors of the lead unit can change this task.")) from None
    except tasks.StaleTask:
        session.rollback()
        task, plan_unit = _task_in_scope(session, principal, task_id)
        ctx = _task_context(session, principal, task, plan_unit, form=form, stale=True)
        return render(request, "program/task.html", ctx, status_code=_error_status(request, 409))
    except tasks.TaskError as e:
        session.rollback()
        task, plan_unit = _task_in_scope(session, principal, task_id)
        ctx = _task_context(session, principal, task, plan_unit, form=form,
                            errors={e.field or "status": e.text()})
        return render(request, "program/task.html", ctx, status_code=_error_status(request, 422))
    session.commit()
    return RedirectResponse(f"/tasks/{task_id}?saved=status", status_code=303)


@router.post("/tasks/{task_id:int}/notes")
def task_note(request: Request, session: SessionDep, principal: WebUser, task_id: int,
              noted_on: Annotated[str, Form()] = "", text: Annotated[str, Form()] = "") -> Response:
    task, plan_unit = _task_in_scope(session, principal, task_id)
    form = {"noted_on": noted_on, "text": text}
    try:
        when = parse_date(noted_on) or tasks.today_vn()
        tasks.add_note(session, principal, task, when, text)
    except ValueError:
        ctx = _task_context(session, principal, task, plan_unit, note_form=form,
                            note_errors={"noted_on": _("Write the date as dd/mm/yyyy, e.g. 15/04/2023.")})
        return render(request, "program/task.html", ctx, status_code=_error_status(request, 422))
    except PermissionError:
        raise Problem(403, "Forbidden", _("Only editors of the lead unit can change this task.")) from None
    except tasks.TaskError as e:
        session.rollback()
        task, plan_unit = _task_in_scope(session, principal, task_id)
        ctx = _task_context(session, principal, task, plan_unit, note_form=form,
                            note_errors={e.field or "text": e.text()})
        return render(request, "program/task.html", ctx, status_code=_error_status(request, 422))
    session.commit()
    return RedirectResponse(f"/tasks/{task_id}?saved=note#notes", status_code=303)


# --- additions ----------------------------------------------------------------------------

def _new_context(session: Session, program: Program, plan_unit: Unit, **extra: object) -> dict[str, object]:
    from app.program.service import indicators_of
    from app.seed.tasks_2023 import DEPARTMENTS

    ctx: dict[str, object] = {"program": program, "plan_unit": plan_unit, "QUARTERS": QUARTERS,
                              "indicators": indicators_of(session, program),
                              "departments": DEPARTMENTS if plan_unit.id == program.root_unit_id else (),
                              "errors": {}, "form": {"added_on": tasks.today_vn().strftime("%d/%m/%Y")},
                              "chosen_indicators": set()}
    ctx.update(extra)
    return ctx


def _plan_unit_for_writing(session: Session, principal: Principal, code: str | None, pp: PageProgram) -> Unit:
    unit = readable_unit(session, principal, code, year=pp.year) if code else pp.home
    if not tasks.can_plan(principal, unit):
        raise Problem(403, "Forbidden", _("Only administrators and editors of the unit can change its plan."))
    return unit


@router.get("/tasks/new")
def new_task_form(request: Request, session: SessionDep, principal: WebUser, pp: ProgramDep,
                  plan: str | None = None):
    program = pp.program
    plan_unit = _plan_unit_for_writing(session, principal, plan, pp)
    return render(request, "program/new_task.html", _new_context(session, program, plan_unit))


@router.post("/tasks/new")
def new_task(request: Request, session: SessionDep, principal: WebUser, pp: ProgramDep,
             plan: Annotated[str, Form()] = "", quarter: Annotated[str, Form()] = "",
             title: Annotated[str, Form()] = "", text: Annotated[str, Form()] = "",
             due_month: Annotated[str, Form()] = "", lead_department: Annotated[str, Form()] = "",
             reason: Annotated[str, Form()] = "", added_on: Annotated[str, Form()] = "",
             indicator: Annotated[list[int] | None, Form()] = None) -> Response:
    program = pp.program
    plan_unit = _plan_unit_for_writing(session, principal, plan or None, pp)
    form = {"quarter": quarter, "title": title, "text": text, "due_month": due_month,
            "lead_department": lead_department, "reason": reason, "added_on": added_on}
    chosen = set(indicator or [])

    def again(errors: dict[str, str]) -> Response:
        ctx = _new_context(session, program, plan_unit, form=form, errors=errors, chosen_indicators=chosen)
        return render(request, "program/new_task.html", ctx, status_code=_error_status(request, 422))

    try:
        when = parse_date(added_on)
    except ValueError:
        return again({"added_on": _("Write the date as dd/mm/yyyy, e.g. 15/04/2023.")})
    q = int(quarter) if quarter.strip().isdigit() else None
    m = int(due_month) if due_month.strip().isdigit() else None
    if m is not None and not 1 <= m <= 12:
        return again({"due_month": _("Choose a month from 1 to 12.")})
    try:
        task = tasks.add_task(session, principal, program, plan_unit, quarter=q, title=title, text=text,
                              due_month=m, lead_department=lead_department, reason=reason,
                              added_on=when, indicator_ids=sorted(chosen))
    except tasks.TaskError as e:
        session.rollback()
        return again({e.field or "title": e.text()})
    session.commit()
    return RedirectResponse(f"/tasks/{task.id}?saved=added", status_code=303)


# --- a district's plan built from the province's -------------------------------------------

@router.get("/tasks/plan")
def plan_form(request: Request, session: SessionDep, principal: WebUser, pp: ProgramDep,
              unit: str | None = None):
    program = pp.program
    plan_unit = _plan_unit_for_writing(session, principal, unit, pp)
    if not tasks.is_district_plan(program, plan_unit):
        raise Problem(404, "Not Found", _("Only a unit just below the province builds its plan from the "
                                          "province's."))
    as_of = tasks.today_vn()
    return render(request, "program/plan.html", {
        "program": program, "plan_unit": plan_unit, "QUARTERS": QUARTERS,
        "quarters": tasks.by_quarter(tasks.adoptable_tasks(session, program, as_of)),
        "taken": tasks.adopted_sources(session, program, plan_unit), "error": None,
    })


@router.post("/tasks/plan")
def plan_adopt(request: Request, session: SessionDep, principal: WebUser, pp: ProgramDep,
               unit: Annotated[str, Form()] = "",
               task: Annotated[list[int] | None, Form()] = None) -> Response:
    program = pp.program
    plan_unit = _plan_unit_for_writing(session, principal, unit or None, pp)
    try:
        tasks.adopt_tasks(session, principal, program, plan_unit, task or [])
        session.commit()
    except IntegrityError:
        # Someone took the same tasks at the same moment: the plan has them already.
        session.rollback()
    except tasks.TaskError as e:
        session.rollback()
        as_of = tasks.today_vn()
        return render(request, "program/plan.html", {
            "program": program, "plan_unit": plan_unit, "QUARTERS": QUARTERS,
            "quarters": tasks.by_quarter(tasks.adoptable_tasks(session, program, as_of)),
            "taken": tasks.adopted_sources(session, program, plan_unit), "error": e.text(),
        }, status_code=_error_status(request, 422))
    return RedirectResponse(f"/tasks?plan={plan_unit.code}&year={program.year}", status_code=303)


def indicator_short(ind: Indicator) -> str:
    return f"{ind.code} {ind.short_name}"
