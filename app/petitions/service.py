"""Petitions: the rules of recording, compiling, following and who sees personal data.

Pure logic, no HTTP; the caller owns the transaction (nothing here commits), so a failed step
writes nothing.

Who may do what (a `Principal` as in `app.accounts.deps`):
- record a petition for a unit: whoever may write that unit (editors, admins, write tokens);
- compile a summary and follow its items: admins and editors who may write the compiling
  unit, and write tokens of it;
- read petitions, items and summaries: whoever may read the unit;
- see a raiser's name and contact (personal data): **signed-in admins and editors** whose
  subtree holds the receiving unit (the receiving unit and the levels above). Viewers never
  see it, API tokens never see it, exports and the API leave it out unless such a caller asks
  for it (`personal=true`), and the public page never reads it.

Concurrency: compiling sets `petition.item_id` with one conditional UPDATE (`… WHERE item_id IS
NULL`); two people compiling the same petition at once both run it, the second changes fewer
rows than it asked for and is refused, so a petition is never the source of two items. Item
status steps are conditional on the status read (`… WHERE status = :old`), so two answers to
one item cannot both land.
"""
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, select

from app.accounts.principal import Principal
from app.audit.service import audit
from app.core.config import settings
from app.core.i18n import _
from app.core.time import today_vn
from app.petitions.figures import (
    PETITION_TASKS,
    AddresseeRate,
    Figures,
    answer_rates,
    figures,
    overdue,
    public_items,
    summaries_in,
)
from app.petitions.models import Petition, PetitionField, PetitionItem, PetitionSession, PetitionSummary
from app.petitions.rules import (
    ADDRESSEES,
    ANSWER_DAYS,
    ANSWERED,
    CHANNELS,
    CLOSED,
    COMPILED,
    CONTENT_MAX,
    FILE_SIGNATURES,
    FORWARDED,
    ITEM_STEPS,
    RAISER_KINDS,
    RECEIVED,
    STATUS_WORDS,
    PetitionError,
    can_compile,
    can_edit_fields,
    can_record,
    in_subtree,
    sees_personal,
)
from app.units.models import Unit

# The front door: callers say `svc.<name>`. The words and who-may rules are in
# `app.petitions.rules`, the counts and lists of figures in `app.petitions.figures`.
__all__ = [
    "add_field", "AddresseeRate", "ADDRESSEES", "ancestor_ids", "answer", "ANSWER_DAYS", "answer_rates",
    "ANSWERED", "can_compile", "can_edit_fields", "can_record", "CHANNELS", "check_file", "CLOSED",
    "compile_item", "COMPILED", "CONTENT_MAX", "create_session", "fields_of", "Figures", "figures",
    "FILE_SIGNATURES", "files_dir", "FORWARDED", "in_subtree", "ITEM_STEPS", "items_of", "overdue",
    "pending", "PETITION_TASKS", "PetitionError", "PetitionInput", "public_items", "RAISER_KINDS",
    "RECEIVED", "record", "release_item", "sees_personal", "send", "sessions_for", "set_field_active",
    "set_status", "sources_of", "status_of", "STATUS_WORDS", "StoredFile", "summaries_in",
    "summary_for", "supervise", "visible_sessions",
]


# --- the lists -------------------------------------------------------------------------------

def fields_of(session: Session, *, active_only: bool = True) -> list[PetitionField]:
    stmt = select(PetitionField).order_by(PetitionField.sort_order, PetitionField.id)
    if active_only:
        stmt = stmt.where(PetitionField.active == True)  # noqa: E712
    return list(session.exec(stmt).all())


def add_field(session: Session, principal: Principal, via: str, name: str) -> PetitionField:
    if not can_edit_fields(principal):
        raise PermissionError
    name = name.strip()
    if not name:
        raise PetitionError("Write the name of the field.", "name")
    if len(name) > 120:
        raise PetitionError("The name is too long (at most {n} characters).", "name", n=120)
    if session.exec(select(PetitionField).where(func.lower(PetitionField.name) == name.lower())).first():
        raise PetitionError("This field is already in the list.", "name")
    last = session.exec(select(func.max(PetitionField.sort_order))).one() or 0
    row = PetitionField(code=f"f{secrets.token_hex(4)}", name=name, sort_order=last + 1)
    session.add(row)
    session.flush()
    _audit(session, principal, via, "petition_field", row.id, "create", None, {"name": name})
    return row


def set_field_active(session: Session, principal: Principal, via: str, field_id: int, active: bool) -> None:
    if not can_edit_fields(principal):
        raise PermissionError
    row = session.get(PetitionField, field_id)
    if row is None:
        raise LookupError(field_id)
    old = row.active
    row.active = active
    session.add(row)
    _audit(session, principal, via, "petition_field", row.id, "update", {"active": old}, {"active": active})


def ancestor_ids(unit: Unit) -> list[int]:
    return [int(x) for x in unit.path.strip("/").split("/") if x]


def sessions_for(session: Session, unit: Unit, year: int | None = None) -> list[PetitionSession]:
    """Sessions a unit's petitions may be heard for: those of the unit and the units above it."""
    stmt = select(PetitionSession).where(PetitionSession.unit_id.in_(ancestor_ids(unit)))
    if year is not None:
        stmt = stmt.where(PetitionSession.year == year)
    return list(session.exec(stmt.order_by(PetitionSession.held_on.desc(), PetitionSession.id.desc())).all())


def visible_sessions(session: Session, principal: Principal) -> list[PetitionSession]:
    """Sessions of the caller's unit, the units above it and its subtree."""
    stmt = (select(PetitionSession).join(Unit, Unit.id == PetitionSession.unit_id)
            .where((PetitionSession.unit_id.in_(ancestor_ids(principal.unit)))
                   | in_subtree(Unit.path, principal.unit)))
    return list(session.exec(stmt.order_by(PetitionSession.held_on.desc(), PetitionSession.id.desc())).all())


def create_session(session: Session, principal: Principal, via: str, unit: Unit, name: str,
                   held_on: date | None) -> PetitionSession:
    if not can_compile(principal, unit):
        raise PermissionError
    name = name.strip()
    if not name:
        raise PetitionError("Write the name of the session, e.g. “Kỳ họp thứ 7, HĐND tỉnh khóa XIX”.", "name")
    if len(name) > 200:
        raise PetitionError("The name is too long (at most {n} characters).", "name", n=200)
    year = (held_on or today_vn()).year
    row = PetitionSession(unit_id=unit.id, name=name, held_on=held_on, year=year)
    session.add(row)
    session.flush()
    _audit(session, principal, via, "petition_session", row.id, "create", None,
           {"name": name, "held_on": held_on}, unit_id=unit.id)
    return row


# --- recording -------------------------------------------------------------------------------

@dataclass
class PetitionInput:
    channel: str
    heard_on: date | None
    field_id: int | None
    content: str
    addressee: str
    raiser_kind: str = "person"
    raiser_name: str | None = None
    raiser_contact: str | None = None
    addressee_detail: str | None = None
    place: str | None = None
    session_id: int | None = None


def record(session: Session, principal: Principal, via: str, unit: Unit, data: PetitionInput) -> Petition:
    """Record a petition heard by `unit`. Raises PetitionError (nothing added) on bad input."""
    if not can_record(principal, unit):
        raise PermissionError
    content = (data.content or "").strip()
    if not content:
        raise PetitionError("Write what the voters or citizens asked for.", "content")
    if len(content) > CONTENT_MAX:
        raise PetitionError("The content is too long (at most {n} characters).", "content", n=CONTENT_MAX)
    if data.channel not in CHANNELS:
        raise PetitionError("Choose where the petition was heard.", "channel")
    if data.addressee not in ADDRESSEES:
        raise PetitionError("Choose whom the petition is addressed to from the list.", "addressee")
    if data.raiser_kind not in RAISER_KINDS:
        raise PetitionError("Choose whether a person or a group raised it.", "raiser_kind")
    fld = session.get(PetitionField, data.field_id) if data.field_id else None
    if fld is None or not fld.active:
        raise PetitionError("Choose the field from the list.", "field_id")
    if data.heard_on is None:
        raise PetitionError("Write the date as dd/mm/yyyy, e.g. 15/04/2023.", "heard_on")
    if data.heard_on > today_vn():
        raise PetitionError("The date cannot be in the future.", "heard_on")
    if data.session_id is not None and data.session_id not in {s.id for s in sessions_for(session, unit)}:
        raise PetitionError("Choose a session of your unit or of the levels above it.", "session_id")
    if data.channel == "voter_meeting" and data.session_id is None:
        raise PetitionError("A voter meeting is held for a session: choose it.", "session_id")
    texts = {k: _short(getattr(data, k), 200) for k in ("raiser_name", "raiser_contact", "addressee_detail", "place")}
    row = Petition(unit_id=unit.id, session_id=data.session_id, channel=data.channel, heard_on=data.heard_on,
                   raiser_kind=data.raiser_kind, field_id=fld.id, content=content, addressee=data.addressee,
                   created_by_id=principal.user_id, **texts)
    session.add(row)
    session.flush()
    _audit(session, principal, via, "petition", row.id, "create", None, _snapshot(row), unit_id=unit.id)
    return row


def _short(value: str | None, limit: int) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        raise PetitionError("The text is too long (at most {n} characters).", None, n=limit)
    return text or None


def _snapshot(p: Petition) -> dict[str, Any]:
    """What the audit keeps of a petition: never the name or the contact (audit rows are read
    by everyone in scope)."""
    return {"channel": p.channel, "heard_on": p.heard_on, "session_id": p.session_id, "field_id": p.field_id,
            "raiser_kind": p.raiser_kind, "addressee": p.addressee, "content": p.content}


def status_of(petition: Petition, item: PetitionItem | None) -> str:
    return item.status if item is not None else RECEIVED


# --- compiling -------------------------------------------------------------------------------

def summary_for(session: Session, principal: Principal, via: str, unit: Unit,
                psession: PetitionSession) -> PetitionSummary:
    """The unit's summary for a session, created (numbered) the first time it is asked for."""
    if not can_compile(principal, unit):
        raise PermissionError
    found = session.exec(select(PetitionSummary).where(PetitionSummary.unit_id == unit.id,
                                                       PetitionSummary.session_id == psession.id)).first()
    if found:
        return found
    if psession.unit_id not in ancestor_ids(unit) and not _is_below(session, psession.unit_id, unit):
        raise PetitionError("Choose a session of your unit or of the levels above it.", "session_id")
    last = session.exec(select(func.max(PetitionSummary.number)).join(
        PetitionSession, PetitionSession.id == PetitionSummary.session_id).where(
        PetitionSummary.unit_id == unit.id, PetitionSession.year == psession.year)).one() or 0
    row = PetitionSummary(unit_id=unit.id, session_id=psession.id, number=last + 1,
                          title=f"Tổng hợp ý kiến, kiến nghị của cử tri và Nhân dân gửi {psession.name}")
    session.add(row)
    session.flush()
    _audit(session, principal, via, "petition_summary", row.id, "create", None,
           {"number": row.number, "session_id": psession.id}, unit_id=unit.id)
    return row


def _is_below(session: Session, unit_id: int, unit: Unit) -> bool:
    other = session.get(Unit, unit_id)
    return other is not None and other.path.startswith(unit.path)


def pending(session: Session, summary: PetitionSummary) -> list[tuple[Petition, Unit]]:
    """Petitions of the summary's subtree heard for its session, not compiled yet."""
    unit = session.get(Unit, summary.unit_id)
    return list(session.exec(
        select(Petition, Unit).join(Unit, Unit.id == Petition.unit_id)
        .where(in_subtree(Unit.path, unit), Petition.session_id == summary.session_id,
               Petition.item_id.is_(None))
        .order_by(Petition.field_id, Unit.path, Petition.heard_on, Petition.id)).all())


def items_of(session: Session, summary: PetitionSummary) -> list[PetitionItem]:
    return list(session.exec(select(PetitionItem).where(PetitionItem.summary_id == summary.id)
                             .order_by(PetitionItem.number)).all())


def sources_of(session: Session, item_ids: list[int]) -> dict[int, list[tuple[Petition, Unit]]]:
    """Item id → its source petitions with their receiving units."""
    found: dict[int, list[tuple[Petition, Unit]]] = defaultdict(list)
    if item_ids:
        for p, u in session.exec(select(Petition, Unit).join(Unit, Unit.id == Petition.unit_id)
                                 .where(Petition.item_id.in_(item_ids))
                                 .order_by(Unit.path, Petition.id)).all():
            found[p.item_id].append((p, u))
    return found


def _check_draft(summary: PetitionSummary) -> None:
    if summary.status != "draft":
        raise PetitionError("This summary was sent on {date}: it can no longer be changed.", None, 409,
                            date=summary.sent_on.strftime("%d/%m/%Y") if summary.sent_on else "")


def compile_item(session: Session, principal: Principal, via: str, summary: PetitionSummary,
                 petition_ids: list[int], content: str = "", field_id: int | None = None,
                 addressee: str | None = None, addressee_detail: str | None = None) -> PetitionItem:
    """Merge one or more pending petitions into one compiled item that keeps them as sources.

    Empty content, field or addressee are taken from the petitions when they all agree (the
    content only when there is one source)."""
    unit = session.get(Unit, summary.unit_id)
    if not can_compile(principal, unit):
        raise PermissionError
    _check_draft(summary)
    ids = sorted(set(petition_ids))
    if not ids:
        raise PetitionError("Choose at least one petition to compile.", "petitions")
    open_ = {p.id: p for p, _u in pending(session, summary)}
    if any(i not in open_ for i in ids):
        raise PetitionError("A chosen petition is already compiled or does not belong to this summary.",
                            "petitions", 409)
    chosen = [open_[i] for i in ids]
    content = (content or "").strip() or (chosen[0].content if len(chosen) == 1 else "")
    if not content:
        raise PetitionError("Write the compiled content of the merged petitions.", "content")
    if len(content) > CONTENT_MAX:
        raise PetitionError("The content is too long (at most {n} characters).", "content", n=CONTENT_MAX)
    field_id = field_id or _agreed([p.field_id for p in chosen])
    if field_id is None or session.get(PetitionField, field_id) is None:
        raise PetitionError("Choose the field from the list.", "field_id")
    addressee = addressee or _agreed([p.addressee for p in chosen])
    if addressee not in ADDRESSEES:
        raise PetitionError("Choose whom the petition is addressed to from the list.", "addressee")
    detail = _short(addressee_detail, 200) or _agreed([p.addressee_detail for p in chosen])
    number = (session.exec(select(func.max(PetitionItem.number))
                           .where(PetitionItem.summary_id == summary.id)).one() or 0) + 1
    item = PetitionItem(summary_id=summary.id, number=number, field_id=field_id, addressee=addressee,
                        addressee_detail=detail, content=content)
    session.add(item)
    session.flush()
    taken = session.execute(update(Petition).where(Petition.id.in_(ids), Petition.item_id.is_(None))
                            .values(item_id=item.id).execution_options(synchronize_session=False)).rowcount
    if taken != len(ids):
        raise PetitionError("A chosen petition is already compiled or does not belong to this summary.",
                            "petitions", 409)
    for p in chosen:
        session.refresh(p)
    _audit(session, principal, via, "petition_item", item.id, "create", None,
           {"summary_id": summary.id, "number": number, "sources": ids, "content": content,
            "field_id": field_id, "addressee": addressee}, unit_id=unit.id)
    return item


def _agreed(values: list[Any]) -> Any:
    return values[0] if values and all(v == values[0] for v in values) else None


def release_item(session: Session, principal: Principal, via: str, item: PetitionItem) -> None:
    """Undo a compiled item of a draft: its petitions are pending again."""
    summary = session.get(PetitionSummary, item.summary_id)
    if not can_compile(principal, session.get(Unit, summary.unit_id)):
        raise PermissionError
    _check_draft(summary)
    session.execute(update(Petition).where(Petition.item_id == item.id).values(item_id=None)
                    .execution_options(synchronize_session=False))
    _audit(session, principal, via, "petition_item", item.id, "delete", {"content": item.content}, None,
           unit_id=summary.unit_id)
    session.delete(item)
    session.flush()
    session.expire_all()


def send(session: Session, principal: Principal, via: str, summary: PetitionSummary, sent_on: date,
         due_on: date | None = None) -> None:
    """Send (and freeze) the summary: every item is forwarded, to be answered by `due_on`."""
    unit = session.get(Unit, summary.unit_id)
    if not can_compile(principal, unit):
        raise PermissionError
    _check_draft(summary)
    items = items_of(session, summary)
    if not items:
        raise PetitionError("Compile at least one item before sending the summary.", None)
    if sent_on > today_vn():
        raise PetitionError("The date cannot be in the future.", "sent_on")
    due = due_on or sent_on + timedelta(days=ANSWER_DAYS)
    if due < sent_on:
        raise PetitionError("The answer is due after the summary is sent.", "due_on")
    changed = session.execute(update(PetitionSummary).where(PetitionSummary.id == summary.id,
                                                            PetitionSummary.status == "draft")
                              .values(status="sent", sent_on=sent_on)
                              .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise PetitionError("This summary was sent meanwhile: it can no longer be changed.", None, 409)
    for item in items:
        item.status, item.due_on, item.version = FORWARDED, item.due_on or due, item.version + 1
        session.add(item)
    session.flush()
    session.refresh(summary)
    _audit(session, principal, via, "petition_summary", summary.id, "send", {"status": "draft"},
           {"status": "sent", "sent_on": sent_on, "due_on": due, "items": len(items)}, unit_id=unit.id)


# --- following -------------------------------------------------------------------------------

def _step(session: Session, item: PetitionItem, old: str, new: str, **values: Any) -> None:
    changed = session.execute(update(PetitionItem).where(PetitionItem.id == item.id,
                                                         PetitionItem.status == old)
                              .values(status=new, version=PetitionItem.version + 1, **values)
                              .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise PetitionError("This item changed meanwhile; reload it.", "status", 409)
    session.refresh(item)


def _item_unit(session: Session, principal: Principal, item: PetitionItem) -> Unit:
    summary = session.get(PetitionSummary, item.summary_id)
    unit = session.get(Unit, summary.unit_id)
    if not can_compile(principal, unit):
        raise PermissionError
    return unit


def set_status(session: Session, principal: Principal, via: str, item: PetitionItem, new: str) -> None:
    """One step of compiled → forwarded → answered → closed; anything else is out of order (409).

    Forwarding is sending the summary; answering needs the answer (`answer`)."""
    unit = _item_unit(session, principal, item)
    if new not in ITEM_STEPS:
        raise PetitionError("Unknown status “{status}”.", "status", 422, status=new[:20])
    old = item.status
    if ITEM_STEPS.index(new) != ITEM_STEPS.index(old) + 1:
        raise PetitionError("The item is “{old}”: it cannot become “{new}” (steps go compiled → forwarded "
                            "→ answered → closed).", "status", 409, old=_(STATUS_WORDS[old]),
                            new=_(STATUS_WORDS[new]))
    if new == FORWARDED:
        raise PetitionError("An item is forwarded by sending its summary.", "status", 409)
    if new == ANSWERED:
        raise PetitionError("Record the addressee's answer to mark the item answered.", "status", 409)
    _step(session, item, old, new, closed_on=today_vn())
    _audit(session, principal, via, "petition_item", item.id, "update", {"status": old}, {"status": new},
           unit_id=unit.id)


@dataclass
class StoredFile:
    name: str  # random name on disk
    label: str  # the uploaded name, for the download
    type: str


def check_file(content: bytes, filename: str) -> tuple[str, str]:
    """(media type, extension) of an attached answer, decided by its first bytes."""
    if len(content) > settings.PETITION_FILE_MAX_BYTES:
        raise PetitionError("The file is too large (at most {size}).", "file",
                            size=_size_text(settings.PETITION_FILE_MAX_BYTES))
    if not content:
        raise PetitionError("The file is empty.", "file")
    for magic, media, ext in FILE_SIGNATURES:
        if content.startswith(magic):
            return media, ext
    raise PetitionError("Attach a PDF or an image (PNG or JPEG); this file is neither.", "file")


def _size_text(n: int) -> str:
    return f"{n // (1024 * 1024)} MB" if n >= 1024 * 1024 else f"{max(n // 1024, 1)} KB"


def files_dir() -> Path:
    return Path(settings.PETITION_FILES_DIR)


def answer(session: Session, principal: Principal, via: str, item: PetitionItem, text: str,
           answered_on: date | None, ref: str | None = None, file: tuple[bytes, str] | None = None,
           publish: bool = False) -> None:
    """Record the addressee's answer: forwarded → answered. The file is checked before anything
    is written and stored last, under a random name; if the caller's commit then fails, an
    unreferenced file stays behind (harmless, never served)."""
    unit = _item_unit(session, principal, item)
    if item.status != FORWARDED:
        raise PetitionError("The item is “{old}”: only a forwarded item can be answered.", "status", 409,
                            old=_(STATUS_WORDS[item.status]))
    text = (text or "").strip()
    if not text:
        raise PetitionError("Write the addressee's answer.", "answer_text")
    if len(text) > CONTENT_MAX:
        raise PetitionError("The content is too long (at most {n} characters).", "answer_text", n=CONTENT_MAX)
    if answered_on is None:
        raise PetitionError("Write the date as dd/mm/yyyy, e.g. 15/04/2023.", "answered_on")
    if answered_on > today_vn():
        raise PetitionError("The date cannot be in the future.", "answered_on")
    ref = _short(ref, 120)
    stored: StoredFile | None = None
    if file is not None:
        media, ext = check_file(*file)
        stored = StoredFile(name=secrets.token_hex(16) + ext, label=Path(file[1] or "tep").name[:200], type=media)
    _step(session, item, FORWARDED, ANSWERED, answer_text=text, answered_on=answered_on, answer_ref=ref,
          published=publish, **({"file_name": stored.name, "file_label": stored.label, "file_type": stored.type}
                                if stored else {}))
    if stored is not None:
        folder = files_dir()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / stored.name).write_bytes(file[0])
    _audit(session, principal, via, "petition_item", item.id, "answer", {"status": FORWARDED},
           {"status": ANSWERED, "answered_on": answered_on, "answer_ref": ref, "file": stored.name if stored else None,
            "published": publish}, unit_id=unit.id)


def supervise(session: Session, principal: Principal, via: str, item: PetitionItem, unsatisfactory: bool,
              note: str | None) -> None:
    """The Front's mark on an answer it judges unsatisfactory (Q3 (2)): only once answered."""
    unit = _item_unit(session, principal, item)
    if item.status not in (ANSWERED, CLOSED):
        raise PetitionError("Only an answered item can be marked after supervision.", "status", 409)
    note = _short(note, CONTENT_MAX)
    if unsatisfactory and not note:
        raise PetitionError("Say why the answer is unsatisfactory.", "note")
    old = {"unsatisfactory": item.unsatisfactory, "note": item.supervision_note}
    item.unsatisfactory, item.supervision_note, item.version = unsatisfactory, note, item.version + 1
    session.add(item)
    session.flush()
    _audit(session, principal, via, "petition_item", item.id, "supervise", old,
           {"unsatisfactory": unsatisfactory, "note": note}, unit_id=unit.id)



# --- audit -----------------------------------------------------------------------------------

def _audit(session: Session, principal: Principal, via: str, entity: str, entity_id: int | None, action: str,
           old: Any, new: Any, **where: Any) -> None:
    audit(session, principal, via, entity, entity_id, action, old, new, **where)
