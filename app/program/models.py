"""A year's program: theme, motto, indicators with targets, and tasks.

A program is made as a draft (copied from a previous year, imported from a program file, or
built on the administration pages) and published once it passes the checks of
`app.program.lifecycle`; only published programs are "in force" for entry, roll-up and reports.
"""
from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.time import utcnow


class Program(SQLModel, table=True):
    __tablename__ = "program"
    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(unique=True, index=True)
    title: str = Field(max_length=300)
    theme: str = Field(sa_column=Column(Text, nullable=False))  # chủ đề
    motto: str = Field(sa_column=Column(Text, nullable=False))  # phương châm
    root_unit_id: int = Field(foreign_key="unit.id")
    source: str | None = Field(default=None, sa_column=Column(Text))  # issuing body / preamble
    status: str = Field(default="published", max_length=16)  # draft | published
    # Closed by the province once the year is over (`app.program.closing`): read-only from then.
    closed_at: datetime | None = None
    closed_by_id: int | None = None  # the account (app_user.id), as its audit row says


class Indicator(SQLModel, table=True):
    """One of the program's indicators (section I.3), with how it is entered and rolled up.

    measure: ratio (numerator/denominator), yes_no (one answer per unit), count, amount (VND).
    entry_depths: comma-separated depths of the levels that enter it, e.g. "0,1,2".
    time_rollup: flow (months add up) or stock (the latest month stands).
    share_filter: for yes_no, which units of the entry levels should report: all | new_rural.
    baseline: previous year's figure where the target is relative (child marriage vs 2022);
    baseline_source says where the province took it from (None: not confirmed, a demo figure).
    """

    __tablename__ = "indicator"
    __table_args__ = (UniqueConstraint("program_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    code: str = Field(max_length=32)  # CT01 … CT18
    number: int  # position in the program, 1 … 18
    name: str = Field(sa_column=Column(Text, nullable=False))
    short_name: str = Field(max_length=200)
    measure: str = Field(max_length=16)
    entry_depths: str = Field(max_length=32)
    time_rollup: str = Field(max_length=8)
    share_filter: str = Field(default="all", max_length=16)
    value_label: str | None = Field(default=None, max_length=60)  # "cuộc", "nhà", "đồng"
    numerator_label: str | None = Field(default=None, max_length=120)
    denominator_label: str | None = Field(default=None, max_length=120)
    baseline: int | None = Field(default=None, sa_column=Column(BigInteger))
    baseline_year: int | None = None
    baseline_source: str | None = Field(default=None, sa_column=Column(Text))
    description: str | None = Field(default=None, sa_column=Column(Text))


class Target(SQLModel, table=True):
    """A target with a scope.

    scope: total (the whole tree under unit_id, or under the program root when unit_id is
    None), own (unit_id's own figure), each (every unit at `depth`, each on its `basis`).
    comparator: >=, >, <=, <, =, range (value ≤ x ≤ value_high is met; above is "exceeded").
    on: what is compared: value (the figure: a count, an amount or a percentage for ratios and
    shares) or reduction_pct (percentage reduction against the indicator's baseline).
    """

    __tablename__ = "target"
    id: int | None = Field(default=None, primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id", index=True)
    scope: str = Field(max_length=8)
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    depth: int | None = None
    basis: str = Field(default="own", max_length=8)  # for scope=each: own | subtree
    comparator: str = Field(max_length=8)
    value: float
    value_high: float | None = None
    on: str = Field(default="value", max_length=16)
    label: str | None = Field(default=None, max_length=300)  # the document's words


class Task(SQLModel, table=True):
    """A task of section II (or an addition); sub-items are tasks with a parent."""

    __tablename__ = "task"
    # A plan takes a source task once, even when two people choose it at the same moment.
    __table_args__ = (UniqueConstraint("plan_unit_id", "source_task_id"),)
    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    plan_unit_id: int = Field(foreign_key="unit.id", index=True)  # whose plan: province or a district
    parent_id: int | None = Field(default=None, foreign_key="task.id", index=True)
    source_task_id: int | None = Field(default=None, foreign_key="task.id")  # copied from
    quarter: int
    number: int  # (n) within the quarter, or position among sub-items
    title: str = Field(max_length=300)
    text: str = Field(sa_column=Column(Text, nullable=False))
    due_month: int | None = None  # last month it is due, where the document names one
    due_note: str | None = Field(default=None, max_length=60)  # "tháng 11, 12"
    lead_unit_id: int = Field(foreign_key="unit.id")
    lead_department: str | None = Field(default=None, max_length=120)
    status: str = Field(default="not_started", max_length=16)  # not_started | in_progress | done
    done_on: date | None = None
    is_addition: bool = False
    addition_reason: str | None = Field(default=None, sa_column=Column(Text))
    added_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = 1


class TaskNote(SQLModel, table=True):
    __tablename__ = "task_note"
    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    noted_on: date
    text: str = Field(sa_column=Column(Text, nullable=False))
    author_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow)


class TaskIndicator(SQLModel, table=True):
    __tablename__ = "task_indicator"
    task_id: int = Field(foreign_key="task.id", primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id", primary_key=True)


class YearReopening(SQLModel, table=True):
    """A unit's closed year reopened for corrections by the level above (`app.program.closing`):
    while the row stands, that unit's own figures (and its villages') are editable again."""

    __tablename__ = "year_reopening"
    __table_args__ = (UniqueConstraint("program_id", "unit_id"),)
    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    reopened_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    reopened_at: datetime = Field(default_factory=utcnow)
    reason: str = Field(sa_column=Column(Text, nullable=False))
