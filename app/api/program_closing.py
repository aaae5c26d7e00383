"""/api/v1/programs/{year}/close and …/reopenings: a finished year and its reopenings.

The province's administrators close a year once it is over in Việt Nam; from then its figures,
submissions and tasks are read-only (a write answers 409, code `year_closed`). The level above
a unit reopens that unit's year for corrections and closes it again. The rules live in
`app.program.closing`; errors are problem+json with `code`.
"""
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from app.accounts.deps import ApiCaller, Principal
from app.api.common import API_AUTH, AllowAllMethodsRoute, code_path, problems
from app.api.programs import YearPath, program_or_404
from app.core.db import SessionDep
from app.core.problems import Problem
from app.program import closing
from app.program.models import Program
from app.units.deps import readable_unit
from app.units.models import Unit

router = APIRouter(tags=["programs"], route_class=AllowAllMethodsRoute, dependencies=API_AUTH)

UnitPath = Annotated[str, code_path("GSO code of the unit.", "04720")]


class ReopeningOut(BaseModel):
    unit: str = Field(examples=["04720"], description="GSO code of the reopened unit.")
    unit_name: str
    reopened_by: str
    reopened_at: datetime
    reason: str


class ClosingOut(BaseModel):
    year: int = Field(examples=[2023])
    closed: bool = Field(description="True once the province has closed the year.")
    closed_at: datetime | None = None
    reopenings: list[ReopeningOut] = Field(description="Units whose closed year is reopened for corrections.")


class ReopeningIn(BaseModel):
    unit: str = Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_.-]+$", examples=["04720"])
    reason: str = Field(min_length=1, max_length=closing.REASON_MAX,
                        examples=["Sửa số liệu tháng 12 theo biên bản kiểm tra"])



def _unit(session: Session, principal: Principal, program: Program, code: str) -> Unit:
    """The unit with this code in the program's year (codes are reused by later trees)."""
    return readable_unit(session, principal, code, date(program.year, 12, 31))


def _problem(exc: Exception) -> Problem:
    if isinstance(exc, PermissionError):
        return Problem(403, "Forbidden", "Only the province's administrators close a year; only the level "
                       "above a unit reopens its year.", code="forbidden")
    if not isinstance(exc, closing.ClosingError):
        raise TypeError(f"not a closing error: {exc!r}")
    title = {404: "Not Found", 409: "Conflict"}.get(exc.status, "Unprocessable Content")
    return Problem(exc.status, title, str(exc), code=exc.code)


def _out(session: Session, program: Program) -> ClosingOut:
    return ClosingOut(year=program.year, closed=program.closed_at is not None, closed_at=program.closed_at,
                      reopenings=[ReopeningOut(unit=r.unit.code, unit_name=r.unit.name, reopened_by=r.by,
                                               reopened_at=r.at, reason=r.reason)
                                  for r in closing.reopenings(session, program)])


@router.get("/programs/{year}/closing", response_model=ClosingOut, summary="Is the year closed, and reopenings",
            responses=problems(404))
def get_closing(session: SessionDep, principal: ApiCaller, year: YearPath) -> ClosingOut:
    return _out(session, program_or_404(session, year))


@router.post("/programs/{year}/close", response_model=ClosingOut, summary="Close a finished year",
             responses=problems(403, 404, 409, 422))
def close_year(session: SessionDep, principal: ApiCaller, year: YearPath) -> ClosingOut:
    """The province's administrators close the year once it is over in Việt Nam (from 1 January
    of the next year): its figures, submissions and tasks become read-only and every reopening
    ends. 422 `year_not_over` before then; 409 `already_closed`, `program_draft`."""
    program = program_or_404(session, year)
    try:
        closing.close_year(session, principal, program, via="api")
    except (closing.ClosingError, PermissionError) as exc:
        session.rollback()
        raise _problem(exc) from None
    session.commit()
    return _out(session, program)


@router.post("/programs/{year}/reopenings", response_model=ClosingOut, status_code=201,
             summary="Reopen a unit's closed year", responses=problems(400, 403, 404, 409, 422))
def reopen_unit(session: SessionDep, principal: ApiCaller, year: YearPath, body: ReopeningIn) -> ClosingOut:
    """The level above the unit reopens its closed year for corrections, with a reason: the
    unit's own figures (and its villages') can be saved again. 409 `year_open`, `already_reopened`."""
    program = program_or_404(session, year)
    unit = _unit(session, principal, program, body.unit)
    try:
        closing.reopen_unit(session, principal, program, unit, body.reason, via="api")
    except (closing.ClosingError, PermissionError) as exc:
        session.rollback()
        raise _problem(exc) from None
    session.commit()
    return _out(session, program)


@router.delete("/programs/{year}/reopenings/{unit}", status_code=204, summary="Close a reopened unit's year again",
               responses=problems(403, 404))
def close_unit(session: SessionDep, principal: ApiCaller, year: YearPath, unit: UnitPath) -> Response:
    program = program_or_404(session, year)
    found = _unit(session, principal, program, unit)
    try:
        closing.close_unit(session, principal, program, found, via="api")
    except (closing.ClosingError, PermissionError) as exc:
        session.rollback()
        raise _problem(exc) from None
    session.commit()
    return Response(status_code=204)
