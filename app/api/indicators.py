"""GET /api/v1/indicators: the program's indicators, how they are entered, and their targets."""
from collections import defaultdict
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlmodel import Session, select

from app.accounts.deps import ApiCaller
from app.api.common import API_AUTH, Page, PagingDep, code_path, page, problems, program_for_year
from app.core.db import SessionDep
from app.core.problems import Problem
from app.program import rules
from app.program.models import Indicator, Program, Target
from app.units.models import Unit

router = APIRouter(tags=["indicators"], dependencies=API_AUTH)


class TargetOut(BaseModel):
    scope: Literal["total", "own", "each"] = Field(
        description="total: the whole tree; own: one unit's own figure; each: every unit of a level.")
    unit: str | None = Field(default=None, examples=["15"],
                             description="GSO code of the unit (None: the program's root).")
    depth: int | None = Field(default=None, description="scope=each: the level's depth.")
    basis: str = Field(default="own", description="scope=each: own | subtree figure of each unit.")
    comparator: Literal[">=", ">", "<=", "<", "=", "range"]
    value: float = Field(examples=[95])
    value_high: float | None = Field(default=None, description="range: the upper bound.")
    on: Literal["value", "reduction_pct"] = Field(
        description="value: the figure (percent 0–100 for ratios and shares); reduction_pct: "
                    "percentage reduction against the indicator's baseline.")
    label: str | None = Field(default=None, description="The program document's words.")


class IndicatorOut(BaseModel):
    code: str = Field(examples=["CT17"])
    number: int = Field(examples=[17])
    year: int = Field(examples=[2023], description="The program year.")
    name: str
    short_name: str
    measure: Literal["ratio", "yes_no", "count", "amount"]
    entry_depths: list[int] = Field(examples=[[0, 1, 2]], description="Depths of the levels that enter it.")
    time_rollup: Literal["flow", "stock"] = Field(
        description="flow: months add up; stock: the latest month stands.")
    share_filter: str = Field(description="yes_no: which units should report (all | new_rural).")
    value_label: str | None = None
    numerator_label: str | None = None
    denominator_label: str | None = None
    baseline: int | None = None
    baseline_year: int | None = None
    description: str | None = None
    targets: list[TargetOut]


def indicator_out(ind: Indicator, year: int, targets: list[Target], codes: dict[int, str]) -> IndicatorOut:
    return IndicatorOut(
        code=ind.code, number=ind.number, year=year, name=ind.name, short_name=ind.short_name,
        measure=ind.measure, entry_depths=sorted(rules.entry_depths(ind)), time_rollup=ind.time_rollup,
        share_filter=ind.share_filter, value_label=ind.value_label, numerator_label=ind.numerator_label,
        denominator_label=ind.denominator_label, baseline=ind.baseline, baseline_year=ind.baseline_year,
        description=ind.description,
        targets=[TargetOut(scope=t.scope, unit=codes.get(t.unit_id) if t.unit_id else None, depth=t.depth,
                           basis=t.basis, comparator=t.comparator, value=t.value, value_high=t.value_high,
                           on=t.on, label=t.label) for t in targets])


def _targets(session: Session, indicator_ids: list[int]) -> tuple[dict[int, list[Target]], dict[int, str]]:
    by: dict[int, list[Target]] = defaultdict(list)
    if not indicator_ids:
        return by, {}
    targets = session.exec(select(Target).where(Target.indicator_id.in_(indicator_ids))
                           .order_by(Target.indicator_id, Target.id)).all()
    for t in targets:
        by[t.indicator_id].append(t)
    unit_ids = {t.unit_id for t in targets if t.unit_id}
    codes = (dict(session.exec(select(Unit.id, Unit.code).where(Unit.id.in_(unit_ids))).all())
             if unit_ids else {})
    return by, codes


@router.get("/indicators", response_model=Page[IndicatorOut], summary="List indicators with targets",
            responses=problems())
def list_indicators(
    session: SessionDep,
    principal: ApiCaller,
    paging: PagingDep,
    year: Annotated[int | None, Query(ge=1900, le=2200, description="Program year.",
                                      examples=[2023])] = None,
    measure: Annotated[Literal["ratio", "yes_no", "count", "amount"] | None,
                       Query(description="Only this kind of figure.", examples=["count"])] = None,
) -> Page[IndicatorOut]:
    """Indicators ordered by program year, then number (CT01 … CT18)."""
    stmt = select(Indicator, Program.year).join(Program, Program.id == Indicator.program_id)
    stmt = stmt.where(Program.status == "published")
    if year is not None:
        stmt = stmt.where(Program.year == year)
    if measure is not None:
        stmt = stmt.where(Indicator.measure == measure)
    rows, count = page(session, stmt, paging, [Program.year, Indicator.number, Indicator.id])
    targets, codes = _targets(session, [i.id for i, _ in rows])
    return Page(data=[indicator_out(i, y, targets[i.id], codes) for i, y in rows], count=count,
                limit=paging.limit, offset=paging.offset)


@router.get("/indicators/{code}", response_model=IndicatorOut, summary="One indicator with its targets",
            responses=problems(404))
def get_indicator(
    session: SessionDep,
    principal: ApiCaller,
    code: Annotated[str, code_path("Indicator code.", "CT12")],
    year: Annotated[int | None, Query(ge=1900, le=2200, description="Program year (default: latest).",
                                      examples=[2023])] = None,
) -> IndicatorOut:
    program = program_for_year(session, year)
    ind = session.exec(select(Indicator).where(Indicator.program_id == program.id,
                                               Indicator.code == code)).first()
    if ind is None:
        raise Problem(404, "Not Found", f"No indicator {code!r} in the {program.year} program.")
    targets, codes = _targets(session, [ind.id])
    return indicator_out(ind, program.year, targets[ind.id], codes)
