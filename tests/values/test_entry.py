"""Data entry pages: per-field saves (htmx), the whole page as one form, submission, conflicts.

Commune 04720 (Xã Xuân Long) enters CT01, CT02, CT03, CT06, CT14, CT15, CT16, CT17;
its villages (04720-NN) enter CT04, CT07, CT08, CT09, CT10, CT11.
"""
import re

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from app.audit.models import AuditLog
from app.units.models import Unit
from app.values.models import DataValue, PeriodSubmission

HX = {"HX-Request": "true"}
COMMUNE = "04720"
VILLAGE = "04720-01"
MONTH = "2023-03"


def _counts(db: Session) -> tuple[int, int, int]:
    """(data values, audit rows, submissions): what a refused input must leave unchanged."""
    return (db.exec(select(func.count()).select_from(DataValue)).one(),
            db.exec(select(func.count()).select_from(AuditLog)).one(),
            db.exec(select(func.count()).select_from(PeriodSubmission)).one())


def _value(db: Session, unit_code: str, code: str, period: str = MONTH) -> DataValue | None:
    from app.program.models import Indicator

    db.expire_all()
    return db.exec(select(DataValue).join(Unit, DataValue.unit_id == Unit.id)
                   .join(Indicator, DataValue.indicator_id == Indicator.id)
                   .where(Unit.code == unit_code, Indicator.code == code,
                          DataValue.period == period)).first()


def _save(c, code: str, data: dict, unit: str = COMMUNE, period: str = MONTH):
    return c.post(f"/entry/{unit}/{period}/{code}", data=data, headers=HX)


# --- pages ------------------------------------------------------------------------------------

def test_open_entry_redirects_to_own_unit_first_open_month(login):
    c = login("xa.nhaplieu")
    r = c.get("/entry")
    assert r.status_code == 303
    assert r.headers["location"] == "/entry/04720/2023-01"


def test_open_entry_skips_submitted_months(login):
    c = login("xa.nhaplieu")
    assert c.post(f"/entry/{COMMUNE}/2023-01/submit").status_code == 303
    r = c.get("/entry")
    assert r.status_code == 303
    assert r.headers["location"] == "/entry/04720/2023-02"


def test_show_entry_page_commune_indicators_in_program_order(login):
    c = login("xa.nhaplieu")
    r = c.get(f"/entry/{COMMUNE}/{MONTH}")
    assert r.status_code == 200
    codes = re.findall(r'id="f-(CT\d\d)"', r.text)
    assert codes == ["CT01", "CT02", "CT03", "CT06", "CT14", "CT15", "CT16", "CT17"]


def test_show_entry_page_field_kinds(login):
    c = login("xa.nhaplieu")
    r = c.get(f"/entry/{COMMUNE}/{MONTH}")
    assert r.status_code == 200
    # yes/no as a toggle of two radios; amounts grouped as typed; ratios show both labels
    assert 'class="toggle"' in r.text and 'id="CT03-yes"' in r.text and ">Có<" in r.text
    assert re.search(r'name="CT15.value"[^>]*inputmode="numeric"[^>]*\s+data-vnd', r.text)
    assert "Số cán bộ đã học tập, quán triệt" in r.text and "Tổng số cán bộ, công chức chuyên trách" in r.text
    assert 'csp' not in r.text.lower() or True  # (no inline script: checked below)
    assert "<script>" not in r.text and " style=" not in r.text


def test_show_entry_page_last_month_beside_field(login):
    c = login("xa.nhaplieu")
    assert _save(c, "CT15", {"CT15.value": "2.500.000", "CT15.version": "0"}, period="2023-02").status_code == 200
    r = c.get(f"/entry/{COMMUNE}/{MONTH}")
    assert r.status_code == 200
    field = re.search(r'id="f-CT15".*?</fieldset>', r.text, re.S).group(0)
    assert "Tháng trước: 2.500.000 đ" in field


def test_show_entry_page_month_outside_program_refused(login):
    c = login("xa.nhaplieu")
    r = c.get(f"/entry/{COMMUNE}/2024-01")
    assert r.status_code == 400
    assert "nằm ngoài chương trình năm 2023" in r.text


def test_show_entry_page_other_commune_not_found(login):
    c = login("xa.nhaplieu")
    r = c.get(f"/entry/04723/{MONTH}")
    assert r.status_code == 404


# --- saving one field (htmx) ------------------------------------------------------------------

def test_save_field_count_saved_and_audited(login, db):
    c = login("xa.nhaplieu")
    before = _counts(db)
    r = _save(c, "CT17", {"CT17.value": "3", "CT17.version": "0"})
    assert r.status_code == 200
    assert "Đã lưu" in r.text and 'name="CT17.version" value="1"' in r.text
    dv = _value(db, COMMUNE, "CT17")
    assert (dv.value, dv.version, dv.updated_via) == (3, 1, "web")
    # one value and one audit row more
    assert _counts(db) == (before[0] + 1, before[1] + 1, before[2])


def test_save_field_amount_with_vietnamese_grouping(login, db):
    c = login("xa.nhaplieu")
    r = _save(c, "CT15", {"CT15.value": "10.000.000", "CT15.version": "0"})
    assert r.status_code == 200
    assert _value(db, COMMUNE, "CT15").value == 10_000_000
    assert 'value="10.000.000"' in r.text


def test_save_field_ratio_shows_percentage(login, db):
    c = login("xa.nhaplieu")
    r = _save(c, "CT01", {"CT01.numerator": "45", "CT01.denominator": "50", "CT01.version": "0"})
    assert r.status_code == 200
    # 45 / 50 = 90,0 %
    assert "90,0 %" in r.text
    dv = _value(db, COMMUNE, "CT01")
    assert (dv.numerator, dv.denominator) == (45, 50)


def test_save_field_yes_no(login, db):
    c = login("xa.nhaplieu")
    r = _save(c, "CT03", {"CT03.value": "1", "CT03.version": "0"})
    assert r.status_code == 200
    assert _value(db, COMMUNE, "CT03").value == 1


def test_save_field_empty_clears_figure(login, db):
    c = login("xa.nhaplieu")
    _save(c, "CT17", {"CT17.value": "3", "CT17.version": "0"})
    r = _save(c, "CT17", {"CT17.value": "", "CT17.version": "1"})
    assert r.status_code == 200
    assert _value(db, COMMUNE, "CT17") is None
    actions = db.exec(select(AuditLog.action).where(AuditLog.period == MONTH)
                      .order_by(AuditLog.id)).all()
    assert actions[-2:] == ["create", "delete"]


def test_save_field_viewer_forbidden(login, db):
    c = login("xa.xem")
    before = _counts(db)
    r = _save(c, "CT17", {"CT17.value": "3", "CT17.version": "0"})
    assert r.status_code == 403
    assert _counts(db) == before


# --- bad input: refused with a clear message, nothing saved -----------------------------------

BAD_FIELDS = [
    # (indicator, form data, words of the Vietnamese message)
    ("CT17", {"CT17.value": "-5"}, "Số không được âm; hãy nhập 0 hoặc số lớn hơn."),
    ("CT17", {"CT17.value": "abc"}, "“abc” không phải là số. Chỉ nhập chữ số"),
    ("CT17", {"CT17.value": "12,5"}, "“12,5” không phải là số nguyên"),
    ("CT01", {"CT01.numerator": "60", "CT01.denominator": "50"},
     "Số đạt (60) không được lớn hơn tổng số (50)."),
    ("CT15", {"CT15.value": "1.000.000.000.001"},
     "Số tiền quá lớn; tối đa là 1.000 tỷ đồng (1.000.000.000.000 đ)"),
    ("CT04", {"CT04.value": "1"}, "Xuân Long không nhập chỉ tiêu CT04; chỉ tiêu này do cấp khác nhập."),
]
BAD_IDS = ["negative", "letters", "decimal-comma", "numerator-above-denominator", "absurd-amount",
           "indicator-of-another-level"]
BAD_MONTHS = [
    ("2022-12", "Tháng 2022-12 nằm ngoài chương trình năm 2023; chỉ nhập từ tháng 01/2023 đến tháng 12/2023."),
    ("2024-01", "Tháng 2024-01 nằm ngoài chương trình năm 2023"),
    ("2023-13", "Tháng “2023-13” không hợp lệ"),
]


@pytest.mark.parametrize("code,data,message", BAD_FIELDS, ids=BAD_IDS)
def test_save_field_bad_input_refused(login, db, code, data, message):
    c = login("xa.nhaplieu")
    before = _counts(db)
    r = _save(c, code, {**data, f"{code}.version": "0"})
    assert r.status_code == 422
    assert message in r.text
    assert 'aria-invalid="true"' in r.text
    assert _counts(db) == before


@pytest.mark.parametrize("code,data,message", BAD_FIELDS, ids=BAD_IDS)
def test_save_page_bad_input_refused_whole_page(login, db, code, data, message):
    c = login("xa.nhaplieu")
    before = _counts(db)
    # A valid figure beside the bad one: the page is all-or-nothing, so it is not saved either.
    r = c.post(f"/entry/{COMMUNE}/{MONTH}",
               data={**data, f"{code}.version": "0", "CT06.value": "2", "CT06.version": "0"})
    assert r.status_code == 422
    assert message in r.text
    assert "Chưa lưu số liệu nào" in r.text
    assert _counts(db) == before


@pytest.mark.parametrize("period,message", BAD_MONTHS, ids=[p for p, _ in BAD_MONTHS])
def test_save_field_month_outside_program_refused(login, db, period, message):
    c = login("xa.nhaplieu")
    before = _counts(db)
    r = _save(c, "CT17", {"CT17.value": "3", "CT17.version": "0"}, period=period)
    assert r.status_code == 422
    assert message in r.text
    assert _counts(db) == before


@pytest.mark.parametrize("period,message", BAD_MONTHS, ids=[p for p, _ in BAD_MONTHS])
def test_save_page_month_outside_program_refused(login, db, period, message):
    c = login("xa.nhaplieu")
    before = _counts(db)
    r = c.post(f"/entry/{COMMUNE}/{period}", data={"CT17.value": "3", "CT17.version": "0"})
    assert r.status_code == 422
    assert message in r.text
    assert _counts(db) == before


def test_save_field_submitted_month_refused(login, db):
    c = login("xa.nhaplieu")
    assert c.post(f"/entry/{COMMUNE}/{MONTH}/submit").status_code == 303
    before = _counts(db)
    r = _save(c, "CT17", {"CT17.value": "3", "CT17.version": "0"})
    assert r.status_code == 422
    assert "Xuân Long đã gửi báo cáo tháng 2023-03; cần cấp trên mở lại trước khi sửa." in r.text
    assert _counts(db) == before


def test_save_page_submitted_month_refused(login, db):
    c = login("xa.nhaplieu")
    assert c.post(f"/entry/{COMMUNE}/{MONTH}/submit").status_code == 303
    before = _counts(db)
    r = c.post(f"/entry/{COMMUNE}/{MONTH}", data={"CT17.value": "3", "CT17.version": "0"})
    assert r.status_code == 422
    assert "Xuân Long đã gửi báo cáo tháng 2023-03; cần cấp trên mở lại trước khi sửa." in r.text
    assert _counts(db) == before


def test_save_page_invalid_keeps_typed_values(login):
    c = login("xa.nhaplieu")
    r = c.post(f"/entry/{COMMUNE}/{MONTH}", data={
        "CT17.value": "-5", "CT17.version": "0", "CT06.value": "2", "CT06.version": "0"})
    assert r.status_code == 422
    assert re.search(r'name="CT17.value" value="-5"', r.text)
    assert re.search(r'name="CT06.value" value="2"', r.text)
    assert re.search(r'name="CT17.value" value="-5"[^>]*aria-invalid="true"', r.text, re.S)


# --- the whole page as one plain form -----------------------------------------------------------

def test_save_page_all_fields_saved(login, db):
    c = login("xa.nhaplieu")
    r = c.post(f"/entry/{COMMUNE}/{MONTH}", data={
        "CT01.numerator": "18", "CT01.denominator": "20", "CT01.version": "0",
        "CT03.value": "1", "CT03.version": "0",
        "CT15.value": "5.000.000", "CT15.version": "0",
        "CT17.value": "", "CT17.version": "0"})
    assert r.status_code == 303
    assert r.headers["location"] == f"/entry/{COMMUNE}/{MONTH}?saved=1"
    assert (_value(db, COMMUNE, "CT01").numerator, _value(db, COMMUNE, "CT01").denominator) == (18, 20)
    assert _value(db, COMMUNE, "CT03").value == 1
    assert _value(db, COMMUNE, "CT15").value == 5_000_000
    assert _value(db, COMMUNE, "CT17") is None


# --- conflicts -----------------------------------------------------------------------------------

def test_save_field_conflict_shows_both_then_keep_mine(login, db):
    first, second = login("xa.nhaplieu"), login("xa.quantri")
    assert _save(first, "CT17", {"CT17.value": "3", "CT17.version": "0"}).status_code == 200
    # Both load version 1; the first saves 4 (version 2).
    for c in (first, second):
        assert 'name="CT17.version" value="1"' in c.get(f"/entry/{COMMUNE}/{MONTH}").text
    assert _save(first, "CT17", {"CT17.value": "4", "CT17.version": "1"}).status_code == 200
    # The second, still on version 1, types 5: refused, both figures shown.
    r = _save(second, "CT17", {"CT17.value": "5", "CT17.version": "1"})
    assert r.status_code == 409
    assert re.search(r'class="theirs">4<', r.text) and re.search(r'class="mine">5<', r.text)
    assert "Cán bộ nhập liệu xã Xuân Long" in r.text
    assert 'name="CT17.version" value="2"' in r.text  # the field now carries their version
    assert _value(db, COMMUNE, "CT17").value == 4
    # "Keep mine" re-sends 5 with version 2.
    r = _save(second, "CT17", {"CT17.value": "5", "CT17.version": "2"})
    assert r.status_code == 200
    dv = _value(db, COMMUNE, "CT17")
    assert (dv.value, dv.version) == (5, 3)
    # create 3, update 3→4, update 4→5
    assert db.exec(select(func.count()).select_from(AuditLog).where(
        AuditLog.entity == "data_value", AuditLog.period == MONTH)).one() == 3


def test_save_field_conflict_take_theirs(login):
    first, second = login("xa.nhaplieu"), login("xa.quantri")
    _save(first, "CT17", {"CT17.value": "4", "CT17.version": "0"})
    assert _save(second, "CT17", {"CT17.value": "5", "CT17.version": "0"}).status_code == 409
    r = second.get(f"/entry/{COMMUNE}/{MONTH}/CT17", headers=HX)
    assert r.status_code == 200
    assert 'name="CT17.value" value="4"' in r.text and 'name="CT17.version" value="1"' in r.text


def test_save_page_conflict_refused_nothing_saved(login, db):
    first, second = login("xa.nhaplieu"), login("xa.quantri")
    _save(first, "CT17", {"CT17.value": "4", "CT17.version": "0"})
    before = _counts(db)
    r = second.post(f"/entry/{COMMUNE}/{MONTH}", data={
        "CT17.value": "5", "CT17.version": "0", "CT06.value": "1", "CT06.version": "0"})
    assert r.status_code == 422
    assert re.search(r'class="theirs">4<', r.text) and re.search(r'class="mine">5<', r.text)
    assert _counts(db) == before


def test_save_field_same_figure_stale_version_not_conflict(login, db):
    first, second = login("xa.nhaplieu"), login("xa.quantri")
    _save(first, "CT17", {"CT17.value": "4", "CT17.version": "0"})
    # The second types the same figure without having seen it: nothing to overwrite.
    r = _save(second, "CT17", {"CT17.value": "4", "CT17.version": "0"})
    assert r.status_code == 200
    assert _value(db, COMMUNE, "CT17").version == 1


# --- submission ---------------------------------------------------------------------------------

def test_submit_month_read_only_and_audited(login, db):
    c = login("xa.nhaplieu")
    r = c.post(f"/entry/{COMMUNE}/{MONTH}/submit")
    assert r.status_code == 303
    sub = db.exec(select(PeriodSubmission).join(Unit, PeriodSubmission.unit_id == Unit.id)
                  .where(Unit.code == COMMUNE, PeriodSubmission.period == MONTH)).one()
    assert sub.status == "submitted"
    assert db.exec(select(AuditLog.action).where(AuditLog.entity == "submission")).all() == ["submit"]
    page = c.get(f"/entry/{COMMUNE}/{MONTH}")
    assert page.status_code == 200
    assert "Cán bộ nhập liệu xã Xuân Long đã gửi lúc" in page.text
    assert "<fieldset disabled>" in page.text and "Lưu tất cả" not in page.text


def test_submit_month_twice_refused(login, db):
    c = login("xa.nhaplieu")
    c.post(f"/entry/{COMMUNE}/{MONTH}/submit")
    before = _counts(db)
    r = c.post(f"/entry/{COMMUNE}/{MONTH}/submit")
    assert r.status_code == 400
    assert "đã gửi báo cáo tháng 2023-03 rồi" in r.text
    assert _counts(db) == before


def test_reopen_month_by_own_unit_forbidden(login, db):
    c = login("xa.nhaplieu")
    c.post(f"/entry/{COMMUNE}/{MONTH}/submit")
    r = c.post(f"/entry/{COMMUNE}/{MONTH}/reopen")
    assert r.status_code == 403


def test_reopen_month_by_level_above_allows_changes(login, db):
    c, district = login("xa.nhaplieu"), login("huyen.nhaplieu")
    c.post(f"/entry/{COMMUNE}/{MONTH}/submit")
    assert "Mở lại tháng này" in district.get(f"/entry/{COMMUNE}/{MONTH}").text
    r = district.post(f"/entry/{COMMUNE}/{MONTH}/reopen")
    assert r.status_code == 303
    assert db.exec(select(AuditLog.action).where(AuditLog.entity == "submission")
                   .order_by(AuditLog.id)).all() == ["submit", "reopen"]
    assert _save(c, "CT17", {"CT17.value": "2", "CT17.version": "0"}).status_code == 200


# --- villages and history -----------------------------------------------------------------------

def test_show_villages_with_state(login):
    c = login("xa.nhaplieu")
    assert _save(c, "CT08", {"CT08.value": "1", "CT08.version": "0"}, unit=VILLAGE).status_code == 200
    r = c.get(f"/entry/{COMMUNE}/{MONTH}/villages")
    assert r.status_code == 200
    # Thôn 1 has 1 of the 6 village indicators (CT04, CT07–CT11); Thôn 2 none.
    first = re.search(r'id="v-04720-01".*?</summary>', r.text, re.S).group(0)
    assert "Đã nhập 1/6" in first and "Đang nhập" in first
    second = re.search(r'id="v-04720-02".*?</summary>', r.text, re.S).group(0)
    assert "Đã nhập 0/6" in second and "Chưa nhập" in second
    assert 'href="/entry/04720-01/2023-03">Trang riêng của Thôn 1</a>' in r.text


def test_show_village_entry_page_for_commune_user(login):
    c = login("xa.nhaplieu")
    r = c.get(f"/entry/{VILLAGE}/{MONTH}")
    assert r.status_code == 200
    assert re.findall(r'id="f-(CT\d\d)"', r.text) == ["CT04", "CT07", "CT08", "CT09", "CT10", "CT11"]
    assert 'href="/entry/04720/2023-03/villages"' in r.text


def test_show_field_history_who_when_old_new_via(login):
    c = login("xa.nhaplieu")
    _save(c, "CT17", {"CT17.value": "3", "CT17.version": "0"})
    _save(c, "CT17", {"CT17.value": "4", "CT17.version": "1"})
    r = c.get(f"/entry/{COMMUNE}/{MONTH}/CT17/history", headers=HX)
    assert r.status_code == 200
    assert "<html" not in r.text  # the fragment alone
    assert "3 → 4" in r.text and "— → 3" in r.text
    assert r.text.index("3 → 4") < r.text.index("— → 3")  # newest first
    assert "Cán bộ nhập liệu xã Xuân Long" in r.text and "qua trang web" in r.text
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d", r.text)


def test_show_units_below_for_district_user(login):
    c = login("huyen.nhaplieu")
    r = c.get(f"/entry/141/{MONTH}/villages")
    assert r.status_code == 200
    assert "Đơn vị cấp dưới" in r.text
    # the communes of Yên Bình each enter 8 indicators
    assert 'href="/entry/04720/2023-03"' in r.text and "Đã nhập 0/8" in r.text


def test_show_entry_page_viewer_read_only(login):
    c = login("xa.xem")
    r = c.get(f"/entry/{COMMUNE}/{MONTH}")
    assert r.status_code == 200
    assert "<fieldset disabled>" in r.text and "Lưu tất cả" not in r.text and "hx-post" not in r.text


def test_open_entry_all_months_submitted_gives_december(login, db):
    from app.values import queries

    c = login("xa.nhaplieu")
    for m in range(1, 13):
        assert c.post(f"/entry/{COMMUNE}/2023-{m:02d}/submit").status_code == 303
    r = c.get("/entry")
    assert r.status_code == 303
    assert r.headers["location"] == "/entry/04720/2023-12"
    assert queries.previous_period("2023-01") is None and queries.previous_period("2023-12") == "2023-11"


def test_show_field_history_names_api_and_import(login, db):
    from app.accounts.deps import Principal
    from app.program.models import Indicator, Program
    from app.values import service

    unit = db.exec(select(Unit).where(Unit.code == COMMUNE)).one()
    program = db.exec(select(Program).where(Program.year == 2023)).one()
    ct17 = db.exec(select(Indicator).where(Indicator.code == "CT17")).one()
    robot = Principal(unit=unit, role="admin", via="api")
    service.save_value(db, robot, program, unit, ct17, MONTH, service.Figure(value=1), via="api")
    service.save_value(db, robot, program, unit, ct17, MONTH, service.Figure(value=6), via="import")
    db.commit()
    r = login("xa.nhaplieu").get(f"/entry/{COMMUNE}/{MONTH}/CT17/history", headers=HX)
    assert r.status_code == 200
    assert "qua API" in r.text and "qua nhập tệp" in r.text and "1 → 6" in r.text


def test_save_page_fields_not_posted_left_unchanged(login, db):
    c = login("xa.nhaplieu")
    _save(c, "CT14", {"CT14.value": "4", "CT14.version": "0"})
    # A form that carries only CT17 leaves CT14 alone; an empty CT17 would clear CT17 only.
    r = c.post(f"/entry/{COMMUNE}/{MONTH}", data={"CT17.value": "1", "CT17.version": "0"})
    assert r.status_code == 303
    assert _value(db, COMMUNE, "CT14").value == 4 and _value(db, COMMUNE, "CT17").value == 1
