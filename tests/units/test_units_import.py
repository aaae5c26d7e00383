"""Importing units from CSV/XLSX: all rows checked first, errors by line, nothing from a bad file."""
import os
import subprocess
import sys
from pathlib import Path

from openpyxl import Workbook
from sqlmodel import Session, func, select

from app.units.importer import import_units
from app.units.models import Unit

HEADER = "code,name,kind,parent_code,households,population\n"


def _csv(tmp_path: Path, body: str) -> Path:
    f = tmp_path / "units.csv"
    f.write_text(HEADER + body, encoding="utf-8")
    return f


def _sizes(db: Session, unit: Unit) -> tuple[int | None, int | None]:
    """(households, population) the import wrote for the unit: the year of the import's day."""
    from app.program.service import today_vn
    from app.units.models import UnitYear

    row = db.get(UnitYear, (unit.id, today_vn().year))
    return (row.households, row.population) if row else (None, None)


def _villages_of(db: Session, commune_code: str) -> list[Unit]:
    commune = db.exec(select(Unit).where(Unit.code == commune_code)).one()
    return list(db.exec(select(Unit).where(Unit.parent_id == commune.id).order_by(Unit.code)))


def test_import_units_csv_creates_villages_under_commune(db: Session, tmp_path: Path):
    f = _csv(tmp_path, "04720-T01,Thôn Khe Lụa,thon,04720,120,510\n04720-T02,Thôn Đồng Tâm,thon,04720,95,400\n")
    report = import_units(db, f)
    assert report.ok and report.created == 2
    v = db.exec(select(Unit).where(Unit.code == "04720-T01")).one()
    commune = db.get(Unit, v.parent_id)
    assert (v.name, v.depth, *_sizes(db, v)) == ("Thôn Khe Lụa", 3, 120, 510)
    assert commune.code == "04720" and v.path == f"{commune.path}{v.id}/" and not v.is_demo


def test_import_units_bad_row_imports_nothing_and_names_the_line(db: Session, tmp_path: Path):
    before = db.exec(select(func.count()).select_from(Unit)).one()
    f = _csv(tmp_path, "04720-T01,Thôn Một,thon,04720,,\n04720-T02,Thôn Hai,lang,04720,,\n")
    report = import_units(db, f)
    assert not report.ok
    assert len(report.errors) == 1 and report.errors[0].startswith("Line 3: unknown kind 'lang'")
    assert db.exec(select(func.count()).select_from(Unit)).one() == before


def test_import_units_reports_every_kind_of_bad_row(db: Session, tmp_path: Path):
    f = _csv(tmp_path, "\n".join([
        "04720-T01,Thôn Một,thon,99999,,",      # line 2: unknown parent
        "04720-T02,Thôn Hai,thon,141,,",        # line 3: village directly under a district
        "04720-T03,,thon,04720,,",              # line 4: empty name
        "04720-T04,Thôn Bốn,thon,04720,abc,",   # line 5: households not a number
        "04720-T04,Thôn Bốn,thon,04720,,",      # line 6: duplicate code
    ]) + "\n")
    report = import_units(db, f)
    lines = sorted(int(e.split(":")[0].removeprefix("Line ")) for e in report.errors)
    assert lines == [2, 3, 4, 5, 6]


def test_import_units_parent_earlier_in_same_file(db: Session, tmp_path: Path):
    f = _csv(tmp_path, "99001,Xã Mới,xa,141,,\n99001-01,Thôn 1,thon,99001,50,200\n")
    report = import_units(db, f)
    assert report.ok and report.created == 2
    village = db.exec(select(Unit).where(Unit.code == "99001-01")).one()
    assert village.path.count("/") == 5  # /province/district/commune/village/


def test_import_units_xlsx_with_vietnamese_headers(db: Session, tmp_path: Path):
    wb = Workbook()
    ws = wb.active
    ws.append(["Mã", "Tên", "Loại", "Mã cha", "Số hộ", "Dân số"])
    ws.append(["04720-T09", "Tổ dân phố 9", "to-dan-pho", "04720", 80, 300])
    f = tmp_path / "units.xlsx"
    wb.save(f)
    report = import_units(db, f)
    assert report.ok and report.created == 1
    assert _sizes(db, db.exec(select(Unit).where(Unit.code == "04720-T09")).one())[0] == 80


def test_import_units_replace_demo_removes_generated_villages(db: Session, tmp_path: Path):
    demo = [v for v in _villages_of(db, "04720") if v.is_demo]
    assert len(demo) >= 8
    f = _csv(tmp_path, "04720-T01,Thôn Khe Lụa,thon,04720,120,510\n")
    report = import_units(db, f, replace_demo=True)
    assert report.ok and report.removed_demo == len(demo)
    assert [v.code for v in _villages_of(db, "04720")] == ["04720-T01"]


def test_import_units_existing_code_is_updated_not_duplicated(db: Session, tmp_path: Path):
    f = _csv(tmp_path, "04720-01,Thôn Làng Cát,thon,04720,140,600\n")
    report = import_units(db, f)
    assert (report.created, report.updated) == (0, 1)
    v = db.exec(select(Unit).where(Unit.code == "04720-01")).one()
    assert (v.name, _sizes(db, v)[0], v.is_demo) == ("Thôn Làng Cát", 140, False)


def test_cli_import_units_bad_file_exits_1_and_lists_errors(engine, tmp_path: Path):
    from tests.databases import drop_database, seeded_copy

    # A copy of the run's seeded database: the 2023 tree in force today, 04720 takes villages.
    url, pg_name = seeded_copy("mttq_cli", tmp_path)
    env = {**os.environ, "DATABASE_URL": url, "SEED_DEMO_VALUES": "false", "SEED_DEMO_2026": "false"}
    root = Path(__file__).resolve().parents[2]
    f = _csv(tmp_path, "04720-T01,Thôn Một,thon,04720,,\n04720-T02,Thôn Hai,thon,nope,,\n")
    try:
        r = subprocess.run([sys.executable, "-m", "app.cli", "import-units", str(f)], cwd=root, env=env,
                           capture_output=True, text=True, timeout=120)
    finally:
        if pg_name:
            drop_database(os.environ["TEST_DATABASE_URL"], pg_name)
    assert r.returncode == 1
    assert "Nothing imported: 1 error(s)." in r.stderr and "Line 3" in r.stderr


def test_import_units_real_villages_become_the_share_denominator(db: Session, tmp_path: Path):
    from app.program.periods import PeriodRange
    from app.program.service import current_program
    from app.rollup.service import rollup

    commune = db.exec(select(Unit).where(Unit.code == "04720")).one()
    f = _csv(tmp_path, "04720-T01,Thôn Khe Lụa,thon,04720,120,510\n04720-T02,Thôn Đồng Tâm,thon,04720,95,400\n")
    assert import_units(db, f, replace_demo=True).ok
    ct04 = next(r for r in rollup(db, commune, PeriodRange.parse("2023-03"), current_program(db)) if r.indicator.code == "CT04")
    # Two real villages replace the demo ones: both should report, neither has answered yet.
    assert (ct04.subtree.expected, ct04.subtree.reported) == (2, 0)
