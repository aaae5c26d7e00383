"""GET /api/v1/completeness: which units below have submitted a month."""
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from app.accounts.deps import ApiCaller
from app.api.common import API_AUTH, MONTH_PATTERN, code_query, parse_period_range, problems
from app.core.db import SessionDep
from app.core.problems import Problem
from app.rollup import service as rollup
from app.units.deps import readable_unit

router = APIRouter(tags=["roll-ups"], dependencies=API_AUTH)


class UnitRef(BaseModel):
    code: str = Field(examples=["04720"])
    name: str


class LevelOut(BaseModel):
    depth: int = Field(examples=[2])
    level: str = Field(examples=["Cấp xã"])
    submitted: int
    total: int
    missing: list[UnitRef] = Field(description="Units of the level that have not submitted the month.")


class CompletenessOut(BaseModel):
    unit: str = Field(examples=["15"])
    name: str
    period: str = Field(examples=["2023-04"])
    submitted: int
    total: int
    levels: list[LevelOut]


@router.get("/completeness", response_model=CompletenessOut, summary="Who has submitted a month",
            responses=problems(404))
def get_completeness(
    session: SessionDep,
    principal: ApiCaller,
    unit: Annotated[str, code_query("GSO code.", "15")],
    period: Annotated[str, Query(max_length=20, description="A month, YYYY-MM.", examples=["2023-04"],
                                 json_schema_extra=MONTH_PATTERN)],
) -> CompletenessOut:
    """Per level below the unit: how many units submitted the month, and which have not."""
    pr = parse_period_range(period)
    u = readable_unit(session, principal, unit, year=pr.year)
    if pr.kind != "month":
        raise Problem(422, "Unprocessable Content", f"Completeness is per month: send `period` as YYYY-MM, "
                      f"e.g. {pr.end}.", errors=[{"loc": ["query", "period"], "msg": "not a month",
                                                  "type": "value_error"}])
    c = rollup.completeness(session, u, pr.start)
    return CompletenessOut(unit=u.code, name=u.name, period=c.period, submitted=c.submitted, total=c.total,
                           levels=[LevelOut(depth=lv.depth, level=lv.level, submitted=lv.submitted,
                                            total=lv.total,
                                            missing=[UnitRef(code=m.code, name=m.name) for m in lv.missing])
                                   for lv in c.levels])
