"""Administrative units: the province → district → commune → village tree.

Subtrees use a materialised path: `path` is the chain of ancestor ids, e.g. `/1/12/140/`.
A subtree is one indexed prefix scan (`path LIKE '/1/12/%'`) and the ancestors of a unit are
read from its own row, with no recursion, which suits a tree that changes once a year and
is read on every page. Level names and depth are rows of `unit_level`, not code.
"""
from sqlalchemy import BigInteger, Column
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
    code: str = Field(unique=True, index=True, max_length=32)  # GSO code; generated for villages
    name: str = Field(max_length=200)  # "Yên Bình"
    kind: str = Field(foreign_key="unit_kind.code", max_length=32)
    depth: int = Field(foreign_key="unit_level.depth", index=True)
    parent_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    path: str = Field(index=True, max_length=255)
    sort_order: int = 0
    # Commune attributes: new-rural status and whether the province Front leads it.
    new_rural: str | None = Field(default=None, max_length=20)  # recognised | expected | None
    front_led: bool = False
    # Village attributes.
    households: int | None = Field(default=None, sa_column=Column(BigInteger))
    population: int | None = Field(default=None, sa_column=Column(BigInteger))
    is_demo: bool = False  # generated demo villages, to be replaced by an import
    valid_from: int | None = None  # first year the unit is in force (None: always)
    valid_to: int | None = None  # last year the unit is in force (None: still)
