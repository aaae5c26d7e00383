"""The read side of /api/v1: each resource, its filters, pagination, scope and errors."""
from datetime import date

import pytest
from sqlmodel import select

from app.accounts.deps import Principal
from app.core.time import utcnow
from app.program.models import Indicator, Program, Task
from app.units.models import Unit
from app.values.models import PeriodSubmission
from app.values.service import Figure, save_value
from tests.api_support import PROBLEM, assert_problem, bearer, make_token

DISTRICT_CODES = {"132", "133", "135", "136", "137", "138", "139", "140", "141"}


@pytest.fixture
def province(client, db):
    return bearer(client, make_token(db, "15", "read"))


@pytest.fixture
def yen_binh(client, db):
    """A read token of district 141 (Yên Bình), whose communes include 04720 Xuân Long."""
    return bearer(client, make_token(db, "141", "read"))


def _unit(db, code: str) -> Unit:
    return db.exec(select(Unit).where(Unit.code == code)).one()


def _value(db, unit: str, indicator: str, period: str, value: int) -> None:
    """Save a figure through the entry service (so the roll-up sees it), as a province admin."""
    ind = db.exec(select(Indicator).where(Indicator.code == indicator)).one()
    program = db.get(Program, ind.program_id)
    admin = Principal(unit=_unit(db, "15"), role="admin", via="web")
    save_value(db, admin, program, _unit(db, unit), ind, period, Figure(value=value), via="web")
    db.commit()


# --- authentication and errors ---------------------------------------------------------------

def test_list_units_without_token_is_401_problem(client):
    r = client.get("/api/v1/units")
    body = assert_problem(r, 401)
    assert "Bearer" in body["detail"]


def test_list_units_with_unknown_token_is_401_problem(client):
    client.headers["Authorization"] = "Bearer mttq_not-a-real-token"
    assert_problem(client.get("/api/v1/units"), 401)


def test_get_unit_code_with_nul_byte_is_422_problem(province):
    body = assert_problem(province.get("/api/v1/units/047%0020"), 422)
    assert body["errors"][0]["loc"] == ["path", "code"]


def test_list_units_limit_zero_is_422_problem_with_errors(province):
    body = assert_problem(province.get("/api/v1/units?limit=0"), 422)
    assert body["errors"][0]["loc"] == ["query", "limit"]


def test_list_units_limit_above_max_is_422_problem(province):
    assert_problem(province.get("/api/v1/units?limit=1001"), 422)


def test_list_data_values_bad_period_is_422_problem_naming_the_parameter(province):
    body = assert_problem(province.get("/api/v1/data-values?from=2023-13"), 422)
    assert "`from`" in body["detail"] and "YYYY-MM" in body["detail"]


# --- units -----------------------------------------------------------------------------------

def test_list_units_by_level_district_returns_the_nine(province):
    r = province.get("/api/v1/units?level=district")
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 9
    assert {u["code"] for u in body["data"]} == DISTRICT_CODES
    assert all(u["parent"] == "15" and u["depth"] == 1 for u in body["data"])


def test_list_units_by_depth_two_counts_173_communes(province):
    r = province.get("/api/v1/units?depth=2&limit=1")
    assert r.status_code == 200
    assert r.json()["count"] == 173


def test_list_units_unknown_level_is_422_problem(province):
    body = assert_problem(province.get("/api/v1/units?level=planet"), 422)
    assert "district" in body["detail"]


def test_list_units_by_parent_returns_its_children(province, db):
    # The communes of Yên Bình (141), counted in the database.
    expected = len(db.exec(select(Unit).where(Unit.parent_id == _unit(db, "141").id)).all())
    r = province.get("/api/v1/units?parent=141&limit=1000")
    assert r.status_code == 200
    assert r.json()["count"] == expected > 0
    assert {u["parent"] for u in r.json()["data"]} == {"141"}


def test_list_units_subtree_holds_the_commune_and_its_villages(province):
    r = province.get("/api/v1/units?subtree=04720&limit=1000")
    assert r.status_code == 200
    data = r.json()["data"]
    assert data[0]["code"] == "04720"  # depth 2 sorts before its villages (depth 3)
    assert len(data) > 1 and all(u["code"].startswith("04720") for u in data)


def test_list_units_by_code_returns_one(province):
    r = province.get("/api/v1/units?code=04720")
    assert r.status_code == 200
    assert [u["name"] for u in r.json()["data"]] == ["Xuân Long"]


def test_list_units_year_leaves_out_a_unit_no_longer_in_force(province, db):
    # A district merged away after 2023 (valid to 31/12/2023) is listed for 2023, not for 2025;
    # by day: in force on 31/12/2023, not on 01/01/2024.
    from datetime import date

    unit = _unit(db, "133")
    unit.valid_to = date(2023, 12, 31)
    db.add(unit)
    db.commit()
    in_2023 = province.get("/api/v1/units?level=district&year=2023").json()
    in_2025 = province.get("/api/v1/units?level=district&year=2025").json()
    assert (in_2023["count"], in_2025["count"]) == (9, 8)
    assert "133" not in {u["code"] for u in in_2025["data"]}
    on_last_day = province.get("/api/v1/units?level=district&date=2023-12-31").json()
    on_next_day = province.get("/api/v1/units?level=district&date=2024-01-01").json()
    assert (on_last_day["count"], on_next_day["count"]) == (9, 8)
    assert next(u for u in in_2023["data"] if u["code"] == "133")["valid_to"] == "2023-12-31"
    for bad in ("0", "2023-02-30", "31/12/2023"):
        r = province.get(f"/api/v1/units?date={bad}")
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")


def test_list_units_pages_are_consecutive(province):
    whole = province.get("/api/v1/units?limit=5").json()
    second = province.get("/api/v1/units?limit=2&offset=2").json()
    assert second["data"] == whole["data"][2:4]
    assert (second["count"], second["limit"], second["offset"]) == (whole["count"], 2, 2)


def test_list_units_district_token_sees_only_its_subtree(yen_binh):
    r = yen_binh.get("/api/v1/units?limit=1000")
    assert r.status_code == 200
    codes = [u["code"] for u in r.json()["data"]]
    assert codes[0] == "141" and "15" not in codes and "132" not in codes


def test_get_unit_in_scope(yen_binh):
    r = yen_binh.get("/api/v1/units/04720")
    assert r.status_code == 200
    assert r.json()["parent"] == "141" and r.json()["level"] == "commune"


def test_get_unit_outside_scope_is_404_like_a_missing_one(yen_binh):
    outside = assert_problem(yen_binh.get("/api/v1/units/132"), 404)
    missing = assert_problem(yen_binh.get("/api/v1/units/99999"), 404)
    assert outside["title"] == missing["title"]


def test_list_units_subtree_outside_scope_is_404(yen_binh):
    assert_problem(yen_binh.get("/api/v1/units?subtree=132"), 404)


# --- programs and indicators -----------------------------------------------------------------

def test_get_program_2023(province):
    r = province.get("/api/v1/programs/2023")
    assert r.status_code == 200
    body = r.json()
    assert body["root_unit"] == "15" and body["indicators"] == 18
    assert body["motto"].startswith("Đoàn kết, dân chủ")


def test_get_program_unknown_year_is_404(province):
    assert_problem(province.get("/api/v1/programs/1999"), 404)


def test_list_programs_by_year(province):
    r = province.get("/api/v1/programs?year=2023")
    assert r.status_code == 200
    assert [p["year"] for p in r.json()["data"]] == [2023]


def test_list_indicators_2023_in_program_order(province):
    r = province.get("/api/v1/indicators?year=2023")
    assert r.status_code == 200
    assert [i["code"] for i in r.json()["data"]] == [f"CT{n:02d}" for n in range(1, 19)]


def test_list_indicators_by_measure_ratio(province):
    r = province.get("/api/v1/indicators?measure=ratio")
    assert r.status_code == 200
    assert [i["code"] for i in r.json()["data"]] == ["CT01", "CT02", "CT11"]


def test_get_indicator_ct12_has_its_two_targets(province):
    # Province-led ≥ 20 (own figure of unit 15), and each district ≥ 3.
    r = province.get("/api/v1/indicators/CT12")
    assert r.status_code == 200
    targets = {(t["scope"], t["unit"], t["depth"], t["comparator"], t["value"]) for t in r.json()["targets"]}
    assert targets == {("own", "15", None, ">=", 20.0), ("each", None, 1, ">=", 3.0)}
    assert r.json()["entry_depths"] == [0, 1]


def test_get_indicator_unknown_code_is_404(province):
    body = assert_problem(province.get("/api/v1/indicators/CT99"), 404)
    assert "CT99" in body["detail"]


# --- tasks -----------------------------------------------------------------------------------

def test_list_tasks_quarter_two_of_the_province_plan(province):
    # The document's quarter II has 13 tasks; Q2 (7) drives indicator 12.
    r = province.get("/api/v1/tasks?quarter=2&plan_unit=15&year=2023")
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 13
    assert [t["number"] for t in body["data"]] == list(range(1, 14))
    assert body["data"][6]["indicators"] == ["CT12"]


def test_list_tasks_status_done(province, db):
    task = db.exec(select(Task).where(Task.quarter == 2, Task.number == 7, Task.parent_id.is_(None))).one()
    task.status, task.done_on = "done", date(2023, 6, 1)
    db.add(task)
    db.commit()
    r = province.get("/api/v1/tasks?status=done")
    assert r.status_code == 200
    assert [(t["quarter"], t["number"]) for t in r.json()["data"]] == [(2, 7)]


def test_list_tasks_status_overdue_excludes_done(province, db):
    # Today is after 2023: every task not done is overdue; one marked done leaves the list.
    total = province.get("/api/v1/tasks?status=overdue&limit=1").json()["count"]
    task = db.exec(select(Task).where(Task.quarter == 1, Task.number == 1, Task.parent_id.is_(None))).one()
    task.status, task.done_on = "done", date(2023, 3, 1)
    db.add(task)
    db.commit()
    assert utcnow().year > 2023
    assert province.get("/api/v1/tasks?status=overdue&limit=1").json()["count"] == total - 1


def test_list_tasks_commune_token_sees_the_province_program(client, db):
    bearer(client, make_token(db, "04720", "read"))
    r = client.get("/api/v1/tasks?plan_unit=15&quarter=3")
    assert r.status_code == 200
    assert r.json()["count"] == 8


def test_list_tasks_plan_of_another_district_is_404(yen_binh):
    assert_problem(yen_binh.get("/api/v1/tasks?plan_unit=132"), 404)


# --- data values -----------------------------------------------------------------------------

@pytest.fixture
def figures(db):
    """CT17 supervisions: 04720 (in 141) April 2, May 1, July 4; district 141 April 3;
    a commune of district 132 April 5."""
    other = db.exec(select(Unit).where(Unit.parent_id == _unit(db, "132").id).order_by(Unit.code)).first()
    _value(db, "04720", "CT17", "2023-04", 2)
    _value(db, "04720", "CT17", "2023-05", 1)
    _value(db, "04720", "CT17", "2023-07", 4)
    _value(db, "141", "CT17", "2023-04", 3)
    _value(db, other.code, "CT17", "2023-04", 5)
    return other.code


def test_list_data_values_province_sees_all_five(province, figures):
    r = province.get("/api/v1/data-values")
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 5
    # Ordered by month, then unit code.
    assert [(v["period"], v["orgUnit"]) for v in body["data"]] == sorted(
        [("2023-04", "04720"), ("2023-04", "141"), ("2023-04", figures), ("2023-05", "04720"),
         ("2023-07", "04720")])


def test_list_data_values_district_token_never_sees_another_district(yen_binh, figures):
    r = yen_binh.get("/api/v1/data-values")
    assert r.status_code == 200
    assert figures not in {v["orgUnit"] for v in r.json()["data"]}
    assert r.json()["count"] == 4


def test_list_data_values_unit_is_that_unit_only(province, figures):
    r = province.get("/api/v1/data-values?unit=141")
    assert r.status_code == 200
    assert [(v["orgUnit"], v["value"]) for v in r.json()["data"]] == [("141", 3)]


def test_list_data_values_subtree_includes_the_units_below(province, figures):
    r = province.get("/api/v1/data-values?subtree=141")
    assert r.status_code == 200
    assert r.json()["count"] == 4


def test_list_data_values_quarter_two(province, figures):
    # Q2 = April..June: 04720 April 2 and May 1, 141 April 3, the other commune April 5.
    r = province.get("/api/v1/data-values?period=2023-Q2&subtree=141")
    assert r.status_code == 200
    assert sorted(v["value"] for v in r.json()["data"]) == [1, 2, 3]


def test_list_data_values_from_to(province, figures):
    r = province.get("/api/v1/data-values?from=2023-05&to=2023-Q3&unit=04720")
    assert r.status_code == 200
    assert [v["period"] for v in r.json()["data"]] == ["2023-05", "2023-07"]


def test_list_data_values_by_indicator(province, figures, db):
    _value(db, "04720", "CT14", "2023-04", 9)
    r = province.get("/api/v1/data-values?indicator=CT14")
    assert r.status_code == 200
    assert [(v["dataElement"], v["value"]) for v in r.json()["data"]] == [("CT14", 9)]


# --- roll-ups and completeness ---------------------------------------------------------------

def test_get_rollup_district_quarter_sums_its_tree(yen_binh, figures):
    # CT17 is a flow: Q2 for 141's tree = 04720 (2 + 1) + 141's own 3 = 6; own = 3.
    r = yen_binh.get("/api/v1/rollups?unit=141&period=2023-Q2&indicator=CT17")
    assert r.status_code == 200
    body = r.json()
    assert (body["period"], body["start"], body["end"]) == ("2023-Q2", "2023-04", "2023-06")
    [ct17] = body["indicators"]
    assert ct17["subtree"]["value"] == 6 and ct17["own"]["value"] == 3


def test_get_rollup_children_break_down_by_commune(yen_binh, figures):
    r = yen_binh.get("/api/v1/rollups?unit=141&period=2023-Q2&indicator=CT17&children=true")
    assert r.status_code == 200
    children = {c["unit"]: c for c in r.json()["indicators"][0]["children"]}
    assert children["04720"]["subtree"]["value"] == 3  # 2 + 1


def test_get_rollup_children_of_every_indicator_match_the_single_breakdown(yen_binh, figures):
    every = yen_binh.get("/api/v1/rollups?unit=141&period=2023-Q2&children=true")
    one = yen_binh.get("/api/v1/rollups?unit=141&period=2023-Q2&indicator=CT17&children=true")
    assert every.status_code == one.status_code == 200
    ct17 = next(i for i in every.json()["indicators"] if i["code"] == "CT17")
    assert ct17["children"] == one.json()["indicators"][0]["children"]
    assert {c["unit"]: c["subtree"]["value"] for c in ct17["children"]}["04720"] == 3


def test_get_rollup_all_indicators_by_default(province):
    r = province.get("/api/v1/rollups?unit=15&period=2023-04")
    assert r.status_code == 200
    assert len(r.json()["indicators"]) == 18


def test_get_rollup_unit_outside_scope_is_404(yen_binh):
    assert_problem(yen_binh.get("/api/v1/rollups?unit=15&period=2023-04"), 404)


def test_get_rollup_missing_period_is_422_problem(province):
    r = province.get("/api/v1/rollups?unit=15")
    assert_problem(r, 422)
    assert r.headers["content-type"].startswith(PROBLEM)


def test_get_completeness_counts_the_submitted_commune(yen_binh, db):
    db.add(PeriodSubmission(unit_id=_unit(db, "04720").id, period="2023-04"))
    db.commit()
    r = yen_binh.get("/api/v1/completeness?unit=141&period=2023-04")
    assert r.status_code == 200
    communes = next(lv for lv in r.json()["levels"] if lv["depth"] == 2)
    assert communes["submitted"] == 1
    assert "04720" not in {m["code"] for m in communes["missing"]}
    assert len(communes["missing"]) == communes["total"] - 1


def test_get_completeness_quarter_is_422_problem(yen_binh):
    body = assert_problem(yen_binh.get("/api/v1/completeness?unit=141&period=2023-Q2"), 422)
    assert "YYYY-MM" in body["detail"]


# --- audit -----------------------------------------------------------------------------------

def test_list_audit_shows_an_import_by_token_with_old_and_new(client, db):
    bearer(client, make_token(db, "141"))
    row = {"orgUnit": "04720", "dataElement": "CT17", "period": "2023-04"}
    assert client.post("/api/v1/data-values", json={"dataValues": [{**row, "value": 2}]}).status_code == 200
    assert client.post("/api/v1/data-values", json={"dataValues": [{**row, "value": 5}]}).status_code == 200
    r = client.get("/api/v1/audit?unit=04720&indicator=CT17&period=2023-04")
    assert r.status_code == 200
    newest = r.json()["data"][0]
    assert (newest["action"], newest["via"], newest["token"]) == ("update", "api", "test 141 write")
    assert (newest["old"]["value"], newest["new"]["value"]) == (2, 5)
    assert r.json()["count"] == 2


def test_list_audit_since_the_future_is_empty(province):
    r = province.get("/api/v1/audit?since=2999-01-01T00:00:00Z")
    assert r.status_code == 200
    assert r.json()["count"] == 0


def test_list_audit_since_without_offset_is_422_problem(province):
    body = assert_problem(province.get("/api/v1/audit?since=2023-05-01"), 422)
    assert "RFC 3339" in body["detail"]


def test_list_audit_subtree_outside_scope_is_404(yen_binh):
    assert_problem(yen_binh.get("/api/v1/audit?subtree=132"), 404)
