"""/api/v1/programs: the province creates a draft (copied from a year), changes it and publishes
it; errors are problem+json listing every one; only the province's administrators write."""
import json
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from app.audit.models import AuditLog
from app.program.models import Indicator, Program
from tests.api_support import assert_problem, bearer, make_token

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def province(login):
    return login("tinh.quantri")


def _draft(province, year: int = 2026, **extra) -> dict:
    r = province.post("/api/v1/programs", json={"year": year, "copy_from": 2023, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def test_create_draft_copied_from_2023(province):
    body = _draft(province, with_tasks=True)
    assert (body["year"], body["status"], body["indicators"]) == (2026, "draft", 18)
    assert body["tasks"] == 47  # 44 tasks and Q1 (6)'s three sub-items


def test_list_programs_shows_both_years_with_their_status(province):
    _draft(province)
    r = province.get("/api/v1/programs")
    assert r.status_code == 200
    assert [(p["year"], p["status"]) for p in r.json()["data"]] == [(2026, "draft"), (2023, "published")]
    r = province.get("/api/v1/programs?status=published")
    assert [p["year"] for p in r.json()["data"]] == [2023]


def test_draft_indicators_are_not_listed_as_in_force(province):
    _draft(province)
    # The read API of indicators serves programs in force only; the draft's are under /programs.
    assert province.get("/api/v1/indicators?year=2026").json()["count"] == 0
    r = province.get("/api/v1/programs/2026/indicators")
    assert [i["code"] for i in r.json()][:3] == ["CT01", "CT02", "CT03"]


def test_draft_tasks_are_not_listed_as_tasks_to_follow(province):
    _draft(province, with_tasks=True)
    assert province.get("/api/v1/tasks?year=2026").json()["count"] == 0
    assert province.get("/api/v1/tasks?year=2023").json()["count"] > 0


def test_create_program_for_a_taken_year_is_409(province):
    body = assert_problem(province.post("/api/v1/programs", json={"year": 2023}), 409)
    assert body["errors"][0]["type"] == "year_taken"


def test_create_program_by_district_admin_is_403(login):
    assert_problem(login("huyen.quantri").post("/api/v1/programs", json={"year": 2026}), 403)


def test_create_program_with_a_write_token_is_403(client, db):
    bearer(client, make_token(db, "15", "write"))
    assert_problem(client.post("/api/v1/programs", json={"year": 2026}), 403)


def test_publish_with_errors_lists_them_all_and_publishes_nothing(province):
    _draft(province)
    province.patch("/api/v1/programs/2026", json={"motto": "Đoàn kết, dân chủ"})
    body = assert_problem(province.post("/api/v1/programs/2026/publish"), 422)
    # The copy's only error: CT06's reduction target needs the 2025 baseline.
    assert [(e["type"], e["loc"]) for e in body["errors"]] == [
        ("reduction_without_baseline", ["targets", 5, "on"])]
    assert province.get("/api/v1/programs/2026").json()["status"] == "draft"


def test_enter_baseline_edit_target_and_publish(province, db):
    _draft(province)
    r = province.patch("/api/v1/programs/2026/indicators/CT06",
                       json={"baseline": 150, "baseline_source": "Báo cáo năm 2025 của Sở Tư pháp"})
    assert r.status_code == 200, r.text
    ct06 = r.json()
    assert (ct06["baseline"], ct06["baseline_year"], ct06["baseline_is_demo"]) == (150, 2025, False)
    target = ct06["targets"][0]
    r = province.patch(f"/api/v1/programs/2026/targets/{target['id']}", json={"value": 12, "value_high": 20})
    assert r.status_code == 200, r.text
    assert (r.json()["value"], r.json()["value_high"]) == (12, 20)
    r = province.post("/api/v1/programs/2026/publish")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "published"
    assert province.get("/api/v1/indicators/CT06?year=2026").json()["targets"][0]["value_high"] == 20
    audit = db.exec(select(AuditLog).where(AuditLog.entity == "target", AuditLog.entity_id == target["id"])).one()
    assert (json.loads(audit.old), json.loads(audit.new), audit.via) == (
        {"value": 10.0, "value_high": 15.0}, {"value": 12, "value_high": 20}, "api")


def test_change_measure_of_an_indicator_with_figures_is_409(province):
    r = province.post("/api/v1/data-values", json={"dataValues": [
        {"orgUnit": "04720", "dataElement": "CT17", "period": "2023-03", "value": 1}]})
    assert r.status_code == 200, r.text
    body = assert_problem(province.patch("/api/v1/programs/2023/indicators/CT17", json={"measure": "amount"}), 409)
    assert body["errors"][0]["type"] == "figures_exist"
    r = province.patch("/api/v1/programs/2023/indicators/CT17", json={"short_name": "Cuộc giám sát của MTTQ"})
    assert r.status_code == 200


def test_target_on_a_level_that_does_not_enter_is_422(province):
    body = assert_problem(province.post("/api/v1/programs/2023/indicators/CT05/targets",
                                        json={"scope": "each", "depth": 2, "comparator": ">=", "value": 1}), 422)
    assert [e["type"] for e in body["errors"]] == ["level_does_not_enter"]


def test_ct14_target_from_the_province_plan(province):
    r = province.post("/api/v1/programs/2023/indicators/CT14/targets",
                      json={"scope": "total", "comparator": ">=", "value": 1200, "label": "Theo kế hoạch của tỉnh"})
    assert r.status_code == 201, r.text
    targets = province.get("/api/v1/indicators/CT14?year=2023").json()["targets"]
    assert [(t["scope"], t["unit"], t["value"]) for t in targets] == [("total", "15", 1200)]


def test_target_of_another_program_is_404(province):
    _draft(province)
    target_id = province.get("/api/v1/programs/2023/indicators").json()[0]["targets"][0]["id"]
    assert_problem(province.patch(f"/api/v1/programs/2026/targets/{target_id}", json={"value": 1}), 404)


def test_task_edits_in_a_draft(province):
    _draft(province)
    r = province.post("/api/v1/programs/2026/tasks", json={"quarter": 2, "title": "Tổng kết 5 năm phong trào",
                                                           "due_month": 5, "indicators": ["CT12"]})
    assert r.status_code == 201, r.text
    task = r.json()
    assert (task["number"], task["indicators"]) == (1, ["CT12"])
    r = province.patch(f"/api/v1/programs/2026/tasks/{task['id']}", json={"indicators": ["CT12", "CT13"]})
    assert r.json()["indicators"] == ["CT12", "CT13"]
    body = assert_problem(province.patch(f"/api/v1/programs/2026/tasks/{task['id']}",
                                         json={"indicators": ["CT99"]}), 422)
    assert body["errors"][0]["type"] == "unknown_indicator"


def test_program_file_round_trip_through_the_api(province, db):
    r = province.get("/api/v1/programs/2023/file")
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    assert load_workbook(BytesIO(r.content)).sheetnames[1] == "Chỉ tiêu"
    assert province.post("/api/v1/programs", json={"year": 2030}).status_code == 201
    r = province.put("/api/v1/programs/2030/file", content=r.content, headers={"Content-Type": XLSX})
    assert r.status_code == 200, r.text
    assert (r.json()["indicators"], r.json()["tasks"]) == (18, 47)
    p2030 = db.exec(select(Program).where(Program.year == 2030)).one()
    assert db.exec(select(Indicator.baseline).where(Indicator.program_id == p2030.id,
                                                    Indicator.code == "CT06")).one() == 180


def test_program_file_that_is_not_a_workbook_is_422(province):
    province.post("/api/v1/programs", json={"year": 2030})
    body = assert_problem(province.put("/api/v1/programs/2030/file", content=b"not a workbook",
                                       headers={"Content-Type": XLSX}), 422)
    assert body["errors"][0]["type"] == "not_xlsx"


def test_delete_a_draft_but_never_a_published_program(province):
    _draft(province)
    # An audited edit of the draft first: its audit row outlives the indicator it names.
    target_id = province.get("/api/v1/programs/2026/indicators").json()[0]["targets"][0]["id"]
    assert province.patch(f"/api/v1/programs/2026/targets/{target_id}", json={"value": 99}).status_code == 200
    assert province.delete("/api/v1/programs/2026").status_code == 204
    assert_problem(province.get("/api/v1/programs/2026"), 404)
    assert_problem(province.delete("/api/v1/programs/2023"), 409)
