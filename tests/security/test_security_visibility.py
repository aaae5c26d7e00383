"""One rule for what a reader may see: task pages show no figure of a unit outside the
reader's subtree (as the API answers 404 for it); the task filter's htmx answer works."""
import re

import pytest
from sqlmodel import select

from app.program.models import Indicator, Program, Task, TaskIndicator
from app.units.models import Unit
from tests.api_support import bearer, make_token

# CT17 supervisions in April 2023: province 15's own 7, district 141's own 3, commune 04720's 2.
# Subtree totals: 15 → 12, 141 → 5, 04720 → 2.
FIGURES = [("15", 7), ("141", 3), ("04720", 2)]


@pytest.fixture
def province_task(client, db) -> int:
    c = bearer(client, make_token(db, "15"))
    r = c.post("/api/v1/data-values", json={"dataValues": [
        {"orgUnit": code, "dataElement": "CT17", "period": "2023-04", "value": v} for code, v in FIGURES]})
    assert r.status_code == 200, r.text
    del client.headers["Authorization"]
    program = db.exec(select(Program)).first()
    province = db.exec(select(Unit).where(Unit.code == "15")).one()
    task = Task(program_id=program.id, plan_unit_id=province.id, lead_unit_id=province.id, quarter=2,
                number=95, title="Giám sát việc thực hiện chính sách", text="Giám sát tại các cấp.")
    db.add(task)
    db.flush()
    ct17 = db.exec(select(Indicator).where(Indicator.code == "CT17", Indicator.program_id == program.id)).one()
    db.add(TaskIndicator(task_id=task.id, indicator_id=ct17.id))
    db.commit()
    return task.id


def _ct17(html: str) -> str:
    m = re.search(r'<span class="code">CT17</span>.*?<strong>(.*?)</strong>', html, re.S)
    assert m, "no CT17 figure on the page"
    return m.group(1).strip()


@pytest.mark.parametrize(("username", "expected"), [("tinh.xem", "12"), ("huyen.xem", "5"), ("xa.xem", "2")])
def test_task_page_figures_only_from_readers_subtree(login, province_task, username, expected):
    r = login(username).get(f"/tasks/{province_task}")
    assert r.status_code == 200
    assert _ct17(r.text).startswith(expected)


def test_task_page_commune_never_sees_province_total(login, province_task):
    html = login("xa.xem").get(f"/tasks/{province_task}").text
    assert not _ct17(html).startswith("12") and "Xuân Long" in html


def test_task_list_of_province_plan_shows_commune_figures_to_commune(login, province_task):
    r = login("xa.xem").get("/tasks?plan=15")
    assert r.status_code == 200
    assert _ct17(r.text).startswith("2")


def test_api_refuses_province_rollup_to_commune(client, db):
    c = bearer(client, make_token(db, "04720", "read"))
    assert c.get("/api/v1/rollups?unit=15&period=2023-04").status_code == 404


def test_task_filter_with_htmx_renders_block(login):
    c = login("xa.xem")
    r = c.get("/tasks?plan=15&month=2023-04", headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert "<html" not in r.text and 'class="status' in r.text
