"""Entered figures, monthly submissions and stored API answers (the audit log is `app.audit`)."""
from datetime import datetime

from sqlalchemy import BigInteger, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.time import utcnow


class DataValue(SQLModel, table=True):
    """One unit's own figure for one indicator and one period ("YYYY-MM").

    A count, an amount or a yes/no (1/0) is in `value`; a ratio in numerator/denominator.
    `version` rises on every change so that a stale save is refused as a conflict.
    """

    __tablename__ = "data_value"
    __table_args__ = (UniqueConstraint("unit_id", "indicator_id", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    indicator_id: int = Field(foreign_key="indicator.id", index=True)
    period: str = Field(max_length=10, index=True)
    value: int | None = Field(default=None, sa_column=Column(BigInteger))
    numerator: int | None = Field(default=None, sa_column=Column(BigInteger))
    denominator: int | None = Field(default=None, sa_column=Column(BigInteger))
    comment: str | None = Field(default=None, sa_column=Column(Text))
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    updated_via: str = Field(default="web", max_length=16)  # web | api | import | seed


class PeriodSubmission(SQLModel, table=True):
    """A unit's month marked as submitted; the level above may reopen it."""

    __tablename__ = "period_submission"
    __table_args__ = (UniqueConstraint("unit_id", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    period: str = Field(max_length=10, index=True)
    status: str = Field(default="submitted", max_length=16)  # submitted | reopened
    submitted_at: datetime = Field(default_factory=utcnow)
    submitted_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    reopened_at: datetime | None = None
    reopened_by_id: int | None = Field(default=None, foreign_key="app_user.id")


class IdempotencyRecord(SQLModel, table=True):
    """The stored answer to an API request made with an Idempotency-Key header."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("owner", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    owner: str = Field(max_length=64)  # "token:12" or "user:3"
    key: str = Field(max_length=200)
    request_hash: str = Field(max_length=64)
    status_code: int
    response: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
