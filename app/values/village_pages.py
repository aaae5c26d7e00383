"""A commune's villages on one page, and the step before submitting a month.

One page, villages × the indicators entered at village level: nine villages used to be
eighteen page loads on a weak line. Each cell saves as it is left (htmx, one figure through
`service.save_value`, like a field of a unit's own page); without JavaScript the page is one
form saved all-or-nothing: every village's figures are checked first and, if any is invalid or
in conflict, nothing is written and the page comes back with every typed value and the message
in place. A submitted village is shown read-only and not posted.

Submitting a month cannot be undone by the unit itself, so it takes a second step that lists
what is still empty (the unit's own indicators and, for a commune, villages not entered).
Thin routes: the rules live in `app.values.service`; the warnings in `app.values.checks`.
"""
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, select

from app.accounts.deps import Principal, verify_csrf
from app.core.db import SessionDep
from app.core.problems import Problem
from app.core.templates import env, is_htmx, render
from app.program import closing, rules
from app.program.models import Indicator
from app.rollup import service as rollup
from app.units import tree
from app.units.deps import readable_unit
from app.units.models import Unit
from app.units.names import unit_label
from app.units.time import month_last_day
from app.values import queries, service
from app.values.entry_request import EntryDep, EntryRequest
from app.values.models import DataValue
from app.values.pages import FieldView, PostedForm, _inputs_from, _mark_conflict, _period_error
from app.values.rules import Conflict, EntryError, Figure, check_figure, parse_figure, snapshot, year_open_for

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])


class Prefixed:
    """A form seen through one village's prefix: "04720-01.CT07.value" read as "CT07.value"."""

    def __init__(self, form: Any, prefix: str) -> None:
        self._data = {k[len(prefix):]: v for k, v in form.items() if k.startswith(prefix)}

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def keys(self):
        return self._data.keys()


@dataclass
class CellView(FieldView):
    """One village's figure for one indicator: a field whose inputs carry the village's code."""

    village: Unit | None = None

    @property
    def prefix(self) -> str:
        return f"{self.village.code}." if self.village else ""

    @property
    def dom_id(self) -> str:
        return f"v{self.village.code}-{self.code}" if self.village else self.code


@dataclass
class VillageRow:
    village: Unit
    label: str
    cells: list[CellView]
    submitted: bool
    writable: bool

    @property
    def filled(self) -> int:
        return sum(1 for c in self.cells if c.current is not None)


@dataclass
class Grid:
    indicators: list[Indicator]
    rows: list[VillageRow] = field(default_factory=list)


def _cell_url(commune: Unit, period: str, village: Unit, indicator: Indicator) -> str:
    return f"/entry/{commune.code}/{period}/villages/{village.code}/{indicator.code}"


def _cell(commune: Unit, period: str, village: Unit, indicator: Indicator, current: DataValue | None,
          previous: DataValue | None, read_only: bool) -> CellView:
    return CellView(indicator, _cell_url(commune, period, village, indicator), current, previous,
                    current.version if current else 0, _inputs_from(indicator, current),
                    read_only=read_only, village=village)


def _values_by_unit(session: Session, unit_ids: list[int], period: str | None
                    ) -> dict[tuple[int, int], DataValue]:
    if not period or not unit_ids:
        return {}
    rows = session.exec(select(DataValue).where(DataValue.unit_id.in_(unit_ids),  # type: ignore[attr-defined]
                                                DataValue.period == period)).all()
    return {(dv.unit_id, dv.indicator_id): dv for dv in rows}


def build_grid(er: EntryRequest) -> Grid:
    """The commune's villages in order, each with a cell per village-level indicator."""
    session, principal, program, commune, period = er.session, er.principal, er.program, er.unit, er.period
    villages = tree.children(session, commune, month_last_day(period))
    if not villages:
        return Grid([])
    indicators = er.entered_here(villages[0])
    ids = [v.id for v in villages if v.id is not None]
    current = _values_by_unit(session, ids, period)
    previous = _values_by_unit(session, ids, er.previous)
    states = {s.unit.id: s for s in queries.village_states(session, program, commune, period)}
    grid = Grid(indicators)
    reopened = closing.reopened_unit_ids(session, program) if program.closed_at else frozenset()
    for v in villages:
        sub = states[v.id].submission if v.id in states else None
        submitted = sub is not None and sub.status == "submitted"
        writable = principal.can_write(v)
        closed = not year_open_for(program, v, reopened)  # a closed year: read-only (save refused)
        cells = [_cell(commune, period, v, i, current.get((v.id, i.id)), previous.get((v.id, i.id)),
                       submitted or not writable or closed) for i in indicators]
        grid.rows.append(VillageRow(v, unit_label(v, session), cells, submitted, writable))
    return grid


def _page(request: Request, er: EntryRequest, grid: Grid | None = None, status: int = 200,
          **extra: Any) -> Response:
    session, program, unit, period = er.session, er.program, er.unit, er.period
    if unit.depth != 2:
        # Above a commune the units below are communes with pages of their own: a list.
        return render(request, "values/villages.html", {
            "unit": unit, "period": period, "periods": rules.program_periods(program),
            "states": queries.village_states(session, program, unit, period),
            "month": rules.month_of(period), "unit_label": unit_label(unit, session)})
    grid = grid or build_grid(er)
    return render(request, "values/village_grid.html", {
        "unit": unit, "period": period, "program": program, "grid": grid,
        "periods": rules.program_periods(program), "month": rules.month_of(period),
        "unit_label": unit_label(unit, session),
        "can_write": any(r.writable and not r.submitted for r in grid.rows)
        and closing.is_open_for(session, program, unit), **extra},
        status_code=status)


@router.get("/entry/{unit_code}/{period}/villages")
def villages_page(request: Request, er: EntryDep) -> Response:
    er.resolve()
    try:
        er.check_period()
    except EntryError as e:
        return _period_error(request, e)
    return _page(request, er, saved=request.query_params.get("saved") == "1")


@router.post("/entry/{unit_code}/{period}/villages")
def villages_post(request: Request, er: EntryDep, form: PostedForm) -> Response:
    """Every village's figures as one form: all saved, or none (errors shown in place)."""
    return _save_grid(request, er, form)


def _save_grid(request: Request, er: EntryRequest, form: Any) -> Response:
    program, unit = er.resolve()
    er.require_write()
    session, principal, period = er.session, er.principal, er.period
    try:
        er.check_period()
    except EntryError as e:
        return _period_error(request, e)
    grid = build_grid(er)
    posted: list[tuple[VillageRow, list[service.FieldInput]]] = []
    ok, page_errors = True, []
    for row in grid.rows:
        prefix = f"{row.village.code}."
        if not any(k.startswith(prefix) for k in form):
            continue
        if not row.writable:
            raise Problem(403, "Forbidden", f"You may read unit {row.village.code!r} but not change its data.")
        fields = [service.read_field(i, Prefixed(form, prefix)) for i in grid.indicators]
        posted.append((row, fields))
        try:
            ok = service.save_fields(session, principal, program, row.village, period, fields) and ok
        except EntryError as e:
            ok = False
            page_errors.append(f"{row.label}: {e.text()}")
    if ok:
        session.commit()
        return RedirectResponse(f"/entry/{unit.code}/{period}/villages?saved=1", status_code=303)
    session.rollback()
    grid = build_grid(er)
    by_village = {r.village.id: r for r in grid.rows}
    for row, fields in posted:
        shown = by_village[row.village.id]
        for cell, f in zip(shown.cells, fields, strict=True):  # both follow grid.indicators
            if f.present:
                cell.inputs = {k: str(v) if v is not None else "" for k, v in f.raw.items()}
                if f.expected_version is not None:
                    cell.version = f.expected_version
            if f.error is not None:
                cell.error, cell.error_field = f.error.text(), f.error.field
            if f.conflict is not None:
                _mark_conflict(session, cell, f.figure, f.conflict)
    return _page(request, er, grid, status=422, not_saved=True, page_errors=page_errors)


def _village_of(session: Session, principal: Principal, commune: Unit, village_code: str) -> Unit:
    village = readable_unit(session, principal, village_code)
    if village.parent_id != commune.id:
        raise Problem(404, "Not Found", f"No unit with code {village_code!r} below {commune.code!r}.")
    return village


def _cell_response(request: Request, cell: CellView, status: int = 200) -> Response:
    return render(request, "values/cell.html", {"c": cell}, status_code=status)


def _village_figures(er: EntryRequest, village: Unit, indicator: Indicator, *, locked: bool = False
                     ) -> tuple[DataValue | None, DataValue | None]:
    """The village's figure of the month and of the month before (one read; `locked`: as
    committed now, read under the figure's lock by a save)."""
    months = [er.period, er.previous] if er.previous else [er.period]
    rows = er.session.exec(select(DataValue).where(
        DataValue.unit_id == village.id, DataValue.indicator_id == indicator.id,
        DataValue.period.in_(months)).execution_options(populate_existing=locked)).all()  # type: ignore[attr-defined]
    by_month = {dv.period: dv for dv in rows}
    return by_month.get(er.period), by_month.get(er.previous) if er.previous else None


@router.get("/entry/{unit_code}/{period}/villages/{village_code}/{code}")
def cell_get(request: Request, er: EntryDep, village_code: str, code: str) -> Response:
    """One cell as stored now (htmx: "take theirs"); without htmx, the whole page."""
    program, commune = er.resolve()
    session, principal, period = er.session, er.principal, er.period
    if not is_htmx(request):
        return RedirectResponse(f"/entry/{commune.code}/{period}/villages", status_code=303)
    village = _village_of(session, principal, commune, village_code)
    indicator = er.indicator(code)
    try:
        check_figure(program, village, indicator, period, Figure())
    except EntryError as e:
        return _period_error(request, e)
    read_only = queries.is_submitted(session, village.id, period) or not principal.can_write(village) \
        or not closing.is_open_for(session, program, village)
    current, previous = _village_figures(er, village, indicator)
    return _cell_response(request, _cell(commune, period, village, indicator, current, previous, read_only))


@router.post("/entry/{unit_code}/{period}/villages/{village_code}/{code}")
def cell_post(request: Request, er: EntryDep, form: PostedForm, village_code: str, code: str) -> Response:
    """Save one cell: 200 with "saved", 422 with the error in place, 409 with both figures."""
    program, commune = er.resolve()
    if not is_htmx(request):
        return _save_grid(request, er, form)
    er.require_write()
    session, principal, period = er.session, er.principal, er.period
    village = _village_of(session, principal, commune, village_code)
    if not principal.can_write(village):
        raise Problem(403, "Forbidden", f"You may read unit {village_code!r} but not change its data.")
    indicator = er.indicator(code)
    f = service.read_field(indicator, Prefixed(form, f"{village.code}."))
    rollup.lock_figures(session, [(village.id, indicator.id)])  # before reading, as `save_value` would
    current, previous = _village_figures(er, village, indicator, locked=True)
    cell = _cell(commune, period, village, indicator, current, previous, False)
    cell.inputs = {k: str(v) if v is not None else "" for k, v in f.raw.items()}
    if f.expected_version is not None:
        cell.version = f.expected_version
    fig: Figure | None = None
    try:
        fig = parse_figure(indicator, f.raw)
        result = service.save_value(session, principal, program, village, indicator, period, fig,
                                    expected_version=f.expected_version, via="web", existing=current)
    except EntryError as e:
        session.rollback()
        cell.error, cell.error_field = e.text(), e.field
        return _cell_response(request, cell, 422)
    except Conflict as c:
        session.rollback()
        _mark_conflict(session, cell, fig, c.current)
        return _cell_response(request, cell, 409)
    # The answer is built before the commit, so a save that committed needs nothing more from
    # the database and cannot answer 500 afterwards.
    saved = _cell(commune, period, village, indicator, result.data_value, previous, False)
    saved.saved = True
    response = _cell_response(request, saved)
    session.commit()
    return response


# --- submitting a month ---------------------------------------------------------------------------


@router.get("/entry/{unit_code}/{period}/submit")
def submit_confirm(request: Request, session: SessionDep, er: EntryDep, period: str) -> Response:
    """The step before submitting: what is still empty, and one button that says what it does."""
    program, unit = er.resolve()
    er.require_write()
    try:
        er.check_period()
    except EntryError as e:
        return _period_error(request, e)
    values = queries.values_for(session, unit.id, period)
    indicators = er.entered_here()
    states = queries.village_states(session, program, unit, period)
    return render(request, "values/submit.html", {
        "unit": unit, "period": period, "program": program, "month": rules.month_of(period),
        "unit_label": unit_label(unit, session),
        "submitted": queries.is_submitted(session, unit.id, period),
        "empty": [i for i in indicators if i.id not in values], "total": len(indicators),
        "not_entered": [s for s in states if s.filled == 0],
        "incomplete": [s for s in states if 0 < s.filled < s.total],
        "below_label": (lambda u: unit_label(u, session)),
    })


def field_warnings(view: FieldView) -> list[Any]:
    """The warnings on a field's stored figure against last month's (template global)."""
    from app.values.checks import figure_warnings

    if view.current is None or view.error or view.conflict_text:
        return []
    return figure_warnings(view.indicator, snapshot(view.current), snapshot(view.previous))


def keep_last(view: FieldView) -> dict[str, str] | None:
    """Last month's figure of a stock, as the inputs that keep it, when this month differs."""
    prev = view.previous
    if prev is None or view.read_only or rules.is_flow(view.indicator) or view.indicator.measure == "yes_no":
        return None
    last = _inputs_from(view.indicator, prev)
    if all(view.inputs.get(k, "") == v for k, v in last.items()):
        return None
    return last


env.globals.update(field_warnings=field_warnings, keep_last=keep_last)
