"""Clean refusals for bad input: NUL bytes, over-long CSV fields, odd unit codes, Excel quoting,
LIKE wildcards in searches. Each a clear message (Vietnamese in the UI, problem+json in the
API), nothing written."""
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from app.accounts.demo import DEMO_PASSWORD
from app.accounts.models import ApiToken, User
from app.program.models import TaskNote
from app.units.importer import import_units
from app.units.models import Unit
from tests.api_support import assert_problem, bearer, make_token

HEADER = "code,name,kind,parent_code,households,population\n"
NUL_MESSAGE = "Nội dung gửi lên có ký tự NUL"


def _csv(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    f = tmp_path / "units.csv"
    f.write_text(header + body, encoding="utf-8")
    return f


def _count(db: Session, model) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


def _post(c, url: str, data: dict):
    return c.post(url, data={"csrf_token": c.headers["X-CSRF-Token"], **data})


# --- NUL bytes ---------------------------------------------------------------------------------

def test_nul_in_sign_in_name_refused(client):
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post("/login", data={"username": "xa.xem\x00", "password": DEMO_PASSWORD, "csrf_token": token})
    assert r.status_code == 400
    assert NUL_MESSAGE in r.text


def test_nul_in_user_name_refused_nothing_written(login, db):
    c = login("tinh.quantri")
    before = _count(db, User)
    r = _post(c, "/admin/users", {"username": "moi.nul", "full_name": "Tên\x00lạ", "unit_code": "04720",
                                  "role": "viewer"})
    assert r.status_code == 400 and NUL_MESSAGE in r.text
    assert _count(db, User) == before


def test_nul_in_token_name_refused_nothing_written(login, db):
    c = login("tinh.quantri")
    before = _count(db, ApiToken)
    r = _post(c, "/admin/tokens", {"name": "Hệ\x00thống", "unit_code": "15", "mode": "read",
                                   "expires_on": "31/12/2099"})
    assert r.status_code == 400 and NUL_MESSAGE in r.text
    assert _count(db, ApiToken) == before


def test_nul_in_task_note_refused_nothing_written(login, db):
    from app.program.models import Task

    task = db.exec(select(Task).order_by(Task.id)).first()
    c = login("tinh.quantri")
    before = _count(db, TaskNote)
    r = _post(c, f"/tasks/{task.id}/notes", {"text": "Đã họp\x00", "noted_on": ""})
    assert r.status_code == 400 and NUL_MESSAGE in r.text
    assert _count(db, TaskNote) == before


def test_nul_in_search_query_refused(login):
    r = login("tinh.quantri").get("/admin/users?q=a%00b")
    assert r.status_code == 400 and NUL_MESSAGE in r.text


def test_text_without_nul_still_accepted(login, db):
    c = login("tinh.quantri")
    r = _post(c, "/admin/users", {"username": "moi.binhthuong", "full_name": "Tên %00 bình thường",
                                  "unit_code": "04720", "role": "viewer"})
    # A literal "%00" typed in a form is sent as %2500: it is text, not a NUL.
    assert r.status_code == 200
    assert db.exec(select(User).where(User.username == "moi.binhthuong")).one().full_name == "Tên %00 bình thường"


# --- over-long CSV fields --------------------------------------------------------------------

def test_import_units_field_over_128_kib_refused(db, tmp_path):
    before = _count(db, Unit)
    report = import_units(db, _csv(tmp_path, f'04720-T01,"{"x" * 200_000}",thon,04720,,\n'))
    assert not report.ok
    assert report.errors[0].startswith("Line 2: the file cannot be read as CSV (field larger than field limit")
    assert _count(db, Unit) == before


def test_api_csv_field_over_128_kib_is_problem(client, db):
    c = bearer(client, make_token(db, "141"))
    body = "orgUnit,dataElement,period,value,numerator,denominator,comment\n" \
           f'04720,CT17,2023-04,1,,,"{"x" * 200_000}"\n'
    r = c.post("/api/v1/data-values", content=body.encode(), headers={"Content-Type": "text/csv"})
    problem = assert_problem(r, 400)
    assert "128 KiB" in problem["detail"]


# --- unit codes and Excel quoting -------------------------------------------------------------

@pytest.mark.parametrize("code", ['04720/x"y?z', "04720 01", "04720--01", "-0472", "a" * 33, "thôn-1"])
def test_import_units_odd_code_refused(db, tmp_path, code):
    quoted = '"' + code.replace('"', '""') + '"'
    report = import_units(db, _csv(tmp_path, f"{quoted},Thôn Lạ,thon,04720,,\n"))
    assert not report.ok
    assert "is not a unit code" in report.errors[0]
    assert db.exec(select(Unit).where(Unit.name == "Thôn Lạ")).first() is None


@pytest.mark.parametrize("code", ["04720-T01", "04720.01", "04720_01", "T1"])
def test_import_units_documented_codes_accepted(db, tmp_path, code):
    report = import_units(db, _csv(tmp_path, f"{code},Thôn Mới,thon,04720,,\n"))
    assert report.ok, report.errors


def test_import_units_excel_double_quotes(db, tmp_path):
    # As Excel saves it: a name with quotes and a comma, a semicolon-separated file.
    f = _csv(tmp_path, '04720-T01;"Thôn ""Đoàn Kết"", bản 2";thon;04720;120;510\n',
             header="code;name;kind;parent_code;households;population\n")
    report = import_units(db, f)
    assert report.ok, report.errors
    unit = db.exec(select(Unit).where(Unit.code == "04720-T01")).one()
    from tests.units.test_units_import import _sizes

    assert (unit.name, *_sizes(db, unit)) == ('Thôn "Đoàn Kết", bản 2', 120, 510)


def test_import_units_name_with_nul_refused(db, tmp_path):
    report = import_units(db, _csv(tmp_path, "04720-T01,Thôn\x00Lạ,thon,04720,,\n"))
    assert not report.ok and "control characters" in report.errors[0]


# --- LIKE wildcards --------------------------------------------------------------------------

def test_user_search_percent_matches_nothing_but_percent(login):
    c = login("tinh.quantri")
    everyone = c.get("/admin/users").text.count('class="user-row')
    assert everyone > 3
    r = c.get("/admin/users", params={"q": "%"})
    assert r.status_code == 200
    assert r.text.count('class="user-row') == 0
    assert "Không có người dùng nào phù hợp." in r.text


def test_user_search_underscore_is_a_letter(login, db):
    c = login("tinh.quantri")
    unit = db.exec(select(Unit).where(Unit.code == "04720")).one()
    db.add(User(username="co_gach", full_name="Có gạch", unit_id=unit.id, role="viewer", password_hash="x"))
    db.add(User(username="coxgach", full_name="Không gạch", unit_id=unit.id, role="viewer", password_hash="x"))
    db.commit()
    html = c.get("/admin/users", params={"q": "co_g"}).text
    assert "co_gach" in html and "coxgach" not in html
