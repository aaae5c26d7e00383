"""The province administrator's program pages: copy a previous year into a draft, edit its
theme, motto, indicators (baseline with its source), targets and tasks, publish it; the
program file out and in.

Thin, like every page module: the rules are `app.program.lifecycle`. Forms post for real and
answer 303 on success; on failure the same page comes back with every error in place (422, or
409 when the program's state refuses the change). Only an administrator signed in at the root
unit may open these pages (`lifecycle.can_manage`).
"""
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, func, select

from app.accounts.deps import Principal, WebUser, verify_csrf
from app.core.db import SessionDep
from app.core.i18n import _
from app.core.problems import Problem
from app.core.templates import render
from app.core.time import today_vn
from app.program import lifecycle, program_file, rules
from app.program.models import Indicator, Program, Target, Task
from app.units.models import Unit, UnitLevel

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def program_manager(principal: WebUser) -> Principal:
    if not lifecycle.can_manage(principal):
        raise Problem(403, "Forbidden", _("Only an administrator of the province makes and changes programs."))
    return principal


Manager = Annotated[Principal, Depends(program_manager)]


def program_or_404(session: Session, year: int) -> Program:
    """The program of `year` (draft or published); 404 when there is none."""
    program = lifecycle.program_by_year(session, year)
    if program is None:
        raise Problem(404, "Not Found", _("There is no program for {year}.", year=year))
    return program


def _found(row: Any) -> Any:
    if row is None:
        raise Problem(404, "Not Found", _("Not found in this program."))
    return row


def _indicator(session: Session, program: Program, code: str) -> Indicator:
    return _found(lifecycle.indicator_in(session, program, code))


def _target(session: Session, program: Program, target_id: int) -> Target:
    return _found(lifecycle.target_in(session, program, target_id))


def _task(session: Session, program: Program, task_id: int) -> Task:
    return _found(lifecycle.province_task_in(session, program, task_id))


def _messages(exc: Exception) -> list[str]:
    if isinstance(exc, (lifecycle.ProgramInvalid, program_file.FileInvalid)):
        return [e.text() for e in exc.errors]
    if isinstance(exc, lifecycle.ProgramError):
        return [exc.text()]
    return [_("Only an administrator of the province makes and changes programs.")]


def _status(exc: Exception) -> int:
    if isinstance(exc, lifecycle.ProgramError):
        return exc.status
    return 403 if isinstance(exc, PermissionError) else 422


ERRORS = (lifecycle.ProgramError, lifecycle.ProgramInvalid, program_file.FileInvalid, PermissionError)


def _int(raw: str | None) -> int | None:
    raw = (raw or "").strip().replace(".", "").replace(" ", "")
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise lifecycle.ProgramError("not_a_whole_number", "{column}: write a whole number.", column=raw) from None


def _number(raw: str | None) -> float | None:
    """"10.000.000.000" or "12,5" (Vietnamese writing) → a number."""
    text = (raw or "").strip().replace(" ", "")
    if not text:
        return None
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    elif text.count(".") > 1 or (text.count(".") == 1 and len(text.split(".")[1]) == 3):
        text = text.replace(".", "")
    try:
        return float(text)
    except ValueError:
        raise lifecycle.ProgramError("not_a_number", "{column}: write a number.", column=raw) from None


def _levels(session: Session) -> list[UnitLevel]:
    return list(session.exec(select(UnitLevel).order_by(UnitLevel.depth)).all())


def _demo_communes(session: Session, program: Program) -> dict[str, int]:
    """How many communes are new-rural and province-led: demo picks until the province sets them."""
    from app.units.models import UnitYear

    root = session.get(Unit, program.root_unit_id)
    rows = select(func.count()).select_from(UnitYear).join(Unit, Unit.id == UnitYear.unit_id).where(
        col(Unit.path).startswith(root.path), UnitYear.year == program.year)
    new_rural = session.exec(rows.where(col(UnitYear.new_rural).in_(("recognised", "expected")))).one()
    led = session.exec(rows.where(UnitYear.front_led == True)).one()  # noqa: E712
    demo = session.exec(rows.where(UnitYear.is_demo == True, Unit.depth == 2)).one()  # noqa: E712
    return {"new_rural": new_rural, "front_led": led, "is_demo": demo > 0}


# --- the list of programs; a new draft ---------------------------------------------------------

def _index(request: Request, session: Session, **ctx: Any) -> Response:
    status = ctx.pop("status_code", 200)
    programs = lifecycle.all_programs(session)
    latest = programs[0].year if programs else None
    # The year to prepare: the one after the latest program, or this year in Việt Nam if later.
    form = {"year": max(latest + 1 if latest else 0, today_vn().year), "copy_from": latest or "", "with_tasks": True}
    return render(request, "program_admin/index.html", {
        "programs": programs, "errors": [], "form": form, **ctx}, status_code=status)


@router.get("/admin/programs")
def programs_page(request: Request, principal: Manager, session: SessionDep):
    return _index(request, session)


@router.post("/admin/programs")
def create_program(
    request: Request, principal: Manager, session: SessionDep,
    year: Annotated[str, Form(max_length=8)] = "",
    copy_from: Annotated[str, Form(max_length=8)] = "",
    with_tasks: Annotated[bool, Form()] = False,
):
    try:
        y = _int(year)
        if y is None:
            raise lifecycle.ProgramError("bad_year", "The year must be between {lo} and {hi}.",
                                         lo=lifecycle.YEAR_MIN, hi=lifecycle.YEAR_MAX)
        program = lifecycle.create_draft(session, principal, y, copy_from=_int(copy_from), with_tasks=with_tasks)
    except ERRORS as exc:
        session.rollback()
        return _index(request, session, status_code=_status(exc), errors=_messages(exc),
                      form={"year": year, "copy_from": copy_from, "with_tasks": with_tasks})
    session.commit()
    return RedirectResponse(f"/admin/programs/{program.year}?done=created", status_code=303)


# --- one program ---------------------------------------------------------------------------------

def _program_page(request: Request, session: Session, program: Program, **ctx: Any) -> Response:
    status = ctx.pop("status_code", 200)
    indicators = list(session.exec(select(Indicator).where(Indicator.program_id == program.id)
                                   .order_by(Indicator.number, Indicator.id)).all())
    targets: dict[int, list[Target]] = {}
    for t in session.exec(select(Target).where(col(Target.indicator_id).in_([i.id for i in indicators] or [0]))
                          .order_by(Target.id)).all():
        targets.setdefault(t.indicator_id, []).append(t)
    tasks = list(session.exec(select(Task).where(Task.program_id == program.id,
                                                 Task.plan_unit_id == program.root_unit_id)
                              .order_by(Task.quarter, Task.number, Task.id)).all())
    parents = {t.id: t for t in tasks}
    return render(request, "program_admin/program.html", {
        "program": program, "indicators": indicators, "targets": targets, "tasks": tasks, "parents": parents,
        "levels": {lv.depth: lv.name for lv in _levels(session)}, "demo": _demo_communes(session, program),
        "errors": [], "form": {}, "done": request.query_params.get("done", ""),
        "depths": rules.entry_depths, **ctx}, status_code=status)


@router.get("/admin/programs/{year}")
def program_page(request: Request, principal: Manager, session: SessionDep, year: int):
    return _program_page(request, session, program_or_404(session, year))


@router.post("/admin/programs/{year}")
def change_program(
    request: Request, principal: Manager, session: SessionDep, year: int,
    title: Annotated[str, Form(max_length=300)] = "",
    theme: Annotated[str, Form(max_length=lifecycle.TEXT_MAX)] = "",
    motto: Annotated[str, Form(max_length=lifecycle.TEXT_MAX)] = "",
):
    program = program_or_404(session, year)
    try:
        lifecycle.update_program(session, principal, program, {"title": title, "theme": theme, "motto": motto})
    except ERRORS as exc:
        session.rollback()
        return _program_page(request, session, program, status_code=_status(exc), errors=_messages(exc))
    session.commit()
    return RedirectResponse(f"/admin/programs/{year}?done=saved", status_code=303)


@router.post("/admin/programs/{year}/publish")
def publish_program(request: Request, principal: Manager, session: SessionDep, year: int):
    program = program_or_404(session, year)
    try:
        lifecycle.publish(session, principal, program)
    except ERRORS as exc:
        session.rollback()
        return _program_page(request, session, program, status_code=_status(exc), errors=_messages(exc),
                             publish_failed=True)
    session.commit()
    return RedirectResponse(f"/admin/programs/{year}?done=published", status_code=303)


@router.post("/admin/programs/{year}/delete")
def delete_program(request: Request, principal: Manager, session: SessionDep, year: int):
    program = program_or_404(session, year)
    try:
        lifecycle.delete_draft(session, principal, program)
    except ERRORS as exc:
        session.rollback()
        return _program_page(request, session, program, status_code=_status(exc), errors=_messages(exc))
    session.commit()
    return RedirectResponse("/admin/programs?done=deleted", status_code=303)


@router.get("/admin/programs/{year}/file")
def export_file(principal: Manager, session: SessionDep, year: int) -> Response:
    program = program_or_404(session, year)
    return Response(program_file.export_xlsx(session, program), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="chuong-trinh-{year}.xlsx"'})


@router.post("/admin/programs/{year}/file")
def import_file(request: Request, principal: Manager, session: SessionDep, year: int,
                file: Annotated[UploadFile | None, File()] = None):
    program = program_or_404(session, year)
    data = file.file.read(program_file.MAX_BYTES + 1) if file is not None else b""
    try:
        program_file.import_xlsx(session, principal, program, data, via="web")
    except ERRORS as exc:
        session.rollback()
        return _program_page(request, session, program, status_code=_status(exc), errors=_messages(exc))
    session.commit()
    return RedirectResponse(f"/admin/programs/{year}?done=imported", status_code=303)


@router.post("/admin/programs/{year}/indicators")
def add_indicator(
    request: Request, principal: Manager, session: SessionDep, year: int,
    code: Annotated[str, Form(max_length=32)] = "",
    name: Annotated[str, Form(max_length=lifecycle.TEXT_MAX)] = "",
    short_name: Annotated[str, Form(max_length=200)] = "",
    measure: Annotated[str, Form(max_length=16)] = "",
    entry_depths: Annotated[list[str], Form()] = [],  # noqa: B006
    time_rollup: Annotated[str, Form(max_length=8)] = "",
):
    program = program_or_404(session, year)
    try:
        ind = lifecycle.add_indicator(session, principal, program, {
            "code": code, "name": name, "short_name": short_name or name, "measure": measure,
            "entry_depths": ",".join(entry_depths), "time_rollup": time_rollup})
    except ERRORS as exc:
        session.rollback()
        return _program_page(request, session, program, status_code=_status(exc), errors=_messages(exc),
                             form={"code": code, "name": name, "short_name": short_name, "measure": measure,
                                   "entry_depths": entry_depths, "time_rollup": time_rollup})
    session.commit()
    return RedirectResponse(f"/admin/programs/{year}/indicators/{ind.code}?done=created", status_code=303)


# --- one indicator: its fields, baseline and targets -------------------------------------------------

def _indicator_page(request: Request, session: Session, program: Program, ind: Indicator, **ctx: Any) -> Response:
    status = ctx.pop("status_code", 200)
    targets = list(session.exec(select(Target).where(Target.indicator_id == ind.id).order_by(Target.id)).all())
    codes = dict(session.exec(select(Unit.id, Unit.code).where(
        col(Unit.id).in_([t.unit_id for t in targets if t.unit_id] or [0]))).all())
    return render(request, "program_admin/indicator.html", {
        "program": program, "ind": ind, "targets": targets, "unit_codes": codes,
        "levels": _levels(session), "depths": rules.entry_depths(ind),
        "has_figures": lifecycle.has_figures(session, ind),
        "suggestion": lifecycle.baseline_suggestion(session, program, ind),
        "demo": _demo_communes(session, program), "errors": [], "error_target": None,
        "done": request.query_params.get("done", ""), **ctx}, status_code=status)


@router.get("/admin/programs/{year}/indicators/{code}")
def indicator_page(request: Request, principal: Manager, session: SessionDep, year: int, code: str):
    program = program_or_404(session, year)
    return _indicator_page(request, session, program, _indicator(session, program, code))


@router.post("/admin/programs/{year}/indicators/{code}")
def change_indicator(
    request: Request, principal: Manager, session: SessionDep, year: int, code: str,
    name: Annotated[str, Form(max_length=lifecycle.TEXT_MAX)] = "",
    short_name: Annotated[str, Form(max_length=200)] = "",
    measure: Annotated[str, Form(max_length=16)] = "",
    entry_depths: Annotated[list[str], Form()] = [],  # noqa: B006
    time_rollup: Annotated[str, Form(max_length=8)] = "",
    share_filter: Annotated[str, Form(max_length=16)] = "",
    baseline: Annotated[str, Form(max_length=24)] = "",
    baseline_year: Annotated[str, Form(max_length=8)] = "",
    baseline_source: Annotated[str, Form(max_length=2000)] = "",
    meaning_shown: Annotated[str, Form(max_length=1)] = "",
):
    program = program_or_404(session, year)
    ind = _indicator(session, program, code)
    try:
        changes: dict[str, Any] = {"name": name, "short_name": short_name, "share_filter": share_filter,
                                   "baseline": _int(baseline), "baseline_year": _int(baseline_year),
                                   "baseline_source": baseline_source}
        if meaning_shown:  # the page showed measure, levels and flow/stock as editable (no figures yet)
            changes.update(measure=measure, entry_depths=",".join(entry_depths), time_rollup=time_rollup)
        lifecycle.update_indicator(session, principal, program, ind, changes)
    except ERRORS as exc:
        session.rollback()
        session.refresh(ind)
        return _indicator_page(request, session, program, ind, status_code=_status(exc), errors=_messages(exc))
    session.commit()
    return RedirectResponse(f"/admin/programs/{year}/indicators/{code}?done=saved", status_code=303)


def _target_values(scope: str, comparator: str, value: str, value_high: str, unit: str, depth: str,
                   on: str, label: str) -> dict[str, Any]:
    return {"scope": scope, "comparator": comparator, "value": _number(value), "value_high": _number(value_high),
            "unit": unit.strip() or None, "depth": _int(depth) if scope == "each" else None, "on": on or "value",
            "label": label}


TargetForm = dict[str, Any]


@router.post("/admin/programs/{year}/indicators/{code}/targets")
def add_target(
    request: Request, principal: Manager, session: SessionDep, year: int, code: str,
    scope: Annotated[str, Form(max_length=8)] = "",
    comparator: Annotated[str, Form(max_length=8)] = "",
    value: Annotated[str, Form(max_length=32)] = "",
    value_high: Annotated[str, Form(max_length=32)] = "",
    unit: Annotated[str, Form(max_length=32)] = "",
    depth: Annotated[str, Form(max_length=4)] = "",
    on: Annotated[str, Form(max_length=16)] = "",
    label: Annotated[str, Form(max_length=300)] = "",
):
    program = program_or_404(session, year)
    ind = _indicator(session, program, code)
    try:
        lifecycle.add_target(session, principal, program, ind,
                             _target_values(scope, comparator, value, value_high, unit, depth, on, label))
    except ERRORS as exc:
        session.rollback()
        return _indicator_page(request, session, program, ind, status_code=_status(exc), errors=_messages(exc),
                               error_target="new")
    session.commit()
    return RedirectResponse(f"/admin/programs/{year}/indicators/{code}?done=target", status_code=303)


@router.post("/admin/programs/{year}/targets/{target_id}")
def change_target(
    request: Request, principal: Manager, session: SessionDep, year: int, target_id: int,
    scope: Annotated[str, Form(max_length=8)] = "",
    comparator: Annotated[str, Form(max_length=8)] = "",
    value: Annotated[str, Form(max_length=32)] = "",
    value_high: Annotated[str, Form(max_length=32)] = "",
    unit: Annotated[str, Form(max_length=32)] = "",
    depth: Annotated[str, Form(max_length=4)] = "",
    on: Annotated[str, Form(max_length=16)] = "",
    label: Annotated[str, Form(max_length=300)] = "",
):
    program = program_or_404(session, year)
    target = _target(session, program, target_id)
    ind = session.get(Indicator, target.indicator_id)
    try:
        lifecycle.update_target(session, principal, program, target,
                                _target_values(scope, comparator, value, value_high, unit, depth, on, label))
    except ERRORS as exc:
        session.rollback()
        return _indicator_page(request, session, program, ind, status_code=_status(exc), errors=_messages(exc),
                               error_target=target_id)
    session.commit()
    return RedirectResponse(f"/admin/programs/{year}/indicators/{ind.code}?done=target", status_code=303)


@router.post("/admin/programs/{year}/targets/{target_id}/delete")
def delete_target(request: Request, principal: Manager, session: SessionDep, year: int, target_id: int):
    program = program_or_404(session, year)
    target = _target(session, program, target_id)
    ind = session.get(Indicator, target.indicator_id)
    try:
        lifecycle.delete_target(session, principal, program, target)
    except ERRORS as exc:
        session.rollback()
        return _indicator_page(request, session, program, ind, status_code=_status(exc), errors=_messages(exc))
    session.commit()
    return RedirectResponse(f"/admin/programs/{year}/indicators/{ind.code}?done=target", status_code=303)


# --- tasks of a draft ------------------------------------------------------------------------------

def _task_page(request: Request, session: Session, program: Program, task: Task | None, **ctx: Any) -> Response:
    status = ctx.pop("status_code", 200)
    spec = lifecycle.task_spec(session, program, task) if task is not None else None
    indicators = list(session.exec(select(Indicator).where(Indicator.program_id == program.id)
                                   .order_by(Indicator.number)).all())
    return render(request, "program_admin/task.html", {
        "program": program, "task": task, "spec": spec, "indicators": indicators,
        "errors": [], **ctx}, status_code=status)


def _task_values(quarter: str, number: str, title: str, text: str, due_month: str, lead_unit: str,
                 lead_department: str, indicators: list[str]) -> dict[str, Any]:
    return {"quarter": _int(quarter), "number": _int(number), "title": title, "text": text,
            "due_month": _int(due_month), "lead_unit": lead_unit or None, "lead_department": lead_department,
            "indicators": indicators}


@router.get("/admin/programs/{year}/tasks/{task_id}")
def task_page(request: Request, principal: Manager, session: SessionDep, year: int, task_id: int):
    program = program_or_404(session, year)
    return _task_page(request, session, program, _task(session, program, task_id))


@router.post("/admin/programs/{year}/tasks/{task_id}")
def change_task(
    request: Request, principal: Manager, session: SessionDep, year: int, task_id: int,
    quarter: Annotated[str, Form(max_length=2)] = "",
    number: Annotated[str, Form(max_length=4)] = "",
    title: Annotated[str, Form(max_length=300)] = "",
    text: Annotated[str, Form(max_length=lifecycle.TEXT_MAX)] = "",
    due_month: Annotated[str, Form(max_length=2)] = "",
    lead_unit: Annotated[str, Form(max_length=32)] = "",
    lead_department: Annotated[str, Form(max_length=120)] = "",
    indicators: Annotated[list[str], Form()] = [],  # noqa: B006
):
    program = program_or_404(session, year)
    task = _task(session, program, task_id)
    try:
        lifecycle.update_program_task(session, principal, program, task, _task_values(
            quarter, number, title, text, due_month, lead_unit, lead_department, indicators))
    except ERRORS as exc:
        session.rollback()
        return _task_page(request, session, program, task, status_code=_status(exc), errors=_messages(exc))
    session.commit()
    return RedirectResponse(f"/admin/programs/{year}?done=task#tasks", status_code=303)


@router.post("/admin/programs/{year}/tasks")
def add_task(
    request: Request, principal: Manager, session: SessionDep, year: int,
    quarter: Annotated[str, Form(max_length=2)] = "",
    title: Annotated[str, Form(max_length=300)] = "",
    text: Annotated[str, Form(max_length=lifecycle.TEXT_MAX)] = "",
    due_month: Annotated[str, Form(max_length=2)] = "",
):
    program = program_or_404(session, year)
    try:
        lifecycle.add_program_task(session, principal, program, _task_values(
            quarter, "", title, text, due_month, "", "", []))
    except ERRORS as exc:
        session.rollback()
        return _program_page(request, session, program, status_code=_status(exc), errors=_messages(exc))
    session.commit()
    return RedirectResponse(f"/admin/programs/{year}?done=task#tasks", status_code=303)
