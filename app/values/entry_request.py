"""What an entry request is about, resolved once: the unit, the program, the month and whether
the caller may write there.

Every entry route (the unit's page, one field, the villages' grid and its cells, submitting)
takes `EntryDep`. Each part is resolved when first asked and kept for the rest of the request,
so a save reads the unit once, the program once and the indicator list once, and the month is
parsed once. Resolving lazily lets a kept page (`app.core.generation`) be served without any
of it: only a page that is built asks.

A unit outside the caller's scope and a month without a program are 404; writing where the
caller may only read is 403 (`require_write`), the same answers as `app.units.deps`.
"""
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated

from fastapi import Depends
from sqlmodel import Session

from app.accounts.deps import Principal, WebUser
from app.core.db import SessionDep
from app.core.problems import Problem
from app.program import closing, rules
from app.program.models import Indicator, Program
from app.units.deps import readable_unit
from app.units.models import Unit
from app.values import queries
from app.values.rules import check_period


@dataclass
class EntryRequest:
    """The parts of `/entry/{unit_code}/{period}/…`, each resolved once, when first asked."""

    session: Session
    principal: Principal
    unit_code: str
    period: str

    def resolve(self) -> tuple[Program, Unit]:
        """The program and the unit, the unit first (a unit out of scope is 404 before anything)."""
        unit = self.unit
        return self.program, unit

    @cached_property
    def unit(self) -> Unit:
        """The unit the code names in the month's year (15 is Yên Bái in 2023, Lào Cai in 2026)."""
        year = int(self.period[:4]) if self.period[:4].isdigit() else None
        return readable_unit(self.session, self.principal, self.unit_code, year=year)

    @cached_property
    def program(self) -> Program:
        program = queries.program_for(self.session, self.period)
        if program is None:
            raise Problem(404, "Not Found", "No program.")
        return program

    @cached_property
    def month(self) -> tuple[int, int] | None:
        """(year, month) of a well-formed "YYYY-MM", else None (parsed once)."""
        return rules.parse_period(self.period)

    @cached_property
    def previous(self) -> str | None:
        """The month before, within the same year ("2023-01" has none; a bad month neither)."""
        if self.month is None or self.month[1] == 1:
            return None
        return f"{self.month[0]}-{self.month[1] - 1:02d}"

    @property
    def can_write(self) -> bool:
        return self.principal.can_write(self.unit)

    @cached_property
    def year_open(self) -> bool:
        """May the unit's figures of the year still change (not closed, or reopened for it)?"""
        return closing.is_open_for(self.session, self.program, self.unit)

    def require_write(self) -> Unit:
        """The unit, if the caller may change its figures; 403 otherwise."""
        if not self.can_write:
            raise PermissionError(self.unit_code)  # 403, worded for the page (app.core.problems)
        return self.unit

    def check_period(self) -> None:
        """EntryError unless the month is one of the program's."""
        check_period(self.program, self.period)

    @cached_property
    def indicators(self) -> list[Indicator]:
        """Every indicator of the program, in its order (read once)."""
        return queries.all_indicators(self.session, self.program)

    def entered_here(self, unit: Unit | None = None) -> list[Indicator]:
        """The indicators `unit`'s level enters (the request's unit by default), in order."""
        depth = (unit or self.unit).depth
        return [i for i in self.indicators if rules.enters(i, depth)]

    def indicator(self, code: str) -> Indicator:
        """The program's indicator `code`; 404 if there is none."""
        for ind in self.indicators:
            if ind.code == code:
                return ind
        raise Problem(404, "Not Found", f"No indicator {code!r} in the program.")


def entry_request(session: SessionDep, principal: WebUser, unit_code: str, period: str) -> EntryRequest:
    return EntryRequest(session, principal, unit_code, period)


EntryDep = Annotated[EntryRequest, Depends(entry_request)]
