"""The program file (XLSX): export the 2023 program, re-import it into an empty draft, get the
seeded program back; a bad file answers every error by sheet and row and writes nothing."""
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, func, select

from app.accounts.deps import Principal
from app.accounts.models import User
from app.program import lifecycle, program_file
from app.program.models import Indicator, Program, Task
from app.seed import program_2023
from app.units.models import Unit


def _principal(db: Session, username: str) -> Principal:
    user = db.exec(select(User).where(User.username == username)).one()
    return Principal(unit=db.get(Unit, user.unit_id), role=user.role, via="web", user=user)


@pytest.fixture
def admin(db) -> Principal:
    return _principal(db, "tinh.quantri")


def _p2023(db: Session) -> Program:
    return db.exec(select(Program).where(Program.year == 2023)).one()


def _rewrite(data: bytes, sheet: str, edits: dict[tuple[int, int], object]) -> bytes:
    wb = load_workbook(BytesIO(data))
    for (row, col), value in edits.items():
        wb[sheet].cell(row, col).value = value
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def test_export_2023_has_the_seeded_program(db):
    wb = load_workbook(BytesIO(program_file.export_xlsx(db, _p2023(db))))
    assert wb.sheetnames == ["Chương trình", "Chỉ tiêu", "Mục tiêu", "Nhiệm vụ"]
    head = {r[0]: r[1] for r in wb["Chương trình"].iter_rows(min_row=2, values_only=True)}
    assert head["motto"] == program_2023.MOTTO and head["year"] == 2023
    assert wb["Chỉ tiêu"].max_row == 1 + 18
    assert wb["Mục tiêu"].max_row == 1 + 22
    # CT15's "all levels ≥ 10 tỷ" is written as the whole number 10000000000, not 1e10.
    ct15 = [r for r in wb["Mục tiêu"].iter_rows(min_row=2, values_only=True) if r[0] == "CT15"]
    assert {r[6] for r in ct15} == {10_000_000_000, 3_000_000_000}


def test_export_then_import_into_an_empty_draft_gives_the_seeded_program_back(db, admin):
    p2023 = _p2023(db)
    data = program_file.export_xlsx(db, p2023)
    draft = lifecycle.create_draft(db, admin, 2030)  # empty
    program_file.import_xlsx(db, admin, draft, data)
    original, back = lifecycle.spec_of(db, p2023), lifecycle.spec_of(db, draft)
    assert back.year == 2030
    back.year = 2023
    assert back == original
    # Every field of the seed, e.g. CT06's range 10–15 % on the reduction, and 47 task rows.
    assert len(back.tasks) == db.exec(select(func.count()).select_from(Task).where(
        Task.program_id == p2023.id, Task.plan_unit_id == p2023.root_unit_id)).one()
    ct06 = next(t for t in back.targets if t.indicator == "CT06")
    assert (ct06.comparator, ct06.value, ct06.value_high, ct06.on) == ("range", 10, 15, "reduction_pct")
    assert draft.status == "draft"


def test_import_into_a_draft_that_has_indicators_is_refused(db, admin):
    draft = lifecycle.create_draft(db, admin, 2030, copy_from=2023)
    with pytest.raises(lifecycle.ProgramError) as e:
        program_file.import_xlsx(db, admin, draft, program_file.export_xlsx(db, _p2023(db)))
    assert (e.value.code, e.value.status) == ("draft_not_empty", 409)


def test_import_lists_every_error_by_sheet_and_row_and_writes_nothing(db, admin):
    data = program_file.export_xlsx(db, _p2023(db))
    # Row 3 of "Chỉ tiêu" is CT02: give it CT01's code (duplicate). Row 7 of "Mục tiêu" is
    # CT06's range target: drop its upper bound (column 8). Row 2 of "Nhiệm vụ": link CT99.
    data = _rewrite(data, "Chỉ tiêu", {(3, 1): "CT01"})
    data = _rewrite(data, "Mục tiêu", {(7, 8): None})
    data = _rewrite(data, "Nhiệm vụ", {(2, 10): "CT99"})
    draft = lifecycle.create_draft(db, admin, 2030)
    with pytest.raises(program_file.FileInvalid) as e:
        program_file.import_xlsx(db, admin, draft, data)
    found = sorted((err.code, err.sheet, err.row) for err in e.value.errors)
    # CT02 gone: its two targets name an indicator the file no longer has.
    assert found == sorted([
        ("duplicate_code", "Chỉ tiêu", 3),
        ("unknown_indicator", "Mục tiêu", 3),
        ("range_without_high", "Mục tiêu", 7),
        ("unknown_indicator", "Nhiệm vụ", 2),
    ])
    texts = [err.text() for err in e.value.errors]
    assert "Trang Mục tiêu, dòng 7 — Chỉ tiêu CT06 — mục tiêu 1: Mục tiêu trong khoảng cần có cận trên." in texts
    assert db.exec(select(func.count()).select_from(Indicator).where(Indicator.program_id == draft.id)).one() == 0


def test_import_bad_cells_are_reported_before_anything_else(db, admin):
    data = program_file.export_xlsx(db, _p2023(db))
    data = _rewrite(data, "Chỉ tiêu", {(2, 2): "một"})  # number
    data = _rewrite(data, "Mục tiêu", {(2, 4): 1.5})  # depth
    draft = lifecycle.create_draft(db, admin, 2030)
    with pytest.raises(program_file.FileInvalid) as e:
        program_file.import_xlsx(db, admin, draft, data)
    found = [(err.code, err.sheet, err.row) for err in e.value.errors]
    assert ("not_a_whole_number", "Chỉ tiêu", 2) in found and ("not_a_whole_number", "Mục tiêu", 2) in found
    assert ("cell_missing", "Chỉ tiêu", 2) in found  # number is required


def test_import_of_a_file_that_is_not_a_workbook_is_refused(db, admin):
    draft = lifecycle.create_draft(db, admin, 2030)
    with pytest.raises(program_file.FileInvalid) as e:
        program_file.import_xlsx(db, admin, draft, b"code,name\nCT01,x\n")
    assert [err.code for err in e.value.errors] == ["not_xlsx"]
    assert e.value.errors[0].text() == "Tệp không phải bảng tính XLSX."
