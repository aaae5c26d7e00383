"""The units a roll-up read looks at: a unit's children in force, the units of a level below
it, how many should report a share-of-units indicator, and lists of units read on first use.
"""

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from app.program import rules as program_rules
from app.program.models import Indicator
from app.program.periods import PeriodRange
from app.rollup.rules import CHUNK
from app.units.models import Unit, UnitYear
from app.units.time import NEW_RURAL, in_force_clause, period_day


def children_of(session: Session, unit: Unit, period: PeriodRange | str) -> list[Unit]:
    """The unit's children in force in the period (on the last day of its last month)."""
    return list(session.exec(select(Unit).where(Unit.parent_id == unit.id, in_force_clause(period_day(period)))
                             .order_by(Unit.sort_order, Unit.name, Unit.id)).all())


class LazyUnits(list):
    """`TargetResult.units_failing` for many units: the Unit rows are read on first use, so a
    page that shows only "7/9" does not pay for loading 170 communes. Use it while the session
    that computed the roll-up is open."""

    def __init__(self, session: Session, ids: list[int] | None = None, *,
                 length: int | None = None, loader=None) -> None:
        super().__init__()
        self._session, self._ids, self._loader = session, ids or [], loader
        self._length = len(self._ids) if length is None else length
        self._done = self._length == 0

    def _load(self) -> None:
        if self._done:
            return
        self._done = True
        if self._loader is not None:
            super().extend(self._loader())
            return
        found: dict[int, Unit] = {}
        for i in range(0, len(self._ids), CHUNK):
            chunk = self._ids[i:i + CHUNK]
            for u in self._session.exec(select(Unit).where(Unit.id.in_(chunk))).all():
                found[u.id] = u
        super().extend(found[i] for i in self._ids if i in found)

    def __len__(self) -> int:
        return self._length if not self._done else super().__len__()

    def ids(self) -> list[int]:
        """The units' ids in order, without reading their rows when they were given as ids."""
        if self._loader is None:
            return list(self._ids)
        return [u.id for u in self]

    def __bool__(self) -> bool:
        return len(self) > 0

    def __iter__(self):
        self._load()
        return super().__iter__()

    def __getitem__(self, i):
        self._load()
        return super().__getitem__(i)

    def __contains__(self, x: object) -> bool:
        self._load()
        return super().__contains__(x)

    def __eq__(self, other: object) -> bool:
        self._load()
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        self._load()
        return super().__repr__()

    def __reversed__(self):
        self._load()
        return super().__reversed__()

    def copy(self) -> list:
        self._load()
        return list(super().__iter__())


def light_under(session: Session, unit: Unit, depth: int, day, year: int
                 ) -> list[tuple[int, str, str | None]]:
    """(id, path, new-rural status in `year`) of the units at `depth` below `unit` in force on
    `day`, in code order."""
    steps = depth - unit.depth
    uy = UnitYear.__table__.c
    if steps <= 0:
        if steps < 0:
            return []
        nr = session.execute(sa_select(uy.new_rural).where(uy.unit_id == unit.id, uy.year == year)).scalar()
        return [(unit.id, unit.path, nr)]
    u = Unit.__table__.c
    q = (sa_select(u.id, u.path, uy.new_rural, u.code)
         .select_from(Unit.__table__.outerjoin(UnitYear.__table__, (uy.unit_id == u.id) & (uy.year == year)))
         .where(in_force_clause(day, u)))
    if steps == 1:
        q = q.where(u.parent_id == unit.id, u.depth == depth)
    elif unit.parent_id is None and session.execute(
            sa_select(func.count()).select_from(Unit.__table__).where(u.parent_id.is_(None), in_force_clause(day, u))
    ).scalar_one() == 1:
        q = q.where(u.depth == depth)  # the only root in force: every unit at that depth
    else:
        q = q.where(u.path.startswith(unit.path), u.depth == depth)
    return [(r[0], r[1], r[2]) for r in sorted(session.execute(q), key=lambda r: r[3])]


def count_expected(session: Session, unit: Unit, ind: Indicator, day, year: int) -> int:
    """Units of `unit`'s subtree (itself included) in force on `day` that should report a
    share-of-units indicator (new-rural ones: by their status in `year`)."""
    q = sa_select(func.count()).select_from(Unit).where(
        Unit.path.startswith(unit.path), Unit.depth.in_(sorted(program_rules.entry_depths(ind))), in_force_clause(day))
    if ind.share_filter == "new_rural":
        q = q.where(Unit.id.in_(sa_select(UnitYear.unit_id).where(
            UnitYear.year == year, UnitYear.new_rural.in_(NEW_RURAL))))
    return int(session.execute(q).scalar_one())

