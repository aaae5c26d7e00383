"""`app.units.tree`: children, ancestors and subtrees read one way (hand-built tree, rolled back).

    R ─┬─ A (sort 2) ── A1
       ├─ B (sort 1)
       └─ C (sort 3, retired at the end of 2024)
"""
from datetime import date

from sqlmodel import select

from app.units import tree
from app.units.models import Unit


def _tree(db):
    kind = db.exec(select(Unit.kind)).first()

    def add(code, parent, sort, **more):
        u = Unit(code=code, name=f"Unit {code}", kind=kind, depth=0 if parent is None else parent.depth + 1,
                 parent_id=parent.id if parent else None, path="", sort_order=sort, **more)
        db.add(u)
        db.flush()
        u.path = f"{parent.path if parent else '/'}{u.id}/"
        db.add(u)
        db.flush()
        return u

    r = add("T-R", None, 1)
    a = add("T-A", r, 2)
    b = add("T-B", r, 1)
    c = add("T-C", r, 3, valid_to=date(2024, 12, 31))
    a1 = add("T-A1", a, 1)
    return r, a, b, c, a1


def test_children_in_the_trees_order_and_in_force(db):
    r, a, b, c, a1 = _tree(db)
    assert [u.code for u in tree.children(db, r)] == ["T-B", "T-A", "T-C"]  # by sort order
    assert [u.code for u in tree.children(db, r, date(2025, 1, 31))] == ["T-B", "T-A"]  # C retired
    assert tree.has_children(db, a) and not tree.has_children(db, b)


def test_ancestors_and_subtree(db):
    r, a, b, c, a1 = _tree(db)
    assert [u.code for u in tree.ancestors(db, a1)] == ["T-R", "T-A"]
    assert tree.ancestors(db, r) == []
    assert [u.code for u in tree.subtree(db, r)] == ["T-R", "T-B", "T-A", "T-C", "T-A1"]
    assert [u.code for u in tree.subtree(db, r, date(2025, 6, 30), include_root=False)] == ["T-B", "T-A", "T-A1"]
    assert [u.code for u in tree.subtree(db, a)] == ["T-A", "T-A1"]
