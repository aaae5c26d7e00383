"""Voters' and citizens' petitions: recorded where they are heard, compiled per session, followed.

A `Petition` is what one person or group raised, recorded by the unit that heard it (its
receiving unit). The level above gathers the petitions of its subtree heard for one council
session (`PetitionSession`, a "kỳ họp") into a numbered `PetitionSummary`; similar petitions
from several communes become one `PetitionItem` that keeps them as its sources (each petition
points at the item it was compiled into, so a petition is compiled once). Once the summary is
sent it is frozen and its items move forwarded → answered → closed with the addressee's answer.

Personal data (the raiser's name and contact) lives only on `Petition`; items, summaries,
exports and the public page are built from items and never read those two columns unless a
caller whose role allows it asks (see `app.petitions.service.sees_personal`).
"""
from datetime import date, datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.time import utcnow


class PetitionField(SQLModel, table=True):
    """A field a petition is about (land, social policy …): a list the province edits."""

    __tablename__ = "petition_field"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=32)
    name: str = Field(max_length=120)
    sort_order: int = 0
    active: bool = True


class PetitionSession(SQLModel, table=True):
    """A council session petitions are gathered for: "Kỳ họp thứ 7, HĐND tỉnh khóa XIX"."""

    __tablename__ = "petition_session"
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)  # the province (or district) it belongs to
    name: str = Field(max_length=200)
    held_on: date | None = None
    year: int = Field(index=True)


class Petition(SQLModel, table=True):
    """One opinion or petition as heard: where, when, who raised it, what, to whom."""

    __tablename__ = "petition"
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)  # the receiving unit
    session_id: int | None = Field(default=None, foreign_key="petition_session.id", index=True)
    channel: str = Field(max_length=16)  # voter_meeting | office | unit_report
    heard_on: date = Field(index=True)
    place: str | None = Field(default=None, max_length=200)
    raiser_kind: str = Field(max_length=8)  # person | group
    raiser_name: str | None = Field(default=None, max_length=200)  # personal data
    raiser_contact: str | None = Field(default=None, max_length=200)  # personal data
    field_id: int = Field(foreign_key="petition_field.id")
    content: str = Field(sa_column=Column(Text, nullable=False))
    addressee: str = Field(max_length=24)
    addressee_detail: str | None = Field(default=None, max_length=200)  # "Sở Tài nguyên và Môi trường"
    item_id: int | None = Field(default=None, foreign_key="petition_item.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")


class PetitionSummary(SQLModel, table=True):
    """A unit's numbered compiled summary for one session; frozen once sent."""

    __tablename__ = "petition_summary"
    __table_args__ = (UniqueConstraint("unit_id", "session_id"),)
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)  # the compiling unit
    session_id: int = Field(foreign_key="petition_session.id", index=True)
    number: int  # "Số: 12/BC-MTTQ-BTT": numbered per unit and year
    title: str = Field(max_length=300)
    status: str = Field(default="draft", max_length=8)  # draft | sent
    sent_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow)


class PetitionItem(SQLModel, table=True):
    """A compiled item of a summary: one or more petitions merged, followed until closed.

    status: compiled → forwarded (the summary is sent) → answered → closed, one step at a time.
    """

    __tablename__ = "petition_item"
    id: int | None = Field(default=None, primary_key=True)
    summary_id: int = Field(foreign_key="petition_summary.id", index=True)
    number: int
    field_id: int = Field(foreign_key="petition_field.id")
    addressee: str = Field(max_length=24)
    addressee_detail: str | None = Field(default=None, max_length=200)
    content: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="compiled", max_length=12)
    due_on: date | None = None
    answer_text: str | None = Field(default=None, sa_column=Column(Text))
    answered_on: date | None = None
    answer_ref: str | None = Field(default=None, max_length=120)  # the answering document's number
    file_name: str | None = Field(default=None, max_length=64)  # random name on disk
    file_label: str | None = Field(default=None, max_length=200)  # the uploaded file's name
    file_type: str | None = Field(default=None, max_length=40)
    unsatisfactory: bool = False  # the Front's supervision mark (Q3 (2))
    supervision_note: str | None = Field(default=None, sa_column=Column(Text))
    published: bool = False  # shown on the public page once answered
    closed_on: date | None = None
    version: int = 1
