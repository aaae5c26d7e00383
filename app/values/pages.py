"""Entry pages: a unit's figures for a month, one field at a time (htmx) or as one plain form.

Thin: every rule lives in `app.values.service`. A field's save answers with the re-rendered
field (200 saved, 422 invalid, 409 conflict); the whole-page post answers 303 or re-renders.

The whole page (the form that works without JavaScript) is all-or-nothing: if any figure on it
is invalid or in conflict, NOTHING is saved, the page comes back (422) with every typed value
kept and the message beside each bad field, so the user corrects and posts once more. Fields
the post does not carry are left as they are; an empty field clears its figure.
"""
import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2_fragments import render_block
from markupsafe import Markup
from sqlmodel import Session, select
from starlette.datastructures import FormData

from app.accounts.deps import Principal, WebUser, csrf_token, verify_csrf
from app.accounts.models import User
from app.audit import service as audit_service
from app.core import generation
from app.core.db import SessionDep
from app.core.i18n import _, current_language, fmt_number
from app.core.problems import Problem
from app.core.templates import is_htmx, render, templates
from app.program import display, rules, years
from app.program.models import Indicator, Program
from app.program.service import today_vn
from app.units import tree
from app.units.deps import readable_unit, writable_unit
from app.units.models import Unit
from app.units.time import month_last_day
from app.values import queries, service
from app.values.models import DataValue
from app.values.rules import (
    Conflict,
    EntryError,
    Figure,
    check_figure,
    check_period,
    parse_figure,
    parse_int,
    snapshot,
)

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])


@dataclass
class FieldView:
    """What one indicator's field shows: current figure, last month, typed input, state."""

    indicator: Indicator
    url: str
    current: DataValue | None
    previous: DataValue | None
    version: int
    inputs: dict[str, str]
    read_only: bool = False
    saved: bool = False
    error: str | None = None
    error_field: str | None = None
    conflict_text: str | None = None  # their figure as text
    conflict_who: str | None = None
    conflict_at: Any = None
    mine_text: str | None = None

    @property
    def code(self) -> str:
        return self.indicator.code

    @property
    def previous_text(self) -> str:
        return display.entered_text(self.indicator, snapshot(self.previous))

    @property
    def percent_text(self) -> str | None:
        if self.indicator.measure != "ratio":
            return None
        try:
            num = parse_int(self.inputs.get("numerator"))
            den = parse_int(self.inputs.get("denominator"))
        except EntryError:
            return None
        if num is None or not den:
            return None
        from app.core.i18n import fmt_percent

        return fmt_percent(num / den)


def _inputs_from(indicator: Indicator, dv: DataValue | None) -> dict[str, str]:
    if dv is None:
        return {"value": "", "numerator": "", "denominator": ""}

    def text(n: int | None, grouped: bool = False) -> str:
        if n is None:
            return ""
        return fmt_number(n).replace(",", ".") if grouped else str(n)

    return {"value": text(dv.value, indicator.measure == "amount"),
            "numerator": text(dv.numerator), "denominator": text(dv.denominator)}


def _field_url(unit: Unit, period: str, indicator: Indicator) -> str:
    return f"/entry/{unit.code}/{period}/{indicator.code}"


def _field_view(session: Session, unit: Unit, period: str, indicator: Indicator,
                current: DataValue | None, previous: DataValue | None, read_only: bool) -> FieldView:
    return FieldView(indicator, _field_url(unit, period, indicator), current, previous,
                     current.version if current else 0, _inputs_from(indicator, current),
                     read_only=read_only)


def unit_label(session: Session, unit: Unit) -> str:
    """ "Xã Xuân Long", "Thôn 1": the kind's name before the unit's own name (kind names are
    read once per process, see `app.units.names`)."""
    from app.units.names import unit_label as label

    return label(unit, session)


def _user_name(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id else None
    return user.full_name if user else "—"


def _mark_conflict(session: Session, view: FieldView, mine: Figure | None,
                   theirs: DataValue) -> None:
    """Show both figures; the field keeps my typed figure and now carries their version."""
    view.current, view.version = theirs, theirs.version
    view.conflict_text = display.entered_text(view.indicator, snapshot(theirs))
    view.conflict_who = _user_name(session, theirs.updated_by_id)
    view.conflict_at = theirs.updated_at
    view.mine_text = display.entered_text(view.indicator, None if mine is None else {
        "value": mine.value, "numerator": mine.numerator, "denominator": mine.denominator})


def _load(session: Session, principal: Principal, unit_code: str, period: str
          ) -> tuple[Program, Unit]:
    unit = readable_unit(session, principal, unit_code, year=int(period[:4]) if period[:4].isdigit() else None)
    program = queries.program_for(session, period)
    if program is None:
        raise Problem(404, "Not Found", "No program.")
    return program, unit


def _period_error(request: Request, exc: EntryError) -> HTMLResponse:
    return render(request, "error.html", {"status": 400, "title": _("The request is not valid"),
                                           "detail": exc.text()}, status_code=400)


def _this_and_last_month(session: Session, unit: Unit, period: str
                         ) -> tuple[dict[int, DataValue], dict[int, DataValue]]:
    """The unit's figures of the month and of the month before, by indicator id (one read)."""
    prev_period = queries.previous_period(period)
    rows = session.exec(select(DataValue).where(
        DataValue.unit_id == unit.id, DataValue.period.in_([period, prev_period or period]))).all()
    current = {dv.indicator_id: dv for dv in rows if dv.period == period}
    previous = {dv.indicator_id: dv for dv in rows if dv.period == prev_period}
    return current, previous


def _read_only(session: Session, principal: Principal, unit: Unit, period: str) -> bool:
    """The month's figures are read-only: submitted, or not the caller's to write."""
    if not principal.can_write(unit):
        return True
    submission = queries.get_submission(session, unit.id, period)
    return submission is not None and submission.status == "submitted"


def _page_context(session: Session, principal: Principal, program: Program, unit: Unit,
                  period: str, views: list[FieldView] | None = None) -> dict[str, Any]:
    submission = queries.get_submission(session, unit.id, period)
    submitted = submission is not None and submission.status == "submitted"
    read_only = submitted or not principal.can_write(unit)
    if views is None:
        current, previous = _this_and_last_month(session, unit, period)
        views = [_field_view(session, unit, period, ind, current.get(ind.id), previous.get(ind.id),
                             read_only)
                 for ind in queries.entry_indicators(session, program, unit)]
    parent = session.get(Unit, unit.parent_id) if unit.parent_id else None
    child = next(iter(tree.children(session, unit, month_last_day(period), limit=1)), None)
    has_villages = child is not None and principal.can_write(child)
    return {
        "unit": unit, "period": period, "program": program, "fields": views,
        "periods": rules.program_periods(program), "submission": submission,
        "submitted": submitted, "read_only": read_only,
        "submitted_by": _user_name(session, submission.submitted_by_id) if submission else None,
        "reopened_by": _user_name(session, submission.reopened_by_id) if submission else None,
        "can_submit": not submitted and principal.can_write(unit),
        "can_reopen": submitted and principal.can_reopen(unit),
        "parent": parent if parent is not None and principal.can_read(parent) else None,
        "unit_label": unit_label(session, unit),
        "parent_label": unit_label(session, parent) if parent is not None else "",
        "has_villages": has_villages,
        "filled": sum(1 for v in views if v.current is not None),
        "month": rules.month_of(period) if rules.parse_period(period) else None,
        "years": [p.year for p in years.readable_programs(session, principal)],  # the year switcher
    }


@router.get("/entry")
def entry_start(session: SessionDep, principal: WebUser, unit: str | None = None,
                period: str | None = None, view: str | None = None, year: str | None = None) -> RedirectResponse:
    """The user's own unit (or `unit`), at `period` or the earliest month not yet submitted (of
    `year`'s program, where the caller's place in that year's tree is)."""
    asked = (period or year or "")[:4]
    wanted = int(asked) if asked.isdigit() else None
    shown = years.readable_program(session, principal, wanted) if wanted else None
    home = principal.home_in(session.get_one(Unit, shown.root_unit_id)) if shown else None
    target = readable_unit(session, principal, unit, year=wanted) if unit else home or principal.unit
    program = shown or queries.program_for(session, period or "", target)
    if program is None:
        raise Problem(404, "Not Found", "No program.")
    month = period if period else queries.default_period(session, program, target)
    suffix = "/villages" if view == "villages" else ""
    return RedirectResponse(f"/entry/{target.code}/{month}{suffix}", status_code=303)


@router.get("/entry/{unit_code}/{period}")
def entry_page(request: Request, session: SessionDep, principal: WebUser, unit_code: str,
               period: str) -> Response:
    """The month's form. Its title and content are kept per figures' generation and reader's
    rights (`app.core.generation`): a reader pays the session check, the token and the base
    template; the CSRF token, the one part of its own, is put in as it is served."""
    stamp = generation.token(session)  # before anything the page shows
    saved = request.query_params.get("saved") == "1"
    user = principal.user
    key = ("entry", unit_code, period, saved, principal.unit.path, principal.role,
           bool(user and user.can_edit_below), today_vn(), current_language())
    try:
        title, content = generation.pages.get_or_build(
            stamp, key, lambda: _entry_parts(session, principal, unit_code, period, saved))
    except _PeriodRefused as refused:
        return _period_error(request, refused.error)
    token = csrf_token(request)
    return render(request, "values/entry_kept.html",
                  {"title": title, "content": Markup(content.replace(_CSRF_SLOT, token))})  # noqa: S704 -- our own rendered page, kept


# Stands for the reader's CSRF token in a kept page; replaced as the page is served.
_CSRF_SLOT = "csrf-" + secrets.token_hex(16)


def _entry_parts(session: Session, principal: Principal, unit_code: str, period: str,
                 saved: bool) -> tuple[str, str]:
    program, unit = _load(session, principal, unit_code, period)
    try:
        check_period(program, period)
    except EntryError as e:
        raise _PeriodRefused(e) from None
    ctx = {**_page_context(session, principal, program, unit, period), "saved": saved,
           "request": None, "csrf_token": lambda _request: _CSRF_SLOT}
    return (render_block(templates.env, "values/entry.html", "title", **ctx),
            render_block(templates.env, "values/entry.html", "content", **ctx))


class _PeriodRefused(Exception):
    """A month the program does not have: answered 400 by the route, never kept."""

    def __init__(self, error: EntryError) -> None:
        self.error = error


async def posted_form(request: Request) -> FormData:
    """The posted form, read on the event loop so the save itself runs in a thread (plain def)."""
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]


@router.post("/entry/{unit_code}/{period}")
def entry_page_post(request: Request, session: SessionDep, principal: WebUser, form: PostedForm,
                    unit_code: str, period: str) -> Response:
    """The whole page as one form: all figures saved, or none (errors shown in place)."""
    return _save_page(request, session, principal, unit_code, period, form)


def _save_page(request: Request, session: Session, principal: Principal, unit_code: str,
               period: str, form: Any) -> Response:
    program, unit = _load(session, principal, unit_code, period)
    writable_unit(session, principal, unit_code)
    indicators = queries.entry_indicators(session, program, unit)
    codes = {i.code for i in indicators}
    page_errors: list[str] = []
    # A figure for an indicator this level does not enter: refuse the page, say why.
    posted = {k.split(".", 1)[0] for k in form if "." in k}
    by_code = {i.code: i for i in queries.all_indicators(session, program)}
    for code in sorted(posted - codes):
        if code in by_code:
            try:
                check_figure(program, unit, by_code[code], period, Figure())
            except EntryError as e:
                page_errors.append(e.text())
        else:
            page_errors.append(_("There is no indicator {code} in the program.", code=code[:20]))
    fields = [service.read_field(i, form) for i in indicators]
    saved = False
    try:
        if not page_errors:
            saved = service.save_fields(session, principal, program, unit, period, fields)
    except EntryError as e:
        page_errors.append(e.text())
    if saved:
        session.commit()
        return RedirectResponse(f"/entry/{unit.code}/{period}?saved=1", status_code=303)
    session.rollback()
    try:
        check_period(program, period)
    except EntryError as e:
        return render(request, "error.html", {"status": 422, "title": _("The request is not valid"),
                                               "detail": e.text()}, status_code=422)
    views = _views_after_post(session, unit, period, fields)
    ctx = _page_context(session, principal, program, unit, period, views)
    return render(request, "values/entry.html", {**ctx, "saved": False, "page_errors": page_errors,
                                                 "not_saved": True}, status_code=422)


def _views_after_post(session: Session, unit: Unit, period: str,
                      fields: list[service.FieldInput]) -> list[FieldView]:
    current = queries.values_for(session, unit.id, period)
    prev_period = queries.previous_period(period)
    previous = queries.values_for(session, unit.id, prev_period) if prev_period else {}
    views = []
    for f in fields:
        ind = f.indicator
        view = _field_view(session, unit, period, ind, current.get(ind.id), previous.get(ind.id), False)
        # Keep what was typed; keep the version the user saw unless a conflict is shown.
        if f.present:
            view.inputs = {k: str(v) if v is not None else "" for k, v in f.raw.items()}
            view.version = f.expected_version if f.expected_version is not None else view.version
        if f.error is not None:
            view.error, view.error_field = f.error.text(), f.error.field
        if f.conflict is not None:
            _mark_conflict(session, view, f.figure, f.conflict)
        views.append(view)
    return views


@router.post("/entry/{unit_code}/{period}/submit")
def submit(request: Request, session: SessionDep, principal: WebUser, unit_code: str,
           period: str) -> Response:
    program, unit = _load(session, principal, unit_code, period)
    writable_unit(session, principal, unit_code)
    try:
        service.submit_period(session, principal, program, unit, period)
    except EntryError as e:
        session.rollback()
        return _period_error(request, e)
    session.commit()
    return RedirectResponse(f"/entry/{unit.code}/{period}", status_code=303)


@router.post("/entry/{unit_code}/{period}/reopen")
def reopen(request: Request, session: SessionDep, principal: WebUser, unit_code: str,
           period: str) -> Response:
    program, unit = _load(session, principal, unit_code, period)
    try:
        service.reopen_period(session, principal, program, unit, period)
    except PermissionError:
        raise Problem(403, _("Not allowed"), _("Only the level above can reopen a submitted month.")) from None
    except EntryError as e:
        session.rollback()
        return _period_error(request, e)
    session.commit()
    return RedirectResponse(f"/entry/{unit.code}/{period}", status_code=303)


def _indicator(session: Session, program: Program, code: str) -> Indicator:
    for ind in queries.all_indicators(session, program):
        if ind.code == code:
            return ind
    raise Problem(404, "Not Found", f"No indicator {code!r} in the program.")


def _field_response(request: Request, view: FieldView, status: int = 200,
                    session: Session | None = None, program: Program | None = None,
                    unit: Unit | None = None, period: str = "") -> Response:
    ctx: dict[str, Any] = {"f": view}
    if session is not None and program is not None and unit is not None:
        # Keep the page's "n of m filled" line current (an out-of-band swap).
        ids = {i.id for i in queries.entry_indicators(session, program, unit)}
        ctx["oob_filled"] = len(ids & set(queries.values_for(session, unit.id, period)))
        ctx["oob_total"] = len(ids)
    return render(request, "values/field.html", ctx, status_code=status)


@router.get("/entry/{unit_code}/{period}/{code}")
def field_get(request: Request, session: SessionDep, principal: WebUser, unit_code: str,
              period: str, code: str) -> Response:
    """One field as stored now (htmx: "take theirs"); without htmx, the whole page."""
    program, unit = _load(session, principal, unit_code, period)
    if not is_htmx(request):
        return RedirectResponse(f"/entry/{unit.code}/{period}", status_code=303)
    indicator = _indicator(session, program, code)
    try:
        check_period(program, period)
        check_figure(program, unit, indicator, period, Figure())
    except EntryError as e:
        return _period_error(request, e)
    current, previous = (d.get(indicator.id) for d in _this_and_last_month(session, unit, period))
    return _field_response(request, _field_view(session, unit, period, indicator, current, previous,
                                                _read_only(session, principal, unit, period)))


@router.post("/entry/{unit_code}/{period}/{code}")
def field_post(request: Request, session: SessionDep, principal: WebUser, form: PostedForm,
               unit_code: str, period: str, code: str) -> Response:
    """Save one figure: 200 with "saved", 422 with the error in place, 409 with both figures.

    The answer is built before the commit, so once the figure is committed nothing is left that
    could fail and answer 500 (no further database work)."""
    program, unit = _load(session, principal, unit_code, period)
    if not principal.can_write(unit):  # what `writable_unit` says, without reading the unit again
        writable_unit(session, principal, unit_code)
    indicators = queries.all_indicators(session, program)
    indicator = next((i for i in indicators if i.code == code), None)
    if indicator is None:
        raise Problem(404, "Not Found", f"No indicator {code!r} in the program.")
    if not is_htmx(request):
        # Without JavaScript the field posts as part of the page.
        return _save_page(request, session, principal, unit_code, period, form)
    f = service.read_field(indicator, form)
    prev_period = queries.previous_period(period)
    previous = (queries.get_value(session, unit.id, indicator.id, prev_period)
                if prev_period and rules.parse_period(period) else None)
    fig: Figure | None = None
    try:
        fig = parse_figure(indicator, f.raw)
        result = service.save_value(session, principal, program, unit, indicator, period, fig,
                                    expected_version=f.expected_version, via="web")
    except (EntryError, Conflict) as e:
        session.rollback()
        current = queries.get_value(session, unit.id, indicator.id, period)
        view = _field_view(session, unit, period, indicator, current, previous, False)
        view.inputs = {k: str(v) if v is not None else "" for k, v in f.raw.items()}
        if f.expected_version is not None:
            view.version = f.expected_version
        if isinstance(e, Conflict):
            _mark_conflict(session, view, fig, e.current)
            return _field_response(request, view, 409)
        view.error, view.error_field = e.text(), e.field
        return _field_response(request, view, 422)
    saved = _field_view(session, unit, period, indicator, result.data_value, previous, False)
    saved.saved = True
    ids = {i.id for i in indicators if rules.enters(i, unit.depth)}  # the level's, as entry_indicators
    filled = len(ids & set(queries.values_for(session, unit.id, period)))
    session.expire_on_commit = False  # the answer shows the objects as committed, unreloaded
    session.commit()
    return render(request, "values/field.html", {"f": saved, "oob_filled": filled, "oob_total": len(ids)})


@router.get("/entry/{unit_code}/{period}/{code}/history")
def field_history(request: Request, session: SessionDep, principal: WebUser, unit_code: str,
                  period: str, code: str) -> Response:
    """Who changed this figure, when, old → new, via web, API or import."""
    program, unit = _load(session, principal, unit_code, period)
    indicator = _indicator(session, program, code)
    rows = audit_service.history(session, unit.id, indicator.id, period)
    ctx = {"unit": unit, "period": period, "indicator": indicator, "rows": rows,
           "text": lambda snap: display.entered_text(indicator, snap)}
    return render(request, "values/history.html", ctx, block="history")
