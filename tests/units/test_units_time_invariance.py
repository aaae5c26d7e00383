"""2023 stays exact when the tree and the programs move on.

Every 2023 figure is taken — the dashboard and its breakdown (province and each district, every
month, quarter and the year), completeness, the monthly report, and the same through the API
(`/api/v1/rollups` with children, `/api/v1/completeness`) — with the demo's 2023 figures. Then
the two-tier Lào Cai tree in force from 01/07/2025 is loaded (Yên Bái's units end on 30/06/2025,
51 codes are reused, 990 new units) and a 2026 program is made from 2023 through the new-year
flow and filled with figures. Every 2023 figure must read exactly as before: nothing of the new
tree may count in 2023 (a share's denominator, "each district", completeness), and the reused
codes must still name the 2023 units in 2023's pages and API answers.
"""
from datetime import date

from sqlmodel import Session, select

from app.program.models import Program
from app.program.periods import PeriodRange
from app.reports.service import monthly_report
from app.rollup import service as rollup
from app.rollup.subtree import LazyUnits
from app.units.models import Unit
from app.units.time import unit_by_code_on, units_in_force
from tests.api_support import bearer, make_token

YEAR = 2023
# The demo's 2023 figures and submissions are January–March; every month of 2023 reads the same
# tree. So the months with figures, the first month without (stocks carried, flows empty) and
# December stand for the year, with the quarters that hold or follow them and the whole year:
# April to November would read as April does (the suite's time goes elsewhere).
MONTHS = [1, 2, 3, 4, 12]
PERIODS = [PeriodRange(YEAR, m, m) for m in MONTHS] + \
    [PeriodRange.quarter(YEAR, q) for q in (1, 2, 4)] + [PeriodRange(YEAR, 1, 12)]


def _fig(f) -> tuple | None:
    return None if f is None else (f.value, f.numerator, f.denominator, f.reported, f.expected)


def _ids(units) -> list[int]:
    """The failing units' ids (a long list is read lazily: its ids, not 170 rows per target)."""
    return sorted(units.ids() if isinstance(units, LazyUnits) else (u.id for u in units))


def _results(results) -> list:
    return [(r.indicator.code, _fig(r.subtree), _fig(r.own),
             [(t.target.id if t.target is not None else None, t.status, t.actual, t.gap, t.exceeded, t.units_total,
               t.units_meeting, _ids(t.units_failing)) for t in r.targets])
            for r in results]


def _units(db: Session) -> list[Unit]:
    """The province and its districts in force in 2023 (the 9 of the 2023 list)."""
    province = unit_by_code_on(db, "15", date(YEAR, 12, 31))
    districts = units_in_force(db, date(YEAR, 12, 31), children_of=province)
    assert len(districts) == 9
    return [province, *districts]


def _every_2023_figure(db: Session, api) -> dict:
    program = db.exec(select(Program).where(Program.year == YEAR)).one()
    out: dict = {}
    for unit in _units(db):
        for p in PERIODS:
            top, rows = rollup.dashboard(db, unit, p, program)
            out[("dashboard", unit.code, p.key)] = (_results(top), [(c.code, _results(r)) for c, r in rows])
        for m in MONTHS:
            month = f"{YEAR}-{m:02d}"
            comp = rollup.completeness(db, unit, month)
            out[("completeness", unit.code, month)] = [
                (lv.depth, lv.submitted, lv.total, sorted(u.code for u in lv.missing)) for lv in comp.levels]
            rep = monthly_report(db, unit, month, program, issued_on=date(YEAR + 1, 1, 20))
            out[("report", unit.code, month)] = (_results(rep.indicators), rep.number,
                                                 [v.verdict for v in rep.progress])
            r = api.get(f"/api/v1/rollups?unit={unit.code}&period={month}&children=true")
            assert r.status_code == 200, r.text[:500]
            out[("api-rollups", unit.code, month)] = r.json()
            r = api.get(f"/api/v1/completeness?unit={unit.code}&period={month}")
            assert r.status_code == 200, r.text[:500]
            out[("api-completeness", unit.code, month)] = r.json()
    return out


def test_2023_figures_identical_after_the_2025_tree_and_a_2026_program(db: Session, client):
    from app.seed.demo import seed_demo_2026, seed_demo_values

    seed_demo_values(db)  # the demo's 2023 figures (January–March) and submissions
    db.commit()
    api = bearer(client, make_token(db, "15", mode="read"))
    before = _every_2023_figure(db, api)
    # The figures are there to be kept: shares, "each" targets and completeness all have data.
    assert before[("dashboard", "15", "2023-Q1")][0] != _results(rollup.dashboard(
        db, _units(db)[0], PeriodRange(2023, 12, 12), db.exec(select(Program).where(Program.year == YEAR)).one())[0])
    assert any(lv[1] for lv in before[("completeness", "15", "2023-01")])

    # 2024–2025 under the old province: a commune renamed from 01/01/2024 (a new version, its
    # villages following it) and a district with a commune and a village from 01/01/2025.
    from app.units.importer import import_rows

    rows = [(2, {"code": "04720", "name": "Xuân Long Mới", "kind": "xa", "parent_code": "141"})]
    assert import_rows(db, rows, effective=date(2024, 1, 1)).ok
    rows = [(2, {"code": "199", "name": "Huyện Mới", "kind": "huyen", "parent_code": "15"}),
            (3, {"code": "19901", "name": "Xã Mới", "kind": "xa", "parent_code": "199"}),
            (4, {"code": "19901-01", "name": "Thôn 1", "kind": "thon", "parent_code": "19901"})]
    assert import_rows(db, rows, effective=date(2025, 1, 1)).ok
    seed_demo_2026(db, users=False, values=True)  # loads the 2025 tree, makes and fills 2026
    db.commit()
    new_province = unit_by_code_on(db, "15", date(2026, 1, 1))
    assert new_province.name == "Lào Cai"
    assert db.exec(select(Program.year).order_by(Program.year)).all() == [2023, 2026]
    assert rollup.check(db) == []

    after = _every_2023_figure(db, api)
    assert after.keys() == before.keys()
    changed = [k for k in before if before[k] != after[k]]
    assert changed == [], _first_difference(before[changed[0]], after[changed[0]])


def _first_difference(a, b, where: str = "") -> str:
    """Where two nested figures first differ (for the failure message)."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{where}[{i}]")
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        for k in a:
            if a[k] != b[k]:
                return _first_difference(a[k], b[k], f"{where}.{k}")
    return f"{where}: {a!r} became {b!r}"
