"""The province sets per year which communes are new-rural and province-led (issue #12, item 4):
one checked path for the page, the file import (CLI, upload) and the API; every error by line
and nothing written; audited; the demo's picks labelled until the province sets them; and the
roll-up follows exactly (CT16 counts only the year's new-rural communes).

The seeded 2023 tree: 173 communes, 106 new-rural (100 recognised + 6 expected), 22 province-led,
all demo picks; no figures (each test enters its own)."""
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from app.accounts.deps import Principal
from app.audit.models import AuditLog
from app.program.models import Indicator, Program
from app.program.periods import PeriodRange
from app.rollup import service as rollup
from app.units import attributes
from app.units.models import Unit, UnitYear
from app.values.service import Figure, save_value

HEADER = "code,year,new_rural,province_led\n"


@pytest.fixture
def program(db) -> Program:
    return db.exec(select(Program).where(Program.year == 2023)).one()


@pytest.fixture
def admin(db, program) -> Principal:
    return Principal(unit=db.get(Unit, program.root_unit_id), role="admin", via="web")


def _listed(db: Session, status: str | None, led: bool | None = None) -> list[Unit]:
    q = select(Unit).join(UnitYear, UnitYear.unit_id == Unit.id).where(UnitYear.year == 2023, Unit.depth == 2)
    q = q.where(UnitYear.new_rural == status) if status else q.where(UnitYear.new_rural.is_(None))
    if led is not None:
        q = q.where(UnitYear.front_led == led)
    return list(db.exec(q.order_by(Unit.code)).all())


def _unlisted(db: Session) -> list[Unit]:
    listed = select(UnitYear.unit_id).where(UnitYear.year == 2023)
    return list(db.exec(select(Unit).where(Unit.depth == 2, Unit.id.not_in(listed), Unit.kind == "xa")
                        .order_by(Unit.code)).all())


def _ct16(db: Session, program: Program, unit: Unit) -> tuple[int, int, int]:
    r = next(r for r in rollup.rollup(db, unit, PeriodRange.parse("2023-Q1"), program) if r.indicator.code == "CT16")
    return r.subtree.numerator, r.subtree.reported, r.subtree.expected


def _yes(db: Session, admin: Principal, program: Program, unit: Unit) -> None:
    ind = db.exec(select(Indicator).where(Indicator.program_id == program.id, Indicator.code == "CT16")).one()
    save_value(db, admin, program, unit, ind, "2023-03", Figure(value=1))
    db.flush()


def _set(db: Session, admin: Principal, rows: list[dict[str, str]]) -> int:
    checked = attributes.plan(db, list(enumerate(rows, start=2)), root=admin.unit)
    assert checked.ok, checked.errors
    return attributes.apply(db, admin, "web", checked)


def test_seed_marks_the_new_rural_picks_demo(db):
    rows = db.exec(select(UnitYear).join(Unit, Unit.id == UnitYear.unit_id)
                   .where(UnitYear.year == 2023, Unit.depth == 2)).all()
    assert len(rows) == 106 and all(r.is_demo for r in rows)
    assert sum(r.front_led for r in rows) == 22


def test_setting_a_commune_new_rural_changes_ct16_denominator_and_rollup_stays_exact(db, program, admin):
    """Before: A (recognised) and B (not listed) both answer yes; only A counts → 1 of 1 reported,
    106 expected. B set recognised: 2 yes, 2 reported, 107 expected. Then A set "no": B's yes
    alone, 1 reported, 106 expected. District of B: its new-rural communes + 1."""
    a, b = _listed(db, "recognised")[0], _unlisted(db)[0]
    province = db.get(Unit, program.root_unit_id)
    district = db.get(Unit, b.parent_id)
    district_before = _ct16(db, program, district)[2]
    _yes(db, admin, program, a)
    _yes(db, admin, program, b)
    assert _ct16(db, program, province) == (1, 1, 106)
    assert _set(db, admin, [{"code": b.code, "year": "2023", "new_rural": "recognised", "front_led": "0"}]) == 1
    assert _ct16(db, program, province) == (2, 2, 107)
    assert _ct16(db, program, district)[2] == district_before + 1
    assert rollup.check(db) == []
    _set(db, admin, [{"code": a.code, "year": "2023", "new_rural": "", "front_led": "0"}])
    assert _ct16(db, program, province) == (1, 1, 106)
    assert rollup.check(db) == []


def test_saving_clears_the_demo_mark_and_is_audited(db, admin):
    c = _listed(db, "expected", led=False)[0]
    assert db.get(UnitYear, (c.id, 2023)).is_demo
    _set(db, admin, [{"code": c.code, "year": "2023", "new_rural": "expected", "front_led": "1"}])
    row = db.get(UnitYear, (c.id, 2023))
    assert (row.new_rural, row.front_led, row.is_demo) == ("expected", True, False)
    log = db.exec(select(AuditLog).where(AuditLog.entity == "unit_year", AuditLog.entity_id == c.id)).one()
    assert (log.action, log.period, log.via) == ("update", "2023", "web")
    assert json.loads(log.old)["front_led"] is False and json.loads(log.new)["front_led"] is True
    # Saving the same again changes nothing and writes no second audit row.
    assert _set(db, admin, [{"code": c.code, "year": "2023", "new_rural": "expected", "front_led": "1"}]) == 0


def test_import_lists_every_error_by_line_and_writes_nothing(db, admin, tmp_path: Path):
    good, other = _unlisted(db)[:2]
    f = tmp_path / "years.csv"
    f.write_text(HEADER + f"{good.code},2023,recognised,1\n"      # line 2: fine
                 f"{other.code},20x3,recognised,0\n"               # line 3: bad year
                 "99999,2023,expected,0\n"                          # line 4: no such commune
                 f"{other.code},2023,maybe,2\n"                     # line 5: bad status and flag
                 f"{good.code},2023,,0\n", encoding="utf-8")        # line 6: same commune again
    before = db.exec(select(func.count()).select_from(UnitYear)).one()
    checked = attributes.plan(db, attributes.read_file(f), root=admin.unit)
    assert [e.split(":")[0] for e in checked.errors] == ["Line 3", "Line 4", "Line 5", "Line 6"]
    assert "new_rural 'maybe'" in checked.errors[2] and "province_led '2'" in checked.errors[2]
    assert "already on line 2" in checked.errors[3]
    assert checked.changes == []
    with pytest.raises(ValueError):
        attributes.apply(db, admin, "import", checked)
    assert db.exec(select(func.count()).select_from(UnitYear)).one() == before


def test_import_accepts_vietnamese_words_and_households(db, admin, tmp_path: Path):
    c = _unlisted(db)[0]
    f = tmp_path / "years.csv"
    f.write_text("mã,năm,nông thôn mới,tỉnh chỉ đạo,households,population\n"
                 f"{c.code},2023,Đã đạt,có,1.250,5.400\n", encoding="utf-8")
    checked = attributes.plan(db, attributes.read_file(f), root=admin.unit)
    assert checked.ok, checked.errors
    attributes.apply(db, admin, "import", checked)
    row = db.get(UnitYear, (c.id, 2023))
    assert (row.new_rural, row.front_led, row.households, row.population, row.is_demo) == \
        ("recognised", True, 1250, 5400, False)


def test_a_year_the_province_is_not_in_force_has_no_communes(db, admin):
    from datetime import date

    assert len(attributes.communes_of_year(db, 2023, admin.unit)) == 173
    if admin.unit.valid_to is not None:  # the 2025 tree loaded: Yên Bái ends on 30/06/2025
        assert admin.unit.valid_to == date(2025, 6, 30)
    checked = attributes.plan(db, [(2, {"code": "04720", "year": "1999", "new_rural": "", "front_led": "0"})],
                              root=admin.unit)
    assert checked.errors and "year '1999'" in checked.errors[0]


# --- API -------------------------------------------------------------------------------------------

def test_api_put_sets_a_commune_and_answers_its_row(login, db):
    c = _unlisted(db)[0]
    r = login("tinh.quantri").put(f"/api/v1/units/{c.code}/years/2023",
                                  json={"new_rural": "expected", "front_led": True})
    assert r.status_code == 200, r.text
    assert r.json() == {"code": c.code, "year": 2023, "new_rural": "expected", "front_led": True,
                        "households": None, "population": None, "is_demo": False}
    assert rollup.check(db) == []


def test_api_put_refused_below_the_province_and_for_unknown_communes(login):
    r = login("huyen.quantri").put("/api/v1/units/04720/years/2023", json={"new_rural": None})
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    r = login("tinh.quantri").put("/api/v1/units/99999/years/2023", json={"new_rural": None})
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    r = login("tinh.quantri").put("/api/v1/units/04720/years/2023", json={"new_rural": "maybe"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")


# --- the page --------------------------------------------------------------------------------------

def _csrf(html: str) -> str:
    from tests.conftest import _csrf_from

    return _csrf_from(html)


def test_page_lists_the_years_communes_with_the_demo_label(login):
    c = login("tinh.quantri")
    r = c.get("/admin/units/years?year=2023")
    assert r.status_code == 200
    assert r.text.count('name="ids"') == 173
    assert "106" in r.text and "(dữ liệu mẫu)" in r.text
    # The district filter: Huyện Yên Bình (141) has its own communes only.
    r = c.get("/admin/units/years?year=2023&district=141")
    assert 'data-code="04720"' in r.text and 'data-code="04249"' not in r.text
    r = c.get("/admin/units/years?year=2023&q=xu%C3%A2n%20long")
    assert r.text.count('name="ids"') == 1


def test_page_opens_on_the_latest_year_the_province_is_in_force(login, db):
    """A province that ended (Yên Bái, to 30/06/2025) opens on its last program year, 2023, not
    on this year, when it has no communes."""
    c = login("tinh.quantri")
    province = db.exec(select(Unit).where(Unit.code == "15", Unit.depth == 0)).one()
    province.valid_to = date(2025, 6, 30)
    db.add(province)
    db.flush()
    r = c.get("/admin/units/years")
    assert r.status_code == 200
    assert "· 2023</h1>" in r.text and r.text.count('name="ids"') == 173


def test_page_refused_to_a_district_administrator(login):
    assert login("huyen.quantri").get("/admin/units/years").status_code == 403


def test_page_save_sets_the_listed_communes_and_clears_their_demo_mark(login, db):
    c = login("tinh.quantri")
    page = c.get("/admin/units/years?year=2023&q=04720")
    unit = db.exec(select(Unit).where(Unit.code == "04720", Unit.depth == 2)).first()
    r = c.post("/admin/units/years/2023?q=04720", data={
        "csrf_token": _csrf(page.text), "ids": [str(unit.id)], f"nr.{unit.id}": "recognised", f"led.{unit.id}": "1"})
    assert r.status_code == 303 and "done=saved" in r.headers["location"] and "q=04720" in r.headers["location"]
    row = db.get(UnitYear, (unit.id, 2023))
    assert (row.new_rural, row.front_led, row.is_demo) == ("recognised", True, False)
    assert rollup.check(db) == []


def test_page_upload_with_errors_lists_them_and_writes_nothing(login, db):
    c = login("tinh.quantri")
    page = c.get("/admin/units/years?year=2023")
    before = db.exec(select(func.count()).select_from(UnitYear).where(UnitYear.is_demo == False)).one()  # noqa: E712
    body = (HEADER + "04720,2023,recognised,1\n99999,2023,,0\n").encode()
    r = c.post("/admin/units/years/2023/file", data={"csrf_token": _csrf(page.text)},
               files={"file": ("years.csv", body, "text/csv")})
    assert r.status_code == 422
    assert "Dòng 3: không có xã mã &#39;99999&#39; của Yên Bái trong năm 2023." in r.text
    assert db.exec(select(func.count()).select_from(UnitYear).where(UnitYear.is_demo == False)).one() == before  # noqa: E712


# --- the command line ------------------------------------------------------------------------------

def test_cli_import_unit_years_imports_then_refuses_a_bad_file(tmp_path: Path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "SEED_DEMO_VALUES": "false",
           "SEED_DEMO_2026": "false", "SEED_DEMO_USERS": "false"}
    root = Path(__file__).resolve().parents[2]

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=root, env=env,
                              capture_output=True, text=True, timeout=300)

    assert cli("seed").returncode == 0
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "04720,2023,recognised,1\n", encoding="utf-8")
    r = cli("import-unit-years", str(good))
    assert r.returncode == 0, r.stderr
    assert "1 row(s), 1 changed" in r.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "04720,2023,,0\n04720,2023,,0\n", encoding="utf-8")
    r = cli("import-unit-years", str(bad))
    assert r.returncode == 1 and "Nothing imported: 1 error(s)." in r.stderr and "Line 3" in r.stderr
    assert cli("rollup", "check").returncode == 0


def test_every_row_problem_is_worded_in_vietnamese():
    from app.core import i18n

    vi = i18n.catalogue("vi")
    assert [m for m in attributes.MESSAGES.values() if m not in vi._messages] == []
    plan = attributes.Plan(problems=[(3, [("no_code", {}), ("bad_flag", {"value": "'2'"})])])
    with_vi = plan.messages(lambda m, **kw: vi.gettext(m).format(**kw))
    assert with_vi == ["Dòng 3: mã xã để trống; tỉnh chỉ đạo '2': ghi 1 (có) hoặc 0 (không)."]
    assert plan.errors == ["Line 3: the code is empty; province_led '2': write 1 (yes) or 0 (no)."]


def test_program_page_labels_the_new_rural_list_demo_only_until_the_province_sets_it(login, db, admin):
    c = login("tinh.quantri")
    demo_text = "danh sách minh họa, tỉnh chưa xác định"
    assert demo_text in c.get("/admin/programs/2023").text
    listed = _listed(db, "recognised") + _listed(db, "expected")
    assert len(listed) == 106
    rows = [{"code": u.code, "year": "2023", "new_rural": db.get(UnitYear, (u.id, 2023)).new_rural,
             "front_led": "1" if db.get(UnitYear, (u.id, 2023)).front_led else "0"} for u in listed]
    assert _set(db, admin, rows) == 106  # same statuses: only the demo mark goes (no rebuild needed)
    text = c.get("/admin/programs/2023").text
    assert demo_text not in text
    assert "Do 106 xã nông thôn mới báo cáo (22 xã do MTTQ tỉnh chỉ đạo), theo danh sách tỉnh đã xác định" in text
