"""Helpers for the petition tests: principals of the demo users, petitions made through the service."""
from datetime import date

from sqlmodel import Session, select

from app.accounts.deps import Principal
from app.accounts.models import User
from app.petitions import service as svc
from app.petitions.models import PetitionField, PetitionSession
from app.units.models import Unit

SECRET_NAME = "Nguyễn Thị Riêngtư"
SECRET_CONTACT = "0912 345 678"


def unit(db: Session, code: str) -> Unit:
    return db.exec(select(Unit).where(Unit.code == code)).one()


def principal(db: Session, username: str) -> Principal:
    user = db.exec(select(User).where(User.username == username)).one()
    return Principal(unit=db.get(Unit, user.unit_id), role=user.role, via="web", user=user)


def field(db: Session, code: str = "land") -> PetitionField:
    return db.exec(select(PetitionField).where(PetitionField.code == code)).one()


def sibling_commune(db: Session) -> Unit:
    """Another commune of district 141 (04720's district)."""
    return db.exec(select(Unit).where(Unit.parent_id == unit(db, "141").id, Unit.code != "04720")
                   .order_by(Unit.code)).first()


def council_session(db: Session, name: str = "Kỳ họp thứ 7, HĐND tỉnh khóa XIX",
                    held_on: date = date(2023, 7, 10)) -> PetitionSession:
    return svc.create_session(db, principal(db, "tinh.quantri"), "web", unit(db, "15"), name, held_on)


def hear(db: Session, psession: PetitionSession, where: Unit, content: str = "Đề nghị sửa đường liên thôn.",
         heard_on: date = date(2023, 4, 12), field_code: str = "infrastructure",
         addressee: str = "provincial_council", name: str | None = SECRET_NAME,
         contact: str | None = SECRET_CONTACT):
    """A petition heard at a voter meeting by `where`, recorded by the province administrator."""
    data = svc.PetitionInput(channel="voter_meeting", heard_on=heard_on, field_id=field(db, field_code).id,
                             content=content, addressee=addressee, raiser_name=name, raiser_contact=contact,
                             session_id=psession.id)
    return svc.record(db, principal(db, "tinh.quantri"), "web", where, data)
