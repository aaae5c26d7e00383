"""GET /api/v1/units: the unit tree, by GSO code, within the caller's scope; PUT
/api/v1/units/{code}/years/{year}: the province sets a commune's attributes for a year.

`?date=YYYY-MM-DD` lists the units in force that day (`?year=` those in force on any day of the
year); attributes that change by year (new-rural, province-led, households, population) are the
ones of the date's year (default: this year).
"""
from datetime import date as Date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi import Path as ApiPath
from pydantic import BaseModel, Field
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from app.accounts.deps import ApiCaller
from app.api.common import (
    API_AUTH,
    Page,
    PagingDep,
    code_path,
    code_query,
    in_scope,
    in_subtree,
    page,
    problems,
)
from app.core.db import SessionDep
from app.core.problems import Problem
from app.program.service import today_vn
from app.units import attributes
from app.units.deps import readable_unit
from app.units.models import Unit, UnitLevel, UnitYear
from app.units.time import in_force_clause, overlaps_clause, year_attributes

router = APIRouter(tags=["units"], dependencies=API_AUTH)


class UnitOut(BaseModel):
    code: str = Field(examples=["04720"], description="GSO code (generated for demo villages).")
    name: str = Field(examples=["Xuân Long"])
    kind: str = Field(examples=["xa"], description="Kind of unit: tinh, huyen, thi-xa, xa, thon …")
    depth: int = Field(examples=[2], description="0 province, 1 district, 2 commune, 3 village.")
    level: str = Field(examples=["commune"])
    parent: str | None = Field(examples=["141"], description="GSO code of the parent unit.")
    new_rural: Literal["recognised", "expected"] | None = Field(
        default=None, description="Commune: new-rural status (recognised, expected in the year).")
    front_led: bool = Field(default=False, description="Commune: the province Front leads it.")
    households: int | None = None
    population: int | None = None
    is_demo: bool = Field(default=False, description="Generated demo village, to be replaced.")
    valid_from: Date | None = Field(default=None, description="First day in force (null: always).")
    valid_to: Date | None = Field(default=None, description="Last day in force (null: still).")


DATE_SCHEMA = {"format": "date", "pattern": r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"}


def _day(text: str | None) -> Date | None:
    """A day YYYY-MM-DD; 422 problem otherwise (a number is not a day)."""
    if text is None:
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        return Date.fromisoformat(text)
    except ValueError:
        raise Problem(422, "Unprocessable Content", f"Parameter `date`: {text!r} is not a day (YYYY-MM-DD).",
                      errors=[{"loc": ["query", "date"], "msg": "not a day", "type": "value_error"}]) from None


def levels(session: Session) -> dict[int, str]:
    return dict(session.exec(select(UnitLevel.depth, UnitLevel.key)).all())


def unit_out(unit: Unit, parent_code: str | None, level_keys: dict[int, str], attrs: UnitYear | None = None
             ) -> UnitOut:
    nr = attrs.new_rural if attrs is not None else None
    return UnitOut(code=unit.code, name=unit.name, kind=unit.kind, depth=unit.depth,
                   level=level_keys.get(unit.depth, str(unit.depth)), parent=parent_code,
                   new_rural=nr if nr in ("recognised", "expected") else None,
                   front_led=bool(attrs and attrs.front_led), households=attrs.households if attrs else None,
                   population=attrs.population if attrs else None,
                   is_demo=unit.is_demo, valid_from=unit.valid_from, valid_to=unit.valid_to)


@router.get("/units", response_model=Page[UnitOut], summary="List units",
            responses=problems(404))
def list_units(
    session: SessionDep,
    principal: ApiCaller,
    paging: PagingDep,
    level: Annotated[str | None, Query(min_length=1, max_length=32, pattern=r"^[0-9a-z_]+$",
                                       description="Level key or depth.", examples=["district", "2"])] = None,
    depth: Annotated[int | None, Query(ge=0, le=10, description="Depth (0 is the root).",
                                       examples=[1])] = None,
    parent: Annotated[str | None, code_query("Children of this unit.", "141")] = None,
    code: Annotated[str | None, code_query("Exactly this code.", "04720")] = None,
    subtree: Annotated[str | None, code_query("This unit and all below it.", "141")] = None,
    year: Annotated[int | None, Query(ge=1900, le=2200, description="Only units in force on a day of that year.",
                                      examples=[2023])] = None,
    date: Annotated[str | None, Query(max_length=10, description="Only units in force that day (YYYY-MM-DD).",
                                      examples=["2026-01-01"], json_schema_extra=DATE_SCHEMA)] = None,
) -> Page[UnitOut]:
    """Units of the caller's subtree, ordered by depth, then position, then code."""
    day = _day(date)
    level_keys = levels(session)
    Parent = aliased(Unit)
    stmt = (select(Unit, Parent.code).outerjoin(Parent, Parent.id == Unit.parent_id)
            .where(in_scope(Unit.path, principal)))
    if level is not None:
        by_key = {v: k for k, v in level_keys.items()}
        if level in by_key:
            stmt = stmt.where(Unit.depth == by_key[level])
        elif level.isascii() and level.isdigit():
            stmt = stmt.where(Unit.depth == int(level))
        else:
            raise Problem(422, "Unprocessable Content",
                          f"Unknown level {level!r}; use one of {', '.join(by_key)} or a depth.",
                          errors=[{"loc": ["query", "level"], "msg": "unknown level", "type": "enum"}])
    if depth is not None:
        stmt = stmt.where(Unit.depth == depth)
    if parent is not None:
        stmt = stmt.where(Unit.parent_id == readable_unit(session, principal, parent).id)
    if code is not None:
        stmt = stmt.where(Unit.code == code)
    if subtree is not None:
        stmt = stmt.where(in_subtree(Unit.path, readable_unit(session, principal, subtree)))
    if year is not None:
        stmt = stmt.where(overlaps_clause(Date(year, 1, 1), Date(year, 12, 31)))
    if day is not None:
        stmt = stmt.where(in_force_clause(day))
    rows, count = page(session, stmt, paging, [Unit.depth, Unit.sort_order, Unit.code])
    attrs = year_attributes(session, day.year if day else (year or today_vn().year), [u.id for u, _ in rows])
    return Page(data=[unit_out(u, pc, level_keys, attrs.get(u.id)) for u, pc in rows], count=count,
                limit=paging.limit, offset=paging.offset)


@router.get("/units/{code}", response_model=UnitOut, summary="One unit by GSO code",
            responses=problems(404))
def get_unit(
    session: SessionDep,
    principal: ApiCaller,
    code: Annotated[str, code_path("GSO code.", "04720")],
) -> UnitOut:
    unit = readable_unit(session, principal, code)
    parent = session.get(Unit, unit.parent_id) if unit.parent_id else None
    attrs = year_attributes(session, today_vn().year, [unit.id]).get(unit.id)
    return unit_out(unit, parent.code if parent else None, levels(session), attrs)


# --- per-year attributes, set by the province ------------------------------------------------------

class UnitYearIn(BaseModel):
    """What the province sets for one commune and year."""

    new_rural: Literal["recognised", "expected"] | None = Field(
        default=None, description="New-rural status that year: recognised, expected, or null (not).")
    front_led: bool = Field(default=False, description="The province Front leads the commune that year.")
    households: int | None = Field(default=None, ge=0, le=10**12, description="Null: unchanged.")
    population: int | None = Field(default=None, ge=0, le=10**12, description="Null: unchanged.")


class UnitYearOut(UnitYearIn):
    code: str = Field(examples=["04720"])
    year: int = Field(examples=[2023])
    is_demo: bool = Field(description="Still the demo's stand-in (false once the province sets it).")


@router.put("/units/{code}/years/{year}", response_model=UnitYearOut, summary="Set a commune's attributes for a year",
            responses=problems(403, 404))
def put_unit_year(
    session: SessionDep,
    principal: ApiCaller,
    code: Annotated[str, code_path("GSO code of a commune.", "04720")],
    year: Annotated[int, ApiPath(ge=attributes.YEAR_MIN, le=attributes.YEAR_MAX, examples=[2023])],
    body: UnitYearIn,
) -> UnitYearOut:
    """New-rural status and province-led flag (and optionally households, population) of one
    commune for one year; audited. A change of new-rural status changes who should report
    (share-of-units indicators counting new-rural communes): the roll-up is rebuilt with it."""
    if not attributes.can_set(principal):
        raise Problem(403, "Forbidden", "Only an administrator of the province sets communes' attributes.")
    row = {"code": code, "year": str(year), "new_rural": body.new_rural or "", "front_led": "1" if body.front_led else "0",
           "households": "" if body.households is None else str(body.households),
           "population": "" if body.population is None else str(body.population)}
    checked = attributes.plan(session, [(1, row)], root=principal.unit)
    if not checked.ok:
        raise Problem(404, "Not Found", f"No commune with code {code!r} in {year} in your province.")
    attributes.apply(session, principal, "api", checked)
    session.commit()
    saved = session.get(UnitYear, (checked.changes[0][0].id, year))
    return UnitYearOut(code=code, year=year, new_rural=saved.new_rural, front_led=saved.front_led,
                       households=saved.households, population=saved.population, is_demo=saved.is_demo)
