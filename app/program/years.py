"""Which year's program a page shows: the one FastAPI dependency every page of figures and tasks
takes (`ProgramDep`), and the rule behind it, shared with the API.

A caller reads a published program when the program's tree and what the caller reads meet: the
program's root is at or above the caller's unit or one of its predecessors (a Lào Cai account
of 2025 reads the 2026 program on its own tree and the 2023 one through Yên Bái), or lies
inside them. A page asks for a year with `?year=`; without one it shows the current year by
today's date in Việt Nam, else the latest year the caller reads. A year that is not a number,
has no published program or is not the caller's is answered with the default and a message
in Vietnamese; the API answers it with a 404 problem. An address without `year=` but with a
period or month (`?period=2023-Q1`, `?month=2023-04`, `/reports/15/2023-04`) reads that
period's year, so older links keep theirs.

A page of a program's tree is about the caller's place in it (`home`): its unit when the tree
holds it, else the predecessor that lies there (Lào Cai reading 2023 lands on Yên Bái).
"""
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlmodel import Session, col, select

from app.accounts.deps import Principal, WebUser
from app.core.db import SessionDep
from app.core.i18n import _
from app.core.problems import Problem
from app.core.time import today_vn
from app.program.models import Program
from app.units.models import Unit


def readable_programs(session: Session, principal: Principal) -> list[Program]:
    """The published programs the caller reads, the newest year first."""
    rows = session.exec(select(Program, Unit).join(Unit, col(Unit.id) == Program.root_unit_id)
                        .where(Program.status == "published").order_by(col(Program.year).desc())).all()
    return [p for p, root in rows if principal.can_follow(root)]  # its tree and the caller's meet


def readable_program(session: Session, principal: Principal, year: int) -> Program | None:
    """The published program of `year` when the caller reads it."""
    return next((p for p in readable_programs(session, principal) if p.year == year), None)


def default_of(programs: list[Program], today: date) -> Program | None:
    """The current year's program by today's date in Việt Nam, else the latest one."""
    return next((p for p in programs if p.year == today.year), programs[0] if programs else None)


@dataclass
class PageProgram:
    """The program a page shows and what the year switcher needs."""

    program: Program
    home: Unit  # the caller's place in the program's tree
    years: list[int] = field(default_factory=list)  # the years the caller reads, newest first
    chosen: bool = False  # the address named the year
    error: str | None = None  # why the asked year is not the one shown

    @property
    def year(self) -> int:
        return self.program.year


def page_program(session: Session, principal: Principal, raw_year: str | None,
                 today: date | None = None) -> PageProgram:
    """The program for `?year=raw_year` (see the module docstring). Raises a 404 problem when
    the caller reads no program at all."""
    programs = readable_programs(session, principal)
    fallback = default_of(programs, today or today_vn())
    if fallback is None:
        raise Problem(404, "Not Found", _("No work program has been set up yet."))
    shown, error = fallback, None
    text = (raw_year or "").strip()
    if text:
        asked = next((p for p in programs if text.isdigit() and len(text) == 4 and p.year == int(text)), None)
        if asked is None:
            error = _("There is no program of {year} that you can read; showing {shown} instead.",
                      year=text[:8], shown=fallback.year)
        else:
            shown = asked
    root = session.get_one(Unit, shown.root_unit_id)
    home = principal.home_in(root) or root
    return PageProgram(program=shown, home=home, years=[p.year for p in programs],
                       chosen=bool(text) and error is None, error=error)


PERIOD_YEAR = re.compile(r"(\d{4})(?:$|-(?:0[1-9]|1[0-2]|Q[1-4])(?:$|\.\.|\.xlsx$))")


def _year_of_period(request: Request) -> str | None:
    """"2023" from `?period=2023-Q1`, `?month=2023-04` or the path's `{period}` when they are
    periods; None otherwise (a period that is not one is the page's to answer)."""
    for raw in (request.query_params.get("period"), request.query_params.get("month"),
                request.path_params.get("period")):
        found = PERIOD_YEAR.match(raw) if isinstance(raw, str) else None
        if found:
            return found.group(1)
    return None


def program_for_page(request: Request, session: SessionDep, principal: WebUser,
                     year: Annotated[str | None, Query(max_length=8)] = None) -> PageProgram:
    """FastAPI dependency: the program a page shows, from `?year=` (else the period's year),
    resolved once per request."""
    return page_program(session, principal, year or _year_of_period(request))


ProgramDep = Annotated[PageProgram, Depends(program_for_page)]


def api_program(session: Session, principal: Principal, year: int | None) -> Program:
    """The program of `year` (None: the default) that the caller reads; 404 problem otherwise."""
    programs = readable_programs(session, principal)
    program = (next((p for p in programs if p.year == year), None) if year is not None
               else default_of(programs, today_vn()))
    if program is None:
        raise Problem(404, "Not Found", f"No program for year {year} in your scope." if year is not None
                      else "No program has been set up yet.")
    return program
