"""Dashboard pages: every indicator of a unit against its targets, drill-down by child unit,
period selector, completeness of the month. Thin: figures come from `app.rollup.service`.

- `/dashboard` — the signed-in user's unit, year to date of the latest month with figures;
- every page reads one year's program: `?year=` (else the period's year, else the current
  year), through `app.program.years.ProgramDep`; its links keep the year;
- `/dashboard/{unit}?period=…` — any unit in the user's scope (404 outside it);
- `/dashboard/{unit}/{indicator}?period=…` — one indicator broken down by child unit
  (district → commune → village); an htmx click swaps it in and pushes the URL, and the same
  URL is a full page when opened directly;
- `/dashboard/{unit}/completeness?period=YYYY-MM` — every unit that has not submitted;
- `/dashboard/{unit}/scorecard?period=…&sort=…` — child units × indicators, sortable on the
  server (a plain link per column header, so it works without JavaScript);
- `/dashboard/{unit}/export.xlsx|csv`, `/dashboard/{unit}/scorecard.xlsx|csv` — what is shown.

Statuses are the on-track verdicts of `app.rollup.on_track` (via `app.rollup.progress`): a
year-end target read before the year ends is "on track" or "behind", and "met" / "not met"
only once the year is over or the target is already reached. The same rule feeds the monthly
report and the exports.
"""
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from app.accounts.deps import Principal, WebUser, verify_csrf
from app.core import generation
from app.core.db import SessionDep
from app.core.i18n import _, current_language, fmt_datetime
from app.core.problems import Problem
from app.core.templates import templates
from app.core.time import utcnow
from app.program import display
from app.program.models import Indicator, Program
from app.program.periods import PeriodRange, quarter_of
from app.program.service import today_vn
from app.program.years import PageProgram, ProgramDep
from app.reports import export
from app.rollup import on_track, reporting, trends
from app.rollup import scorecard as scorecard_mod
from app.rollup import service as rollup
from app.rollup.models import RollupCell
from app.rollup.progress import IndicatorProgress, Judge, TargetProgress
from app.rollup.types import Figure
from app.units import tree
from app.units.deps import readable_unit
from app.units.models import Unit, UnitLevel
from app.units.names import unit_label
from app.values.models import DataValue

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])

MET, NOT_MET, ON_TRACK, BEHIND, NO_DATA = (on_track.MET, on_track.NOT_MET, on_track.ON_TRACK,
                                           on_track.BEHIND, on_track.NO_DATA)
# Status words, classes and marks, figure texts and goals: `app.program.display`.
STATUS_CLASS, STATUS_MARK = display.STATUS_CLASS, display.STATUS_MARK
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
    verdict: str = NO_DATA


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
    verdict: str = NO_DATA
    mark: str = ""
    chart: Any = None  # Markup: the trend, drawn on the server
    series: Any = None  # trends.Series, for the screen-reader table


def level_noun(level: UnitLevel | None) -> str:
    if level is None:
        return _("units")
    return _(LEVEL_NOUNS.get(level.key, "units"))


def target_view(ind: Indicator, tp: TargetProgress, levels: dict[int, UnitLevel],
                own: Figure | None = None, viewed: Unit | None = None) -> TargetView:
    tr, t = tp.result, tp.result.target
    goal = display.goal_text(ind, t)
    view = TargetView(label=t.label or "", goal=goal, status=STATUS_CLASS[tp.verdict],
                      status_text=display.status_word(tp.verdict), actual="", note="", verdict=tp.verdict)
    pace_note = ""
    if tp.expected_now is not None and tp.verdict in (ON_TRACK, BEHIND):
        pace_note = _("due by now: {x}", x=display.goal_value_text(ind, t, float(tp.expected_now)))
    if tr.units_total is not None:  # many units, each against the target
        level = levels.get(t.depth) if t.scope == "each" else None
        if viewed is not None and t.scope == "each" and viewed.depth == t.depth:
            # The viewed unit is the one unit of that level: say its own figure.
            view.actual = display.figure_and_note(ind, own)[0]
            if own is not None and own.value is not None and ind.measure in ("count", "amount") \
                    and t.comparator in (">=", ">") and t.value > 0:
                view.bar_max = float(t.value)
                view.bar_value = max(0.0, min(float(own.value), float(t.value)))
                if tp.verdict == NOT_MET:
                    view.note = _("Short by {gap}", gap=display.goal_value_text(ind, t, t.value - own.value))
            view.note = view.note or pace_note
            return view
        noun = level_noun(level) if level else _("units")
        if level is not None:
            view.goal = f"{_(EACH_NOUNS.get(level.key, 'each unit'))} {goal}"
        view.actual = _("{meeting}/{total} {noun} meet it", meeting=tr.units_meeting,
                        total=tr.units_total, noun=noun)
        if tp.units_on_track is not None and tp.verdict in (ON_TRACK, BEHIND):
            view.note = _("{n}/{total} on track", n=tp.units_on_track, total=tr.units_total)
        view.bar_value, view.bar_max = tr.units_meeting, tr.units_total or 1
        view.failing, view.failing_count = tr.units_failing, len(tr.units_failing)
        return view
    view.actual = display.goal_value_text(ind, t, tr.actual)
    if t.on == "reduction_pct" and tr.actual is not None:
        view.actual = _("down {x}", x=view.actual) if tr.actual >= 0 else _("up {x}", x=display.percent_points(-tr.actual))
    if tp.verdict == NOT_MET and tr.gap is not None:
        view.note = _("Short by {gap}", gap=display.goal_value_text(ind, t, abs(tr.gap)))
    elif tr.exceeded and tr.gap is not None:
        view.note = _("Beyond the upper bound by {gap}", gap=display.goal_value_text(ind, t, abs(tr.gap)))
    else:
        view.note = pace_note
    if tr.actual is not None and t.comparator in (">=", ">", "range") and t.value > 0:
        view.bar_max = float(t.value)
        view.bar_value = max(0.0, min(float(tr.actual), float(t.value)))
    return view


def indicator_view(p: IndicatorProgress, unit: Unit, levels: dict[int, UnitLevel], url: str) -> IndicatorView:
    r = p.result
    ind = r.indicator
    fig, note = display.figure_and_note(ind, r.subtree)
    own = None
    if r.own is not None and r.own.value is not None and r.own.value != r.subtree.value:
        own = _("{unit}'s own: {figure}", unit=unit.name, figure=display.figure_and_note(ind, r.own)[0])
    return IndicatorView(code=ind.code, number=ind.number, name=ind.short_name, full_name=ind.name,
                         figure=fig, figure_note=note, own=own, status=STATUS_CLASS[p.verdict],
                         status_text=display.status_word(p.verdict) if r.targets else _("No target"),
                         targets=[target_view(ind, t, levels, r.own, unit) for t in p.targets],
                         url=url, single_answer=ind.measure == "yes_no" and r.subtree.expected == 1,
                         verdict=p.verdict, mark=STATUS_MARK[p.verdict] if r.targets else "")


# --------------------------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------------------------

def period_label(p: PeriodRange) -> str:
    kind = p.kind
    if kind == "month":
        return _("Month {m}/{y}", m=f"{p.first:02d}", y=p.year)
    if kind == "quarter":
        return _("Quarter {q}/{y}", q=display.quarter_numeral(quarter_of(p.first)), y=p.year)
    if kind == "year":
        return _("Year {y}", y=p.year)
    if p.first == 1:
        return _("Year to date, January to {m}/{y}", m=f"{p.last:02d}", y=p.year)
    return _("{a} to {b}", a=f"{p.first:02d}/{p.year}", b=f"{p.last:02d}/{p.year}")


def period_options(year: int) -> list[tuple[str, list[tuple[str, str]]]]:
    """(group label, [(value, label)]) for the period selector, each period once: January alone
    is a month and January to March is the first quarter, so neither repeats as a year to date."""
    spans = [PeriodRange(year, 1, m) for m in range(2, 12)]
    ytd = [(p.key, period_label(p)) for p in spans if p.kind == "span"]
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

def _unit(session: Session, principal: Principal, code: str, pp: PageProgram) -> Unit:
    """The unit of `code` in the caller's scope, as the program's year knows it (code 15 is Yên
    Bái in 2023 and Lào Cai in 2026)."""
    return readable_unit(session, principal, code, year=pp.year)


def _levels(session: Session) -> dict[int, UnitLevel]:
    return {lv.depth: lv for lv in session.exec(select(UnitLevel)).all()}


def _ancestors(session: Session, principal: Principal, unit: Unit) -> list[Unit]:
    """The readable units above `unit`, from the top (for the breadcrumb)."""
    return [u for u in tree.ancestors(session, unit) if principal.can_read(u)]


def _page(request: Request, template: str, ctx: dict[str, Any]) -> HTMLResponse:
    """Full page, or only the `dash` block for an htmx click (not for a history restore)."""
    h = request.headers
    partial = h.get("HX-Request") == "true" and h.get("HX-History-Restore-Request") != "true"
    ctx = {"request": request, **ctx}
    resp = templates.TemplateResponse(request, template, ctx, block_name="dash" if partial else None)
    resp.headers["Vary"] = "HX-Request"
    return resp


LEGEND = ("Before the year ends, a year's target is read at the pace of the months covered: "
          "a running total (houses, money, supervisions) is on track when it has reached the "
          "target × months elapsed / 12 (or by the due month of the task that drives it); a "
          "share or a standing figure is judged as it stands. “Met” and “Not met” are said once "
          "the year is over, or of a target already reached.")


def _common(session: Session, principal: Principal, unit: Unit, pp: PageProgram,
            period: PeriodRange, error: str | None) -> dict[str, Any]:
    program = pp.program
    return {"unit": unit, "program": program, "pp": pp, "period": period, "period_key": period.key,
            "period_label": period_label(period), "period_options": period_options(program.year),
            "ancestors": _ancestors(session, principal, unit), "error": " ".join(e for e in (pp.error, error) if e) or None,
            "levels": _levels(session), "legend": _(LEGEND), "status_class": STATUS_CLASS,
            "status_mark": STATUS_MARK}


def chart_labels(ind: Indicator, year: int) -> dict[str, str]:
    return {"title": _("{name}: month by month, {year}", name=ind.short_name, year=year),
            "tick": "{v} %" if ind.measure in ("ratio", "yes_no") else "{v}", "target": _("Target")}


def _main_target(p: IndicatorProgress) -> float | None:
    """The line drawn on a chart: the first target compared with this unit's own figure."""
    for t in p.targets:
        if t.result.units_total is None and t.result.target.on == "value":
            return float(t.result.target.value)
    return None


def attach_trends(session: Session, unit: Unit, program: Program, period: PeriodRange,
                  pairs: list[tuple[IndicatorView, IndicatorProgress]], width: int, height: int,
                  axis: bool = False) -> None:
    """Draw each indicator's series on its view (one read for all of them)."""
    inds = [p.result.indicator for _v, p in pairs]
    series = trends.series_for(
        session, unit, program, inds, period.last,
        expected={p.result.indicator.id: p.result.subtree.expected for _v, p in pairs},
        targets={p.result.indicator.id: _main_target(p) for _v, p in pairs})
    for v, p in pairs:
        s = series[p.result.indicator.id]
        v.series = s
        v.chart = trends.svg(s, width, height, chart_labels(s.indicator, program.year), axis=axis)


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_home(request: Request, session: SessionDep, principal: WebUser, pp: ProgramDep,
                   period: str | None = None) -> HTMLResponse:
    stamp = generation.token(session)  # before anything the page shows
    today = today_vn()
    return _kept_page(request, "rollup/dashboard.html", stamp,
                      ("dashboard", pp.home.code, period, *_year_key(pp), *_reader_key(principal, today)),
                      lambda: _dashboard(session, principal, pp, pp.home, period, today))


@router.get("/dashboard/{unit_code}", response_class=HTMLResponse)
def dashboard_unit(unit_code: str, request: Request, session: SessionDep, principal: WebUser, pp: ProgramDep,
                   period: str | None = None) -> HTMLResponse:
    stamp = generation.token(session)  # before anything the page shows
    today = today_vn()
    return _kept_page(request, "rollup/dashboard.html", stamp,
                      ("dashboard", unit_code, period, *_year_key(pp), *_reader_key(principal, today)),
                      lambda: _dashboard(session, principal, pp, _unit(session, principal, unit_code, pp),
                                         period, today))


def _year_key(pp: PageProgram) -> tuple:
    """What a kept page depends on of the year asked: the program shown and the message."""
    return (pp.program.id, pp.error)


def _reader_key(principal: Principal, today: date) -> tuple:
    """What a kept page depends on besides the figures' generation and the address: where the
    reader sits (which units it may read, and so the breadcrumb), the day and the language."""
    return (principal.unit.path, today, current_language())


def _kept_page(request: Request, template: str, stamp: int | None, key: tuple,
               build: Any) -> HTMLResponse:
    """A dashboard page from its kept parts (title, the `dash` block), built once per figures'
    generation and reader's place (`app.core.generation`); a 404 or 403 raised while building
    is never kept. Only the session check and the base template run for each reader."""
    title, dash = generation.pages.get_or_build(stamp, key, build)
    return _page(request, template, {"title": title, "dash": Markup(dash)})  # noqa: S704 - our template's output


@dataclass
class Overview:
    period: PeriodRange
    error: str | None
    views: list[IndicatorView]
    progress: list[IndicatorProgress]
    counts: dict[str, int]


def overview(session: Session, program: Program, unit: Unit, period: PeriodRange,
             as_of: date, levels: dict[int, UnitLevel]) -> Overview:
    results = rollup.rollup(session, unit, period, program)
    judge = Judge(session, program, period, as_of)
    progress = [judge.indicator(unit, r) for r in results]
    views = [indicator_view(p, unit, levels, f"/dashboard/{unit.code}/{p.result.indicator.code}?period={period.key}&year={period.year}")
             for p in progress]
    counts = {s: sum(1 for v in views if v.verdict == s and v.targets) for s in on_track.VERDICTS}
    return Overview(period, None, views, progress, counts)


def _dashboard(session: Session, principal: Principal, pp: PageProgram, unit: Unit, raw_period: str | None,
               today: date) -> tuple[str, str]:
    program = pp.program
    period, error = choose_period(session, program, unit, raw_period)
    ctx = _common(session, principal, unit, pp, period, error)
    ov = overview(session, program, unit, period, today, ctx["levels"])
    attach_trends(session, unit, program, period, list(zip(ov.views, ov.progress, strict=True)), 132, 36)
    ctx.update(indicators=ov.views, counts=ov.counts, month_label=period_label(PeriodRange.month(period.end)),
               band=reporting.status(session, unit, period.end, today), missing_shown=MISSING_SHOWN,
               has_children=tree.has_children(session, unit))
    title = f"{_('Overview')} · {unit_label(unit)}"
    return title, templates.env.get_template("rollup/_dashboard_dash.html").render(ctx)


@router.get("/dashboard/{unit_code}/completeness", response_class=HTMLResponse)
def completeness_page(unit_code: str, request: Request, session: SessionDep, principal: WebUser,
                      pp: ProgramDep, period: str | None = None) -> HTMLResponse:
    unit = _unit(session, principal, unit_code, pp)
    p, error = choose_period(session, pp.program, unit, period)
    month = PeriodRange.month(p.end)
    ctx = _common(session, principal, unit, pp, p, error)
    ctx.update(completeness=rollup.completeness(session, unit, month.start),
               band=reporting.status(session, unit, month.start, today_vn()),
               month_label=period_label(month))
    return _page(request, "rollup/completeness.html", ctx)


# --------------------------------------------------------------------------------------------
# Scorecard
# --------------------------------------------------------------------------------------------

def _scorecard(session: Session, principal: Principal, pp: PageProgram, unit_code: str, period: str | None,
               sort: str | None) -> tuple[dict[str, Any], scorecard_mod.Scorecard]:
    unit = _unit(session, principal, unit_code, pp)
    program = pp.program
    p, error = choose_period(session, program, unit, period)
    ctx = _common(session, principal, unit, pp, p, error)
    sc = scorecard_mod.build(session, program, unit, p, today_vn(), (sort or "")[:16])
    return ctx, sc


@router.get("/dashboard/{unit_code}/scorecard", response_class=HTMLResponse)
def scorecard_page(unit_code: str, request: Request, session: SessionDep, principal: WebUser, pp: ProgramDep,
                   period: str | None = None, sort: str | None = None) -> HTMLResponse:
    ctx, sc = _scorecard(session, principal, pp, unit_code, period, sort)
    child_level = ctx["levels"].get(sc.unit.depth + 1)
    ctx.update(sc=sc, cell_text=display.cell_text, child_level=child_level.name if child_level else "",
               sort=sc.sort)
    return _page(request, "rollup/scorecard.html", ctx)


def _stamp(kind: str, unit: Unit, p: PeriodRange) -> list[tuple[str, str]]:
    return [(_("Export"), kind), (_("Unit"), f"{unit.name} ({unit.code})"), (_("Period"), period_label(p)),
            (_("Exported at"), fmt_datetime(utcnow()))]


def _file(data: bytes, media: str, name: str) -> Response:
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _scorecard_table(sc: scorecard_mod.Scorecard) -> tuple[list[str], list[list[Any]]]:
    header = [_("Unit"), _("Code")]
    for ind in sc.indicators:
        header += [f"{ind.number}. {ind.short_name}", f"{ind.number}. {_('Status')}"]
    header.append(_("Indicators lagging"))
    rows = []
    for row in [*sc.rows, sc.own, sc.total]:
        name = row.unit.name
        if row.kind == "own":
            name = _("{unit}'s own figures", unit=row.unit.name)
        elif row.kind == "total":
            name = _("{unit}, whole tree", unit=row.unit.name)
        line: list[Any] = [name, row.unit.code]
        for c in row.cells:
            v = c.sort_value
            if v is not None and c.indicator.measure in ("ratio", "yes_no"):
                v = round(v * 100, 1)
            line += [v, display.status_word(c.verdict) if c.verdict else ""]
        line.append(row.lagging)
        rows.append(line)
    return header, rows


@router.get("/dashboard/{unit_code}/scorecard.csv")
def scorecard_csv(unit_code: str, session: SessionDep, principal: WebUser, pp: ProgramDep,
                  period: str | None = None, sort: str | None = None) -> Response:
    _ctx, sc = _scorecard(session, principal, pp, unit_code, period, sort)
    header, rows = _scorecard_table(sc)
    return _file(export.to_csv(_stamp(_("Scorecard"), sc.unit, sc.period), header, rows),
                 export.CSV_TYPE, f"bang-diem-{sc.unit.code}-{sc.period.key}.csv")


@router.get("/dashboard/{unit_code}/scorecard.xlsx")
def scorecard_xlsx(unit_code: str, session: SessionDep, principal: WebUser, pp: ProgramDep,
                  period: str | None = None, sort: str | None = None) -> Response:
    _ctx, sc = _scorecard(session, principal, pp, unit_code, period, sort)
    header, rows = _scorecard_table(sc)
    data = export.to_xlsx(_("Scorecard"), _stamp(_("Scorecard"), sc.unit, sc.period), header, rows,
                          widths=[28, 8] + [12, 14] * len(sc.indicators) + [10])
    return _file(data, export.XLSX_TYPE, f"bang-diem-{sc.unit.code}-{sc.period.key}.xlsx")


def _overview_table(session: Session, principal: Principal, pp: PageProgram, unit_code: str, period: str | None
                    ) -> tuple[Unit, PeriodRange, list[str], list[list[Any]]]:
    unit = _unit(session, principal, unit_code, pp)
    program = pp.program
    p, _error = choose_period(session, program, unit, period)
    ov = overview(session, program, unit, p, today_vn(), _levels(session))
    header = [_("No."), _("Code"), _("Indicator"), _("Figure"), _("Target"), _("Now"), _("Status"), _("Note")]
    rows: list[list[Any]] = []
    for v in ov.views:
        if not v.targets:
            rows.append([v.number, v.code, v.name, v.figure, "", "", _("No target"), v.figure_note])
        for t in v.targets:
            rows.append([v.number, v.code, v.name, v.figure, t.goal, t.actual, t.status_text,
                         "; ".join(x for x in (t.note, t.label) if x)])
    return unit, p, header, rows


@router.get("/dashboard/{unit_code}/export.csv")
def overview_csv(unit_code: str, session: SessionDep, principal: WebUser, pp: ProgramDep,
                 period: str | None = None) -> Response:
    unit, p, header, rows = _overview_table(session, principal, pp, unit_code, period)
    return _file(export.to_csv(_stamp(_("Overview"), unit, p), header, rows), export.CSV_TYPE,
                 f"tong-quan-{unit.code}-{p.key}.csv")


@router.get("/dashboard/{unit_code}/export.xlsx")
def overview_xlsx(unit_code: str, session: SessionDep, principal: WebUser, pp: ProgramDep,
                  period: str | None = None) -> Response:
    unit, p, header, rows = _overview_table(session, principal, pp, unit_code, period)
    data = export.to_xlsx(_("Overview"), _stamp(_("Overview"), unit, p), header, rows,
                          widths=[5, 7, 40, 22, 22, 22, 16, 50])
    return _file(data, export.XLSX_TYPE, f"tong-quan-{unit.code}-{p.key}.xlsx")


@router.get("/dashboard/{unit_code}/{indicator_code}", response_class=HTMLResponse)
def drill_page(unit_code: str, indicator_code: str, request: Request, session: SessionDep,
               principal: WebUser, pp: ProgramDep, period: str | None = None) -> HTMLResponse:
    stamp = generation.token(session)  # before anything the page shows
    today = today_vn()
    return _kept_page(request, "rollup/drill.html", stamp,
                      ("drill", unit_code, indicator_code, period, *_year_key(pp), *_reader_key(principal, today)),
                      lambda: _drill(session, principal, pp, unit_code, indicator_code, period, today))


def _drill(session: Session, principal: Principal, pp: PageProgram, unit_code: str, indicator_code: str,
           period: str | None, today: date) -> tuple[str, str]:
    unit = _unit(session, principal, unit_code, pp)
    program = pp.program
    indicator = session.exec(select(Indicator).where(Indicator.program_id == program.id,
                                                     Indicator.code == indicator_code)).first()
    if indicator is None:
        raise Problem(404, "Not Found", f"No indicator {indicator_code!r} in the program.")
    p, error = choose_period(session, program, unit, period)
    ctx = _common(session, principal, unit, pp, p, error)
    result, rows = rollup.drill(session, unit, indicator, p, program)
    judge = Judge(session, program, p, today)
    levels = ctx["levels"]
    child_views = []
    for child, r in rows:
        has_children = child.depth < max(levels) if levels else False
        url = f"/dashboard/{child.code}/{indicator.code}?period={p.key}&year={p.year}" if has_children else ""
        child_views.append((child, indicator_view(judge.indicator(child, r), child, levels, url)))
    child_level = levels.get(rows[0][0].depth if rows else unit.depth + 1)  # a xã may sit under the province
    top = judge.indicator(unit, result)
    view = indicator_view(top, unit, levels, "")
    attach_trends(session, unit, program, p, [(view, top)], 640, 220, axis=True)
    ctx.update(indicator=indicator, view=view, rows=child_views,
               child_level=child_level.name if child_level else "",
               back_url=f"/dashboard/{unit.code}?period={p.key}&year={p.year}")
    title = f"{indicator.short_name} · {unit_label(unit)}"
    return title, templates.env.get_template("rollup/_drill_dash.html").render(ctx)
