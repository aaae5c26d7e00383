"""The province administrator's page of the year's communes: new-rural status (đã đạt, phấn
đấu đạt, không) and province-led flag, edited in a list filtered by district or name, or
imported from a CSV/XLSX file. Thin: the rules are `app.units.attributes` (every row checked
first; saving is audited and rebuilds the roll-up when who should report changed).

Forms post for real and answer 303 on success; on failure the same page comes back with every
error in place (422) and nothing written. Only an administrator signed in at the province (the
root unit) opens it.
"""
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from app.accounts.deps import Principal, WebUser, verify_csrf
from app.core.db import SessionDep
from app.core.i18n import _, gettext_
from app.core.problems import Problem
from app.core.templates import render
from app.core.time import today_vn
from app.units import attributes
from app.units.importer import UnreadableFile
from app.units.models import Unit

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])
PATH = "/admin/units/years"
MAX_UPLOAD = 5 * 1024 * 1024
STATUS_FIELD = {"recognised": "recognised", "expected": "expected", "": ""}


def province_admin(principal: WebUser) -> Principal:
    if not attributes.can_set(principal):
        raise Problem(403, "Forbidden", _("Only an administrator of the province sets communes' attributes."))
    return principal


ProvinceAdmin = Annotated[Principal, Depends(province_admin)]


def _year(session: Session, root: Unit, raw: str | None) -> int:
    """The year asked for; else this year where the province is in force, else the latest year
    offered (Yên Bái, ended on 30/06/2025, opens on 2023)."""
    text = (raw or "").strip()
    if text.isdigit() and len(text) == 4 and attributes.YEAR_MIN <= int(text) <= attributes.YEAR_MAX:
        return int(text)
    this_year = today_vn().year
    offered = _years(session, root, this_year)
    return this_year if this_year in offered or not offered else offered[0]


def _years(session: Session, root: Unit, year: int) -> list[int]:
    """Years offered: those with a program, this year, the one shown, where the province is in force."""
    from app.program.models import Program

    years = set(session.exec(select(Program.year)).all()) | {today_vn().year, year}
    return sorted((y for y in years if attributes.year_bounds(root, y) is not None), reverse=True)


def _rows(session: Session, root: Unit, year: int, district: str, q: str) -> dict[str, Any]:
    """The year's communes (all, for the counts) and the ones the filter shows."""
    communes = attributes.communes_of_year(session, year, root)
    rows = attributes.attributes_of(session, year, communes)
    demo_year = attributes.year_is_demo(rows)
    parents = {u.id: u for u in session.exec(select(Unit).where(
        col(Unit.id).in_(sorted({c.parent_id for c in communes}) or [0]))).all()}
    districts = sorted({p.code: p for p in parents.values() if p.depth == 1}.values(), key=lambda d: d.code)
    needle = q.strip().lower()
    shown = [c for c in communes
             if (not district or parents.get(c.parent_id) is not None and parents[c.parent_id].code == district)
             and (not needle or needle in c.name.lower() or needle in c.code)]
    status = {c.id: (rows[c.id].new_rural if c.id in rows else None) for c in communes}
    return {
        "communes": shown, "attrs": rows, "parents": parents, "districts": districts,
        "demo": {c.id: attributes.is_demo(c, rows, demo_year) for c in communes},
        "counts": {"all": len(communes),
                   "recognised": sum(s == "recognised" for s in status.values()),
                   "expected": sum(s == "expected" for s in status.values()),
                   "led": sum(bool(rows[c.id].front_led) for c in communes if c.id in rows),
                   "demo": sum(attributes.is_demo(c, rows, demo_year) for c in communes)},
    }


def _page(request: Request, session: Session, principal: Principal, year: int, **ctx: Any) -> Response:
    status = ctx.pop("status_code", 200)
    district = request.query_params.get("district", "")[:32]
    q = request.query_params.get("q", "")[:100]
    root = principal.unit
    return render(request, "units_admin/years.html", {
        "year": year, "years": _years(session, root, year), "root": root, "district": district, "q": q,
        "in_force": attributes.year_bounds(root, year) is not None,
        "filters": urlencode({"district": district, "q": q}),
        "errors": [], "done": request.query_params.get("done", ""), "changed": request.query_params.get("n", ""),
        **_rows(session, root, year, district, q), **ctx}, status_code=status)


@router.get(PATH)
def years_page(request: Request, principal: ProvinceAdmin, session: SessionDep):
    return _page(request, session, principal, _year(session, principal.unit, request.query_params.get("year")))


def _back(year: int, request: Request, done: str, changed: int) -> RedirectResponse:
    query = {"year": year, "district": request.query_params.get("district", ""),
             "q": request.query_params.get("q", ""), "done": done, "n": changed}
    return RedirectResponse(f"{PATH}?{urlencode(query)}", status_code=303)


async def posted_form(request: Request) -> dict[str, Any]:
    """The form's fields (one status and one flag per listed commune: names not known ahead)."""
    form = await request.form()
    return {"ids": [str(v) for v in form.getlist("ids")], "fields": {k: str(v) for k, v in form.items()}}


@router.post(PATH + "/{year}")
def save_years(request: Request, principal: ProvinceAdmin, session: SessionDep, year: int,
               form: Annotated[dict[str, Any], Depends(posted_form)]):
    """Every listed commune (the filter's) as the form sets it; unlisted ones are untouched."""
    communes = {c.id: c for c in attributes.communes_of_year(session, year, principal.unit)}
    fields, rows, errors = form["fields"], [], []
    for line, raw in enumerate(form["ids"][:attributes.MAX_ROWS], start=1):
        unit = communes.get(int(raw)) if raw.isdigit() and len(raw) < 12 else None
        status = fields.get(f"nr.{raw}", "")
        if unit is None or status not in STATUS_FIELD:
            errors.append(_("Row {n}: not a commune of {year}, or an unknown status.", n=line, year=year))
            continue
        rows.append((line, {"code": unit.code, "year": str(year), "new_rural": status,
                            "front_led": "1" if fields.get(f"led.{raw}") else "0"}))
    checked = attributes.plan(session, rows, root=principal.unit) if rows and not errors else None
    if checked is None or not checked.ok:
        session.rollback()
        errors = errors or (checked.messages(gettext_) if checked else [_("Nothing to save: no commune is listed.")])
        return _page(request, session, principal, year, status_code=422, errors=errors)
    changed = attributes.apply(session, principal, "web", checked)
    session.commit()
    return _back(year, request, "saved", changed)


@router.post(PATH + "/{year}/file")
def import_years(request: Request, principal: ProvinceAdmin, session: SessionDep, year: int,
                 file: Annotated[UploadFile | None, File()] = None):
    """A CSV or XLSX file (code, year, new_rural, province_led[, households, population]): every
    row is checked first; any error and nothing is written."""
    data = file.file.read(MAX_UPLOAD + 1) if file is not None else b""
    try:
        if not data:
            raise UnreadableFile(_("Choose a CSV or XLSX file."))
        if len(data) > MAX_UPLOAD:
            raise UnreadableFile(_("The file is larger than 5 MB."))
        checked = attributes.plan(session, attributes.read_upload(data, file.filename or ""), root=principal.unit)
    except UnreadableFile as e:
        session.rollback()
        return _page(request, session, principal, year, status_code=422, errors=[gettext_(str(e))])
    if not checked.ok:
        session.rollback()
        return _page(request, session, principal, year, status_code=422, errors=checked.messages(gettext_))
    changed = attributes.apply(session, principal, "import", checked)
    session.commit()
    return _back(year, request, "imported", changed)
