"""GET /api/v1/rollups: the dashboard's figures for a unit and a period, from the roll-up engine."""
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlmodel import Session

from app.accounts.deps import ApiCaller, Principal
from app.api.common import (
    API_AUTH,
    PERIOD_PATTERN,
    code_query,
    parse_period_range,
    problems,
)
from app.core.db import SessionDep
from app.core.problems import Problem
from app.program.models import Program
from app.program.periods import PeriodRange
from app.program.years import api_program
from app.rollup import service as rollup
from app.rollup.types import Figure, IndicatorResult, TargetResult
from app.units.deps import readable_unit
from app.units.models import Unit

router = APIRouter(tags=["roll-ups"], dependencies=API_AUTH)

Status = Literal["met", "not_met", "no_data"]


class FigureOut(BaseModel):
    value: float | int | None = Field(description="count/amount: the sum; ratio and yes/no: a share 0…1; "
                                      "null when nothing was entered.")
    numerator: int | None = None
    denominator: int | None = None
    reported: int | None = Field(default=None, description="Units that answered.")
    expected: int | None = Field(default=None, description="yes/no: units that should answer.")


class TargetResultOut(BaseModel):
    label: str | None = Field(description="The program document's words.")
    scope: str
    unit: str | None = Field(default=None, description="GSO code of the target's unit, if any.")
    depth: int | None = None
    comparator: str
    value: float
    value_high: float | None = None
    on: str
    status: Status
    actual: float | int | None = Field(description="What was compared: a count, an amount or a percentage.")
    gap: float | None = Field(description="How far short of the target (negative: beyond it).")
    exceeded: bool = False
    units_total: int | None = Field(default=None, description="scope=each: units of the level.")
    units_meeting: int | None = None
    units_failing: list[str] = Field(default_factory=list, description="scope=each: codes of the units "
                                     "that do not meet it.")


class ChildOut(BaseModel):
    unit: str = Field(examples=["141"])
    name: str
    status: Status
    subtree: FigureOut
    own: FigureOut | None


class IndicatorRollupOut(BaseModel):
    code: str = Field(examples=["CT12"])
    short_name: str
    measure: str
    time_rollup: str
    status: Status = Field(description="Worst of its targets: not_met, then no_data, then met.")
    subtree: FigureOut = Field(description="The unit's whole tree.")
    own: FigureOut | None = Field(description="The unit's own entry (null when its level does not enter it).")
    targets: list[TargetResultOut]
    children: list[ChildOut] | None = Field(default=None, description="With children=true: one row per "
                                            "child unit.")


class RollupOut(BaseModel):
    unit: str = Field(examples=["15"])
    name: str
    year: int
    period: str = Field(examples=["2023-Q2"], description="Canonical form of the asked period.")
    start: str = Field(examples=["2023-04"])
    end: str = Field(examples=["2023-06"])
    indicators: list[IndicatorRollupOut]


def figure_out(f: Figure | None) -> FigureOut | None:
    if f is None:
        return None
    return FigureOut(value=f.value, numerator=f.numerator, denominator=f.denominator, reported=f.reported,
                     expected=f.expected)


def target_out(t: TargetResult, codes: dict[int, str]) -> TargetResultOut:
    tg = t.target
    return TargetResultOut(label=tg.label, scope=tg.scope, unit=codes.get(tg.unit_id) if tg.unit_id else None,
                           depth=tg.depth, comparator=tg.comparator, value=tg.value, value_high=tg.value_high,
                           on=tg.on, status=t.status, actual=t.actual, gap=t.gap, exceeded=t.exceeded,
                           units_total=t.units_total, units_meeting=t.units_meeting,
                           units_failing=[u.code for u in t.units_failing])


def indicator_out(r: IndicatorResult, codes: dict[int, str]) -> IndicatorRollupOut:
    ind = r.indicator
    return IndicatorRollupOut(code=ind.code, short_name=ind.short_name, measure=ind.measure,
                              time_rollup=ind.time_rollup, status=r.status, subtree=figure_out(r.subtree),
                              own=figure_out(r.own), targets=[target_out(t, codes) for t in r.targets])


def unit_codes(session: Session, results: list[IndicatorResult]) -> dict[int, str]:
    from sqlmodel import select

    ids = {t.target.unit_id for r in results for t in r.targets if t.target.unit_id}
    return dict(session.exec(select(Unit.id, Unit.code).where(Unit.id.in_(ids))).all()) if ids else {}


def compute(session: Session, principal: Principal, unit_code: str, period_text: str,
            indicator: str | None, children: bool,
            ) -> tuple[Unit, Program, PeriodRange, list[IndicatorRollupOut]]:
    """The roll-up of `unit_code` over the period, as API rows (shared with the exports)."""
    period = parse_period_range(period_text)
    unit = readable_unit(session, principal, unit_code, year=period.year)
    program = api_program(session, principal, period.year)
    kids: list[tuple[Unit, list[IndicatorResult]]] = []
    if children and indicator is None:
        results, kids = rollup.dashboard(session, unit, period, program)  # every child in one pass
    else:
        results = rollup.rollup(session, unit, period, program)
    if indicator is not None:
        results = [r for r in results if r.indicator.code == indicator]
        if not results:
            raise Problem(404, "Not Found", f"No indicator {indicator!r} in the {program.year} program.")
        if children:
            kids = [(c, [cr]) for c, cr in rollup.breakdown(session, unit, results[0].indicator, period, program)]
    codes = unit_codes(session, results)
    rows = []
    for i, r in enumerate(results):
        row = indicator_out(r, codes)
        if children:
            row.children = [ChildOut(unit=c.code, name=c.name, status=crs[i].status,
                                     subtree=figure_out(crs[i].subtree), own=figure_out(crs[i].own))
                            for c, crs in kids]
        rows.append(row)
    return unit, program, period, rows


UnitQuery = Annotated[str, code_query("GSO code of the unit.", "15")]
PeriodQuery = Annotated[str, Query(max_length=20, json_schema_extra=PERIOD_PATTERN,
                                   description="2023-04, 2023-Q2, 2023 or 2023-01..2023-04.",
                                   examples=["2023-Q2"])]
IndicatorQuery = Annotated[str | None, code_query("Only this indicator.", "CT12")]
ChildrenQuery = Annotated[bool, Query(description="Add one row per child unit (breakdown).", examples=[False])]


@router.get("/rollups", response_model=RollupOut, summary="Roll-up of a unit over a period",
            responses=problems(404))
def get_rollup(
    session: SessionDep,
    principal: ApiCaller,
    unit: UnitQuery,
    period: PeriodQuery,
    indicator: IndicatorQuery = None,
    children: ChildrenQuery = False,
) -> RollupOut:
    """Every indicator (or one) for the unit's subtree and its own entry over the period, against
    the targets: the same figures as the dashboard."""
    u, program, pr, rows = compute(session, principal, unit, period, indicator, children)
    return RollupOut(unit=u.code, name=u.name, year=program.year, period=pr.key, start=pr.start, end=pr.end,
                     indicators=rows)
