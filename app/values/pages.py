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

from app.accounts.deps import WebUser, csrf_token, verify_csrf
from app.accounts.models import User
from app.audit import service as audit_service
from app.core import generation
from app.core.db import SessionDep
from app.core.i18n import _, current_language, fmt_number
from app.core.problems import Problem
from app.core.templates import is_htmx, render, templates
from app.program import display, rules, years
from app.program.models import Indicator
from app.program.service import today_vn
from app.rollup import service as rollup
from app.units import tree
from app.units.deps import readable_unit
from app.units.models import Unit
from app.units.time import month_last_day
from app.values import queries, service
from app.values.entry_request import EntryDep, EntryRequest
from app.values.models import DataValue
from app.values.rules import (
    Conflict,
    EntryError,
    Figure,
    check_figure,
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


def _period_error(request: Request, exc: EntryError) -> HTMLResponse:
    return render(request, "error.html", {"status": 400, "title": _("The request is not valid"),
                                           "detail": exc.text()}, status_code=400)


def _this_and_last_month(er: EntryRequest, *, populate_existing: bool = False
                         ) -> tuple[dict[int, DataValue], dict[int, DataValue]]:
    """The unit's figures of the month and of the month before, by indicator id (one read).
    `populate_existing`: as committed now, even if the session holds an older copy (a save
    reads under its lock, see `app.values.service`)."""
    period, prev_period = er.period, er.previous
    q = select(DataValue).where(DataValue.unit_id == er.unit.id,
                                DataValue.period.in_([period, prev_period or period]))  # type: ignore[attr-defined]
    rows = er.session.exec(q.execution_options(populate_existing=populate_existing)).all()
    current = {dv.indicator_id: dv for dv in rows if dv.period == period}
    previous = {dv.indicator_id: dv for dv in rows if dv.period == prev_period}
    return current, previous


def _read_only(er: EntryRequest) -> bool:
    """The month's figures are read-only: submitted, not the caller's to write, or the year closed."""
    if not er.can_write or not er.year_open:
        return True
    submission = queries.get_submission(er.session, er.unit.id, er.period)
    return submission is not None and submission.status == "submitted"


def _page_context(er: EntryRequest, views: list[FieldView] | None = None) -> dict[str, Any]:
    session, principal, program, unit, period = er.session, er.principal, er.program, er.unit, er.period
    submission = queries.get_submission(session, unit.id, period)
    submitted = submission is not None and submission.status == "submitted"
    year_open = er.year_open
    read_only = submitted or not er.can_write or not year_open
    if views is None:
        current, previous = _this_and_last_month(er)
        views = [_field_view(session, unit, period, ind, current.get(ind.id), previous.get(ind.id),
                             read_only)
                 for ind in er.entered_here()]
    parent = session.get(Unit, unit.parent_id) if unit.parent_id else None
    child = next(iter(tree.children(session, unit, month_last_day(period), limit=1)), None)
    has_villages = child is not None and principal.can_write(child)
    return {
        "unit": unit, "period": period, "program": program, "fields": views,
        "periods": rules.program_periods(program), "submission": submission,
        "submitted": submitted, "read_only": read_only,
        "submitted_by": _user_name(session, submission.submitted_by_id) if submission else None,
        "reopened_by": _user_name(session, submission.reopened_by_id) if submission else None,
        "can_submit": not submitted and er.can_write and year_open,
        "can_reopen": submitted and principal.can_reopen(unit) and year_open,
        "year_open": year_open,
        "parent": parent if parent is not None and principal.can_read(parent) else None,
        "unit_label": unit_label(session, unit),
        "parent_label": unit_label(session, parent) if parent is not None else "",
        "has_villages": has_villages,
        "filled": sum(1 for v in views if v.current is not None),
        "month": er.month[1] if er.month else None,
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
def entry_page(request: Request, session: SessionDep, principal: WebUser, er: EntryDep,
               unit_code: str, period: str) -> Response:
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
            stamp, key, lambda: _entry_parts(er, saved))
    except _PeriodRefused as refused:
        return _period_error(request, refused.error)
    token = csrf_token(request)
    return render(request, "values/entry_kept.html",
                  {"title": title, "content": Markup(content.replace(_CSRF_SLOT, token))})  # noqa: S704 -- our own rendered page, kept


# Stands for the reader's CSRF token in a kept page; replaced as the page is served.
_CSRF_SLOT = "csrf-" + secrets.token_hex(16)


def _entry_parts(er: EntryRequest, saved: bool) -> tuple[str, str]:
    er.resolve()
    try:
        er.check_period()
    except EntryError as e:
        raise _PeriodRefused(e) from None
    ctx = {**_page_context(er), "saved": saved,
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
def entry_page_post(request: Request, er: EntryDep, form: PostedForm) -> Response:
    """The whole page as one form: all figures saved, or none (errors shown in place)."""
    return _save_page(request, er, form)


def _save_page(request: Request, er: EntryRequest, form: Any) -> Response:
    program, unit = er.resolve()
    er.require_write()
    session, principal, period = er.session, er.principal, er.period
    indicators = er.entered_here()
    codes = {i.code for i in indicators}
    page_errors: list[str] = []
    # A figure for an indicator this level does not enter: refuse the page, say why.
    posted = {k.split(".", 1)[0] for k in form if "." in k}
    by_code = {i.code: i for i in er.indicators}
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
        er.check_period()
    except EntryError as e:
        return render(request, "error.html", {"status": 422, "title": _("The request is not valid"),
                                               "detail": e.text()}, status_code=422)
    views = _views_after_post(er, fields)
    ctx = _page_context(er, views)
    return render(request, "values/entry.html", {**ctx, "saved": False, "page_errors": page_errors,
                                                 "not_saved": True}, status_code=422)


def _views_after_post(er: EntryRequest, fields: list[service.FieldInput]) -> list[FieldView]:
    session, unit, period = er.session, er.unit, er.period
    current, previous = _this_and_last_month(er)
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
def submit(request: Request, session: SessionDep, principal: WebUser, er: EntryDep,
           period: str) -> Response:
    program, unit = er.resolve()
    er.require_write()
    try:
        service.submit_period(session, principal, program, unit, period)
    except EntryError as e:
        session.rollback()
        return _period_error(request, e)
    session.commit()
    return RedirectResponse(f"/entry/{unit.code}/{period}", status_code=303)


@router.post("/entry/{unit_code}/{period}/reopen")
def reopen(request: Request, session: SessionDep, principal: WebUser, er: EntryDep,
           period: str) -> Response:
    program, unit = er.resolve()
    try:
        service.reopen_period(session, principal, program, unit, period)
    except PermissionError:
        raise Problem(403, _("Not allowed"), _("Only the level above can reopen a submitted month.")) from None
    except EntryError as e:
        session.rollback()
        return _period_error(request, e)
    session.commit()
    return RedirectResponse(f"/entry/{unit.code}/{period}", status_code=303)


@router.get("/entry/{unit_code}/{period}/{code}")
def field_get(request: Request, er: EntryDep, code: str) -> Response:
    """One field as stored now (htmx: "take theirs"); without htmx, the whole page."""
    program, unit = er.resolve()
    if not is_htmx(request):
        return RedirectResponse(f"/entry/{unit.code}/{er.period}", status_code=303)
    indicator = er.indicator(code)
    try:
        er.check_period()
        check_figure(program, unit, indicator, er.period, Figure())
    except EntryError as e:
        return _period_error(request, e)
    current, previous = (d.get(indicator.id) for d in _this_and_last_month(er))
    view = _field_view(er.session, unit, er.period, indicator, current, previous, _read_only(er))
    return render(request, "values/field.html", {"f": view})


@router.post("/entry/{unit_code}/{period}/{code}")
def field_post(request: Request, er: EntryDep, form: PostedForm, code: str) -> Response:
    """Save one figure: 200 with "saved", 422 with the error in place, 409 with both figures.

    One read of the unit, the program and its indicators (`EntryRequest`), and one of the
    figures: under the figure's lock, the month and the month before, handed to `save_value`
    as the row it would otherwise read again. The answer is built before the commit, so once
    the figure is committed nothing is left that could fail and answer 500."""
    program, unit = er.resolve()
    er.require_write()
    indicator = er.indicator(code)
    if not is_htmx(request):
        # Without JavaScript the field posts as part of the page.
        return _save_page(request, er, form)
    session, period = er.session, er.period
    f = service.read_field(indicator, form)
    rollup.lock_figures(session, [(unit.id, indicator.id)])  # before reading, as `save_value` would
    current, last_month = _this_and_last_month(er, populate_existing=True)
    previous = last_month.get(indicator.id)
    fig: Figure | None = None
    try:
        fig = parse_figure(indicator, f.raw)
        result = service.save_value(session, er.principal, program, unit, indicator, period, fig,
                                    expected_version=f.expected_version, via="web",
                                    existing=current.get(indicator.id))
    except (EntryError, Conflict) as e:
        session.rollback()
        return _field_refused(request, er, indicator, f, fig, previous, e)
    saved = _field_view(session, unit, period, indicator, result.data_value, previous, False)
    saved.saved = True
    ids = {i.id for i in er.entered_here()}
    filled = (set(current) - {indicator.id}) | ({indicator.id} if result.data_value is not None else set())
    session.expire_on_commit = False  # the answer shows the objects as committed, unreloaded
    session.commit()
    return render(request, "values/field.html", {"f": saved, "oob_filled": len(ids & filled),
                                                 "oob_total": len(ids)})


def _field_refused(request: Request, er: EntryRequest, indicator: Indicator, f: service.FieldInput,
                   fig: Figure | None, previous: DataValue | None, e: EntryError | Conflict) -> Response:
    """The field with my typed figure kept: 409 with both figures, or 422 with the error."""
    current = queries.get_value(er.session, er.unit.id, indicator.id, er.period)
    view = _field_view(er.session, er.unit, er.period, indicator, current, previous, False)
    view.inputs = {k: str(v) if v is not None else "" for k, v in f.raw.items()}
    if f.expected_version is not None:
        view.version = f.expected_version
    if isinstance(e, Conflict):
        _mark_conflict(er.session, view, fig, e.current)
        return render(request, "values/field.html", {"f": view}, status_code=409)
    view.error, view.error_field = e.text(), e.field
    return render(request, "values/field.html", {"f": view}, status_code=422)


@router.get("/entry/{unit_code}/{period}/{code}/history")
def field_history(request: Request, er: EntryDep, period: str, code: str) -> Response:
    """Who changed this figure, when, old → new, via web, API or import."""
    _program, unit = er.resolve()
    indicator = er.indicator(code)
    rows = audit_service.history(er.session, unit.id, indicator.id, period)
    ctx = {"unit": unit, "period": period, "indicator": indicator, "rows": rows,
           "text": lambda snap: display.entered_text(indicator, snap)}
    return render(request, "values/history.html", ctx, block="history")
