"""GET /api/v1/programs: each year's work program (theme, motto, root unit)."""
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import select

from app.accounts.deps import ApiCaller
from app.api.common import API_AUTH, Page, PagingDep, page, problems, program_for_year
from app.core.db import SessionDep
from app.program.models import Indicator, Program, Task
from app.units.models import Unit

router = APIRouter(tags=["programs"], dependencies=API_AUTH)


class ProgramOut(BaseModel):
    year: int = Field(examples=[2023])
    title: str
    theme: str = Field(description="Chủ đề: the year's theme.")
    motto: str = Field(description="Phương châm: the year's motto.")
    root_unit: str = Field(examples=["15"], description="GSO code of the unit whose program it is.")
    source: str | None = None
    indicators: int = Field(ge=0, description="How many indicators it has.", examples=[18])
    tasks: int = Field(ge=0, description="How many tasks it has (all plans).", examples=[44])


def _out(session: SessionDep, program: Program) -> ProgramOut:
    root = session.get(Unit, program.root_unit_id)
    n_ind = session.exec(select(func.count()).select_from(Indicator)
                         .where(Indicator.program_id == program.id)).one()
    n_task = session.exec(select(func.count()).select_from(Task).where(Task.program_id == program.id)).one()
    return ProgramOut(year=program.year, title=program.title, theme=program.theme, motto=program.motto,
                      root_unit=root.code if root else "", source=program.source,
                      indicators=n_ind, tasks=n_task)


@router.get("/programs", response_model=Page[ProgramOut], summary="List programs",
            responses=problems())
def list_programs(
    session: SessionDep,
    principal: ApiCaller,
    paging: PagingDep,
    year: Annotated[int | None, Query(ge=1900, le=2200, description="Only this year's program.",
                                      examples=[2023])] = None,
) -> Page[ProgramOut]:
    """Programs, newest year first."""
    stmt = select(Program)
    if year is not None:
        stmt = stmt.where(Program.year == year)
    rows, count = page(session, stmt, paging, [Program.year.desc()])
    return Page(data=[_out(session, p) for p in rows], count=count, limit=paging.limit,
                offset=paging.offset)


@router.get("/programs/{year}", response_model=ProgramOut, summary="One year's program",
            responses=problems(404))
def get_program(
    session: SessionDep,
    principal: ApiCaller,
    year: Annotated[int, Path(ge=1900, le=2200, examples=[2023])],
) -> ProgramOut:
    return _out(session, program_for_year(session, year))
