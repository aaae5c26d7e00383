"""The province administrator's program pages: copy 2023 into a draft, edit, publish; errors in
Vietnamese in place; demo figures labelled as demo; other administrators refused."""
import re

import pytest
from sqlmodel import select

from app.core.time import today_vn
from app.program.models import Indicator, Program, Target


@pytest.fixture
def province(login):
    return login("tinh.quantri")


def _form(c, url: str, data: dict) -> object:
    return c.post(url, data={**data, "csrf_token": c.headers["X-CSRF-Token"]})


def _create(province, year: int = 2026) -> None:
    r = _form(province, "/admin/programs", {"year": str(year), "copy_from": "2023", "with_tasks": "true"})
    assert r.status_code == 303, r.text[:500]
    assert r.headers["location"] == f"/admin/programs/{year}?done=created"


def test_programs_page_lists_2023_and_offers_the_year_to_prepare(province):
    r = province.get("/admin/programs")
    assert r.status_code == 200
    assert "Chương trình trọng tâm công tác Mặt trận năm 2023" in r.text
    # The year after the latest program (2024), or this year in Việt Nam when it is later.
    assert f'name="year" value="{max(2024, today_vn().year)}"' in r.text


def test_admin_home_links_the_program_pages_for_the_province_only(province, login):
    assert 'href="/admin/programs"' in province.get("/admin").text
    assert 'href="/admin/programs"' not in login("huyen.quantri").get("/admin").text


def test_programs_page_refused_to_a_district_administrator(login):
    r = login("huyen.quantri").get("/admin/programs")
    assert r.status_code == 403
    assert "Chỉ quản trị viên cấp tỉnh" in r.text


def test_copy_2023_into_a_draft_on_the_page(province):
    _create(province)
    r = province.get("/admin/programs/2026")
    assert r.status_code == 200
    assert "Bản nháp" in r.text and "Chương trình trọng tâm công tác Mặt trận năm 2026" in r.text
    # CT06's baseline is to be entered; the new-rural communes are labelled as demo picks.
    assert "Số liệu gốc 2025" in r.text and "cần nhập" in r.text
    assert "Do 106 xã nông thôn mới báo cáo (22 xã do MTTQ tỉnh chỉ đạo): danh sách minh họa" in r.text


def test_copy_into_a_taken_year_answers_the_error_in_vietnamese(province):
    r = _form(province, "/admin/programs", {"year": "2023", "copy_from": "2023"})
    assert r.status_code == 409
    assert "Đã có chương trình năm 2023." in r.text


def test_publish_with_errors_lists_them_in_vietnamese(province, db):
    _create(province)
    r = _form(province, "/admin/programs/2026/publish", {})
    assert r.status_code == 422
    assert "Chương trình chưa được ban hành" in r.text
    assert "Chỉ tiêu CT06 — mục tiêu 1: Mục tiêu giảm cần có số liệu gốc của chỉ tiêu" in r.text
    assert db.exec(select(Program.status).where(Program.year == 2026)).one() == "draft"


def test_demo_baseline_of_2023_is_labelled_and_can_be_confirmed(province, db):
    r = province.get("/admin/programs/2023/indicators/CT06")
    assert r.status_code == 200
    assert "Số liệu gốc 180 đang lưu là số liệu minh họa" in r.text
    r = _form(province, "/admin/programs/2023/indicators/CT06", {
        "name": "Số trường hợp tảo hôn", "short_name": "Trường hợp tảo hôn", "share_filter": "all",
        "baseline": "176", "baseline_year": "2022", "baseline_source": ""})
    assert r.status_code == 422
    assert "Ghi rõ nguồn của số liệu gốc." in r.text
    r = _form(province, "/admin/programs/2023/indicators/CT06", {
        "name": "Số trường hợp tảo hôn", "short_name": "Trường hợp tảo hôn", "share_filter": "all",
        "baseline": "176", "baseline_year": "2022", "baseline_source": "Báo cáo số 25/BC-UBND"})
    assert r.status_code == 303
    ct06 = db.exec(select(Indicator).join(Program).where(Program.year == 2023, Indicator.code == "CT06")).one()
    assert (ct06.baseline, ct06.baseline_source, ct06.measure) == (176, "Báo cáo số 25/BC-UBND", "count")
    assert "minh họa" not in province.get("/admin/programs/2023/indicators/CT06").text.split('id="baseline"')[1][:800]


def test_edit_a_target_on_the_page(province, db):
    _create(province)
    page = province.get("/admin/programs/2026/indicators/CT17").text
    ids = [int(i) for i in re.findall(r'action="/admin/programs/2026/targets/(\d+)"', page)]
    target = db.get(Target, ids[0])
    assert (target.scope, target.value) == ("own", 4)
    r = _form(province, f"/admin/programs/2026/targets/{target.id}", {
        "scope": "own", "comparator": ">=", "value": "6", "value_high": "", "unit": "", "depth": "",
        "on": "value", "label": "MTTQ tỉnh tổ chức ít nhất 06 cuộc giám sát"})
    assert r.status_code == 303
    db.refresh(target)
    assert (target.value, target.label) == (6, "MTTQ tỉnh tổ chức ít nhất 06 cuộc giám sát")


def test_target_on_a_level_that_does_not_enter_is_refused_in_place(province):
    r = _form(province, "/admin/programs/2023/indicators/CT05/targets", {
        "scope": "each", "depth": "2", "comparator": ">=", "value": "1", "value_high": "", "unit": "",
        "on": "value", "label": ""})
    assert r.status_code == 422
    assert "Cấp xã không nhập chỉ tiêu này" in r.text


def test_ct14_page_invites_the_province_plan_target(province):
    r = province.get("/admin/programs/2023/indicators/CT14")
    assert "theo kế hoạch của tỉnh" in r.text.lower()


def test_program_file_download_from_the_page(province):
    r = province.get("/admin/programs/2023/file")
    assert r.status_code == 200
    assert r.content[:2] == b"PK"  # a zip: the XLSX workbook


def test_baseline_suggested_from_last_years_figures_on_the_page(province):
    # 2023 CT06 figures: commune 04720 3 cases in February, 04726 2 in May → 5 over 2 communes.
    r = province.post("/api/v1/data-values", json={"dataValues": [
        {"orgUnit": "04720", "dataElement": "CT06", "period": "2023-02", "value": 3},
        {"orgUnit": "04726", "dataElement": "CT06", "period": "2023-05", "value": 2}]})
    assert r.status_code == 200, r.text
    _create(province, 2024)
    page = province.get("/admin/programs/2024/indicators/CT06").text
    assert "Gợi ý từ số liệu năm 2023: 5 (2 đơn vị đã báo cáo)" in page
    assert 'name="baseline" value="5"' in page and 'name="baseline_year" value="2023"' in page
