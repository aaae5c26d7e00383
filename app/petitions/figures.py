"""Petition figures: how many were heard, compiled, forwarded and answered (on time) in a
unit's subtree, the answer rate per addressee, the overdue list, the public page's answers, and
the summaries shown beside the program's petition tasks."""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, select

from app.petitions.models import Petition, PetitionItem, PetitionSession, PetitionSummary
from app.petitions.rules import (
    ADDRESSEES,
    ANSWERED,
    CLOSED,
    COMPILED,
    FORWARDED,
    in_subtree,
)
from app.units.models import Unit


@dataclass
class Figures:
    received: int = 0
    compiled: int = 0
    forwarded: int = 0
    answered: int = 0
    on_time: int = 0


def figures(session: Session, unit: Unit, start: date, end: date) -> Figures:
    """Petitions heard in the unit's subtree between two dates (inclusive), counted by how far
    their compiled item has gone: compiled counts every compiled one (whatever its step),
    forwarded those sent on, answered those answered or closed, on time those answered by the
    due date."""
    rows = session.exec(
        select(PetitionItem.status, PetitionItem.answered_on <= PetitionItem.due_on, func.count(Petition.id))
        .select_from(Petition).join(Unit, Unit.id == Petition.unit_id)
        .outerjoin(PetitionItem, PetitionItem.id == Petition.item_id)
        .where(in_subtree(Unit.path, unit), Petition.heard_on >= start, Petition.heard_on <= end)
        .group_by(PetitionItem.status, PetitionItem.answered_on <= PetitionItem.due_on)).all()
    f = Figures()
    for status, on_time, n in rows:
        f.received += n
        if status is None:
            continue
        f.compiled += n
        if status in (FORWARDED, ANSWERED, CLOSED):
            f.forwarded += n
        if status in (ANSWERED, CLOSED):
            f.answered += n
            if on_time:
                f.on_time += n
    return f


@dataclass
class AddresseeRate:
    addressee: str
    forwarded: int
    answered: int
    on_time: int

    @property
    def rate(self) -> float | None:
        return self.answered / self.forwarded if self.forwarded else None


def answer_rates(session: Session, unit: Unit) -> list[AddresseeRate]:
    """Per addressee: items forwarded (sent on), answered, answered on time, in summaries of
    the unit's subtree."""
    rows = session.exec(
        select(PetitionItem.addressee, PetitionItem.status, PetitionItem.answered_on <= PetitionItem.due_on,
               func.count()).select_from(PetitionItem)
        .join(PetitionSummary, PetitionSummary.id == PetitionItem.summary_id)
        .join(Unit, Unit.id == PetitionSummary.unit_id)
        .where(in_subtree(Unit.path, unit), PetitionItem.status != COMPILED)
        .group_by(PetitionItem.addressee, PetitionItem.status,
                  PetitionItem.answered_on <= PetitionItem.due_on)).all()
    by: dict[str, AddresseeRate] = {}
    for addressee, status, on_time, n in rows:
        r = by.setdefault(addressee, AddresseeRate(addressee, 0, 0, 0))
        r.forwarded += n
        if status in (ANSWERED, CLOSED):
            r.answered += n
            r.on_time += n if on_time else 0
    return [by[a] for a in ADDRESSEES if a in by]


def overdue(session: Session, unit: Unit, today: date) -> list[tuple[PetitionItem, PetitionSummary]]:
    """Forwarded items of the subtree's summaries still unanswered after their due date."""
    return list(session.exec(
        select(PetitionItem, PetitionSummary).join(PetitionSummary, PetitionSummary.id == PetitionItem.summary_id)
        .join(Unit, Unit.id == PetitionSummary.unit_id)
        .where(in_subtree(Unit.path, unit), PetitionItem.status == FORWARDED, PetitionItem.due_on < today)
        .order_by(PetitionItem.due_on, PetitionItem.id)).all())


def public_items(session: Session, province: Unit) -> list[tuple[PetitionItem, PetitionSummary, PetitionSession]]:
    """Answered items the Front chose to publish: content and answer only."""
    return list(session.exec(
        select(PetitionItem, PetitionSummary, PetitionSession)
        .join(PetitionSummary, PetitionSummary.id == PetitionItem.summary_id)
        .join(PetitionSession, PetitionSession.id == PetitionSummary.session_id)
        .join(Unit, Unit.id == PetitionSummary.unit_id)
        .where(in_subtree(Unit.path, province), PetitionItem.published == True,  # noqa: E712
               PetitionItem.status.in_((ANSWERED, CLOSED)))
        .order_by(PetitionItem.answered_on.desc(), PetitionItem.id.desc())).all())


# --- joined to the program -------------------------------------------------------------------

# Tasks of the 2023 program about voters' petitions: (quarter, number) of the province plan.
PETITION_TASKS = {(2, 4), (3, 2), (4, 5)}


def summaries_in(session: Session, unit: Unit, year: int | None) -> list[tuple[PetitionSummary, PetitionSession, int]]:
    """The summaries of a unit's subtree for a year's sessions (every year: None), with their
    item counts, newest session first."""
    stmt = (select(PetitionSummary, PetitionSession, func.count(PetitionItem.id))
            .join(PetitionSession, PetitionSession.id == PetitionSummary.session_id)
            .join(Unit, Unit.id == PetitionSummary.unit_id)
            .outerjoin(PetitionItem, PetitionItem.summary_id == PetitionSummary.id)
            .where(in_subtree(Unit.path, unit)))
    if year is not None:
        stmt = stmt.where(PetitionSession.year == year)
    return list(session.exec(stmt.group_by(PetitionSummary.id, PetitionSession.id)
                             .order_by(PetitionSession.year.desc(), PetitionSession.held_on.desc(),
                                       PetitionSummary.id.desc()).limit(100)).all())

