"""A fresh start with demo figures shows a living dashboard, and seeding again changes nothing.

A fresh start holds both years: 2023 on the 2023 tree with its demo figures, and the demo 2026
program made from 2023 on the two-tier Lào Cai tree (from 01/07/2025)."""
import os
import tempfile
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from app.core.db import make_engine
from app.core.migrate import upgrade_to_head
from app.program.models import Indicator, Program, Target, Task
from app.program.periods import PeriodRange
from app.rollup.service import completeness, rollup
from app.seed.run import seed
from app.units.models import Unit
from app.units.time import unit_by_code_on
from app.values.models import DataValue
from tests.databases import drop_database, new_database_url


@pytest.fixture(scope="module")
def demo_engine():
    """A private database (SQLite file or PostgreSQL, as the suite runs) seeded with demo data."""
    base = os.environ.get("TEST_DATABASE_URL", "")
    name = None
    if base.startswith("postgresql"):
        url, name = new_database_url(base, "mttq_demo")
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'demo.db'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    with Session(engine) as s:
        seed(s, demo_users=True, demo_values=True, demo_2026=True)
    yield engine
    engine.dispose()
    if name:
        drop_database(base, name)


def test_seed_demo_values_fill_first_quarter_dashboard(demo_engine):
    with Session(demo_engine) as s:
        province = unit_by_code_on(s, "15", date(2023, 12, 31))
        program = s.exec(select(Program).where(Program.year == 2023)).one()
        results = {r.indicator.code: r for r in rollup(s, province, PeriodRange.parse("2023-Q1"), program)}
        assert results["CT17"].subtree.value and results["CT17"].subtree.value > 0
        assert results["CT11"].subtree.denominator and results["CT11"].subtree.denominator > 0
        assert {r.status for r in results.values()} >= {"met", "not_met"}
        done = completeness(s, province, "2023-01")
        assert any(level.submitted > 0 for level in done.levels)


def test_seed_demo_task_progress_first_quarter(demo_engine):
    with Session(demo_engine) as s:
        q1 = s.exec(select(Task.status, func.count()).join(Program, Program.id == Task.program_id)
                    .where(Program.year == 2023, Task.quarter == 1, Task.parent_id == None)  # noqa: E711
                    .group_by(Task.status)).all()
        assert dict(q1) == {"done": 9, "in_progress": 3}


def test_seed_demo_again_changes_nothing(demo_engine):
    with Session(demo_engine) as s:
        before = s.exec(select(func.count()).select_from(DataValue)).one()
        seed(s, demo_users=True, demo_values=True, demo_2026=True)
        assert s.exec(select(func.count()).select_from(DataValue)).one() == before


def test_fresh_start_has_a_demo_2026_program_on_the_two_tier_tree(demo_engine):
    with Session(demo_engine) as s:
        programs = {p.year: p for p in s.exec(select(Program)).all()}
        assert sorted(programs) == [2023, 2026] and {p.status for p in programs.values()} == {"published"}
        p26 = programs[2026]
        assert p26.title.endswith("(minh họa)") and "minh họa" in p26.source
        lao_cai = s.get(Unit, p26.root_unit_id)
        assert (lao_cai.code, lao_cai.name, lao_cai.valid_from) == ("15", "Lào Cai", date(2025, 7, 1))
        # Adapted to two levels: nothing is entered by districts; CT12 "each district" → "each commune".
        inds = {i.code: i for i in s.exec(select(Indicator).where(Indicator.program_id == p26.id)).all()}
        assert all("1" not in i.entry_depths.split(",") for i in inds.values())
        ct12 = s.exec(select(Target).where(Target.indicator_id == inds["CT12"].id, Target.scope == "each")).all()
        assert [t.depth for t in ct12] == [2]
        # Demo figures for January–March 2026, read on the new tree by the province.
        results = {r.indicator.code: r for r in rollup(s, lao_cai, PeriodRange.parse("2026-Q1"), p26)}
        assert results["CT15"].subtree.value and results["CT15"].subtree.value > 0
        assert results["CT16"].subtree.expected == 61  # the demo's new-rural communes of 2026


def test_api_lists_both_years_and_the_two_tier_tree(demo_engine, engine):
    from fastapi.testclient import TestClient

    from app.accounts.models import ApiToken
    from app.accounts.security import new_api_token
    from app.core.db import get_session
    from app.main import app

    with Session(demo_engine) as s:
        secret, token_hash = new_api_token()
        lao_cai = unit_by_code_on(s, "15", date(2026, 1, 1))
        s.add(ApiToken(name="demo", unit_id=lao_cai.id, mode="read", token_hash=token_hash, prefix=secret[:12]))
        s.commit()

    def own_session():
        with Session(demo_engine) as s:
            yield s

    app.dependency_overrides[get_session] = own_session
    try:
        with TestClient(app, base_url="http://testserver") as c:
            c.headers["Authorization"] = f"Bearer {secret}"
            r = c.get("/api/v1/programs")
            assert r.status_code == 200, r.text[:300]
            assert sorted(p["year"] for p in r.json()["data"]) == [2023, 2026]
            r = c.get("/api/v1/units?date=2026-01-01&limit=200&level=commune")
            body = r.json()
            assert body["count"] == 99 and {u["parent"] for u in body["data"]} == {"15"}
            top = c.get("/api/v1/units?date=2026-01-01&depth=0").json()["data"]
            assert [(u["code"], u["name"]) for u in top] == [("15", "Lào Cai")]
            assert c.get("/api/v1/units?date=2026-01-01&level=district").json()["count"] == 0
    finally:
        app.dependency_overrides.clear()
