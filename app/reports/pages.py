"""Monthly report pages: pick a unit and a month; the report as a printable page and as XLSX.

Scope: a unit outside what the caller reads answers 404, as if it did not exist. The year is
the program's of `?year=` on the picker and the month's in a report's address
(`app.program.years.ProgramDep`).
"""
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from app.accounts.deps import WebUser, verify_csrf
from app.core.db import SessionDep
from app.core.i18n import _
from app.core.problems import Problem
from app.core.templates import render
from app.program import display
from app.program.periods import PeriodRange
from app.program.years import PageProgram, ProgramDep
from app.reports import service
from app.reports.xlsx import workbook
from app.rollup.pages import LEGEND, default_period
from app.units.deps import readable_unit

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _default_month(session: SessionDep, program, unit) -> str:
    """The latest month with figures in the unit's tree (like the dashboard), else December."""
    return default_period(session, program, unit).end


@router.get("/reports")
def reports_index(request: Request, session: SessionDep, principal: WebUser, pp: ProgramDep,
                  unit: str | None = None, period: str | None = None):
    program = pp.program
    if unit and period:
        readable_unit(session, principal, unit, year=pp.year)
        return RedirectResponse(f"/reports/{unit}/{period}", status_code=303)
    return render(request, "reports/index.html", {
        "program": program, "pp": pp, "units": service.report_units(session, pp.home),
        "months": [f"{program.year}-{m:02d}" for m in range(1, 13)],
        "default_month": _default_month(session, program, pp.home),
    })


def _report(session: SessionDep, principal, pp: PageProgram, unit_code: str, period: str) -> service.MonthlyReport:
    unit = readable_unit(session, principal, unit_code, year=pp.year)
    program = pp.program
    try:
        rng = PeriodRange.month(period)
    except ValueError:
        raise Problem(404, "Not Found", _("No report for “{period}”: write the month as YYYY-MM.",
                                          period=period[:20])) from None
    if rng.year != program.year:
        raise Problem(404, "Not Found", _("No report for “{period}”: write the month as YYYY-MM.",
                                          period=period[:20]))
    return service.monthly_report(session, unit, rng.key, program)


@router.get("/reports/{unit_code}/{period}.xlsx")
def report_xlsx(session: SessionDep, principal: WebUser, pp: ProgramDep, unit_code: str, period: str) -> Response:
    report = _report(session, principal, pp, unit_code, period)
    name = f"bao-cao-{report.unit.code}-{report.period}.xlsx"
    return Response(workbook(report), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/reports/{unit_code}/{period}")
def report_page(request: Request, session: SessionDep, principal: WebUser, pp: ProgramDep, unit_code: str,
                period: str):
    report = _report(session, principal, pp, unit_code, period)
    return render(request, "reports/monthly.html", {"pp": pp,
        "r": report, "figure_text": display.figure_text, "target_text": display.target_text,
        "actual_text": display.actual_text, "place": _place(report), "legend": _(LEGEND),
        "status_words": display.status_words(),
    })


def _place(report: service.MonthlyReport) -> str:
    """The place of the date line: the province's (or district's) name, "Yên Bái"."""
    return report.unit.name
