"""Pages of a finished year: the province closes it ("Kết thúc năm", with a confirmation step on
the program administration pages), and the level above a unit reopens that unit's year for
corrections and closes it again (`/years/{year}/reopenings`).

Thin: the rules are `app.program.closing`. Forms post for real and answer 303 on success; on a
refusal the same page comes back with the message (403, 409 or 422) and nothing is changed.
"""
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app.accounts.deps import Principal, WebUser, verify_csrf
from app.core.db import SessionDep
from app.core.i18n import _
from app.core.templates import render
from app.program import closing
from app.program.admin_pages import Manager, program_or_404
from app.program.models import Program
from app.units.deps import readable_unit
from app.units.time import units_in_force
from app.values.rules import VILLAGE_DEPTH

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])



def _refusal_text(exc: Exception) -> tuple[str, int]:
    if isinstance(exc, closing.ClosingError):
        return exc.text(), exc.status
    return _("Only the level above a unit reopens its year; only the province's administrators close a year."), 403


# --- closing the year (the province) -----------------------------------------------------------

def _close_page(request: Request, session: Session, principal: Principal, program: Program,
                **ctx: Any) -> Response:
    status = ctx.pop("status_code", 200)
    refusal = None if closing.can_close(principal, program) else PermissionError()
    refusal = refusal or closing.close_refusal(program, reopened=len(closing.reopened_unit_ids(session, program)))
    return render(request, "program_admin/close.html", {
        "program": program, "refusal": _refusal_text(refusal)[0] if refusal else "",
        "reopenings": closing.reopenings(session, program), "errors": [], **ctx}, status_code=status)


@router.get("/admin/programs/{year}/close")
def close_form(request: Request, principal: Manager, session: SessionDep, year: int):
    """The confirmation step: what closing means, or why the year cannot be closed yet."""
    return _close_page(request, session, principal, program_or_404(session, year))


@router.post("/admin/programs/{year}/close")
def close_year(request: Request, principal: Manager, session: SessionDep, year: int):
    program = program_or_404(session, year)
    try:
        closing.close_year(session, principal, program)
    except (closing.ClosingError, PermissionError) as exc:
        session.rollback()
        text, status = _refusal_text(exc)
        return _close_page(request, session, principal, program, errors=[text], status_code=status)
    session.commit()
    return RedirectResponse(f"/admin/programs/{year}?done=closed", status_code=303)


# --- reopening a unit's year (the level above) --------------------------------------------------

def _reopen_page(request: Request, session: Session, principal: Principal, program: Program,
                 **ctx: Any) -> Response:
    status = ctx.pop("status_code", 200)
    day = date(program.year, 12, 31)
    below = [u for u in units_in_force(session, day, under=principal.unit) if u.depth < VILLAGE_DEPTH
             and principal.can_reopen(u)] if principal.token is None else []
    shown = [r for r in closing.reopenings(session, program) if principal.can_read(r.unit)]
    return render(request, "program/reopenings.html", {
        "program": program, "below": below, "reopenings": shown,
        "can_reopen": bool(below), "errors": [], "form": {}, "done": request.query_params.get("done", ""),
        **ctx}, status_code=status)


@router.get("/years/{year}/reopenings")
def reopenings_page(request: Request, principal: WebUser, session: SessionDep, year: int):
    """A closed year's reopened units in the caller's scope, and (for the level above) the form
    that reopens one."""
    return _reopen_page(request, session, principal, program_or_404(session, year))


@router.post("/years/{year}/reopenings")
def reopen_unit(request: Request, principal: WebUser, session: SessionDep, year: int,
                unit: Annotated[str, Form(max_length=32)] = "",
                reason: Annotated[str, Form(max_length=closing.REASON_MAX + 100)] = ""):
    program = program_or_404(session, year)
    found = readable_unit(session, principal, unit, date(program.year, 12, 31))
    try:
        closing.reopen_unit(session, principal, program, found, reason)
    except (closing.ClosingError, PermissionError) as exc:
        session.rollback()
        text, status = _refusal_text(exc)
        return _reopen_page(request, session, principal, program, errors=[text], status_code=status,
                            form={"unit": unit, "reason": reason})
    session.commit()
    return RedirectResponse(f"/years/{year}/reopenings?done=reopened", status_code=303)


@router.post("/years/{year}/reopenings/{unit_code}/close")
def close_unit(request: Request, principal: WebUser, session: SessionDep, year: int, unit_code: str):
    program = program_or_404(session, year)
    found = readable_unit(session, principal, unit_code, date(program.year, 12, 31))
    try:
        closing.close_unit(session, principal, program, found)
    except (closing.ClosingError, PermissionError) as exc:
        session.rollback()
        text, status = _refusal_text(exc)
        return _reopen_page(request, session, principal, program, errors=[text], status_code=status)
    session.commit()
    return RedirectResponse(f"/years/{year}/reopenings?done=closed", status_code=303)
