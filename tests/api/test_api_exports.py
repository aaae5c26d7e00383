"""CSV and XLSX exports of data values and roll-ups, opened back and checked."""
import csv
import io

import pytest
from openpyxl import load_workbook

from tests.api_support import assert_problem, bearer, make_token

URL = "/api/v1/data-values"
# CT17 supervisions in 141's tree: 04720 April 2 and May 1, 141's own April 3;
# CT11 households of village 04720-01 in April: 120 of 150.
FIGURES = {"dataValues": [
    {"orgUnit": "04720", "dataElement": "CT17", "period": "2023-04", "value": 2},
    {"orgUnit": "04720", "dataElement": "CT17", "period": "2023-05", "value": 1},
    {"orgUnit": "141", "dataElement": "CT17", "period": "2023-04", "value": 3},
    {"orgUnit": "04720-01", "dataElement": "CT11", "period": "2023-04", "numerator": 120, "denominator": 150},
]}


@pytest.fixture
def api(client, db):
    c = bearer(client, make_token(db, "141"))
    assert c.post(URL, json=FIGURES).status_code == 200
    return c


def _csv(r) -> list[dict[str, str]]:
    assert r.content.startswith("\ufeff".encode())  # BOM, so Excel reads UTF-8
    return list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))


def test_export_data_values_csv_has_the_import_columns_first(api):
    r = api.get(URL + ".csv?subtree=04720")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = _csv(r)
    assert list(rows[0])[:6] == ["orgUnit", "orgUnitName", "dataElement", "dataElementName", "period", "value"]
    assert [(x["orgUnit"], x["dataElement"], x["period"], x["value"], x["numerator"]) for x in rows] == [
        ("04720", "CT17", "2023-04", "2", ""), ("04720-01", "CT11", "2023-04", "", "120"),
        ("04720", "CT17", "2023-05", "1", "")]
    assert rows[0]["orgUnitName"] == "Xuân Long"


def test_export_data_values_csv_sent_back_is_unchanged(api):
    exported = api.get(URL + ".csv").content
    r = api.post(URL, content=exported, headers={"Content-Type": "text/csv"})
    assert r.status_code == 200
    assert (r.json()["total"], r.json()["unchanged"]) == (4, 4)


def test_export_data_values_xlsx_opens_with_vietnamese_headers(api):
    r = api.get(URL + ".xlsx?indicator=CT17&period=2023-04")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("Mã đơn vị", "Đơn vị", "Mã chỉ tiêu")
    # April CT17: 04720 → 2 and 141 → 3, ordered by unit code.
    assert [(row[0], row[5]) for row in rows[1:]] == [("04720", 2), ("141", 3)]


def test_export_file_name_is_safe_for_a_period_with_spaces_around(api):
    r = api.get(URL + ".csv", params={"period": " 2023-01..2023-04\n"})
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'attachment; filename="data-values-141-2023-01_2023-04.csv"'


def test_export_data_values_csv_outside_scope_is_404(api):
    assert_problem(api.get(URL + ".csv?subtree=132"), 404)


def test_export_rollups_xlsx_has_the_dashboard_figures(api):
    # CT17 in Q2 for 141's tree: 2 + 1 + 3 = 6; its own figure 3.
    r = api.get("/api/v1/rollups.xlsx?unit=141&period=2023-Q2&indicator=CT17&children=true")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    header = rows[0]
    first = dict(zip(header, rows[1], strict=True))
    assert (first["Mã đơn vị"], first["Mã chỉ tiêu"], first["Giá trị"], first["Giá trị của riêng đơn vị"]) == (
        "141", "CT17", 6, 3)
    children = {row[0]: row[header.index("Giá trị")] for row in rows[2:]}
    assert children["04720"] == 3


def test_export_rollups_csv_lists_every_indicator(api):
    rows = _csv(api.get("/api/v1/rollups.csv?unit=141&period=2023-04"))
    assert [r["indicator"] for r in rows] == [f"CT{n:02d}" for n in range(1, 19)]
    ct11 = next(r for r in rows if r["indicator"] == "CT11")
    # Households: 120 of 150 in the only village that answered → 0.8.
    assert (ct11["numerator"], ct11["denominator"], float(ct11["value"])) == ("120", "150", 0.8)


def test_export_rollups_csv_bad_period_is_422(api):
    assert_problem(api.get("/api/v1/rollups.csv?unit=141&period=April"), 422)
