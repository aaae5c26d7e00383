"""The unit tree read one way everywhere: a unit's children, its ancestors and its subtree.

`path` is the chain of ancestor ids (`/1/12/140/`, see `app.units.models`): a subtree is one
prefix scan, the ancestors are read from the unit's own row. `day` given: only the units in
force that day (`app.units.time`); None: every version, as the tree's editors need. Children
come in the tree's order (sort order, name, id).
"""
from datetime import date
from typing import Any

from sqlalchemy import union
from sqlmodel import Session, col, select

from app.units.models import Unit, UnitSuccessor
from app.units.time import in_force_clause

TREE_ORDER = (Unit.sort_order, Unit.name, Unit.id)


def ancestor_ids(unit: Unit) -> list[int]:
    """The ids on the unit's path, the root first, the unit itself excluded."""
    return [int(x) for x in unit.path.strip("/").split("/") if x and int(x) != unit.id]


def children_clause(parent: Unit, day: date | None = None) -> Any:
    """The WHERE clause of "the children of `parent`" (in force on `day`, if given)."""
    clause = Unit.parent_id == parent.id
    return clause if day is None else clause & in_force_clause(day)


def subtree_clause(root: Unit, *, include_root: bool = True) -> Any:
    """The WHERE clause of "`root` and every unit below it" (without `root`: include_root=False)."""
    clause = col(Unit.path).startswith(root.path)
    return clause if include_root else clause & (Unit.id != root.id)


def children(session: Session, parent: Unit, day: date | None = None, *, limit: int | None = None) -> list[Unit]:
    """The units just below `parent`, in the tree's order."""
    q = select(Unit).where(children_clause(parent, day)).order_by(*TREE_ORDER)
    return list(session.exec(q.limit(limit) if limit is not None else q).all())


def has_children(session: Session, parent: Unit, day: date | None = None) -> bool:
    return bool(children(session, parent, day, limit=1))


def ancestors(session: Session, unit: Unit) -> list[Unit]:
    """The units above `unit`, the root first."""
    ids = ancestor_ids(unit)
    if not ids:
        return []
    found = {u.id: u for u in session.exec(select(Unit).where(col(Unit.id).in_(ids))).all()}
    return [found[i] for i in ids if i in found]


def subtree(session: Session, root: Unit, day: date | None = None, *, include_root: bool = True) -> list[Unit]:
    """`root` and the units below it, shallow levels first, each level in the tree's order."""
    q = select(Unit).where(subtree_clause(root, include_root=include_root))
    if day is not None:
        q = q.where(in_force_clause(day))
    return list(session.exec(q.order_by(Unit.depth, *TREE_ORDER)).all())


def predecessors(session: Session, unit: Unit) -> list[Unit]:
    """The units `unit` came from, followed backwards over `unit_successor` to the end: those
    merged into it or renamed to it, and those it was split from; then theirs, and so on (one
    small query per step back, then one for the units). Shallow levels first, each level in the
    tree's order; `unit` itself never (a cycle in the links stops where it closes)."""
    seen: set[int] = set()
    frontier = {unit.id}
    while frontier:
        into = select(UnitSuccessor.from_unit_id).where(
            col(UnitSuccessor.to_unit_id).in_(frontier), UnitSuccessor.kind != "split_from")
        split = select(UnitSuccessor.to_unit_id).where(
            col(UnitSuccessor.from_unit_id).in_(frontier), UnitSuccessor.kind == "split_from")
        frontier = set(session.execute(union(into, split)).scalars().all()) - seen - {unit.id}
        seen |= frontier
    if not seen:
        return []
    return list(session.exec(select(Unit).where(col(Unit.id).in_(seen)).order_by(Unit.depth, *TREE_ORDER)).all())


def outermost(units: list[Unit]) -> list[Unit]:
    """The units of `units` not inside another's subtree (the roots of what they cover together)."""
    return [u for u in units if not any(o.id != u.id and u.path.startswith(o.path) for o in units)]
