"""Issue 13 (field use): names with their kind, landing, caching, the villages page, submitting
with care, warnings with a comment, the service worker's routes.

Commune 04720 (Xã Xuân Long) has 9 villages 04720-01 … 04720-09 (Thôn 1 … Thôn 9), each entering
CT04, CT07, CT08, CT09, CT10, CT11; the commune enters CT01, CT02, CT03, CT06, CT14, CT15, CT16, CT17.
"""
import hashlib
import re

from sqlalchemy import func
from sqlmodel import Session, select

from app.audit.models import AuditLog
from app.core.templates import STATIC_DIR, static_url
from app.program.models import Indicator
from app.units.models import Unit
from app.units.names import unit_label
from app.values import checks
from app.values.models import DataValue, PeriodSubmission

HX = {"HX-Request": "true"}
COMMUNE = "04720"
MONTH = "2023-05"
PREVIOUS = "2023-04"
VILLAGE_CODES = [f"04720-{i:02d}" for i in range(1, 10)]
VILLAGE_INDICATORS = ["CT04", "CT07", "CT08", "CT09", "CT10", "CT11"]


def _counts(db: Session) -> tuple[int, int, int]:
    return (db.exec(select(func.count()).select_from(DataValue)).one(),
            db.exec(select(func.count()).select_from(AuditLog)).one(),
            db.exec(select(func.count()).select_from(PeriodSubmission)).one())


def _value(db: Session, unit_code: str, code: str, period: str = MONTH) -> DataValue | None:
    db.expire_all()
    return db.exec(select(DataValue).join(Unit, DataValue.unit_id == Unit.id)
                   .join(Indicator, DataValue.indicator_id == Indicator.id)
                   .where(Unit.code == unit_code, Indicator.code == code,
                          DataValue.period == period)).first()


def _cell(c, village: str, code: str, data: dict, period: str = MONTH):
    form = {f"{village}.{k}": v for k, v in data.items()}
    return c.post(f"/entry/{COMMUNE}/{period}/villages/{village}/{code}", data=form, headers=HX)


# --- names, landing, caching --------------------------------------------------------------------

def test_unit_label_names_kind_before_name(db):
    names = {code: unit_label(db.exec(select(Unit).where(Unit.code == code)).one(), db)
             for code in ("15", "132", "133", "141", COMMUNE, "04720-01")}
    assert names == {"15": "Tỉnh Yên Bái", "132": "Thành phố Yên Bái", "133": "Thị xã Nghĩa Lộ",
                     "141": "Huyện Yên Bình", COMMUNE: "Xã Xuân Long", "04720-01": "Thôn 1"}


def test_top_bar_names_unit_with_kind(login):
    r = login("xa.nhaplieu").get(f"/entry/{COMMUNE}/{MONTH}")
    assert '<span class="unitname">Xã Xuân Long</span>' in r.text


def test_landing_editor_entry_viewer_and_admin_dashboard(login):
    assert login("xa.nhaplieu").get("/").headers["location"] == "/entry"
    assert login("xa.xem").get("/").headers["location"] == "/dashboard"
    assert login("tinh.quantri").get("/").headers["location"] == "/dashboard"


def test_favicon_served(client):
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"] == "image/x-icon"
    assert r.content[:4] == b"\x00\x00\x01\x00"  # an ICO header


def test_static_url_carries_content_hash():
    digest = hashlib.sha256((STATIC_DIR / "app.css").read_bytes()).hexdigest()[:10]
    assert static_url("app.css") == f"/static/app.css?v={digest}"
    assert static_url("no-such-file.css") == "/static/no-such-file.css"


def test_static_versioned_immutable_plain_revalidated(client):
    versioned = client.get(static_url("app.css"))
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    plain = client.get("/static/app.css")
    assert plain.status_code == 200 and plain.headers["cache-control"] == "public, no-cache"


def test_pages_link_versioned_static_and_are_not_kept_by_proxies(login):
    r = login("xa.nhaplieu").get(f"/entry/{COMMUNE}/{MONTH}")
    assert r.headers["cache-control"] == "private, no-cache"
    assert f'href="{static_url("app.css")}"' in r.text and f'src="{static_url("entry.js")}"' in r.text


def test_service_worker_served_at_root_scope_with_shell(client):
    r = client.get("/sw.js")
    assert r.status_code == 200 and r.headers["service-worker-allowed"] == "/"
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.text.startswith("const SHELL = [")
    assert static_url("app.css") in r.text and static_url("entry.js") in r.text


def test_csrf_token_route_signed_out_401_signed_in_token(client, login):
    assert client.get("/csrf-token").status_code == 401
    c = login("xa.nhaplieu")
    r = c.get("/csrf-token")
    assert r.status_code == 200 and r.json()["user"] == "xa.nhaplieu"
    assert r.json()["token"] == c.headers["X-CSRF-Token"]


# --- the villages page ----------------------------------------------------------------------------

def test_villages_page_shows_nine_villages_by_six_indicators(login):
    r = login("xa.nhaplieu").get(f"/entry/{COMMUNE}/{MONTH}/villages")
    assert r.status_code == 200
    assert re.findall(r'<details class="village" id="v-([\d-]+)"', r.text) == VILLAGE_CODES
    cells = re.findall(r'id="f-v(04720-\d\d)-(CT\d\d)"', r.text)
    assert len(cells) == 54
    assert [code for v, code in cells if v == "04720-05"] == VILLAGE_INDICATORS
    assert 'inputmode="numeric"' in r.text and 'name="04720-03.CT11.numerator"' in r.text


def test_villages_cell_saved_and_audited(login, db):
    c = login("xa.nhaplieu")
    r = _cell(c, "04720-02", "CT07", {"CT07.value": "4", "CT07.version": "0"})
    assert r.status_code == 200
    assert 'id="f-v04720-02-CT07"' in r.text and "is-saved" in r.text and "Đã lưu" in r.text
    dv = _value(db, "04720-02", "CT07")
    assert dv.value == 4 and dv.version == 1
    assert db.exec(select(AuditLog.action).where(AuditLog.entity_id == dv.id,
                                                 AuditLog.entity == "data_value")).all() == ["create"]


def test_villages_cell_bad_input_refused_in_place(login, db):
    c = login("xa.nhaplieu")
    before = _counts(db)
    r = _cell(c, "04720-02", "CT11", {"CT11.numerator": "80", "CT11.denominator": "60", "CT11.version": "0"})
    assert r.status_code == 422
    assert "Số đạt (80) không được lớn hơn tổng số (60)." in r.text
    assert _counts(db) == before


def test_villages_cell_conflict_shows_both(login, db):
    c, other = login("xa.nhaplieu"), login("xa.quantri")
    assert _cell(other, "04720-04", "CT07", {"CT07.value": "5", "CT07.version": "0"}).status_code == 200
    r = _cell(c, "04720-04", "CT07", {"CT07.value": "4", "CT07.version": "0"})
    assert r.status_code == 409
    assert "Quản trị xã Xuân Long" in r.text and 'class="mine">4<' in r.text and 'class="theirs">5<' in r.text
    assert _value(db, "04720-04", "CT07").value == 5


def test_villages_cell_of_village_elsewhere_not_found(login):
    c = login("xa.nhaplieu")
    r = c.post(f"/entry/{COMMUNE}/{MONTH}/villages/04717-01/CT07", data={"04717-01.CT07.value": "1"}, headers=HX)
    assert r.status_code == 404


def test_villages_form_without_js_saves_all_villages(login, db):
    c = login("xa.nhaplieu")
    form = {}
    for i, v in enumerate(VILLAGE_CODES, start=1):
        form |= {f"{v}.CT07.value": str(i), f"{v}.CT08.value": "1", f"{v}.CT11.numerator": str(50 + i),
                 f"{v}.CT11.denominator": "100"}
    r = c.post(f"/entry/{COMMUNE}/{MONTH}/villages", data=form)
    assert r.status_code == 303 and r.headers["location"].endswith("/villages?saved=1")
    # Nine villages × three figures: 27 rows; CT07 sums 1 + … + 9 = 45.
    assert sum(_value(db, v, "CT07").value for v in VILLAGE_CODES) == 45
    assert _value(db, "04720-09", "CT11").numerator == 59
    assert sum(1 for v in VILLAGE_CODES for code in ("CT07", "CT08", "CT11") if _value(db, v, code)) == 27


def test_villages_form_without_js_one_bad_figure_saves_nothing(login, db):
    c = login("xa.nhaplieu")
    before = _counts(db)
    form = {"04720-01.CT07.value": "3", "04720-02.CT07.value": "2", "04720-03.CT07.value": "-1"}
    r = c.post(f"/entry/{COMMUNE}/{MONTH}/villages", data=form)
    assert r.status_code == 422
    assert "Chưa lưu số liệu nào" in r.text and "Số không được âm" in r.text
    assert 'name="04720-02.CT07.value" value="2"' in r.text  # what was typed is kept
    assert _counts(db) == before


def test_villages_form_viewer_forbidden(login, db):
    r = login("xa.xem").post(f"/entry/{COMMUNE}/{MONTH}/villages", data={"04720-01.CT07.value": "3"})
    assert r.status_code == 403


# --- submitting with care -------------------------------------------------------------------------

def test_submit_step_lists_empty_indicators_and_villages(login, db):
    c = login("xa.nhaplieu")
    assert c.post(f"/entry/{COMMUNE}/{MONTH}/CT15", data={"CT15.value": "1000000", "CT15.version": "0"},
                  headers=HX).status_code == 200
    assert c.post(f"/entry/{COMMUNE}/{MONTH}/CT17", data={"CT17.value": "2", "CT17.version": "0"},
                  headers=HX).status_code == 200
    for code in VILLAGE_INDICATORS[:3]:  # Thôn 1: CT04, CT07, CT08 of 6
        value = "1" if code != "CT07" else "2"
        assert _cell(c, "04720-01", code, {f"{code}.value": value, f"{code}.version": "0"}).status_code == 200
    for code in VILLAGE_INDICATORS[:5]:
        if code != "CT11":
            _cell(c, "04720-02", code, {f"{code}.value": "1", f"{code}.version": "0"})
    _cell(c, "04720-02", "CT11", {"CT11.numerator": "40", "CT11.denominator": "50", "CT11.version": "0"})
    before = _counts(db)
    r = c.get(f"/entry/{COMMUNE}/{MONTH}/submit")
    assert r.status_code == 200 and _counts(db) == before  # looking is not submitting
    # 8 commune indicators, 2 filled: CT01, CT02, CT03, CT06, CT14, CT16 empty.
    assert "Còn 6/8 chỉ tiêu chưa nhập" in r.text
    empty = re.search(r'<ul class="empty-list">(.*?)</ul>', r.text, re.S).group(1)
    assert re.findall(r"<li>(\d+)\.", empty) == ["1", "2", "3", "6", "14", "16"]
    # Thôn 2 complete, Thôn 1 partly (3/6), Thôn 3 … 9 not entered.
    assert "7 thôn, tổ dân phố chưa nhập" in r.text and "1 thôn, tổ dân phố mới nhập một phần" in r.text
    assert "Thôn 1 — Đã nhập 3/6" in r.text and "<li>Thôn 2" not in r.text
    assert 'action="/entry/04720/2023-05/submit"' in r.text
    assert "Gửi báo cáo tháng 5/2023 lên cấp trên" in r.text


def test_submit_step_viewer_forbidden(login):
    assert login("xa.xem").get(f"/entry/{COMMUNE}/{MONTH}/submit").status_code == 403


def test_entry_page_submit_is_a_link_to_the_step(login):
    r = login("xa.nhaplieu").get(f"/entry/{COMMUNE}/{MONTH}")
    assert f'href="/entry/{COMMUNE}/{MONTH}/submit">Gửi báo cáo tháng 5/2023…</a>' in r.text
    assert 'action="/entry/04720/2023-05/submit"' not in r.text  # no one-tap submit


# --- warnings with a comment ------------------------------------------------------------------------

def _indicator(db: Session, code: str) -> Indicator:
    return db.exec(select(Indicator).where(Indicator.code == code)).first()


def test_warning_households_move_over_a_fifth(db):
    ct11 = _indicator(db, "CT11")
    # Total households 52 against 71: (52 − 71)/71 = −26,8 % → questioned; 60: −15,5 % → not.
    found = checks.figure_warnings(ct11, {"numerator": 40, "denominator": 52},
                                   {"numerator": 40, "denominator": 71})
    assert [w.code for w in found] == ["moved"]
    assert "52" in found[0].message and "71" in found[0].message and "−26,8 %" in found[0].message
    assert checks.figure_warnings(ct11, {"numerator": 40, "denominator": 60},
                                  {"numerator": 40, "denominator": 71}) == []


def test_warning_numerator_near_total(db):
    ct11 = _indicator(db, "CT11")
    # 96/100 ≥ 95 % and short of all: questioned; 100/100 and 94/100 not; 19/20 … but 9/10 too small.
    assert [w.code for w in checks.figure_warnings(ct11, {"numerator": 96, "denominator": 100}, None)] \
        == ["near_total"]
    assert checks.figure_warnings(ct11, {"numerator": 100, "denominator": 100}, None) == []
    assert checks.figure_warnings(ct11, {"numerator": 94, "denominator": 100}, None) == []
    assert checks.figure_warnings(ct11, {"numerator": 9, "denominator": 10}, None) == []


def test_warning_flow_not_compared_with_last_month(db):
    ct17 = _indicator(db, "CT17")  # supervisions: a flow
    assert checks.figure_warnings(ct17, {"value": 10}, {"value": 1}) == []
    ct07 = _indicator(db, "CT07")  # self-management groups: a stock, 3 → 5 is +66,7 %
    assert [w.code for w in checks.figure_warnings(ct07, {"value": 5}, {"value": 3})] == ["moved"]


def test_warning_shown_then_comment_saved_in_history(login, db):
    c = login("xa.nhaplieu")
    v = "04720-06"
    _cell(c, v, "CT11", {"CT11.numerator": "60", "CT11.denominator": "71", "CT11.version": "0"}, period=PREVIOUS)
    r = _cell(c, v, "CT11", {"CT11.numerator": "40", "CT11.denominator": "52", "CT11.version": "0"})
    assert r.status_code == 200 and "Đã lưu" in r.text  # a warning does not refuse the save
    assert 'class="field-warning"' in r.text and "tháng trước 71" in r.text
    assert f'name="{v}.CT11.comment"' in r.text
    r = _cell(c, v, "CT11", {"CT11.numerator": "40", "CT11.denominator": "52", "CT11.version": "1",
                             "CT11.comment": "19 hộ chuyển đi nơi khác"})
    assert r.status_code == 200
    assert _value(db, v, "CT11").comment == "19 hộ chuyển đi nơi khác"
    history = c.get(f"/entry/{v}/{MONTH}/CT11/history", headers=HX).text
    assert "Ghi chú: 19 hộ chuyển đi nơi khác" in history


def test_entry_page_field_comment_saved(login, db):
    c = login("xa.nhaplieu")
    data = {"CT02.numerator": "96", "CT02.denominator": "100", "CT02.version": "0"}
    r = c.post(f"/entry/{COMMUNE}/{MONTH}/CT02", data=data, headers=HX)
    assert r.status_code == 200 and "gần bằng tổng số" in r.text and 'name="CT02.comment"' in r.text
    r = c.post(f"/entry/{COMMUNE}/{MONTH}/CT02", data={**data, "CT02.version": "1", "CT02.comment": "Đã kiểm tra"},
               headers=HX)
    assert r.status_code == 200 and _value(db, COMMUNE, "CT02").comment == "Đã kiểm tra"


def test_keep_last_month_offered_for_stock_only(login):
    c = login("xa.nhaplieu")
    _cell(c, "04720-07", "CT11", {"CT11.numerator": "50", "CT11.denominator": "71", "CT11.version": "0"},
          period=PREVIOUS)
    _cell(c, "04720-07", "CT08", {"CT08.value": "1", "CT08.version": "0"}, period=PREVIOUS)
    page = c.get(f"/entry/{COMMUNE}/{MONTH}/villages").text
    cell = re.search(r'id="f-v04720-07-CT11".*?</fieldset>', page, re.S).group(0)
    assert 'class="keep-last" hidden data-keep="{&#34;denominator&#34;: &#34;71&#34;' in cell
    yes_no = re.search(r'id="f-v04720-07-CT08".*?</fieldset>', page, re.S).group(0)
    assert "keep-last" not in yes_no


def test_an_entry_error_is_an_input_error_with_a_code():
    """One shape of refused input: pages and the API treat an EntryError like any InputError,
    and the API still gets its stable code; a message may hold a {code} placeholder."""
    from app.core.errors import InputError
    from app.values.rules import EntryError

    e = EntryError("not_number", "“{raw}” is not a number ({code}).", "value", raw="x1", code="CT17")
    assert isinstance(e, InputError)
    assert (e.code, e.field, str(e)) == ("not_number", "value", "“x1” is not a number (CT17).")
