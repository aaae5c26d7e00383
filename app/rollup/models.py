"""Pre-aggregated roll-up tables (see `app.rollup.service` for the design).

rollup_cell: for a unit A, an indicator and a month, the aggregate of the *effective* figures
of every unit of A's subtree (A included) that counts toward the indicator. Effective: a flow's
figure of that month; a stock's (and a yes/no's) latest figure at or before that month within
the year (carried forward). `value_sum` is Σ value (for yes/no: the units answering yes),
`num_sum`/`den_sum` Σ numerator / Σ denominator, `reported_count` the units with an effective
figure. Units at the deepest entry level of an indicator hold no cells: their subtree figure is
their own, read from `data_value`.

rollup_unit_count: for a unit A, a depth d below it and a month, how many units of A's subtree
in force on the month's last day sit at depth d (`units`) and how many of those are new-rural
communes that year (`new_rural`): the denominators of share-of-units indicators and of
completeness, read in one indexed row instead of counting the tree. Kept for the months of the
years that have a program (`rebuild_unit_counts`).
"""
from sqlalchemy import BigInteger, Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel


class RollupCell(SQLModel, table=True):
    __tablename__ = "rollup_cell"
    unit_id: int = Field(sa_column=Column(Integer, ForeignKey("unit.id", ondelete="CASCADE"),
                                          primary_key=True))
    indicator_id: int = Field(sa_column=Column(Integer, ForeignKey("indicator.id", ondelete="CASCADE"),
                                               primary_key=True))
    period: str = Field(primary_key=True, max_length=7)
    value_sum: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    num_sum: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    den_sum: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    reported_count: int = 0


class RollupUnitCount(SQLModel, table=True):
    __tablename__ = "rollup_unit_count"
    unit_id: int = Field(sa_column=Column(Integer, ForeignKey("unit.id", ondelete="CASCADE"),
                                          primary_key=True))
    depth: int = Field(primary_key=True)
    period: str = Field(primary_key=True, max_length=7)  # the month "YYYY-MM"
    units: int = 0
    new_rural: int = 0


class RollupOwn(SQLModel, table=True):
    """A unit's own flow figures summed from January to the month (cumulative), so a span
    [a..b] is `row(b) − row(a−1)`: one or two rows per unit, however many months. `each`
    targets over thousands of units (each commune of the country) read these instead of
    twelve raw rows per unit. `reported_count` counts the months entered so far."""

    __tablename__ = "rollup_own"
    unit_id: int = Field(sa_column=Column(Integer, ForeignKey("unit.id", ondelete="CASCADE"),
                                          primary_key=True))
    indicator_id: int = Field(sa_column=Column(Integer, ForeignKey("indicator.id", ondelete="CASCADE"),
                                               primary_key=True))
    period: str = Field(primary_key=True, max_length=7)
    value_sum: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    num_sum: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    den_sum: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    reported_count: int = 0


class RollupEach(SQLModel, table=True):
    """For an `each` target counted over many units (each commune of the country), per
    ancestor unit and per span of months [period_start..period_end] of a year: how many of the
    ancestor's units at the target's depth have data (`with_data`) and how many meet the
    target (`meeting`). Kept up to date on save, so the national page reads one row per
    province instead of judging 10,000 communes.

    The target's terms are copied (`indicator_id`, `depth`, `comparator`, `value`): a row whose
    terms differ from the target's current ones (the target was edited) is not used, and a
    target without rows (added after the last `rebuild`) is counted from `rollup_own`."""

    __tablename__ = "rollup_each"
    unit_id: int = Field(sa_column=Column(Integer, ForeignKey("unit.id", ondelete="CASCADE"),
                                          primary_key=True))
    target_id: int = Field(sa_column=Column(Integer, ForeignKey("target.id", ondelete="CASCADE"),
                                            primary_key=True))
    period_start: str = Field(primary_key=True, max_length=7)
    period_end: str = Field(primary_key=True, max_length=7)
    indicator_id: int
    depth: int
    comparator: str = Field(max_length=8)
    value: float
    with_data: int = 0
    meeting: int = 0
