"""Administrative units: the province → district → commune → village tree.

Subtrees use a materialised path: `path` is the chain of ancestor ids, e.g. `/1/12/140/`.
A subtree is one indexed prefix scan (`path LIKE '/1/12/%'`) and the ancestors of a unit are
read from its own row, with no recursion, which suits a tree that changes once a year and
is read on every page. Level names and depth are rows of `unit_level`, not code.

Units live in time (see `app.units.time`): a unit is in force from `valid_from` to `valid_to`
(dates, both included; None: always / still). A code is unique only among units whose
validity overlaps: after the 2025 reform code 15 is Lào Cai, and 51 communes of the new tree
reuse former Yên Bái codes. A unit is never renamed or moved in place: the change is a new
unit with a `unit_successor` link (merged into, split from, renamed) and an effective date.
`depth` is the semantic level (province 0, district 1, commune 2, village 3); a unit's parent
may sit at any shallower level (in the two-tier tree a commune hangs under the province).
Attributes that change by year (new-rural status, province-led, households, population) are
rows of `unit_year`, keyed by (unit, year).
"""
from datetime import date

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, false
from sqlmodel import Field, SQLModel


class UnitLevel(SQLModel, table=True):
    """A level of the tree: depth 0 is the root (province in 2023)."""

    __tablename__ = "unit_level"
    depth: int = Field(primary_key=True)
    key: str = Field(unique=True, max_length=32)  # province, district, commune, village
    name: str = Field(max_length=100)  # "Cấp tỉnh", "Cấp huyện", …


class UnitKind(SQLModel, table=True):
    """A kind of unit (tỉnh, huyện, thị xã, xã, phường, thôn, tổ dân phố …) at one level."""

    __tablename__ = "unit_kind"
    code: str = Field(primary_key=True, max_length=32)  # tinh, huyen, thi-xa, xa, thon …
    name: str = Field(max_length=100)  # "Huyện", "Thị trấn", "Tổ dân phố"
    depth: int = Field(foreign_key="unit_level.depth")


class Unit(SQLModel, table=True):
    __tablename__ = "unit"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, max_length=32)  # GSO code; generated for villages
    name: str = Field(max_length=200)  # "Yên Bình"
    kind: str = Field(foreign_key="unit_kind.code", max_length=32)
    depth: int = Field(foreign_key="unit_level.depth", index=True)
    parent_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    path: str = Field(index=True, max_length=255)
    sort_order: int = 0
    is_demo: bool = False  # generated demo villages, to be replaced by an import
    valid_from: date | None = None  # first day the unit is in force (None: always)
    valid_to: date | None = None  # last day the unit is in force (None: still)


class UnitYear(SQLModel, table=True):
    """A unit's attributes for one year: a commune's new-rural status and whether the province
    Front leads it; a village's households and population."""

    __tablename__ = "unit_year"
    unit_id: int = Field(sa_column=Column(Integer, ForeignKey("unit.id", ondelete="CASCADE"),
                                          primary_key=True))
    year: int = Field(primary_key=True)
    new_rural: str | None = Field(default=None, max_length=20)  # recognised | expected | None
    front_led: bool = False
    households: int | None = Field(default=None, sa_column=Column(BigInteger))
    population: int | None = Field(default=None, sa_column=Column(BigInteger))
    # A demo stand-in (the seed's fixed-seed picks, generated villages' sizes) until the province
    # sets the row for the year (page, import, API): shown as "(dữ liệu mẫu)" where it shows.
    is_demo: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


SUCCESSOR_KINDS = ("merged_into", "split_from", "renamed")


class UnitSuccessor(SQLModel, table=True):
    """`from_unit` became (part of) `to_unit` on `effective`: merged into, split from, renamed.

    A figure or a village is followed across a change through these links."""

    __tablename__ = "unit_successor"
    id: int | None = Field(default=None, primary_key=True)
    from_unit_id: int = Field(sa_column=Column(Integer, ForeignKey("unit.id", ondelete="CASCADE"),
                                               nullable=False, index=True))
    to_unit_id: int = Field(sa_column=Column(Integer, ForeignKey("unit.id", ondelete="CASCADE"),
                                             nullable=False, index=True))
    kind: str = Field(max_length=16)  # merged_into | split_from | renamed
    effective: date
