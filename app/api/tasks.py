"""GET /api/v1/tasks: the program's tasks by quarter, with status and linked indicators."""
from collections import defaultdict
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import or_
from sqlalchemy.orm import aliased
from sqlmodel import select

from app.accounts.deps import ApiCaller, Principal
from app.api.common import API_AUTH, Page, PagingDep, code_query, in_scope, page, problems
from app.core.db import SessionDep
from app.core.problems import Problem
from app.core.time import today_vn
from app.program.models import Indicator, Program, Task, TaskIndicator
from app.program.service import state_of
from app.units.deps import unit_by_code
from app.units.models import Unit

router = APIRouter(tags=["tasks"], dependencies=API_AUTH)

Status = Literal["not_started", "in_progress", "done", "overdue"]


class TaskOut(BaseModel):
    id: int
    year: int = Field(examples=[2023])
    quarter: int = Field(ge=1, le=4, examples=[2])
    number: int = Field(examples=[7])
    parent_id: int | None = Field(default=None, description="The task this is a sub-item of.")
    title: str
    text: str
    due_month: int | None = Field(default=None, description="Month it is due, if the program names one.")
    due_note: str | None = None
    plan_unit: str = Field(examples=["15"], description="Whose plan (GSO code).")
    lead_unit: str = Field(examples=["15"])
    lead_department: str | None = None
    status: Status = Field(description="As of today (Việt Nam): done, overdue when its month (or quarter) "
                          "has passed undone, else in_progress or not_started.")
    done_on: date | None = None
    is_addition: bool = Field(description="Added during the year, not in the program document.")
    addition_reason: str | None = None
    added_on: date | None = None
    indicators: list[str] = Field(examples=[["CT12"]], description="Codes of the indicators it drives.")


def task_scope(principal: Principal, plan: type[Unit]):
    """Plans the caller may read: the plans of what it reads (its subtree and its predecessors'),
    and the plans of the units above those (the programs they follow)."""
    ancestor_ids = sorted({int(x) for path in principal.read_paths for x in path.strip("/").split("/") if x})
    return or_(in_scope(plan.path, principal), plan.id.in_(ancestor_ids))


@router.get("/tasks", response_model=Page[TaskOut], summary="List tasks", responses=problems(404))
def list_tasks(
    session: SessionDep,
    principal: ApiCaller,
    paging: PagingDep,
    year: Annotated[int | None, Query(ge=1900, le=2200, examples=[2023])] = None,
    quarter: Annotated[int | None, Query(ge=1, le=4, examples=[2])] = None,
    status: Annotated[Status | None, Query(description="overdue is computed from the due month "
                                           "or quarter.", examples=["overdue"])] = None,
    plan_unit: Annotated[str | None, code_query("Whose plan (GSO code).", "15")] = None,
) -> Page[TaskOut]:
    """Tasks of the plans in the caller's scope and of the plans above it (the program they
    follow), ordered by year, plan, quarter, number."""
    Plan, Lead = aliased(Unit), aliased(Unit)
    stmt = (select(Task, Program.year, Plan.code, Lead.code)
            .join(Program, Program.id == Task.program_id)
            .join(Plan, Plan.id == Task.plan_unit_id)
            .join(Lead, Lead.id == Task.lead_unit_id)
            .where(task_scope(principal, Plan)))
    stmt = stmt.where(Program.status == "published")
    if year is not None:
        stmt = stmt.where(Program.year == year)
    if quarter is not None:
        stmt = stmt.where(Task.quarter == quarter)
    if plan_unit is not None:
        unit = unit_by_code(session, plan_unit, principal=principal, year=year)
        if unit is None or not principal.can_follow(unit):
            raise Problem(404, "Not Found", f"No plan of unit {plan_unit!r} in your scope.")
        stmt = stmt.where(Task.plan_unit_id == unit.id)
    order = [Program.year, Plan.depth, Plan.code, Task.quarter, Task.number, Task.id]
    today = today_vn()
    if status is None:
        rows, count = page(session, stmt, paging, order)
        states = [state_of(t, y, today) for t, y, *_ in rows]
    else:
        # The state depends on today's date and the completion date: computed, then filtered
        # (a program has tens of tasks per plan, so this stays small).
        every = [(r, state_of(r[0], r[1], today)) for r in session.exec(stmt.order_by(*order)).all()]
        matching = [(r, st) for r, st in every if st == status]
        count = len(matching)
        window = matching[paging.offset:paging.offset + paging.limit]
        rows, states = [r for r, _ in window], [st for _, st in window]
    links: dict[int, list[str]] = defaultdict(list)
    ids = [t.id for t, *_ in rows]
    if ids:
        for tid, code in session.exec(select(TaskIndicator.task_id, Indicator.code)
                                      .join(Indicator, Indicator.id == TaskIndicator.indicator_id)
                                      .where(TaskIndicator.task_id.in_(ids))
                                      .order_by(Indicator.number)).all():
            links[tid].append(code)
    return Page(data=[TaskOut(
        id=t.id, year=y, quarter=t.quarter, number=t.number, parent_id=t.parent_id, title=t.title,
        text=t.text, due_month=t.due_month, due_note=t.due_note, plan_unit=pc, lead_unit=lc,
        lead_department=t.lead_department, status=st, done_on=t.done_on,
        is_addition=t.is_addition, addition_reason=t.addition_reason, added_on=t.added_on,
        indicators=links[t.id]) for (t, y, pc, lc), st in zip(rows, states, strict=True)],
        count=count, limit=paging.limit, offset=paging.offset)
