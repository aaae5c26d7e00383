"""Units in time: the two-tier Lào Cai tree from the pinned packages, and the importer's rules for
tree versions (effective date, renames as new versions, a xã under the province, bad trees
refused with every problem by line and nothing written)."""
from datetime import date
from pathlib import Path

from sqlmodel import Session, func, select

from app.units.importer import import_units
from app.units.laocai_2025 import load_laocai_2025
from app.units.models import Unit, UnitSuccessor, UnitYear
from app.units.time import unit_by_code_on, units_in_force

NEW_DAY, OLD_DAY = date(2026, 1, 1), date(2025, 6, 30)


def _count(db: Session) -> tuple[int, int, int]:
    return (db.exec(select(func.count()).select_from(Unit)).one(),
            db.exec(select(func.count()).select_from(UnitSuccessor)).one(),
            db.exec(select(func.count()).select_from(Unit).where(Unit.valid_to.is_not(None))).one())


def _csv(tmp_path: Path, body: str, header: str = "code,name,kind,parent_code,households,population") -> Path:
    f = tmp_path / "tree.csv"
    f.write_text(header + "\n" + body, encoding="utf-8")
    return f


def _sources(db: Session, unit: Unit) -> set[str]:
    return set(db.exec(select(Unit.code).join(UnitSuccessor, UnitSuccessor.from_unit_id == Unit.id)
                       .where(UnitSuccessor.to_unit_id == unit.id)).all())


def test_load_laocai_2025_two_tier_tree_from_the_pinned_packages(db: Session):
    report = load_laocai_2025(db)
    assert report.ok, report.errors
    province = unit_by_code_on(db, "15", NEW_DAY)
    assert (province.name, province.valid_from, province.parent_id) == ("Lào Cai", date(2025, 7, 1), None)
    communes = units_in_force(db, NEW_DAY, children_of=province)
    assert len(communes) == 99 and {c.depth for c in communes} == {2}  # a xã directly under the province
    assert units_in_force(db, NEW_DAY, under=province, depth=1) == []  # no district level
    # Yên Bái and its whole 2023 tree end on 30/06/2025, untouched otherwise (names, codes).
    old = unit_by_code_on(db, "15", OLD_DAY)
    assert (old.name, old.valid_to) == ("Yên Bái", OLD_DAY)
    assert len(units_in_force(db, OLD_DAY, under=old, depth=2)) == 173
    assert units_in_force(db, NEW_DAY, under=old) == []
    assert unit_by_code_on(db, "04720", OLD_DAY).name == "Xuân Long"
    # Code reuse: 51 of the 99 new communes carry a former Yên Bái code, 24 of them with another name.
    reused = [(c, unit_by_code_on(db, c.code, OLD_DAY)) for c in communes]
    reused = [(n, o) for n, o in reused if o is not None]
    assert len(reused) == 51 and sum(n.name != o.name for n, o in reused) == 24
    # Yên Bái was merged into Lào Cai.
    assert _sources(db, province) == {"15"}
    # Demo villages for the new communes, marked demo, with 2026 households.
    cam_nhan = unit_by_code_on(db, "04726", NEW_DAY)
    villages = units_in_force(db, NEW_DAY, children_of=cam_nhan)
    assert 8 <= len(villages) <= 10 and all(v.is_demo and v.depth == 3 for v in villages)
    assert db.get(UnitYear, (villages[0].id, 2026)).households > 0


def test_load_laocai_2025_records_the_converters_mergers(db: Session):
    """Phường Cầu Thia absorbed the former ward Cầu Thia and the communes Thanh Lương, Hạnh Sơn,
    Phúc Sơn, Thạch Lương; Xã Xuân Long went into Xã Cảm Nhân: what vietnamadminunits'
    convert_address answers for those old addresses."""
    from vietnamadminunits import convert_address

    assert convert_address("Xã Thanh Lương, Thị xã Nghĩa Lộ, Tỉnh Yên Bái").ward == "Phường Cầu Thia"
    assert convert_address("Xã Xuân Long, Huyện Yên Bình, Tỉnh Yên Bái").ward == "Xã Cảm Nhân"
    assert load_laocai_2025(db).ok
    cau_thia = next(u for u in units_in_force(db, NEW_DAY, depth=2) if u.name == "Cầu Thia")
    assert cau_thia.kind == "phuong"
    assert _sources(db, cau_thia) == {"04291", "04675", "04678", "04681", "04684"}
    cam_nhan = unit_by_code_on(db, "04726", NEW_DAY)
    assert "04720" in _sources(db, cam_nhan)
    assert {link.kind for link in db.exec(select(UnitSuccessor).where(UnitSuccessor.to_unit_id == cam_nhan.id))} \
        == {"merged_into"}
    # Loading twice changes nothing.
    before = _count(db)
    assert not load_laocai_2025(db).ok
    assert _count(db) == before


def test_import_rename_makes_a_new_version_and_keeps_the_old_name_for_the_past(db: Session, tmp_path: Path):
    f = _csv(tmp_path, "04720,Xuân Long Mới,xa,141,,\n")
    assert not import_units(db, f).ok  # no effective date: no rename in place
    report = import_units(db, f, effective=date(2024, 1, 1))
    assert report.ok, report.errors
    old = unit_by_code_on(db, "04720", date(2023, 12, 31))
    new = unit_by_code_on(db, "04720", date(2024, 1, 1))
    assert (old.name, old.valid_to, new.name, new.valid_from) == (
        "Xuân Long", date(2023, 12, 31), "Xuân Long Mới", date(2024, 1, 1))
    assert _sources(db, new) == {"04720"}
    # Its villages follow as new versions under the new commune; the old ones stay under the old.
    assert len(units_in_force(db, date(2024, 1, 1), children_of=new)) == \
        len(units_in_force(db, date(2023, 12, 31), children_of=old)) >= 8


def test_import_accepts_a_province_and_a_xa_directly_under_it(db: Session, tmp_path: Path):
    f = _csv(tmp_path, "99,Tỉnh Mới,tinh,,,\n99001,Xã Một,xa,99,,\n99001-01,Thôn 1,thon,99001,50,210\n")
    report = import_units(db, f, effective=date(2025, 7, 1))
    assert report.ok, report.errors
    xa = unit_by_code_on(db, "99001", NEW_DAY)
    assert db.get(Unit, xa.parent_id).code == "99" and xa.path.count("/") == 3


def test_import_bad_tree_lists_every_problem_by_line_and_changes_nothing(db: Session, tmp_path: Path):
    before = _count(db)
    f = _csv(tmp_path, "\n".join([
            "16,Tỉnh Trùng,tinh,15,,",              # line 2: a province has no parent
        "98001,Xã A,xa,98002,,",                # line 3: cycle 98001 → 98002 → 98001
        "98002,Xã B,xa,98001,,",                # line 4: (the same cycle)
        "98003,Thôn C,thon,98004,,",            # line 5: parent neither in force nor in the file
        "04720-99,Thôn D,thon,XX9,,",           # line 6: unknown parent
    ]) + "\n")
    report = import_units(db, f, effective=date(2025, 7, 1))
    assert not report.ok
    text = "\n".join(report.errors)
    assert "Line 2: a province has no parent" in text and "Line 3: cycle: 98001 → 98002 → 98001." in text
    assert "Line 5: parent code '98004'" in text and "Line 6: parent code 'XX9'" in text
    assert _count(db) == before


def test_import_parent_not_in_force_and_overlapping_validity_refused(db: Session, tmp_path: Path):
    assert load_laocai_2025(db, villages=False).ok
    before = _count(db)
    # District 141 ended on 30/06/2025: nothing may hang under it from 2026.
    f = _csv(tmp_path, "97001,Xã E,xa,141,,\n", header="code,name,kind,parent_code")
    report = import_units(db, f, effective=date(2026, 1, 1))
    assert report.errors == ["Line 2: parent 141 (Yên Bình) is not in force on 01/01/2026: a unit needs a parent in force."]
    f = _csv(tmp_path, "04720-77,Thôn F,thon,04726,,\n04726,Cảm Nhân,xa,15,,\n",
             header="code,name,kind,parent_code")
    assert import_units(db, f, effective=date(2026, 1, 1)).ok  # same tree: attributes only
    # Overlapping validity: a commune of district 141 from 01/01/2025 (no end) with the code of a
    # commune of the new tree (a code no unit carried before) would share the days from 01/07/2025.
    new = next(u for u in units_in_force(db, NEW_DAY, depth=2) if unit_by_code_on(db, u.code, OLD_DAY) is None)
    f = _csv(tmp_path, f"{new.code},Trùng,xa,141,,\n", header="code,name,kind,parent_code")
    report = import_units(db, f, effective=date(2025, 1, 1))
    assert len(report.errors) == 1 and report.errors[0].startswith(f"Line 2: code clash: {new.code} is carried by {new.name}")
    assert _count(db)[0] == before[0] + 1  # only the village of the good file
