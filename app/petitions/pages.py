"""Petition pages: record where heard, compile per session, follow until answered, publish.

Thin: every rule is in `app.petitions.service`. Forms post for real (303 on success; the same
page with its errors in place otherwise, 422 or 409). An object outside the caller's subtree
answers 404 like one that does not exist. Personal data (names, contacts) reaches a template
only when `service.sees_personal` allows it; the templates never read those columns otherwise.
"""
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import object_session
from sqlmodel import Session, select

from app.accounts.deps import Principal, WebUser, verify_csrf
from app.core.db import SessionDep
from app.core.i18n import _
from app.core.problems import Problem
from app.core.templates import env, render
from app.core.time import parse_day, today_vn
from app.petitions import service as svc
from app.petitions.export import grouped, summary_docx, summary_xlsx
from app.petitions.models import Petition, PetitionItem, PetitionSession, PetitionSummary
from app.program.models import Program, Task
from app.program.service import period_end
from app.units.deps import unit_by_code
from app.units.models import Unit

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])
public_router = APIRouter(include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DATE_HINT = "Write the date as dd/mm/yyyy, e.g. 15/04/2023."


def _error_status(request: Request, status: int) -> int:
    return 200 if request.headers.get("HX-Request") == "true" else status


def _words() -> dict[str, dict[str, str]]:
    return {"addressees": {k: _(v) for k, v in svc.ADDRESSEES.items()},
            "channels": {k: _(v) for k, v in svc.CHANNELS.items()},
            "raisers": {k: _(v) for k, v in svc.RAISER_KINDS.items()},
            "statuses": {k: _(v) for k, v in svc.STATUS_WORDS.items()}}


def _fields(session: Session) -> dict[int, str]:
    return {f.id: f.name for f in svc.fields_of(session, active_only=False)}


# --- load and check ------------------------------------------------------------------------

def _petition(session: Session, principal: Principal, petition_id: int) -> tuple[Petition, Unit]:
    p = session.get(Petition, petition_id)
    unit = session.get(Unit, p.unit_id) if p else None
    if p is None or unit is None or not principal.can_read(unit):
        raise Problem(404, "Not Found", f"No petition {petition_id} in your scope.")
    return p, unit


def _summary(session: Session, principal: Principal, summary_id: int) -> tuple[PetitionSummary, Unit]:
    s = session.get(PetitionSummary, summary_id)
    unit = session.get(Unit, s.unit_id) if s else None
    if s is None or unit is None or not principal.can_read(unit):
        raise Problem(404, "Not Found", f"No summary {summary_id} in your scope.")
    return s, unit


def _item(session: Session, principal: Principal, item_id: int) -> tuple[PetitionItem, PetitionSummary, Unit]:
    item = session.get(PetitionItem, item_id)
    if item is None:
        raise Problem(404, "Not Found", f"No item {item_id} in your scope.")
    summary = session.get(PetitionSummary, item.summary_id)
    unit = session.get(Unit, summary.unit_id)
    if not principal.can_read(unit):
        raise Problem(404, "Not Found", f"No item {item_id} in your scope.")
    return item, summary, unit


def _forbidden() -> Problem:
    return Problem(403, "Forbidden", _("Your role does not allow this change."))


# --- the overview --------------------------------------------------------------------------

@router.get("/petitions")
def petitions_page(request: Request, session: SessionDep, principal: WebUser,
                   status: str | None = None):
    unit = principal.unit
    stmt = (select(Petition, Unit, PetitionItem).join(Unit, Unit.id == Petition.unit_id)
            .outerjoin(PetitionItem, PetitionItem.id == Petition.item_id)
            .where(svc.in_subtree(Unit.path, unit)))
    if status == svc.RECEIVED:
        stmt = stmt.where(Petition.item_id.is_(None))
    elif status in svc.ITEM_STEPS:
        stmt = stmt.where(PetitionItem.status == status)
    rows = session.exec(stmt.order_by(Petition.heard_on.desc(), Petition.id.desc()).limit(200)).all()
    today = today_vn()
    return render(request, "petitions/index.html", {
        "unit": unit, "rows": rows, "status": status, "fields": _fields(session), **_words(),
        "personal": {p.id for p, u, _i in rows if svc.sees_personal(principal, u)},
        "overdue": svc.overdue(session, unit, today), "rates": svc.answer_rates(session, unit),
        "summaries": svc.summaries_in(session, unit, None),
        "sessions": svc.visible_sessions(session, principal),
        "can_record": svc.can_record(principal, unit), "can_compile": svc.can_compile(principal, unit),
        "can_edit_fields": svc.can_edit_fields(principal),
    })


# --- recording -----------------------------------------------------------------------------

def _record_context(session: Session, principal: Principal, unit: Unit, **extra: object) -> dict[str, object]:
    ctx: dict[str, object] = {
        "unit": unit, "fields": svc.fields_of(session), "sessions": svc.sessions_for(session, unit),
        **_words(), "errors": {}, "form": {"heard_on": today_vn().strftime("%d/%m/%Y"), "channel": "voter_meeting",
                                          "raiser_kind": "person"},
        "saved": None,
    }
    ctx.update(extra)
    return ctx


def _recording_unit(session: Session, principal: Principal, code: str | None) -> Unit:
    unit = unit_by_code(session, code) if code else principal.unit
    if unit is None or not principal.can_read(unit):
        raise Problem(404, "Not Found", f"No unit {code!r} in your scope.")
    if not svc.can_record(principal, unit):
        raise _forbidden()
    return unit


@router.get("/petitions/new")
def new_petition_form(request: Request, session: SessionDep, principal: WebUser,
                      unit: str | None = None):
    target = _recording_unit(session, principal, unit)
    saved = session.get(Petition, int(request.query_params["saved"])) if request.query_params.get(
        "saved", "").isdigit() else None
    if saved is not None and saved.unit_id != target.id:
        saved = None
    ctx = _record_context(session, principal, target, saved=saved)
    if saved is not None:  # recording several at one meeting: keep where and when
        ctx["form"] = {"heard_on": saved.heard_on.strftime("%d/%m/%Y"), "channel": saved.channel,
                       "session_id": str(saved.session_id or ""), "place": saved.place or "", "raiser_kind": "person"}
    return render(request, "petitions/new.html", ctx)


@router.post("/petitions/new")
def new_petition(request: Request, session: SessionDep, principal: WebUser,
                 unit: Annotated[str, Form()] = "", channel: Annotated[str, Form()] = "",
                 session_id: Annotated[str, Form()] = "", heard_on: Annotated[str, Form()] = "",
                 place: Annotated[str, Form()] = "", raiser_kind: Annotated[str, Form()] = "person",
                 raiser_name: Annotated[str, Form()] = "", raiser_contact: Annotated[str, Form()] = "",
                 field_id: Annotated[str, Form()] = "", content: Annotated[str, Form()] = "",
                 addressee: Annotated[str, Form()] = "",
                 addressee_detail: Annotated[str, Form()] = "") -> Response:
    target = _recording_unit(session, principal, unit or None)
    form = {"channel": channel, "session_id": session_id, "heard_on": heard_on, "place": place,
            "raiser_kind": raiser_kind, "raiser_name": raiser_name, "raiser_contact": raiser_contact,
            "field_id": field_id, "content": content, "addressee": addressee, "addressee_detail": addressee_detail}

    def again(errors: dict[str, str], status: int = 422) -> Response:
        return render(request, "petitions/new.html",
                      _record_context(session, principal, target, form=form, errors=errors),
                      status_code=_error_status(request, status))

    try:
        when = parse_day(heard_on)
    except ValueError:
        return again({"heard_on": _(DATE_HINT)})
    data = svc.PetitionInput(
        channel=channel, heard_on=when, field_id=int(field_id) if field_id.isdigit() else None, content=content,
        addressee=addressee, raiser_kind=raiser_kind, raiser_name=raiser_name, raiser_contact=raiser_contact,
        addressee_detail=addressee_detail, place=place,
        session_id=int(session_id) if session_id.isdigit() else None)
    try:
        p = svc.record(session, principal, "web", target, data)
    except svc.PetitionError as e:
        session.rollback()
        return again({e.field or "content": e.text()}, e.status)
    session.commit()
    suffix = f"&unit={target.code}" if target.id != principal.unit.id else ""
    return RedirectResponse(f"/petitions/new?saved={p.id}{suffix}", status_code=303)


@router.get("/petitions/{petition_id:int}")
def petition_page(request: Request, session: SessionDep, principal: WebUser, petition_id: int):
    p, unit = _petition(session, principal, petition_id)
    item = session.get(PetitionItem, p.item_id) if p.item_id else None
    psession = session.get(PetitionSession, p.session_id) if p.session_id else None
    return render(request, "petitions/petition.html", {
        "pet": p, "unit": unit, "item": item, "psession": psession, "fields": _fields(session), **_words(),
        "personal": svc.sees_personal(principal, unit),
        "item_readable": item is not None and principal.can_read(
            session.get(Unit, session.get(PetitionSummary, item.summary_id).unit_id)),
    })


# --- sessions and fields -------------------------------------------------------------------

def _sessions_context(session: Session, principal: Principal, **extra: object) -> dict[str, object]:
    ctx: dict[str, object] = {"sessions": svc.visible_sessions(session, principal), "unit": principal.unit,
                              "can_add": svc.can_compile(principal, principal.unit), "errors": {}, "form": {}}
    ctx.update(extra)
    return ctx


@router.get("/petitions/sessions")
def sessions_page(request: Request, session: SessionDep, principal: WebUser):
    return render(request, "petitions/sessions.html", _sessions_context(session, principal))


@router.post("/petitions/sessions")
def add_session(request: Request, session: SessionDep, principal: WebUser,
                name: Annotated[str, Form()] = "", held_on: Annotated[str, Form()] = "") -> Response:
    form = {"name": name, "held_on": held_on}
    if not svc.can_compile(principal, principal.unit):
        raise _forbidden()
    try:
        when = parse_day(held_on)
        svc.create_session(session, principal, "web", principal.unit, name, when)
    except ValueError:
        return render(request, "petitions/sessions.html", _sessions_context(
            session, principal, form=form, errors={"held_on": _(DATE_HINT)}), status_code=_error_status(request, 422))
    except svc.PetitionError as e:
        session.rollback()
        return render(request, "petitions/sessions.html", _sessions_context(
            session, principal, form=form, errors={e.field or "name": e.text()}),
            status_code=_error_status(request, e.status))
    session.commit()
    return RedirectResponse("/petitions/sessions", status_code=303)


@router.get("/petitions/fields")
def fields_page(request: Request, session: SessionDep, principal: WebUser):
    if not svc.can_edit_fields(principal):
        raise _forbidden()
    return render(request, "petitions/fields.html", {"fields": svc.fields_of(session, active_only=False),
                                                     "errors": {}, "form": {}})


@router.post("/petitions/fields")
def add_field(request: Request, session: SessionDep, principal: WebUser,
              name: Annotated[str, Form()] = "") -> Response:
    try:
        svc.add_field(session, principal, "web", name)
    except PermissionError:
        raise _forbidden() from None
    except svc.PetitionError as e:
        session.rollback()
        return render(request, "petitions/fields.html", {
            "fields": svc.fields_of(session, active_only=False), "errors": {"name": e.text()}, "form": {"name": name}},
            status_code=_error_status(request, e.status))
    session.commit()
    return RedirectResponse("/petitions/fields", status_code=303)


# --- compiling -----------------------------------------------------------------------------

@router.post("/petitions/summaries")
def open_summary(session: SessionDep, principal: WebUser,
                 session_id: Annotated[str, Form()] = "") -> Response:
    unit = principal.unit
    psession = session.get(PetitionSession, int(session_id)) if session_id.isdigit() else None
    if psession is None or psession.id not in {s.id for s in svc.visible_sessions(session, principal)}:
        raise Problem(404, "Not Found", _("Choose a session of your unit or of the levels above it."))
    try:
        summary = svc.summary_for(session, principal, "web", unit, psession)
        session.commit()
    except PermissionError:
        raise _forbidden() from None
    except IntegrityError:  # opened at the same moment by someone else: use theirs
        session.rollback()
        summary = session.exec(select(PetitionSummary).where(PetitionSummary.unit_id == unit.id,
                                                             PetitionSummary.session_id == psession.id)).one()
    except svc.PetitionError as e:
        raise Problem(e.status, "Unprocessable Content", e.text()) from None
    return RedirectResponse(f"/petitions/summaries/{summary.id}", status_code=303)


def _summary_context(session: Session, principal: Principal, summary: PetitionSummary, unit: Unit,
                     **extra: object) -> dict[str, object]:
    items = svc.items_of(session, summary)
    ctx: dict[str, object] = {
        "summary": summary, "unit": unit, "psession": session.get(PetitionSession, summary.session_id),
        "items": items, "sources": svc.sources_of(session, [i.id for i in items]),
        "pending": svc.pending(session, summary) if summary.status == "draft" else [],
        "fields": _fields(session), "field_list": svc.fields_of(session), **_words(),
        "can_compile": svc.can_compile(principal, unit), "errors": {}, "form": {}, "chosen": set(),
        "today": today_vn(),
    }
    ctx.update(extra)
    return ctx


@router.get("/petitions/summaries/{summary_id:int}")
def summary_page(request: Request, session: SessionDep, principal: WebUser, summary_id: int):
    summary, unit = _summary(session, principal, summary_id)
    return render(request, "petitions/summary.html", _summary_context(session, principal, summary, unit))


@router.post("/petitions/summaries/{summary_id:int}/items")
def compile_item(request: Request, session: SessionDep, principal: WebUser, summary_id: int,
                 petition: Annotated[list[int] | None, Form()] = None, content: Annotated[str, Form()] = "",
                 field_id: Annotated[str, Form()] = "", addressee: Annotated[str, Form()] = "",
                 addressee_detail: Annotated[str, Form()] = "") -> Response:
    summary, unit = _summary(session, principal, summary_id)
    form = {"content": content, "field_id": field_id, "addressee": addressee, "addressee_detail": addressee_detail}
    try:
        svc.compile_item(session, principal, "web", summary, petition or [], content,
                         int(field_id) if field_id.isdigit() else None, addressee or None, addressee_detail)
    except PermissionError:
        raise _forbidden() from None
    except svc.PetitionError as e:
        session.rollback()
        summary, unit = _summary(session, principal, summary_id)
        return render(request, "petitions/summary.html", _summary_context(
            session, principal, summary, unit, form=form, chosen=set(petition or []),
            errors={e.field or "compile": e.text()}), status_code=_error_status(request, e.status))
    session.commit()
    return RedirectResponse(f"/petitions/summaries/{summary_id}#items", status_code=303)


@router.post("/petitions/summaries/{summary_id:int}/send")
def send_summary(request: Request, session: SessionDep, principal: WebUser, summary_id: int,
                 sent_on: Annotated[str, Form()] = "", due_on: Annotated[str, Form()] = "") -> Response:
    summary, unit = _summary(session, principal, summary_id)
    try:
        sent, due = parse_day(sent_on) or today_vn(), parse_day(due_on)
    except ValueError:
        return render(request, "petitions/summary.html", _summary_context(
            session, principal, summary, unit, errors={"send": _(DATE_HINT)}),
            status_code=_error_status(request, 422))
    try:
        svc.send(session, principal, "web", summary, sent, due)
    except PermissionError:
        raise _forbidden() from None
    except svc.PetitionError as e:
        session.rollback()
        summary, unit = _summary(session, principal, summary_id)
        return render(request, "petitions/summary.html", _summary_context(
            session, principal, summary, unit, errors={"send": e.text()}),
            status_code=_error_status(request, e.status))
    session.commit()
    return RedirectResponse(f"/petitions/summaries/{summary_id}?sent=1", status_code=303)


@router.post("/petitions/items/{item_id:int}/release")
def release_item(request: Request, session: SessionDep, principal: WebUser, item_id: int) -> Response:
    """Undo a compiled item of a draft summary: its petitions wait to be compiled again."""
    item, summary, unit = _item(session, principal, item_id)
    try:
        svc.release_item(session, principal, "web", item)
    except PermissionError:
        raise _forbidden() from None
    except svc.PetitionError as e:
        session.rollback()
        summary, unit = _summary(session, principal, summary.id)
        return render(request, "petitions/summary.html", _summary_context(
            session, principal, summary, unit, errors={"compile": e.text()}),
            status_code=_error_status(request, e.status))
    session.commit()
    return RedirectResponse(f"/petitions/summaries/{summary.id}#pending", status_code=303)


@router.get("/petitions/summaries/{summary_id:int}/print")
def summary_print(request: Request, session: SessionDep, principal: WebUser, summary_id: int):
    summary, unit = _summary(session, principal, summary_id)
    ctx = _summary_context(session, principal, summary, unit)
    ctx["groups"] = grouped(ctx["items"])
    return render(request, "petitions/print.html", ctx)


@router.get("/petitions/summaries/{summary_id:int}.xlsx")
def summary_export(session: SessionDep, principal: WebUser, summary_id: int, personal: bool = False) -> Response:
    summary, unit = _summary(session, principal, summary_id)
    if personal and not svc.sees_personal(principal, unit):
        raise Problem(403, "Forbidden", _("Your role does not allow reading names and contacts."))
    body = summary_xlsx(session, summary, unit, personal=personal, principal=principal)
    name = f"tong-hop-kien-nghi-{unit.code}-{summary.number}.xlsx"
    return Response(body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/petitions/summaries/{summary_id:int}.docx")
def summary_word(session: SessionDep, principal: WebUser, summary_id: int) -> Response:
    summary, unit = _summary(session, principal, summary_id)
    body = summary_docx(session, summary, unit, today_vn())
    name = f"tong-hop-kien-nghi-{unit.code}-{summary.number}.docx"
    return Response(body, media_type=DOCX, headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- following -----------------------------------------------------------------------------

def _item_context(session: Session, principal: Principal, item: PetitionItem, summary: PetitionSummary,
                  unit: Unit, **extra: object) -> dict[str, object]:
    ctx: dict[str, object] = {
        "item": item, "summary": summary, "unit": unit, "psession": session.get(PetitionSession, summary.session_id),
        "sources": svc.sources_of(session, [item.id])[item.id], "fields": _fields(session), **_words(),
        "can_follow": svc.can_compile(principal, unit), "errors": {}, "form": {}, "today": today_vn(),
    }
    ctx.update(extra)
    return ctx


@router.get("/petitions/items/{item_id:int}")
def item_page(request: Request, session: SessionDep, principal: WebUser, item_id: int):
    item, summary, unit = _item(session, principal, item_id)
    return render(request, "petitions/item.html", _item_context(session, principal, item, summary, unit))


def _item_failed(request: Request, session: Session, principal: Principal, item_id: int, key: str,
                 text: str, status: int, form: dict[str, str] | None = None) -> Response:
    session.rollback()
    item, summary, unit = _item(session, principal, item_id)
    return render(request, "petitions/item.html", _item_context(
        session, principal, item, summary, unit, errors={key: text}, form=form or {}),
        status_code=_error_status(request, status))


@router.post("/petitions/items/{item_id:int}/answer")
def item_answer(request: Request, session: SessionDep, principal: WebUser, item_id: int,
                answer_text: Annotated[str, Form()] = "", answered_on: Annotated[str, Form()] = "",
                answer_ref: Annotated[str, Form()] = "", publish: Annotated[str, Form()] = "",
                file: Annotated[UploadFile | None, File()] = None) -> Response:
    item, summary, unit = _item(session, principal, item_id)
    form = {"answer_text": answer_text, "answered_on": answered_on, "answer_ref": answer_ref}
    if not svc.can_compile(principal, unit):
        raise _forbidden()
    try:
        when = parse_day(answered_on)
    except ValueError:
        return _item_failed(request, session, principal, item_id, "answered_on", _(DATE_HINT), 422, form)
    upload = None
    if file is not None and file.filename:
        data = file.file.read(svc.settings.PETITION_FILE_MAX_BYTES + 1)
        upload = (data, file.filename)
    try:
        svc.answer(session, principal, "web", item, answer_text, when, answer_ref, upload, publish == "on")
    except svc.PetitionError as e:
        return _item_failed(request, session, principal, item_id, e.field or "answer_text", e.text(), e.status, form)
    session.commit()
    return RedirectResponse(f"/petitions/items/{item_id}?saved=answer", status_code=303)


@router.post("/petitions/items/{item_id:int}/status")
def item_status(request: Request, session: SessionDep, principal: WebUser, item_id: int,
                status: Annotated[str, Form()] = "") -> Response:
    item, summary, unit = _item(session, principal, item_id)
    try:
        svc.set_status(session, principal, "web", item, status)
    except PermissionError:
        raise _forbidden() from None
    except svc.PetitionError as e:
        return _item_failed(request, session, principal, item_id, "status", e.text(), e.status)
    session.commit()
    return RedirectResponse(f"/petitions/items/{item_id}?saved=status", status_code=303)


@router.post("/petitions/items/{item_id:int}/supervision")
def item_supervision(request: Request, session: SessionDep, principal: WebUser, item_id: int,
                     unsatisfactory: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "") -> Response:
    item, summary, unit = _item(session, principal, item_id)
    try:
        svc.supervise(session, principal, "web", item, unsatisfactory == "on", note)
    except PermissionError:
        raise _forbidden() from None
    except svc.PetitionError as e:
        return _item_failed(request, session, principal, item_id, "supervision", e.text(), e.status,
                            {"note": note})
    session.commit()
    return RedirectResponse(f"/petitions/items/{item_id}?saved=supervision", status_code=303)


@router.get("/petitions/items/{item_id:int}/file")
def item_file(session: SessionDep, principal: WebUser, item_id: int) -> Response:
    item, _summary, _unit = _item(session, principal, item_id)
    path = svc.files_dir() / item.file_name if item.file_name else None
    if path is None or not path.is_file():
        raise Problem(404, "Not Found", f"No file for item {item_id}.")
    return FileResponse(path, media_type=item.file_type, filename=item.file_label or item.file_name,
                        headers={"X-Content-Type-Options": "nosniff"})


# --- the public page -----------------------------------------------------------------------

@public_router.get("/public/petitions/{province_code}")
def public_page(request: Request, session: SessionDep, province_code: str):
    province = unit_by_code(session, province_code)
    if province is None or province.depth != 0 or not svc.settings.PETITIONS_PUBLIC_PAGE:
        raise Problem(404, "Not Found", _("No such province."))
    return render(request, "petitions/public.html", {
        "province": province, "rows": svc.public_items(session, province), "fields": _fields(session), **_words(),
    })


# --- the figures shown on the dashboard, the monthly report and the tasks ---------------------

def petition_figures(unit: Unit, year: int, up_to: date | str | None = None) -> svc.Figures:
    """For a template: the petition figures of a unit's subtree for a year, to a date or to the
    end of a month ("2023-04"). The unit's own database session is used (the page's)."""
    session = object_session(unit)
    if isinstance(up_to, str):
        up_to = period_end(up_to[-7:])
    end = min(up_to or date(year, 12, 31), date(year, 12, 31))
    return svc.figures(session, unit, date(year, 1, 1), end)


def petition_task_panel(task: object, plan_unit: Unit) -> list[tuple[PetitionSummary, PetitionSession, int]] | None:
    """For the task page: the summaries of the plan's subtree for the task's year, when the task
    is one of the program's petition tasks (Q2 (4), Q3 (2), Q4 (5)) or taken from one; else None."""
    session = object_session(plan_unit)
    source = session.get(Task, task.source_task_id) if getattr(task, "source_task_id", None) else task
    if source is None or (source.quarter, source.number) not in svc.PETITION_TASKS or source.parent_id:
        return None
    program = session.get(Program, task.program_id)
    return svc.summaries_in(session, plan_unit, program.year)


env.globals.update(petition_figures=petition_figures, petition_task_panel=petition_task_panel)
