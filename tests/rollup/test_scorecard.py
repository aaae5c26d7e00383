"""The scorecard: child units × indicators with on-track verdicts, sorted on the server, its own
and whole-tree rows, drill-down links, and its CSV / XLSX exports (inert text)."""
import csv
import re
from datetime import date
from io import BytesIO, StringIO

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from app.accounts.deps import Principal
from app.core.spreadsheet import safe_cell as inert
from app.program.models import Indicator, Program
from app.program.periods import PeriodRange
from app.reports.export import to_csv
from app.rollup import scorecard
from app.units.models import Unit
from app.values.service import Figure as Entry
from app.values.service import save_value

DISTRICTS = 9


@pytest.fixture
def put(db):
    program = db.exec(select(Program).where(Program.year == 2023)).one()
    root = db.get(Unit, program.root_unit_id)
    admin = Principal(unit=root, role="admin", via="web")

    def _put(code: str, ind: str, period: str, value=None, num=None, den=None) -> None:
        unit = db.exec(select(Unit).where(Unit.code == code)).one()
        indicator = db.exec(select(Indicator).where(Indicator.code == ind)).one()
        save_value(db, admin, program, unit, indicator, period,
                   Entry(value=value, numerator=num, denominator=den))
        db.commit()

    return _put


def _build(db, code: str, period: PeriodRange, sort: str = "", as_of: date = date(2023, 5, 10)):
    program = db.exec(select(Program).where(Program.year == 2023)).one()
    unit = db.exec(select(Unit).where(Unit.code == code)).one()
    return scorecard.build(db, program, unit, period, as_of, sort)


def _col(sc, code: str) -> int:
    return [i.code for i in sc.indicators].index(code)


def test_scorecard_rows_are_the_districts_with_each_districts_verdict(db, put):
    # CT12 each district ≥ 3 by December. Jan–Apr expects 3 × 4/12 = 1 house.
    put("141", "CT12", "2023-02", 2)  # Yên Bình: 2 ≥ 1 → on track
    put("132", "CT12", "2023-04", 3)  # Yên Bái city: 3 → met already
    sc = _build(db, "15", PeriodRange(2023, 1, 4))
    assert len(sc.rows) == DISTRICTS
    assert len(sc.indicators) == 18
    i = _col(sc, "CT12")
    by_code = {r.unit.code: r.cells[i] for r in sc.rows}
    assert by_code["141"].verdict == "on_track" and by_code["141"].sort_value == 2
    assert by_code["132"].verdict == "met"
    # No house yet in Lục Yên (136): 0 < 1 → behind.
    assert by_code["136"].verdict in ("behind", "no_data")


def test_scorecard_sorts_by_a_column_both_ways_missing_last(db, put):
    put("141", "CT15", "2023-01", 30_000_000)
    put("132", "CT15", "2023-01", 50_000_000)
    put("133", "CT15", "2023-01", 10_000_000)
    period = PeriodRange(2023, 1, 1)
    down = _build(db, "15", period, "-CT15")
    i = _col(down, "CT15")
    assert [r.unit.code for r in down.rows[:3]] == ["132", "141", "133"]
    assert all(r.cells[i].sort_value is None for r in down.rows[3:])
    up = _build(db, "15", period, "CT15")
    assert [r.unit.code for r in up.rows[:3]] == ["133", "141", "132"]
    assert all(r.cells[i].sort_value is None for r in up.rows[3:])


def test_scorecard_own_and_total_rows(db, put):
    # Province's own fund 3 tỷ; Yên Bình 1 tỷ → whole tree 4 tỷ. Own ≥ 3 tỷ is met already.
    put("15", "CT15", "2023-02", 3_000_000_000)
    put("141", "CT15", "2023-02", 1_000_000_000)
    sc = _build(db, "15", PeriodRange(2023, 1, 2))
    i = _col(sc, "CT15")
    assert sc.own.cells[i].sort_value == 3_000_000_000
    assert sc.own.cells[i].verdict == "met"
    assert sc.total.cells[i].sort_value == 4_000_000_000
    # All levels ≥ 10 tỷ, Jan–Feb expects 10 × 2/12 = 1,666… tỷ: 4 tỷ is on track.
    assert sc.total.cells[i].verdict == "on_track"


def test_scorecard_page_links_each_cell_to_the_drill_down(login, put):
    put("04720", "CT14", "2023-01", 4)  # Xuân Long, in Yên Bình
    r = login("tinh.xem").get("/dashboard/15/scorecard?period=2023-01&sort=-CT14")
    assert r.status_code == 200
    assert r.text.count('<tr data-unit="') == DISTRICTS
    first = r.text.split('<tr data-unit="')[1]
    assert first.startswith("141")  # sorted by CT14, largest first
    assert 'href="/dashboard/15/CT14?period=2023-01&amp;year=2023#u-141"' in r.text
    assert "Số liệu riêng của Yên Bái" in r.text and "Yên Bái, toàn địa bàn" in r.text
    assert 'aria-sort="descending"' in r.text


def test_scorecard_for_a_district_lists_its_communes(login, db):
    district = db.exec(select(Unit).where(Unit.code == "141")).one()
    n = len(db.exec(select(Unit).where(Unit.parent_id == district.id)).all())
    r = login("huyen.xem").get("/dashboard/141/scorecard?period=2023-03")
    assert r.status_code == 200
    assert r.text.count('<tr data-unit="') == n
    assert login("huyen.xem").get("/dashboard/15/scorecard").status_code == 404


def test_scorecard_bad_sort_keeps_tree_order(login):
    r = login("tinh.xem").get("/dashboard/15/scorecard?period=2023-01&sort=%3Cscript%3E")
    assert r.status_code == 200
    codes = re.findall(r'<tr data-unit="([^"]+)"', r.text)
    assert codes[0] == "132"  # the tree's order
    assert "<script>" not in r.text  # the unknown key is not echoed unescaped


# --- exports ---------------------------------------------------------------------------------

def test_inert_prefixes_formula_starts_only():
    assert inert("=1+1") == "'=1+1"
    assert inert("+84 912") == "'+84 912"
    assert inert("-x") == "'-x"
    assert inert("@SUM(A1)") == "'@SUM(A1)"
    assert inert("Yên Bình") == "Yên Bình"
    assert inert(-5) == -5


def test_csv_has_bom_and_meta_lines():
    data = to_csv([("Đơn vị", "=evil()")], ["a"], [["=2+2", 3]])
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["Đơn vị", "'=evil()"]
    assert rows[3] == ["'=2+2", "3"]


def test_scorecard_csv_carries_period_unit_time_and_inert_names(login, db, put):
    # A district renamed to something a spreadsheet would run: it must arrive as text.
    district = db.exec(select(Unit).where(Unit.code == "133")).one()
    district.name = "=HYPERLINK(\"http://x\")"
    db.add(district)
    db.commit()
    put("04720", "CT14", "2023-01", 4)  # Xuân Long, in Yên Bình
    r = login("tinh.xem").get("/dashboard/15/scorecard.csv?period=2023-01")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(StringIO(r.content.decode("utf-8-sig"))))
    meta = {row[0]: row[1] for row in rows[:4]}
    assert meta["Đơn vị"] == "Yên Bái (15)"
    assert meta["Kỳ"] == "Tháng 01/2023"
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", meta["Thời điểm xuất"])
    assert rows[4] == []
    body = rows[6:]
    names = [row[0] for row in body]
    assert "'=HYPERLINK(\"http://x\")" in names
    header = rows[5]
    ct14 = next(i for i, h in enumerate(header) if h.startswith("14. ") and "Tình trạng" not in h)
    yen_binh = next(row for row in body if row[1] == "141")
    assert yen_binh[ct14] == "4.0" or yen_binh[ct14] == "4"
    assert len(body) == DISTRICTS + 2  # districts, own row, whole tree


def test_scorecard_xlsx_stores_formula_like_text_as_text(login, db):
    district = db.exec(select(Unit).where(Unit.code == "133")).one()
    district.name = "=1+2"
    db.add(district)
    db.commit()
    r = login("tinh.xem").get("/dashboard/15/scorecard.xlsx?period=2023-01")
    assert r.status_code == 200
    ws = load_workbook(BytesIO(r.content)).active
    cells = [c for row in ws.iter_rows() for c in row if c.value == "'=1+2"]
    assert cells and all(c.data_type == "s" for c in cells)
    assert not [c for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert ws["A2"].value == "Đơn vị" and ws["B2"].value == "Yên Bái (15)"


def test_overview_xlsx_lists_every_indicator_with_its_verdict(login, put):
    put("15", "CT15", "2023-02", 3_400_000_000)
    r = login("tinh.xem").get("/dashboard/15/export.xlsx?period=2023-01..2023-04")
    assert r.status_code == 200
    ws = load_workbook(BytesIO(r.content)).active
    assert ws["B3"].value == "Lũy kế từ tháng 01 đến tháng 04/2023"
    assert ws["A4"].value == "Thời điểm xuất"
    rows = [row for row in ws.iter_rows(values_only=True) if row and row[1] == "CT15"]
    # all levels ≥ 10 tỷ: on track (3,4 ≥ 3,333…); province own ≥ 3 tỷ: met.
    assert [row[6] for row in rows] == ["Đúng tiến độ", "Đạt"]
    numbers = {row[1] for row in ws.iter_rows(values_only=True) if row and isinstance(row[0], int)}
    assert len(numbers) == 18
