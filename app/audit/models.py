"""The audit trail's one table: every change to a figure, a submission, a task, a program or a
petition, who made it, when, how, old → new (JSON)."""
from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from app.core.time import utcnow


class AuditLog(SQLModel, table=True):
    """Every change to a data value, a submission or a task: who, when, how, old → new (JSON)."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    token_id: int | None = Field(default=None, foreign_key="api_token.id")
    via: str = Field(max_length=16)  # web | api | import | seed | system
    entity: str = Field(max_length=32)  # data_value | submission | task | task_note
    entity_id: int | None = Field(default=None, index=True)
    action: str = Field(max_length=16)  # create | update | delete | submit | reopen
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    indicator_id: int | None = Field(default=None, foreign_key="indicator.id")
    period: str | None = Field(default=None, max_length=10)
    old: str | None = Field(default=None, sa_column=Column(Text))
    new: str | None = Field(default=None, sa_column=Column(Text))
