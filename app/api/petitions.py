"""/api/v1/petitions: voters' and citizens' petitions, their compiled items and answers.

Same tokens and scopes as the rest of the API: a token reads its unit's subtree and, in write
mode, records petitions and follows the items of summaries compiled in it. Names and contacts
of the people who raised a petition are personal data: they are left out of every answer, and
`personal=true` adds them only for a signed-in administrator or editor of the receiving unit
or a unit above it; API tokens never receive them (403). Attached files are uploaded through
the web page only.
"""
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlmodel import Session, select

from app.accounts.deps import ApiCaller, Principal
from app.api.common import (
    API_AUTH,
    AllowAllMethodsRoute,
    Page,
    PagingDep,
    code_query,
    in_subtree,
    page,
    problems,
)
from app.core.db import SessionDep
from app.core.problems import Problem
from app.core.time import today_vn
from app.petitions import service as svc
from app.petitions.models import Petition, PetitionField, PetitionItem, PetitionSession, PetitionSummary
from app.units.deps import readable_unit
from app.units.models import Unit

router = APIRouter(tags=["petitions"], route_class=AllowAllMethodsRoute, dependencies=API_AUTH)

Channel = Literal["voter_meeting", "office", "unit_report"]
Addressee = Literal["central_committee", "na_delegation", "provincial_council", "department", "local_authority"]
PetitionStatus = Literal["received", "compiled", "forwarded", "answered", "closed"]
ItemStatus = Literal["compiled", "forwarded", "answered", "closed"]


class PetitionIn(BaseModel):
    unit: str = Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_.-]+$", examples=["04720"],
                      description="The receiving unit (GSO code).")
    channel: Channel = Field(examples=["voter_meeting"])
    session_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description="The session (kỳ họp) a voter meeting was "
                                   "held for; required for a voter meeting.", examples=[1])
    heard_on: date = Field(examples=["2023-04-12"])
    place: str | None = Field(default=None, max_length=200)
    raiser_kind: Literal["person", "group"] = "person"
    raiser_name: str | None = Field(default=None, max_length=200, description="Personal data.")
    raiser_contact: str | None = Field(default=None, max_length=200, description="Personal data.")
    field: str = Field(min_length=1, max_length=32, examples=["land"], description="Field code (see the list "
                       "in docs/api.md).")
    content: str = Field(max_length=5000, examples=["Đề nghị sớm cấp giấy chứng nhận quyền sử dụng đất."])
    addressee: Addressee = Field(examples=["provincial_council"])
    addressee_detail: str | None = Field(default=None, max_length=200)


class PetitionOut(BaseModel):
    id: int
    unit: str = Field(examples=["04720"])
    channel: Channel
    session_id: int | None = None
    heard_on: date
    place: str | None = None
    raiser_kind: Literal["person", "group"]
    raiser_name: str | None = Field(default=None, description="Only with personal=true, for a role that allows it.")
    raiser_contact: str | None = Field(default=None, description="Only with personal=true, for a role that allows it.")
    field: str
    content: str
    addressee: Addressee
    addressee_detail: str | None = None
    status: PetitionStatus
    item_id: int | None = None


class SourceOut(BaseModel):
    petition_id: int
    unit: str


class ItemOut(BaseModel):
    id: int
    summary_id: int
    summary_number: int
    summary_unit: str
    session: str = Field(examples=["Kỳ họp thứ 7, HĐND tỉnh khóa XIX"])
    number: int
    field: str
    addressee: Addressee
    addressee_detail: str | None = None
    content: str
    status: ItemStatus
    due_on: date | None = None
    answer_text: str | None = None
    answered_on: date | None = None
    answer_ref: str | None = None
    has_file: bool
    unsatisfactory: bool
    supervision_note: str | None = None
    overdue: bool
    sources: list[SourceOut]


class StatusIn(BaseModel):
    status: ItemStatus = Field(examples=["closed"])


class AnswerIn(BaseModel):
    answer_text: str = Field(max_length=5000, examples=["Sở đã chỉ đạo giải quyết trong quý III."])
    answered_on: date = Field(examples=["2023-08-20"])
    answer_ref: str | None = Field(default=None, max_length=120, examples=["123/STNMT-VP"])
    publish: bool = Field(default=False, description="Show the content and answer on the public page.")


def _fail(e: svc.PetitionError) -> Problem:
    title = "Conflict" if e.status == 409 else "Unprocessable Content"
    return Problem(e.status, title, str(e), errors=[{"loc": ["body", e.field or ""], "msg": str(e),
                                                      "type": "value_error"}])


def _field_codes(session: Session) -> dict[int, str]:
    return {f.id: f.code for f in svc.fields_of(session, active_only=False)}


def _petition_out(p: Petition, unit: Unit, item: PetitionItem | None, codes: dict[int, str],
                  personal: bool) -> PetitionOut:
    return PetitionOut(id=p.id, unit=unit.code, channel=p.channel, session_id=p.session_id, heard_on=p.heard_on,
                       place=p.place, raiser_kind=p.raiser_kind, field=codes[p.field_id], content=p.content,
                       addressee=p.addressee, addressee_detail=p.addressee_detail, status=svc.status_of(p, item),
                       item_id=p.item_id,
                       raiser_name=p.raiser_name if personal else None,
                       raiser_contact=p.raiser_contact if personal else None)


@router.get("/petitions", response_model=Page[PetitionOut], summary="List petitions",
            responses=problems(403, 404))
def list_petitions(
    session: SessionDep, principal: ApiCaller, paging: PagingDep,
    subtree: Annotated[str | None, code_query("This unit and every unit below it (GSO code).", "141")] = None,
    session_id: Annotated[int | None, Query(ge=1, le=2**31 - 1, examples=[1])] = None,
    status: Annotated[PetitionStatus | None, Query(examples=["received"])] = None,
    field: Annotated[str | None, code_query("Field code.", "land")] = None,
    addressee: Annotated[Addressee | None, Query(examples=["provincial_council"])] = None,
    personal: Annotated[bool, Query(description="Add names and contacts (signed-in admins and editors of the "
                                    "receiving unit or above only; 403 for a token or a viewer).",
                                    examples=[False])] = False,
) -> Page[PetitionOut]:
    """Petitions heard in the caller's subtree (or `subtree`), newest first."""
    if personal and (principal.token is not None or principal.role not in ("admin", "editor")):
        raise Problem(403, "Forbidden", "Your role does not allow reading names and contacts.")
    root = readable_unit(session, principal, subtree) if subtree else principal.unit
    stmt = (select(Petition, Unit, PetitionItem).join(Unit, Unit.id == Petition.unit_id)
            .outerjoin(PetitionItem, PetitionItem.id == Petition.item_id).where(in_subtree(Unit.path, root)))
    if session_id is not None:
        stmt = stmt.where(Petition.session_id == session_id)
    if status == svc.RECEIVED:
        stmt = stmt.where(Petition.item_id.is_(None))
    elif status is not None:
        stmt = stmt.where(PetitionItem.status == status)
    if field is not None:
        stmt = stmt.join(PetitionField, PetitionField.id == Petition.field_id).where(PetitionField.code == field)
    if addressee is not None:
        stmt = stmt.where(Petition.addressee == addressee)
    rows, count = page(session, stmt, paging, [Petition.heard_on.desc(), Petition.id.desc()])
    codes = _field_codes(session)
    return Page(data=[_petition_out(p, u, it, codes, personal and svc.sees_personal(principal, u))
                      for p, u, it in rows], count=count, limit=paging.limit, offset=paging.offset)


@router.post("/petitions", response_model=PetitionOut, status_code=201, summary="Record a petition",
             responses=problems(400, 403, 404))
def create_petition(body: PetitionIn, session: SessionDep, principal: ApiCaller) -> PetitionOut:
    """Record a petition heard by `unit` (a write token or an editor of the unit or above).
    The answer leaves out the name and contact just sent."""
    unit = readable_unit(session, principal, body.unit)
    if not svc.can_record(principal, unit):
        raise Problem(403, "Forbidden", f"You may read unit {body.unit!r} but not record petitions for it.")
    fld = session.exec(select(PetitionField).where(PetitionField.code == body.field)).first()
    data = svc.PetitionInput(channel=body.channel, heard_on=body.heard_on, field_id=fld.id if fld else None,
                             content=body.content, addressee=body.addressee, raiser_kind=body.raiser_kind,
                             raiser_name=body.raiser_name, raiser_contact=body.raiser_contact,
                             addressee_detail=body.addressee_detail, place=body.place, session_id=body.session_id)
    try:
        p = svc.record(session, principal, "api", unit, data)
    except svc.PetitionError as e:
        session.rollback()
        raise _fail(e) from None
    session.commit()
    return _petition_out(p, unit, None, _field_codes(session), False)


def _items_out(session: Session, rows: list[tuple[PetitionItem, PetitionSummary, Unit, PetitionSession]]
               ) -> list[ItemOut]:
    codes = _field_codes(session)
    sources = svc.sources_of(session, [it.id for it, *_ in rows])
    today = today_vn()
    return [ItemOut(
        id=it.id, summary_id=s.id, summary_number=s.number, summary_unit=u.code, session=ps.name, number=it.number,
        field=codes[it.field_id], addressee=it.addressee, addressee_detail=it.addressee_detail, content=it.content,
        status=it.status, due_on=it.due_on, answer_text=it.answer_text, answered_on=it.answered_on,
        answer_ref=it.answer_ref, has_file=bool(it.file_name), unsatisfactory=it.unsatisfactory,
        supervision_note=it.supervision_note,
        overdue=it.status == svc.FORWARDED and it.due_on is not None and it.due_on < today,
        sources=[SourceOut(petition_id=p.id, unit=pu.code) for p, pu in sources.get(it.id, [])],
    ) for it, s, u, ps in rows]


def _items_stmt():
    return (select(PetitionItem, PetitionSummary, Unit, PetitionSession)
            .join(PetitionSummary, PetitionSummary.id == PetitionItem.summary_id)
            .join(Unit, Unit.id == PetitionSummary.unit_id)
            .join(PetitionSession, PetitionSession.id == PetitionSummary.session_id))


@router.get("/petitions/items", response_model=Page[ItemOut], summary="List compiled items",
            responses=problems(404))
def list_items(
    session: SessionDep, principal: ApiCaller, paging: PagingDep,
    subtree: Annotated[str | None, code_query("Summaries compiled by this unit or a unit below it.", "15")] = None,
    status: Annotated[ItemStatus | None, Query(examples=["forwarded"])] = None,
    addressee: Annotated[Addressee | None, Query(examples=["department"])] = None,
    overdue: Annotated[bool, Query(description="Only forwarded items past their due date.", examples=[False])] = False,
) -> Page[ItemOut]:
    """Compiled items of the summaries in the caller's subtree, with their sources and answers."""
    root = readable_unit(session, principal, subtree) if subtree else principal.unit
    stmt = _items_stmt().where(in_subtree(Unit.path, root))
    if status is not None:
        stmt = stmt.where(PetitionItem.status == status)
    if addressee is not None:
        stmt = stmt.where(PetitionItem.addressee == addressee)
    if overdue:
        stmt = stmt.where(PetitionItem.status == svc.FORWARDED, PetitionItem.due_on < today_vn())
    rows, count = page(session, stmt, paging, [PetitionItem.summary_id, PetitionItem.number])
    return Page(data=_items_out(session, rows), count=count, limit=paging.limit, offset=paging.offset)


def _item_for_writing(session: Session, principal: Principal, item_id: int) -> PetitionItem:
    row = session.exec(_items_stmt().where(PetitionItem.id == item_id)).first()
    if row is None or not principal.can_read(row[2]):
        raise Problem(404, "Not Found", f"No item {item_id} in your scope.")
    if not svc.can_compile(principal, row[2]):
        raise Problem(403, "Forbidden", "You may read this item but not follow it up.")
    return row[0]


ItemId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The compiled item's id.", examples=[1])]


def _one_item(session: Session, item_id: int) -> ItemOut:
    return _items_out(session, [session.exec(_items_stmt().where(PetitionItem.id == item_id)).one()])[0]



@router.post("/petitions/items/{item_id}/status", response_model=ItemOut, summary="Change an item's status",
             responses=problems(400, 403, 404, 409))
def change_status(item_id: ItemId, body: StatusIn, session: SessionDep, principal: ApiCaller) -> ItemOut:
    """One step at a time: compiled → forwarded (by sending the summary) → answered (by recording
    the answer) → closed. A step out of order answers 409 and changes nothing."""
    item = _item_for_writing(session, principal, item_id)
    try:
        svc.set_status(session, principal, "api", item, body.status)
    except svc.PetitionError as e:
        session.rollback()
        raise _fail(e) from None
    session.commit()
    return _one_item(session, item_id)


@router.post("/petitions/items/{item_id}/answer", response_model=ItemOut, summary="Record an item's answer",
             responses=problems(400, 403, 404, 409))
def record_answer(item_id: ItemId, body: AnswerIn, session: SessionDep, principal: ApiCaller) -> ItemOut:
    """The addressee's answer to a forwarded item: forwarded → answered (409 from any other status)."""
    item = _item_for_writing(session, principal, item_id)
    try:
        svc.answer(session, principal, "api", item, body.answer_text, body.answered_on, body.answer_ref,
                   None, body.publish)
    except svc.PetitionError as e:
        session.rollback()
        raise _fail(e) from None
    session.commit()
    return _one_item(session, item_id)
