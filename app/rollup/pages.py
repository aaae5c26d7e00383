"""Dashboard pages: every indicator of a unit against its targets, drill-down by child unit,
period selector, completeness of the month. Thin: figures come from `app.rollup.service`.

- `/dashboard` — the signed-in user's unit, year to date of the latest month with figures;
- `/dashboard/{unit}?period=…` — any unit in the user's scope (404 outside it);
- `/dashboard/{unit}/{indicator}?period=…` — one indicator broken down by child unit
  (district → commune → village); an htmx click swaps it in and pushes the URL, and the same
  URL is a full page when opened directly;
- `/dashboard/{unit}/completeness?period=YYYY-MM` — every unit that has not submitted.
"""
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select as sa_select
from sqlmodel import Session, select

from app.accounts.deps import Principal, WebUser, verify_csrf
from app.core.db import SessionDep
from app.core.i18n import _, fmt_number, fmt_vnd, fmt_vnd_words
from app.core.problems import Problem
from app.core.templates import templates
from app.program.models import Indicator, Program, Target
from app.program.periods import PeriodRange
from app.program.service import current_program
from app.rollup import service as rollup
from app.rollup.models import RollupCell
from app.rollup.types import MET, NO_DATA, NOT_MET, Figure, IndicatorResult, TargetResult
from app.units.deps import readable_unit
from app.units.models import Unit, UnitLevel
from app.values.models import DataValue

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])

STATUS_WORDS = {MET: "Met", NOT_MET: "Not met", NO_DATA: "No data yet"}
STATUS_CLASS = {MET: "met", NOT_MET: "not-met", NO_DATA: "no-data"}
COMPARATORS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "=": "="}
# Plural nouns for "7/9 districts meet it", by level key.
LEVEL_NOUNS = {"nation": "countries", "province": "provinces", "district": "districts",
               "commune": "communes", "village": "villages"}
EACH_NOUNS = {"nation": "each country", "province": "each province", "district": "each district",
              "commune": "each commune", "village": "each village"}
MISSING_SHOWN = 40  # names listed inline per level; the rest on the completeness page


# --------------------------------------------------------------------------------------------
# View models
# --------------------------------------------------------------------------------------------

@dataclass
class TargetView:
    label: str  # the document's words
    goal: str  # "≥ 90 %", "each district ≥ 3"
    status: str
    status_text: str
    actual: str  # what was compared, formatted
    note: str  # how far from the target, or "7/9 districts meet it"
    bar_value: float | None = None
    bar_max: float | None = None
    failing: Any = None  # units not meeting an "each" target (loaded on use)
    failing_count: int = 0


@dataclass
class IndicatorView:
    code: str
    number: int
    name: str  # short name
    full_name: str  # the document's words
    figure: str
    figure_note: str
    own: str | None  # the unit's own entry, when it differs from its tree
    status: str
    status_text: str
    targets: list[TargetView] = field(default_factory=list)
    url: str = ""
    single_answer: bool = False  # one unit's yes/no: no share to compare with a target


def status_text(status: str) -> str:
    return _(STATUS_WORDS[status])


def fmt_pct_points(x: float) -> str:
    """90 → "90 %", 72.727 → "72,7 %"."""
    return f"{fmt_number(x, 0 if round(x, 1) == int(round(x, 1)) else 1)} %"


def figure_text(ind: Indicator, fig: Figure | None) -> tuple[str, str]:
    """The figure as shown, and a note under it (the parts, or the amount in words)."""
    if fig is None or fig.value is None:
        if ind.measure == "yes_no" and fig is not None and fig.expected == 1:
            return "—", _("Not answered yet")
        if ind.measure == "yes_no" and fig is not None and fig.expected:
            return "—", _("{n} units should report; none has yet", n=fmt_number(fig.expected))
        return "—", _("No figures for this period")
    if ind.measure == "amount":
        return fmt_vnd(int(fig.value)), fmt_vnd_words(int(fig.value))
    if ind.measure == "count":
        label = f" {ind.value_label}" if ind.value_label else ""
        return f"{fmt_number(fig.value)}{label}", ""
    if ind.measure == "ratio":
        return fmt_pct_points(fig.value * 100), f"{fmt_number(fig.numerator)} / {fmt_number(fig.denominator)}"
    if fig.expected == 1:  # one unit's own answer
        return (_("Yes") if fig.numerator else _("No")), ""
    missing = (fig.expected or 0) - (fig.reported or 0)
    note = _("{yes} of {expected} units: yes", yes=fmt_number(fig.numerator),
             expected=fmt_number(fig.expected))
    if missing > 0:
        note += " · " + _("{n} not yet reported", n=fmt_number(missing))
    return fmt_pct_points(fig.value * 100), note


def _value_text(ind: Indicator, t: Target, x: float | None) -> str:
    if x is None:
        return "—"
    if t.on == "reduction_pct" or ind.measure in ("ratio", "yes_no"):
        return fmt_pct_points(x)
    if ind.measure == "amount":
        return fmt_vnd_words(int(round(x)))
    return fmt_number(x, 0 if float(x).is_integer() else 1)


def level_noun(level: UnitLevel | None) -> str:
    if level is None:
        return _("units")
    return _(LEVEL_NOUNS.get(level.key, "units"))


def target_view(ind: Indicator, tr: TargetResult, levels: dict[int, UnitLevel],
                own: Figure | None = None, viewed: Unit | None = None) -> TargetView:
    t = tr.target
    if t.comparator == "range":
        goal = f"{_value_text(ind, t, t.value)} – {_value_text(ind, t, t.value_high)}"
    else:
        goal = f"{COMPARATORS.get(t.comparator, t.comparator)} {_value_text(ind, t, t.value)}"
    if t.on == "reduction_pct":
        goal = _("reduce by {goal}", goal=goal)
    view = TargetView(label=t.label or "", goal=goal, status=STATUS_CLASS[tr.status],
                      status_text=status_text(tr.status), actual="", note="")
    if tr.units_total is not None:  # many units, each against the target
        level = levels.get(t.depth) if t.scope == "each" else None
        if viewed is not None and t.scope == "each" and viewed.depth == t.depth:
            # The viewed unit is the one unit of that level: say its own figure.
            view.actual = figure_text(ind, own)[0]
            if own is not None and own.value is not None and ind.measure in ("count", "amount") \
                    and t.comparator in (">=", ">") and t.value > 0:
                view.bar_max = float(t.value)
                view.bar_value = max(0.0, min(float(own.value), float(t.value)))
                if tr.status == NOT_MET:
                    view.note = _("Short by {gap}", gap=_value_text(ind, t, t.value - own.value))
            return view
        noun = level_noun(level) if level else _("units")
        if level is not None:
            view.goal = f"{_(EACH_NOUNS.get(level.key, 'each unit'))} {goal}"
        view.actual = _("{meeting}/{total} {noun} meet it", meeting=tr.units_meeting,
                        total=tr.units_total, noun=noun)
        view.bar_value, view.bar_max = tr.units_meeting, tr.units_total or 1
        view.failing, view.failing_count = tr.units_failing, len(tr.units_failing)
        return view
    view.actual = _value_text(ind, t, tr.actual)
    if t.on == "reduction_pct" and tr.actual is not None:
        view.actual = _("down {x}", x=view.actual) if tr.actual >= 0 else _("up {x}", x=fmt_pct_points(-tr.actual))
    if tr.status == NOT_MET and tr.gap is not None:
        view.note = _("Short by {gap}", gap=_value_text(ind, t, abs(tr.gap)))
    elif tr.exceeded and tr.gap is not None:
        view.note = _("Beyond the upper bound by {gap}", gap=_value_text(ind, t, abs(tr.gap)))
    if tr.actual is not None and t.comparator in (">=", ">", "range") and t.value > 0:
        view.bar_max = float(t.value)
        view.bar_value = max(0.0, min(float(tr.actual), float(t.value)))
    return view


def indicator_view(r: IndicatorResult, unit: Unit, levels: dict[int, UnitLevel], url: str) -> IndicatorView:
    ind = r.indicator
    fig, note = figure_text(ind, r.subtree)
    own = None
    if r.own is not None and r.own.value is not None and r.own.value != r.subtree.value:
        own = _("{unit}'s own: {figure}", unit=unit.name, figure=figure_text(ind, r.own)[0])
    return IndicatorView(code=ind.code, number=ind.number, name=ind.short_name, full_name=ind.name,
                         figure=fig, figure_note=note, own=own, status=STATUS_CLASS[r.status],
                         status_text=status_text(r.status) if r.targets else _("No target"),
                         targets=[target_view(ind, t, levels, r.own, unit) for t in r.targets],
                         url=url, single_answer=ind.measure == "yes_no" and r.subtree.expected == 1)


# --------------------------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------------------------

def period_label(p: PeriodRange) -> str:
    kind = p.kind
    if kind == "month":
        return _("Month {m}/{y}", m=f"{p.first:02d}", y=p.year)
    if kind == "quarter":
        return _("Quarter {q}/{y}", q=("I", "II", "III", "IV")[(p.first - 1) // 3], y=p.year)
    if kind == "year":
        return _("Year {y}", y=p.year)
    if p.first == 1:
        return _("Year to date, January to {m}/{y}", m=f"{p.last:02d}", y=p.year)
    return _("{a} to {b}", a=f"{p.first:02d}/{p.year}", b=f"{p.last:02d}/{p.year}")


def period_options(year: int) -> list[tuple[str, list[tuple[str, str]]]]:
    """(group label, [(value, label)]) for the period selector."""
    ytd = [(PeriodRange(year, 1, m).key, period_label(PeriodRange(year, 1, m))) for m in range(1, 12)]
    ytd.append((str(year), period_label(PeriodRange(year, 1, 12))))
    quarters = [(f"{year}-Q{q}", period_label(PeriodRange.quarter(year, q))) for q in range(1, 5)]
    months = [(f"{year}-{m:02d}", period_label(PeriodRange(year, m, m))) for m in range(1, 13)]
    return [(_("Year to date"), ytd), (_("Quarter"), quarters), (_("Month"), months)]


def default_period(session: Session, program: Program, unit: Unit) -> PeriodRange:
    """Year to date of the latest month with figures in the unit's tree, else of December."""
    y = program.year
    # Flows only: a stock's cells are carried forward to December.
    flows = select(Indicator.id).where(Indicator.program_id == program.id,
                                       Indicator.time_rollup == "flow")
    latest = session.execute(sa_select(func.max(RollupCell.period)).where(
        RollupCell.unit_id == unit.id, RollupCell.indicator_id.in_(flows),
        RollupCell.period >= f"{y}-01", RollupCell.period <= f"{y}-12",
        RollupCell.reported_count > 0)).scalar_one_or_none()
    if latest is None:
        latest = session.execute(sa_select(func.max(DataValue.period)).where(
            DataValue.unit_id == unit.id, DataValue.period >= f"{y}-01",
            DataValue.period <= f"{y}-12")).scalar_one_or_none()
    return PeriodRange.ytd(latest or f"{y}-12")


def choose_period(session: Session, program: Program, unit: Unit,
                  raw: str | None) -> tuple[PeriodRange, str | None]:
    """The period asked for, or the default with an error message when it cannot be read."""
    if raw:
        try:
            p = PeriodRange.parse(raw)
        except ValueError:
            return default_period(session, program, unit), _(
                "“{period}” is not a period; showing the default instead.", period=raw[:20])
        if p.year != program.year:
            return default_period(session, program, unit), _(
                "The program covers {year} only; showing the default period.", year=program.year)
        return p, None
    return default_period(session, program, unit), None


# --------------------------------------------------------------------------------------------
# Routes
# --------------------------------------------------------------------------------------------

def _program(session: Session) -> Program:
    try:
        return current_program(session)
    except LookupError:
        raise Problem(404, "Not Found", _("No work program has been set up yet.")) from None


def _levels(session: Session) -> dict[int, UnitLevel]:
    return {lv.depth: lv for lv in session.exec(select(UnitLevel)).all()}


def _ancestors(session: Session, principal: Principal, unit: Unit) -> list[Unit]:
    """The readable units above `unit`, from the top (for the breadcrumb)."""
    ids = [int(p) for p in unit.path.strip("/").split("/") if p][:-1]
    if not ids:
        return []
    found = {u.id: u for u in session.exec(select(Unit).where(Unit.id.in_(ids))).all()}
    return [found[i] for i in ids if i in found and principal.can_read(found[i])]


def _page(request: Request, template: str, ctx: dict[str, Any]) -> HTMLResponse:
    """Full page, or only the `dash` block for an htmx click (not for boosted or history loads)."""
    h = request.headers
    partial = h.get("HX-Request") == "true" and h.get("HX-Boosted") != "true" \
        and h.get("HX-History-Restore-Request") != "true"
    ctx = {"request": request, **ctx}
    resp = templates.TemplateResponse(request, template, ctx, block_name="dash" if partial else None)
    resp.headers["Vary"] = "HX-Request"
    return resp


def _common(session: Session, principal: Principal, unit: Unit, program: Program,
            period: PeriodRange, error: str | None) -> dict[str, Any]:
    return {"unit": unit, "program": program, "period": period, "period_key": period.key,
            "period_label": period_label(period), "period_options": period_options(program.year),
            "ancestors": _ancestors(session, principal, unit), "error": error,
            "levels": _levels(session)}


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_home(request: Request, session: SessionDep, principal: WebUser,
                   period: str | None = None) -> HTMLResponse:
    return _dashboard(request, session, principal, principal.unit, period)


@router.get("/dashboard/{unit_code}", response_class=HTMLResponse)
def dashboard_unit(unit_code: str, request: Request, session: SessionDep, principal: WebUser,
                   period: str | None = None) -> HTMLResponse:
    unit = readable_unit(session, principal, unit_code)
    return _dashboard(request, session, principal, unit, period)


def _dashboard(request: Request, session: Session, principal: Principal, unit: Unit,
               raw_period: str | None) -> HTMLResponse:
    program = _program(session)
    period, error = choose_period(session, program, unit, raw_period)
    ctx = _common(session, principal, unit, program, period, error)
    results = rollup.rollup(session, unit, period, program)
    views = [indicator_view(r, unit, ctx["levels"],
                            f"/dashboard/{unit.code}/{r.indicator.code}?period={period.key}")
             for r in results]
    counts = {s: sum(1 for v in views if v.status == STATUS_CLASS[s] and v.targets)
              for s in (MET, NOT_MET, NO_DATA)}
    comp = rollup.completeness(session, unit, period.end)
    ctx.update(indicators=views, counts=counts, completeness=comp, month_label=period_label(
        PeriodRange.month(period.end)), missing_shown=MISSING_SHOWN,
        has_children=session.execute(sa_select(Unit.id).where(Unit.parent_id == unit.id).limit(1)).first()
        is not None)
    return _page(request, "rollup/dashboard.html", ctx)


@router.get("/dashboard/{unit_code}/completeness", response_class=HTMLResponse)
def completeness_page(unit_code: str, request: Request, session: SessionDep, principal: WebUser,
                      period: str | None = None) -> HTMLResponse:
    unit = readable_unit(session, principal, unit_code)
    program = _program(session)
    p, error = choose_period(session, program, unit, period)
    month = PeriodRange.month(p.end)
    ctx = _common(session, principal, unit, program, p, error)
    ctx.update(completeness=rollup.completeness(session, unit, month.start),
               month_label=period_label(month))
    return _page(request, "rollup/completeness.html", ctx)


@router.get("/dashboard/{unit_code}/{indicator_code}", response_class=HTMLResponse)
def drill_page(unit_code: str, indicator_code: str, request: Request, session: SessionDep,
               principal: WebUser, period: str | None = None) -> HTMLResponse:
    unit = readable_unit(session, principal, unit_code)
    program = _program(session)
    indicator = session.exec(select(Indicator).where(Indicator.program_id == program.id,
                                                     Indicator.code == indicator_code)).first()
    if indicator is None:
        raise Problem(404, "Not Found", f"No indicator {indicator_code!r} in the program.")
    p, error = choose_period(session, program, unit, period)
    ctx = _common(session, principal, unit, program, p, error)
    result, rows = rollup.drill(session, unit, indicator, p, program)
    levels = ctx["levels"]
    child_views = []
    for child, r in rows:
        has_children = child.depth < max(levels) if levels else False
        url = f"/dashboard/{child.code}/{indicator.code}?period={p.key}" if has_children else ""
        child_views.append((child, indicator_view(r, child, levels, url)))
    child_level = levels.get(unit.depth + 1)
    ctx.update(indicator=indicator, view=indicator_view(result, unit, levels, ""), rows=child_views,
               child_level=child_level.name if child_level else "",
               back_url=f"/dashboard/{unit.code}?period={p.key}")
    return _page(request, "rollup/drill.html", ctx)
