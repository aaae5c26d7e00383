"""Years everywhere (issue 12, item 5) and accounts that follow successor links.

On one database holding both years (the 2023 Yên Bái tree and program, the two-tier Lào Cai tree
of 01/07/2025 with the demo 2026 program and its accounts, seeded once for the module):
- a page shows `?year=`'s program, else the current year's by today in Việt Nam, else the
  latest the caller reads; an unknown or unreadable year says so and shows the default;
- a Lào Cai account (2025 tree) reads the Yên Bái tree of 2023 through the successor links
  (Yên Bái was merged into Lào Cai; Xuân Long into Cảm Nhân), writes there only as the
  province's administrator;
- links of a page keep the year.

Figures put by hand (no demo figures): CT17 (supervisions, count) Xuân Long 2023-03 = 3 and
Cảm Nhân 2026-03 = 5; nothing else for CT17. So Yên Bái's CT17 over 2023-Q1 is 3, Lào Cai's
over 2026-Q1 is 5, and Cảm Nhân's former commune Xuân Long shows 3 in 2023.
"""
import re
from collections.abc import Iterator
from datetime import date

import pytest
from sqlmodel import Session, col, func, select

from app.accounts.models import ApiToken
from app.accounts.principal import Principal
from app.program.models import Indicator, Program
from app.units import tree
from app.units.models import Unit
from app.units.time import unit_by_code_on
from app.values.models import DataValue

OLD, NEW = date(2023, 12, 31), date(2026, 1, 1)
HX = {"HX-Request": "true"}


@pytest.fixture(scope="module")
def both_years(engine) -> Iterator:
    """One connection whose outer transaction holds the 2026 seed for the module (rolled back
    at the end); each test works in a savepoint of it."""
    from app.seed.demo import seed_demo_2026
    from app.values.service import Figure, save_value

    conn = engine.connect()
    outer = conn.begin()
    s = Session(bind=conn, join_transaction_mode="create_savepoint")
    seed_demo_2026(s, users=True, values=False)
    for year, code, day, value in ((2023, "04720", OLD, 3), (2026, "04726", NEW, 5)):
        program = s.exec(select(Program).where(Program.year == year)).one()
        unit = unit_by_code_on(s, code, day)
        ind = s.exec(select(Indicator).where(Indicator.program_id == program.id, Indicator.code == "CT17")).one()
        admin = Principal(unit=s.get(Unit, program.root_unit_id), role="admin", via="seed")
        save_value(s, admin, program, unit, ind, f"{year}-03", Figure(value=value))
    s.commit()
    s.close()
    yield conn
    outer.rollback()
    conn.close()


@pytest.fixture
def db(both_years) -> Iterator[Session]:
    """Overrides the suite's `db`: a savepoint of the module's transaction (the `app`, `client`
    and `login` fixtures of conftest then serve this database)."""
    nested = both_years.begin_nested()
    session = Session(bind=both_years, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        if nested.is_active:
            nested.rollback()


def _unit(db: Session, code: str, day: date) -> Unit:
    unit = unit_by_code_on(db, code, day)
    assert unit is not None, code
    return unit


def _other_commune(db: Session) -> Unit:
    """A 2023 commune Cảm Nhân did not absorb, whose code no later unit reuses."""
    cam_nhan = _unit(db, "04726", NEW)
    absorbed = {u.id for u in tree.predecessors(db, cam_nhan)}
    unique = select(Unit.code).group_by(Unit.code).having(func.count() == 1)
    return db.exec(select(Unit).where(Unit.depth == 2, col(Unit.code).in_(unique), Unit.valid_to.is_not(None),
                                      col(Unit.id).not_in(absorbed)).order_by(Unit.code)).first()


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- predecessors and the Principal ----------------------------------------------------------

def test_predecessors_follow_merges_backwards(db):
    lao_cai, cam_nhan = _unit(db, "15", NEW), _unit(db, "04726", NEW)
    assert [u.name for u in tree.predecessors(db, lao_cai)] == ["Yên Bái"]
    assert "04720" in {u.code for u in tree.predecessors(db, cam_nhan)}  # Xuân Long
    assert tree.predecessors(db, _unit(db, "15", OLD)) == []


def test_predecessors_are_transitive_and_split_links_count(db):
    """A 2024-style chain: A merged into B, B split into C (C split_from B): C comes from B and A."""
    from app.units.models import UnitSuccessor

    a, b = _unit(db, "04720", OLD), _other_commune(db)
    c = _unit(db, "04726", NEW)
    db.add(UnitSuccessor(from_unit_id=a.id, to_unit_id=b.id, kind="merged_into", effective=date(2024, 1, 1)))
    db.add(UnitSuccessor(from_unit_id=c.id, to_unit_id=b.id, kind="split_from", effective=date(2025, 7, 1)))
    db.flush()
    assert {a.id, b.id} <= {u.id for u in tree.predecessors(db, c)}


def test_principal_reads_predecessors_but_writes_its_own_subtree(db):
    lao_cai, yen_bai = _unit(db, "15", NEW), _unit(db, "15", OLD)
    cam_nhan, xuan_long = _unit(db, "04726", NEW), _unit(db, "04720", OLD)
    other = _other_commune(db)
    editor = Principal(unit=cam_nhan, role="editor", via="web", predecessors=(xuan_long,))
    assert editor.can_read(xuan_long) and editor.can_read(tree.children(db, xuan_long)[0])  # its villages
    assert not editor.can_read(other) and not editor.can_read(yen_bai)
    assert editor.can_write(cam_nhan) and not editor.can_write(xuan_long)
    commune_admin = Principal(unit=cam_nhan, role="admin", via="web", predecessors=(xuan_long,))
    assert not commune_admin.can_write(xuan_long)  # only the province's administrator corrects a past year
    admin = Principal(unit=lao_cai, role="admin", via="web", predecessors=(yen_bai,))
    assert admin.can_read(other) and admin.can_write(other) and admin.can_write(yen_bai)
    assert not admin.can_admin(other)  # users and tokens stay its own subtree's
    province_editor = Principal(unit=lao_cai, role="editor", via="web", predecessors=(yen_bai,))
    assert province_editor.can_read(other) and not province_editor.can_write(other)
    token = Principal(unit=lao_cai, role="token", via="api", token=ApiToken(name="t", unit_id=lao_cai.id),
                      token_writes=True, predecessors=(yen_bai,))
    assert token.can_read(other) and not token.can_write(other) and token.can_write(cam_nhan)
    assert admin.home_in(yen_bai) == yen_bai and admin.home_in(lao_cai) == lao_cai
    assert editor.figures_unit(yen_bai) == xuan_long  # a plan above: the caller's place in that tree


def test_principal_reads_its_predecessors_only_when_a_check_needs_them(db):
    lao_cai, yen_bai = _unit(db, "15", NEW), _unit(db, "15", OLD)
    cam_nhan, other = _unit(db, "04726", NEW), _other_commune(db)
    loads: list[int] = []

    def load() -> tuple:
        loads.append(1)
        return (yen_bai,)

    admin = Principal(unit=lao_cai, role="admin", via="web", predecessors=None, load_predecessors=load)
    # Inside its own tree, or the tree's root itself: decided without them.
    assert admin.can_read(cam_nhan) and admin.can_write(cam_nhan) and admin.can_follow(lao_cai)
    assert admin.home_in(lao_cai) == lao_cai and admin.figures_unit(cam_nhan) == cam_nhan
    assert loads == []
    # Outside it: read once, then kept for the request.
    assert admin.can_read(other) and admin.can_write(other) and admin.home_in(yen_bai) == yen_bai
    assert admin.read_roots == (lao_cai, yen_bai)
    assert loads == [1]


def test_principal_of_a_request_carries_its_predecessors(login):
    me = login("laocai.xem").get("/api/v1/units?code=04720")
    assert me.status_code == 200 and me.json()["count"] == 1  # Xuân Long of 2023 is readable
    assert login("tinh.xem").get("/api/v1/units?code=04726&date=2026-01-01").json()["count"] == 0


# --- which program a page shows ---------------------------------------------------------------

def test_page_program_defaults_to_the_current_year_then_the_latest(db):
    from app.program.years import page_program

    lao_cai, yen_bai = _unit(db, "15", NEW), _unit(db, "15", OLD)
    caller = Principal(unit=lao_cai, role="viewer", via="web", predecessors=(yen_bai,))
    pp = page_program(db, caller, None, today=date(2026, 5, 1))
    assert (pp.year, pp.years, pp.home.id, pp.error) == (2026, [2026, 2023], lao_cai.id, None)
    assert page_program(db, caller, None, today=date(2023, 5, 1)).year == 2023
    assert page_program(db, caller, None, today=date(2027, 5, 1)).year == 2026  # none for 2027: the latest
    past = page_program(db, caller, "2023", today=date(2026, 5, 1))
    assert (past.year, past.home.id, past.chosen) == (2023, yen_bai.id, True)
    wrong = page_program(db, caller, "2024", today=date(2026, 5, 1))
    assert wrong.year == 2026 and "2024" in wrong.error
    old_account = Principal(unit=yen_bai, role="viewer", via="web")
    assert page_program(db, old_account, None, today=date(2026, 5, 1)).years == [2023]
    assert page_program(db, old_account, "2026", today=date(2026, 5, 1)).year == 2023


def test_dashboard_switches_year_and_keeps_it_in_links(login):
    c = login("laocai.xem")
    r = c.get("/dashboard?year=2023&period=2023-Q1")
    assert r.status_code == 200
    assert "Yên Bái" in r.text.split("<h1>")[1].split("</h1>")[0]
    assert '<a href="/dashboard?year=2023" aria-current="page">2023</a>' in r.text
    assert '<a href="/dashboard?year=2026">2026</a>' in r.text
    card = r.text.split('id="ind-CT17"')[1].split("</li>")[0]
    assert '<p class="fig">3 ' in card  # Xuân Long's 3 supervisions, in Yên Bái's 2023
    assert "period=2023-Q1&amp;year=2023" in card  # the drill-down keeps the year
    r = c.get("/dashboard?year=2026&period=2026-Q1")
    card = r.text.split('id="ind-CT17"')[1].split("</li>")[0]
    assert '<p class="fig">5 ' in card and 'aria-current="page">2026<' in r.text


def test_dashboard_year_unknown_or_unreadable_says_so(login):
    r = login("laocai.xem").get("/dashboard?year=2024")
    assert r.status_code == 200
    assert "Không có chương trình năm 2024 mà bạn được xem; đang hiển thị năm" in r.text
    r = login("tinh.xem").get("/dashboard?year=2026")  # a Yên Bái account does not read 2026
    assert r.status_code == 200 and "Không có chương trình năm 2026" in r.text
    assert 'aria-current="page">2023<' in r.text and "/dashboard?year=2026" not in r.text
    assert "Không có chương trình năm abc" in login("tinh.xem").get("/dashboard?year=abc").text


def test_drill_down_of_a_reused_code_follows_the_year(login):
    c = login("laocai.xem")
    r = c.get("/dashboard/15/CT17?period=2023-Q1&year=2023")
    assert r.status_code == 200
    assert "Yên Bình" in _text(r.text) and "Cảm Nhân" not in _text(r.text)  # Yên Bái's districts
    assert 'href="/dashboard/141/CT17?period=2023-Q1&amp;year=2023"' in r.text
    r = c.get("/dashboard/15/CT17?period=2026-Q1&year=2026")
    assert r.status_code == 200 and "Cảm Nhân" in _text(r.text)  # the communes under Lào Cai
    # An htmx swap carries the year too (the period form's hidden field).
    part = c.get("/dashboard/15?period=2023-03&year=2023", headers=HX)
    assert part.status_code == 200 and '<input type="hidden" name="year" value="2023">' in part.text


def test_tasks_and_reports_pages_follow_the_year(login):
    c = login("laocai.xem")
    r = c.get("/tasks?year=2023")
    assert r.status_code == 200 and "2023" in r.text.split("<h1>")[1].split("</h1>")[0]
    assert 'aria-current="page">2023<' in r.text and '<input type="hidden" name="year" value="2023">' in r.text
    assert c.get("/tasks?year=2026").status_code == 200
    r = c.get("/reports?year=2023")
    assert r.status_code == 200 and 'value="2023-03"' in r.text and 'value="2026-03"' not in r.text
    r = c.get("/reports/15/2023-03")
    assert r.status_code == 200 and "YÊN BÁI" in r.text
    r = c.get("/reports/15/2026-03")
    assert r.status_code == 200 and "LÀO CAI" in r.text


def test_entry_start_offers_the_chosen_years_months(login):
    c = login("laocai.quantri")
    r = c.get("/entry?year=2023")
    assert r.status_code == 303 and r.headers["location"].startswith("/entry/15/2023-")
    page = c.get("/entry/15/2023-03")
    assert page.status_code == 200 and "Yên Bái" in page.text
    assert 'value="2023-12"' in page.text and 'value="2026-01"' not in page.text
    assert 'href="/entry?year=2026"' in page.text


# --- probes: what a commune of the new tree may read and write ---------------------------------

def test_new_commune_reads_the_commune_it_absorbed_not_another(login, db):
    c = login("camnhan.nhaplieu")
    assert c.get("/dashboard/04720?year=2023&period=2023-Q1").status_code == 200
    other = _other_commune(db)
    assert c.get(f"/dashboard/{other.code}?year=2023").status_code == 404
    assert c.get(f"/api/v1/rollups?unit={other.code}&period=2023-Q1").status_code == 404
    r = c.get("/api/v1/rollups?unit=04720&period=2023-Q1&indicator=CT17")
    assert r.status_code == 200 and r.json()["indicators"][0]["subtree"]["value"] == 3
    listed = c.get("/api/v1/data-values?period=2023-03").json()
    assert [(v["orgUnit"], v["value"]) for v in listed["data"]] == [("04720", 3)]
    assert c.get(f"/api/v1/data-values?subtree={other.code}").status_code == 404


def test_new_commune_does_not_write_the_2023_figures_it_absorbed(login, db):
    c = login("camnhan.nhaplieu")
    before = db.exec(select(func.count()).select_from(DataValue)).one()
    r = c.post("/entry/04720/2023-03/CT17", data={"CT17.value": "9", "CT17.version": "1"}, headers=HX)
    assert r.status_code == 403
    # Its own code of 2023 (the former Xã Cảm Nhân, 04726 too, which it absorbed) is refused alike.
    r = c.post("/entry/04726/2023-03/CT17", data={"CT17.value": "9", "CT17.version": "0"}, headers=HX)
    assert r.status_code == 403 and "không được thay đổi" in r.text
    r = c.post("/api/v1/data-values", json={"dataValues": [
        {"orgUnit": "04720", "dataElement": "CT17", "period": "2023-04", "value": 9}]})
    assert r.status_code in (403, 422)
    db.expire_all()
    assert db.exec(select(func.count()).select_from(DataValue)).one() == before


def test_province_admin_corrects_a_past_year_editor_does_not(login, db):
    editor = login("laocai.nhaplieu")
    r = editor.post("/entry/04720/2023-03/CT17", data={"CT17.value": "9", "CT17.version": "1"}, headers=HX)
    assert r.status_code == 403
    admin = login("laocai.quantri")
    r = admin.post("/entry/04720/2023-03/CT17", data={"CT17.value": "4", "CT17.version": "1"}, headers=HX)
    assert r.status_code == 200, r.text[:300]
    r = admin.get("/api/v1/rollups?unit=15&period=2023-Q1&indicator=CT17")
    assert (r.json()["name"], r.json()["indicators"][0]["subtree"]["value"]) == ("Yên Bái", 4)


def test_create_admin_picks_the_unit_in_force_today(db, monkeypatch):
    from app.accounts import cli

    monkeypatch.setattr(cli, "today_vn", lambda: date(2026, 1, 1))
    assert (cli.admin_unit(db, "15").name, cli.admin_unit(db, "15").valid_from) == ("Lào Cai", date(2025, 7, 1))
    monkeypatch.setattr(cli, "today_vn", lambda: date(2024, 1, 1))
    assert cli.admin_unit(db, "15").name == "Yên Bái"
