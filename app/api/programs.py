"""/api/v1/programs: each year's work program; the province makes a new year's program here.

Reading (any caller): the list and one year's program, drafts included (each says its
`status`), with its indicators, targets (with ids, to change them) and tasks' count.

Writing (the province's administrators only, signed in; tokens never make programs): create a
draft (empty, or copied from a year), change its title, theme, motto, indicators, targets and
tasks, publish it, delete a draft, and the program file (XLSX) out and in. The rules live in
`app.program.lifecycle`; errors are problem+json with every error in `errors` (loc, msg, type).
"""
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, select

from app.accounts.deps import ApiCaller, Principal
from app.api.common import API_AUTH, AllowAllMethodsRoute, Page, PagingDep, code_path, page, problems
from app.core.db import SessionDep
from app.core.problems import Problem
from app.program import lifecycle, program_file, rules
from app.program.models import Indicator, Program, Target, Task
from app.units.models import Unit

router = APIRouter(tags=["programs"], route_class=AllowAllMethodsRoute, dependencies=API_AUTH)

YearPath = Annotated[int, Path(ge=1900, le=2200, examples=[2023], description="The program year.")]
CodePath = Annotated[str, code_path("Indicator code.", "CT06")]
IdPath = Annotated[int, Path(ge=1, le=2**31 - 1, examples=[1])]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ProgramOut(BaseModel):
    year: int = Field(examples=[2023])
    status: Literal["draft", "published"] = Field(
        description="draft: being prepared, not in force; published: in force.")
    title: str
    theme: str = Field(description="Chủ đề: the year's theme.")
    motto: str = Field(description="Phương châm: the year's motto.")
    root_unit: str = Field(examples=["15"], description="GSO code of the unit whose program it is.")
    source: str | None = None
    indicators: int = Field(ge=0, description="How many indicators it has.", examples=[18])
    tasks: int = Field(ge=0, description="How many tasks it has (all plans).", examples=[44])


class TargetDetail(BaseModel):
    id: int = Field(description="Use it to change or delete the target.")
    scope: str = Field(description="total: the whole tree; own: one unit's own figure; each: every unit of a level.")
    unit: str | None = Field(default=None, description="GSO code of the unit (None: the program's root).")
    depth: int | None = Field(default=None, description="scope=each: the level's depth.")
    basis: str = "own"
    comparator: str = Field(examples=[">="])
    value: float
    value_high: float | None = None
    on: str = Field(description="value | reduction_pct (against the indicator's baseline).")
    label: str | None = None


class BaselineSuggestionOut(BaseModel):
    value: int = Field(description="Last year's total of the same indicator code.")
    year: int
    units: int = Field(description="Units whose figures make it up.")


class IndicatorDetail(BaseModel):
    code: str = Field(examples=["CT06"])
    number: int
    name: str
    short_name: str
    measure: str
    entry_depths: list[int]
    time_rollup: str
    share_filter: str
    value_label: str | None = None
    numerator_label: str | None = None
    denominator_label: str | None = None
    baseline: int | None = None
    baseline_year: int | None = None
    baseline_source: str | None = Field(default=None, description="Where the province took the baseline from.")
    baseline_is_demo: bool = Field(description="A baseline nobody has confirmed with a source (demo data).")
    baseline_suggestion: BaselineSuggestionOut | None = Field(
        default=None, description="Offered from last year's figures; the province confirms it.")
    has_figures: bool = Field(description="Units entered figures: measure, levels and flow/stock are fixed.")
    description: str | None = None
    targets: list[TargetDetail]


class ProgramCreate(BaseModel):
    year: int = Field(ge=lifecycle.YEAR_MIN, le=lifecycle.YEAR_MAX, examples=[2026])
    copy_from: int | None = Field(default=None, ge=1900, le=2200, examples=[2023],
                                  description="Copy this year's indicators and targets.")
    with_tasks: bool = Field(default=False, description="Also copy the province plan's tasks.")


class ProgramChange(BaseModel):
    title: str | None = Field(default=None, max_length=300)
    theme: str | None = Field(default=None, max_length=lifecycle.TEXT_MAX)
    motto: str | None = Field(default=None, max_length=lifecycle.TEXT_MAX)
    source: str | None = Field(default=None, max_length=lifecycle.TEXT_MAX)


class IndicatorChange(BaseModel):
    code: str | None = Field(default=None, max_length=32, examples=["CT06"])
    number: int | None = Field(default=None, ge=1, le=999)
    name: str | None = Field(default=None, max_length=lifecycle.TEXT_MAX)
    short_name: str | None = Field(default=None, max_length=200)
    measure: Literal["ratio", "yes_no", "count", "amount"] | None = None
    entry_depths: list[Annotated[int, Field(ge=0, le=9)]] | None = Field(default=None, max_length=10,
                                                                         examples=[[2]])
    time_rollup: Literal["flow", "stock"] | None = None
    share_filter: Literal["all", "new_rural"] | None = None
    value_label: str | None = Field(default=None, max_length=60)
    numerator_label: str | None = Field(default=None, max_length=120)
    denominator_label: str | None = Field(default=None, max_length=120)
    baseline: int | None = Field(default=None, ge=0, le=10**15, examples=[172])
    baseline_year: int | None = Field(default=None, ge=1900, le=2200, examples=[2022])
    baseline_source: str | None = Field(default=None, max_length=2000,
                                        examples=["Báo cáo số 12/BC-STP của Sở Tư pháp"])
    description: str | None = Field(default=None, max_length=lifecycle.TEXT_MAX)


class IndicatorCreate(IndicatorChange):
    code: str = Field(max_length=32, examples=["CT19"])
    name: str = Field(max_length=lifecycle.TEXT_MAX)
    measure: Literal["ratio", "yes_no", "count", "amount"]
    entry_depths: list[Annotated[int, Field(ge=0, le=9)]] = Field(max_length=10, examples=[[2]])
    time_rollup: Literal["flow", "stock"]


class TargetChange(BaseModel):
    scope: Literal["total", "own", "each"] | None = None
    comparator: Literal[">=", ">", "<=", "<", "=", "range"] | None = None
    value: float | None = Field(default=None, ge=0, le=1e15, examples=[1200])
    value_high: float | None = Field(default=None, ge=0, le=1e15)
    unit: str | None = Field(default=None, max_length=32, examples=["15"])
    depth: int | None = Field(default=None, ge=0, le=9)
    basis: Literal["own", "subtree"] | None = None
    on: Literal["value", "reduction_pct"] | None = None
    label: str | None = Field(default=None, max_length=300)


class TargetCreate(TargetChange):
    scope: Literal["total", "own", "each"]
    comparator: Literal[">=", ">", "<=", "<", "=", "range"]
    value: float = Field(ge=0, le=1e15, examples=[1200])


class TaskChange(BaseModel):
    quarter: int | None = Field(default=None, ge=1, le=4)
    number: int | None = Field(default=None, ge=1, le=999)
    title: str | None = Field(default=None, max_length=300)
    text: str | None = Field(default=None, max_length=lifecycle.TEXT_MAX)
    due_month: int | None = Field(default=None, ge=1, le=12)
    due_note: str | None = Field(default=None, max_length=60)
    lead_unit: str | None = Field(default=None, max_length=32, description="GSO code of the lead unit.")
    lead_department: str | None = Field(default=None, max_length=120)
    indicators: list[Annotated[str, Field(max_length=32)]] | None = Field(default=None, max_length=50,
                                                                          examples=[["CT12"]])


class TaskCreate(TaskChange):
    quarter: int = Field(ge=1, le=4)
    title: str = Field(max_length=300)


class TaskOut(BaseModel):
    id: int
    quarter: int
    number: int
    title: str
    indicators: list[str]


def program_admin(principal: ApiCaller) -> Principal:
    """Only the province's administrators make and change programs (tokens never do)."""
    if not lifecycle.can_manage(principal):
        raise Problem(403, "Forbidden", "Only an administrator of the province makes and changes programs.")
    return principal


ProgramAdmin = Annotated[Principal, Depends(program_admin)]


def program_or_404(session: Session, year: int) -> Program:
    """The program of `year` (draft or published); 404 when there is none."""
    program = lifecycle.program_by_year(session, year)
    if program is None:
        raise Problem(404, "Not Found", f"No program for year {year}.")
    return program


def _indicator(session: Session, program: Program, code: str) -> Indicator:
    ind = lifecycle.indicator_in(session, program, code)
    if ind is None:
        raise Problem(404, "Not Found", f"No indicator {code!r} in the {program.year} program.")
    return ind


def _owned(session: Session, program: Program, model: type[Target] | type[Task], object_id: int) -> Any:
    find = lifecycle.target_in if model is Target else lifecycle.province_task_in
    row = find(session, program, object_id)
    if row is None:
        raise Problem(404, "Not Found", f"No such {model.__tablename__} in the {program.year} program.")
    return row


def _problem(exc: Exception) -> Problem:
    if isinstance(exc, PermissionError):
        return Problem(403, "Forbidden", "Only an administrator of the province makes and changes programs.")
    if isinstance(exc, lifecycle.ProgramInvalid):
        return Problem(422, "Unprocessable Content",
                       f"{len(exc.errors)} error(s); nothing was changed: see `errors`.",
                       errors=[e.as_problem_item() for e in exc.errors])
    if not isinstance(exc, lifecycle.ProgramError):
        raise TypeError(f"not a program error: {exc!r}")
    title = {404: "Not Found", 409: "Conflict"}.get(exc.status, "Unprocessable Content")
    return Problem(exc.status, title, exc.english(), errors=[exc.as_problem_item()])


ERRORS = (lifecycle.ProgramError, lifecycle.ProgramInvalid, PermissionError)


def _out(session: Session, program: Program) -> ProgramOut:
    root = session.get(Unit, program.root_unit_id)
    n_ind = session.exec(select(func.count()).select_from(Indicator)
                         .where(Indicator.program_id == program.id)).one()
    n_task = session.exec(select(func.count()).select_from(Task).where(Task.program_id == program.id)).one()
    return ProgramOut(year=program.year, status=program.status, title=program.title, theme=program.theme,
                      motto=program.motto, root_unit=root.code if root else "", source=program.source,
                      indicators=n_ind, tasks=n_task)


def indicator_detail(session: Session, program: Program, ind: Indicator) -> IndicatorDetail:
    targets = session.exec(select(Target).where(Target.indicator_id == ind.id).order_by(Target.id)).all()
    codes = dict(session.exec(select(Unit.id, Unit.code).where(
        Unit.id.in_([t.unit_id for t in targets if t.unit_id] or [0]))).all())
    suggestion = lifecycle.baseline_suggestion(session, program, ind)
    return IndicatorDetail(
        code=ind.code, number=ind.number, name=ind.name, short_name=ind.short_name, measure=ind.measure,
        entry_depths=sorted(rules.entry_depths(ind)), time_rollup=ind.time_rollup, share_filter=ind.share_filter,
        value_label=ind.value_label, numerator_label=ind.numerator_label, denominator_label=ind.denominator_label,
        baseline=ind.baseline, baseline_year=ind.baseline_year, baseline_source=ind.baseline_source,
        baseline_is_demo=ind.baseline is not None and not ind.baseline_source,
        baseline_suggestion=BaselineSuggestionOut(**vars(suggestion)) if suggestion else None,
        has_figures=lifecycle.has_figures(session, ind), description=ind.description,
        targets=[TargetDetail(id=t.id, scope=t.scope,
                              unit=codes.get(t.unit_id) if t.unit_id not in (None, program.root_unit_id) else None,
                              depth=t.depth, basis=t.basis, comparator=t.comparator, value=t.value,
                              value_high=t.value_high, on=t.on, label=t.label) for t in targets])


# --- reading ------------------------------------------------------------------------------------

@router.get("/programs", response_model=Page[ProgramOut], summary="List programs",
            responses=problems())
def list_programs(
    session: SessionDep,
    principal: ApiCaller,
    paging: PagingDep,
    year: Annotated[int | None, Query(ge=1900, le=2200, description="Only this year's program.",
                                      examples=[2023])] = None,
    status: Annotated[Literal["draft", "published"] | None,
                      Query(description="Only drafts, or only programs in force.", examples=["published"])] = None,
) -> Page[ProgramOut]:
    """Programs, newest year first, drafts included (see `status`)."""
    stmt = select(Program)
    if year is not None:
        stmt = stmt.where(Program.year == year)
    if status is not None:
        stmt = stmt.where(Program.status == status)
    rows, count = page(session, stmt, paging, [Program.year.desc()])
    return Page(data=[_out(session, p) for p in rows], count=count, limit=paging.limit,
                offset=paging.offset)


@router.get("/programs/{year}", response_model=ProgramOut, summary="One year's program",
            responses=problems(404))
def get_program(session: SessionDep, principal: ApiCaller, year: YearPath) -> ProgramOut:
    return _out(session, program_or_404(session, year))


@router.get("/programs/{year}/indicators", response_model=list[IndicatorDetail],
            summary="A program's indicators with targets (ids) and baselines", responses=problems(404))
def program_indicators(session: SessionDep, principal: ApiCaller, year: YearPath) -> list[IndicatorDetail]:
    """Drafts included; `baseline_suggestion` offers last year's figure for the province to confirm."""
    program = program_or_404(session, year)
    return [indicator_detail(session, program, i) for i in session.exec(
        select(Indicator).where(Indicator.program_id == program.id).order_by(Indicator.number, Indicator.id)).all()]


# --- the province makes a program ------------------------------------------------------------------

WRITE_ERRORS = problems(400, 403, 404, 409)


@router.post("/programs", response_model=ProgramOut, status_code=201, summary="Create a draft program",
             responses=WRITE_ERRORS)
def create_program(session: SessionDep, principal: ProgramAdmin, body: ProgramCreate) -> ProgramOut:
    """An empty draft, or a copy of `copy_from`'s indicators and targets (and tasks with
    `with_tasks`); it is not in force until published."""
    try:
        program = lifecycle.create_draft(session, principal, body.year, copy_from=body.copy_from,
                                         with_tasks=body.with_tasks, via="api")
    except ERRORS as exc:
        session.rollback()
        raise _problem(exc) from None
    session.commit()
    return _out(session, program)


@router.patch("/programs/{year}", response_model=ProgramOut, summary="Change a program's title, theme, motto",
              responses=WRITE_ERRORS)
def change_program(session: SessionDep, principal: ProgramAdmin, year: YearPath, body: ProgramChange) -> ProgramOut:
    program = program_or_404(session, year)
    try:
        lifecycle.update_program(session, principal, program, body.model_dump(exclude_unset=True), via="api")
    except ERRORS as exc:
        session.rollback()
        raise _problem(exc) from None
    session.commit()
    return _out(session, program)


@router.post("/programs/{year}/publish", response_model=ProgramOut, summary="Publish a draft",
             responses=WRITE_ERRORS)
def publish_program(session: SessionDep, principal: ProgramAdmin, year: YearPath) -> ProgramOut:
    """Puts the draft in force; with errors, answers 422 listing every one and publishes nothing."""
    program = program_or_404(session, year)
    try:
        lifecycle.publish(session, principal, program, via="api")
    except ERRORS as exc:
        session.rollback()
        raise _problem(exc) from None
    session.commit()
    return _out(session, program)


@router.delete("/programs/{year}", status_code=204, summary="Delete a draft", responses=WRITE_ERRORS)
def delete_program(session: SessionDep, principal: ProgramAdmin, year: YearPath) -> Response:
    program = program_or_404(session, year)
    try:
        lifecycle.delete_draft(session, principal, program, via="api")
    except ERRORS as exc:
        session.rollback()
        raise _problem(exc) from None
    session.commit()
    return Response(status_code=204)


@router.post("/programs/{year}/indicators", response_model=IndicatorDetail, status_code=201,
             summary="Add an indicator to a draft", responses=WRITE_ERRORS)
def add_indicator(session: SessionDep, principal: ProgramAdmin, year: YearPath,
                  body: IndicatorCreate) -> IndicatorDetail:
    program = program_or_404(session, year)
    try:
        ind = lifecycle.add_indicator(session, principal, program, body.model_dump(exclude_unset=True), via="api")
    except ERRORS as exc:
        session.rollback()
        raise _problem(exc) from None
    session.commit()
    return indicator_detail(session, program, ind)


@router.patch("/programs/{year}/indicators/{code}", response_model=IndicatorDetail,
              summary="Change an indicator (baseline with its source, names, levels…)", responses=WRITE_ERRORS)
def change_indicator(session: SessionDep, principal: ProgramAdmin, year: YearPath, code: CodePath,
                     body: IndicatorChange) -> IndicatorDetail:
    """Once figures exist, measure, entry levels and flow/stock are refused (409)."""
    program = program_or_404(session, year)
    ind = _indicator(session, program, code)
    try:
        lifecycle.update_indicator(session, principal, program, ind, body.model_dump(exclude_unset=True), via="api")
    except ERRORS as exc:
        session.rollback()
        raise _problem(exc) from None
    session.commit()
    return indicator_detail(session, program, ind)


@router.post("/programs/{year}/indicators/{code}/targets", response_model=TargetDetail, status_code=201,
             summary="Add a target", responses=WRITE_ERRORS)
def add_target(session: SessionDep, principal: ProgramAdmin, year: YearPath, code: CodePath,
               body: TargetCreate) -> TargetDetail:
    program = program_or_404(session, year)
    ind = _indicator(session, program, code)
    try:
        target = lifecycle.add_target(session, principal, program, ind, body.model_dump(exclude_unset=True), via="api")
    except ERRORS as exc:
        session.rollback()
        raise _problem(exc) from None
    session.commit()
    return next(t for t in indicator_detail(session, program, ind).targets if t.id == target.id)


@router.patch("/programs/{year}/targets/{target_id}", response_model=TargetDetail, summary="Change a target",
              responses=WRITE_ERRORS)
def change_target(session: SessionDep, principal: ProgramAdmin, year: YearPath, target_id: IdPath,
                  body: TargetChange) -> TargetDetail:
    """Editable in a published program too: audited, and the kept roll-up follows at once."""
    program = program_or_404(session, year)
    target = _owned(session, program, Target, target_id)
    try:
        lifecycle.update_target(session, principal, program, target, body.model_dump(exclude_unset=True), via="api")
    except ERRORS as exc:
        session.rollback()
        raise _problem(exc) from None
    session.commit()
    ind = session.get(Indicator, target.indicator_id)
    return next(t for t in indicator_detail(session, program, ind).targets if t.id == target.id)


@router.delete("/programs/{year}/targets/{target_id}", status_code=204, summary="Delete a target",
               responses=WRITE_ERRORS)
def remove_target(session: SessionDep, principal: ProgramAdmin, year: YearPath, target_id: IdPath) -> Response:
    program = program_or_404(session, year)
    target = _owned(session, program, Target, target_id)
    try:
        lifecycle.delete_target(session, principal, program, target, via="api")
    except ERRORS as exc:
        session.rollback()
        raise _problem(exc) from None
    session.commit()
    return Response(status_code=204)


def _task_out(session: Session, program: Program, task: Task) -> TaskOut:
    spec = lifecycle.task_spec(session, program, task)
    return TaskOut(id=task.id, quarter=task.quarter, number=task.number, title=task.title,
                   indicators=spec.indicators)


@router.post("/programs/{year}/tasks", response_model=TaskOut, status_code=201,
             summary="Add a task to a draft's province plan", responses=WRITE_ERRORS)
def add_task(session: SessionDep, principal: ProgramAdmin, year: YearPath, body: TaskCreate) -> TaskOut:
    program = program_or_404(session, year)
    try:
        task = lifecycle.add_program_task(session, principal, program, body.model_dump(exclude_unset=True),
                                          via="api")
    except ERRORS as exc:
        session.rollback()
        raise _problem(exc) from None
    session.commit()
    return _task_out(session, program, task)


@router.patch("/programs/{year}/tasks/{task_id}", response_model=TaskOut, summary="Change a draft's task",
              responses=WRITE_ERRORS)
def change_task(session: SessionDep, principal: ProgramAdmin, year: YearPath, task_id: IdPath,
                body: TaskChange) -> TaskOut:
    program = program_or_404(session, year)
    task = _owned(session, program, Task, task_id)
    try:
        lifecycle.update_program_task(session, principal, program, task, body.model_dump(exclude_unset=True),
                                      via="api")
    except ERRORS as exc:
        session.rollback()
        raise _problem(exc) from None
    session.commit()
    return _task_out(session, program, task)


# --- the program file ------------------------------------------------------------------------------

@router.get("/programs/{year}/file", summary="The program file (XLSX)", response_class=Response,
            responses={200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
                             "description": "The program as a workbook (docs/programs.md)."},
                       **problems(404)})
def export_program(session: SessionDep, principal: ApiCaller, year: YearPath) -> Response:
    program = program_or_404(session, year)
    return Response(program_file.export_xlsx(session, program), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="chuong-trinh-{year}.xlsx"'})


@router.put("/programs/{year}/file", response_model=ProgramOut, summary="Fill an empty draft from a program file",
            responses=WRITE_ERRORS)
def import_program(session: SessionDep, principal: ProgramAdmin, year: YearPath,
                   data: Annotated[bytes, Body(media_type="application/octet-stream",
                                               description="The workbook's bytes (docs/programs.md).")]
                   ) -> ProgramOut:
    """Send the workbook as the body. Every error (with its sheet and row) answers 422 at once
    and nothing is written."""
    program = program_or_404(session, year)
    try:
        program_file.import_xlsx(session, principal, program, data, via="api")
    except program_file.FileInvalid as exc:
        session.rollback()
        raise Problem(422, "Unprocessable Content", f"{len(exc.errors)} error(s) in the file; nothing was "
                      "changed: see `errors`.", errors=[e.as_problem_item() for e in exc.errors]) from None
    except ERRORS as exc:
        session.rollback()
        raise _problem(exc) from None
    session.commit()
    return _out(session, program)
