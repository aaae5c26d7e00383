"""A finished year (issue #12, item 5): the province closes it once it is over in Việt Nam; then
every write of its data is refused with one message and nothing is written, until the level
above reopens one unit's year for corrections (and closes it again, or the province re-closes
the year).

Figures: Xã Xuân Long (04720, under Huyện Yên Bình 141) enters CT17 (supervisions, a flow);
March 2023 gets 2 before the close, so 141's March CT17 total is 2 (its other communes enter
nothing). After the level above reopens 04720 and it saves 5, the total is 5; a sibling
commune's 1 is refused and adds nothing.
"""
from datetime import date

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from app.audit.models import AuditLog
from app.program import closing
from app.program.models import Indicator, Program, Target, Task, YearReopening
from app.rollup.check import check as rollup_check
from app.units.models import Unit
from app.values import rules
from app.values.models import DataValue, PeriodSubmission
from tests.api_support import assert_problem, bearer, make_token, stored

HX = {"HX-Request": "true"}
COMMUNE, DISTRICT, MONTH = "04720", "141", "2023-03"
CLOSED_TEXT = "Năm 2023 đã kết thúc"


def _sibling(db: Session) -> str:
    """Another commune of district 141 in 2023, not 04720."""
    district = db.exec(select(Unit).where(Unit.code == DISTRICT)).one()
    return db.exec(select(Unit.code).where(Unit.parent_id == district.id, Unit.code != COMMUNE)
                   .order_by(Unit.code)).first()


def _import(c, rows: list[dict]):
    return c.post("/api/v1/data-values", json={"dataValues": [
        {"dataElement": "CT17", "period": MONTH, **row} for row in rows]})


def _district_total(c) -> int | None:
    r = c.get(f"/api/v1/rollups?unit={DISTRICT}&period={MONTH}&indicator=CT17")
    assert r.status_code == 200, r.text
    return r.json()["indicators"][0]["subtree"]["value"]


def _counts(db: Session) -> tuple[int, int, int]:
    return (db.exec(select(func.count()).select_from(DataValue)).one(),
            db.exec(select(func.count()).select_from(AuditLog).where(AuditLog.entity != "program")).one(),
            db.exec(select(func.count()).select_from(PeriodSubmission)).one())


@pytest.fixture
def province(login):
    return login("tinh.quantri")


@pytest.fixture
def closed(login, province, db):
    """March 2023: 04720's CT17 = 2; then the province closes 2023."""
    assert _import(login("xa.nhaplieu"), [{"orgUnit": COMMUNE, "value": 2}]).status_code == 200
    r = province.post("/api/v1/programs/2023/close")
    assert r.status_code == 200, r.text
    return r.json()


# --- closing --------------------------------------------------------------------------------------

def test_close_year_before_it_is_over_is_refused(province, db, monkeypatch):
    monkeypatch.setattr(closing, "today_vn", lambda: date(2023, 12, 31))
    body = assert_problem(province.post("/api/v1/programs/2023/close"), 422)
    assert body["code"] == "year_not_over" and "01/01/2024" in body["detail"]
    db.expire_all()
    assert db.exec(select(Program).where(Program.year == 2023)).one().closed_at is None


def test_close_year_page_before_it_is_over_shows_why_and_no_button(province, monkeypatch):
    monkeypatch.setattr(closing, "today_vn", lambda: date(2023, 12, 31))
    r = province.get("/admin/programs/2023/close")
    assert r.status_code == 200
    assert "Năm 2023 chưa hết: chỉ kết thúc được từ ngày 01/01/2024" in r.text
    assert 'id="confirm-close"' not in r.text


@pytest.mark.parametrize("user", ["huyen.quantri", "tinh.nhaplieu", "xa.quantri"])
def test_close_year_by_an_account_other_than_a_province_admin_is_403(login, db, user):
    body = assert_problem(login(user).post("/api/v1/programs/2023/close"), 403)
    assert body["code"] == "forbidden"
    db.expire_all()
    assert db.exec(select(Program).where(Program.year == 2023)).one().closed_at is None


def test_close_year_by_a_write_token_is_403(client, db):
    assert_problem(bearer(client, make_token(db, "15")).post("/api/v1/programs/2023/close"), 403)


def test_close_year_by_the_province_is_recorded_and_audited(closed, province, db):
    assert closed["closed"] is True and closed["closed_at"] and closed["reopenings"] == []
    assert db.exec(select(AuditLog).where(AuditLog.entity == "program", AuditLog.action == "close")).first()
    body = assert_problem(province.post("/api/v1/programs/2023/close"), 409)
    assert body["code"] == "already_closed"


def test_close_year_on_the_page_takes_a_confirmation_step(province, db):
    page = province.get("/admin/programs/2023")
    assert 'href="/admin/programs/2023/close"' in page.text and "Kết thúc năm" in page.text
    confirm = province.get("/admin/programs/2023/close")
    assert confirm.status_code == 200 and 'id="confirm-close"' in confirm.text
    db.expire_all()
    assert db.exec(select(Program).where(Program.year == 2023)).one().closed_at is None  # not yet
    r = province.post("/admin/programs/2023/close")
    assert r.status_code == 303 and r.headers["location"] == "/admin/programs/2023?done=closed"
    assert CLOSED_TEXT in province.get("/admin/programs/2023?done=closed").text


# --- every write path refused in a closed year ------------------------------------------------------

def test_closed_year_refuses_the_field_save_and_writes_nothing(closed, login, db):
    before = _counts(db)
    r = login("xa.nhaplieu").post(f"/entry/{COMMUNE}/{MONTH}/CT17", data={"CT17.value": "7", "CT17.version": "1"},
                                  headers=HX)
    assert r.status_code == 422 and CLOSED_TEXT in r.text
    assert stored(db, COMMUNE, "CT17", MONTH).value == 2
    assert _counts(db) == before


def test_closed_year_refuses_the_whole_page_save(closed, login, db):
    before = _counts(db)
    r = login("xa.nhaplieu").post(f"/entry/{COMMUNE}/{MONTH}", data={"CT17.value": "7", "CT15.value": "1000"})
    assert r.status_code == 422 and CLOSED_TEXT in r.text
    assert stored(db, COMMUNE, "CT17", MONTH).value == 2 and stored(db, COMMUNE, "CT15", MONTH) is None
    assert _counts(db) == before


def test_closed_year_refuses_the_village_grid_and_cell(closed, login, db):
    c, before = login("xa.nhaplieu"), _counts(db)
    r = c.post(f"/entry/{COMMUNE}/{MONTH}/villages/04720-01/CT07", data={"CT07.value": "3"}, headers=HX)
    assert r.status_code == 422 and CLOSED_TEXT in r.text
    r = c.post(f"/entry/{COMMUNE}/{MONTH}/villages", data={"04720-01.CT07.value": "3"})
    assert r.status_code == 422 and CLOSED_TEXT in r.text
    assert stored(db, "04720-01", "CT07", MONTH) is None
    assert _counts(db) == before


def test_closed_year_refuses_the_api_import_as_a_whole_with_409(closed, login, province, db):
    before = _counts(db)
    r = _import(province, [{"orgUnit": COMMUNE, "value": 9}, {"orgUnit": _sibling(db), "value": 1}])
    body = assert_problem(r, 409)
    assert body["code"] == "year_closed"
    assert [(row["orgUnit"], row["code"]) for row in body["rejected"]] == [
        (COMMUNE, "year_closed"), (_sibling(db), "year_closed")]
    assert stored(db, COMMUNE, "CT17", MONTH).value == 2
    assert _counts(db) == before
    assert _district_total(province) == 2
    assert rollup_check(db) == []


def test_closed_year_refuses_submitting_and_reopening_a_month(closed, login, db):
    c = login("xa.nhaplieu")
    r = c.post(f"/entry/{COMMUNE}/{MONTH}/submit")
    assert r.status_code in (400, 422) and CLOSED_TEXT in r.text
    assert db.exec(select(func.count()).select_from(PeriodSubmission)).one() == 0


def test_closed_year_refuses_task_status_and_notes(closed, login, db):
    task = db.exec(select(Task).where(Task.quarter == 1, Task.number == 3, Task.parent_id.is_(None))
                   .order_by(Task.id)).first()
    c = login("tinh.nhaplieu")
    r = c.post(f"/tasks/{task.id}/status", data={"status": "done", "done_on": "15/03/2023", "version": "1"})
    assert r.status_code in (409, 422) and CLOSED_TEXT in r.text
    r = c.post(f"/tasks/{task.id}/notes", data={"text": "Đã làm.", "noted_on": "15/03/2023"})
    assert r.status_code in (409, 422) and CLOSED_TEXT in r.text
    db.expire_all()
    assert (db.get(Task, task.id).status, db.get(Task, task.id).version) == ("not_started", 1)


def test_closed_year_entry_page_shows_the_notice_and_no_editable_input(closed, login):
    r = login("xa.nhaplieu").get(f"/entry/{COMMUNE}/{MONTH}")
    assert r.status_code == 200 and CLOSED_TEXT in r.text
    assert r.text.count("<fieldset disabled>") == r.text.count("<fieldset") == 8
    assert "hx-post" not in r.text and 'id="submit-month"' not in r.text


# --- reopening by the level above -----------------------------------------------------------------

def test_level_above_reopens_one_commune_which_saves_while_a_sibling_stays_closed(closed, login, province, db):
    district = login("huyen.quantri")
    r = district.post("/api/v1/programs/2023/reopenings", json={"unit": COMMUNE, "reason": "Sửa số liệu tháng 3"})
    assert r.status_code == 201, r.text
    assert [(x["unit"], x["reason"]) for x in r.json()["reopenings"]] == [(COMMUNE, "Sửa số liệu tháng 3")]
    commune = login("xa.nhaplieu")
    r = commune.post(f"/entry/{COMMUNE}/{MONTH}/CT17", data={"CT17.value": "5", "CT17.version": "1"}, headers=HX)
    assert r.status_code == 200, r.text
    # Its villages too: the commune enters their figures.
    r = commune.post(f"/entry/{COMMUNE}/{MONTH}/villages/04720-01/CT07", data={"CT07.value": "3"}, headers=HX)
    assert r.status_code == 200, r.text
    sibling = _sibling(db)
    body = assert_problem(_import(province, [{"orgUnit": sibling, "value": 1}]), 409)
    assert body["rejected"][0]["code"] == "year_closed"
    assert stored(db, COMMUNE, "CT17", MONTH).value == 5 and stored(db, sibling, "CT17", MONTH) is None
    assert _district_total(province) == 5  # 2 → 5 through the same save path; the sibling adds nothing
    assert rollup_check(db) == []


def test_reopening_needs_the_level_above_and_a_reason(closed, login, db):
    own = assert_problem(login("xa.quantri").post("/api/v1/programs/2023/reopenings",
                                                  json={"unit": COMMUNE, "reason": "x"}), 403)
    assert own["code"] == "forbidden"
    r = login("huyen.quantri").post("/api/v1/programs/2023/reopenings", json={"unit": COMMUNE, "reason": " "})
    assert_problem(r, 422)
    assert db.exec(select(func.count()).select_from(YearReopening)).one() == 0


def test_reopening_an_open_year_is_409(login):
    r = login("huyen.quantri").post("/api/v1/programs/2023/reopenings", json={"unit": COMMUNE, "reason": "x"})
    assert assert_problem(r, 409)["code"] == "year_open"


def test_level_above_closes_the_unit_again(closed, login, db):
    district = login("huyen.quantri")
    assert district.post("/api/v1/programs/2023/reopenings",
                         json={"unit": COMMUNE, "reason": "Sửa"}).status_code == 201
    assert district.delete(f"/api/v1/programs/2023/reopenings/{COMMUNE}").status_code == 204
    r = login("xa.nhaplieu").post(f"/entry/{COMMUNE}/{MONTH}/CT17", data={"CT17.value": "5"}, headers=HX)
    assert r.status_code == 422 and CLOSED_TEXT in r.text
    assert stored(db, COMMUNE, "CT17", MONTH).value == 2
    assert db.exec(select(AuditLog.action).where(AuditLog.entity == "year_reopening")
                   .order_by(AuditLog.id)).all() == ["reopen", "close"]


def test_province_re_closing_the_year_ends_every_reopening(closed, login, province, db):
    assert login("huyen.quantri").post("/api/v1/programs/2023/reopenings",
                                       json={"unit": COMMUNE, "reason": "Sửa"}).status_code == 201
    r = province.post("/api/v1/programs/2023/close")
    assert r.status_code == 200 and r.json()["reopenings"] == []
    r = login("xa.nhaplieu").post(f"/entry/{COMMUNE}/{MONTH}/CT17", data={"CT17.value": "5"}, headers=HX)
    assert r.status_code == 422 and CLOSED_TEXT in r.text


def test_reopenings_page_lets_the_district_reopen_and_close_a_commune(closed, login, db):
    district = login("huyen.quantri")
    page = district.get("/years/2023/reopenings")
    assert page.status_code == 200 and f'value="{COMMUNE}"' in page.text
    r = district.post("/years/2023/reopenings", data={"unit": COMMUNE, "reason": "Sửa số liệu"})
    assert r.status_code == 303
    assert "Sửa số liệu" in district.get("/years/2023/reopenings").text
    entry = login("xa.nhaplieu").get(f"/entry/{COMMUNE}/{MONTH}")
    assert "Cấp trên đã mở lại năm của đơn vị này" in entry.text and "<fieldset disabled>" not in entry.text
    assert district.post(f"/years/2023/reopenings/{COMMUNE}/close").status_code == 303
    assert db.exec(select(func.count()).select_from(YearReopening)).one() == 0


def test_closed_year_refuses_the_level_above_reopening_a_submitted_month(login, province, db):
    assert login("xa.nhaplieu").post(f"/entry/{COMMUNE}/{MONTH}/submit").status_code == 303
    assert province.post("/api/v1/programs/2023/close").status_code == 200
    r = login("huyen.quantri").post(f"/entry/{COMMUNE}/{MONTH}/reopen")
    assert r.status_code in (400, 422) and CLOSED_TEXT in r.text
    db.expire_all()
    assert db.exec(select(PeriodSubmission.status)).all() == ["submitted"]


def test_closed_year_task_page_shows_the_notice_and_no_form(closed, login, db):
    task = db.exec(select(Task).where(Task.quarter == 1, Task.number == 3, Task.parent_id.is_(None))
                   .order_by(Task.id)).first()
    r = login("tinh.nhaplieu").get(f"/tasks/{task.id}")
    assert r.status_code == 200 and CLOSED_TEXT in r.text
    assert f'action="/tasks/{task.id}/status"' not in r.text and f'action="/tasks/{task.id}/notes"' not in r.text


def test_a_reopening_covers_the_unit_and_its_villages_only():
    # The rule alone (no database): a closed program, commune 7 reopened.
    program = Program(year=2023, title="", theme="", motto="", root_unit_id=1)
    program.closed_at = date(2024, 1, 15)
    commune = Unit(id=7, code="c", name="Xã", kind="xa", depth=2, parent_id=3, path="/1/3/7/")
    village = Unit(id=70, code="v", name="Thôn", kind="thon", depth=3, parent_id=7, path="/1/3/7/70/")
    sibling = Unit(id=8, code="s", name="Xã khác", kind="xa", depth=2, parent_id=3, path="/1/3/8/")
    district = Unit(id=3, code="d", name="Huyện", kind="huyen", depth=1, parent_id=1, path="/1/3/")
    assert [rules.year_open_for(program, u, {7}) for u in (commune, village, sibling, district)] == [
        True, True, False, False]
    program.closed_at = None
    assert rules.year_open_for(program, sibling, lambda: pytest.fail("not asked while the year is open"))


# --- the program of a closed year is read-only (its targets judge the year's figures) ---------------

PROGRAM_CLOSED = "Năm 2023 đã kết thúc: chương trình của năm (chỉ tiêu, mục tiêu và nhiệm vụ) chỉ còn để xem."


def _a_target(db: Session) -> Target:
    return db.exec(select(Target).join(Indicator, Target.indicator_id == Indicator.id)
                   .join(Program, Indicator.program_id == Program.id)
                   .where(Program.year == 2023).order_by(Target.id)).first()


def test_closed_year_refuses_program_and_target_edits_over_the_api(closed, province, db):
    target = _a_target(db)
    before = (target.comparator, target.value, target.value_high)
    body = assert_problem(province.patch(f"/api/v1/programs/2023/targets/{target.id}", json={"value": 1}), 409)
    assert body["errors"][0]["type"] == "year_closed" and "2023 is closed" in body["detail"]
    for r in (province.patch("/api/v1/programs/2023", json={"title": "Khác"}),
              province.delete(f"/api/v1/programs/2023/targets/{target.id}")):
        assert assert_problem(r, 409)["errors"][0]["type"] == "year_closed"
    db.expire_all()
    target = db.get(Target, target.id)
    assert (target.comparator, target.value, target.value_high) == before
    assert db.exec(select(Program).where(Program.year == 2023)).one().title != "Khác"


def test_closed_year_program_pages_show_it_read_only_and_refuse_a_posted_target(closed, province, db):
    target = _a_target(db)
    code = db.get(Indicator, target.indicator_id).code
    program_page = province.get("/admin/programs/2023").text
    assert PROGRAM_CLOSED in program_page and "fieldset class=\"plain\" disabled" in program_page
    page = province.get(f"/admin/programs/2023/indicators/{code}").text
    assert PROGRAM_CLOSED in page and 'id="new-target"' not in page and "/delete\"" not in page
    r = province.post(f"/admin/programs/2023/targets/{target.id}", data={
        "scope": target.scope, "comparator": ">=", "value": "1", "on": "value"})
    assert r.status_code == 409 and PROGRAM_CLOSED in r.text
    db.expire_all()
    assert db.get(Target, target.id).value == target.value
