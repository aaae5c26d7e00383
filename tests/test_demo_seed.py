"""A fresh start with demo figures shows a living dashboard, and seeding again changes nothing."""
import os
import tempfile
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from app.core.db import make_engine
from app.core.migrate import upgrade_to_head
from app.program.models import Task
from app.program.periods import PeriodRange
from app.rollup.service import completeness, rollup
from app.seed.run import seed
from app.units.models import Unit
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
        seed(s, demo_users=True, demo_values=True)
    yield engine
    engine.dispose()
    if name:
        drop_database(base, name)


def test_seed_demo_values_fill_first_quarter_dashboard(demo_engine):
    with Session(demo_engine) as s:
        province = s.exec(select(Unit).where(Unit.code == "15")).one()
        results = {r.indicator.code: r for r in rollup(s, province, PeriodRange.parse("2023-Q1"))}
        assert results["CT17"].subtree.value and results["CT17"].subtree.value > 0
        assert results["CT11"].subtree.denominator and results["CT11"].subtree.denominator > 0
        assert {r.status for r in results.values()} >= {"met", "not_met"}
        done = completeness(s, province, "2023-01")
        assert any(level.submitted > 0 for level in done.levels)


def test_seed_demo_task_progress_first_quarter(demo_engine):
    with Session(demo_engine) as s:
        q1 = s.exec(select(Task.status, func.count()).where(Task.quarter == 1, Task.parent_id == None)  # noqa: E711
                    .group_by(Task.status)).all()
        assert dict(q1) == {"done": 9, "in_progress": 3}


def test_seed_demo_again_changes_nothing(demo_engine):
    with Session(demo_engine) as s:
        before = s.exec(select(func.count()).select_from(DataValue)).one()
        seed(s, demo_users=True, demo_values=True)
        assert s.exec(select(func.count()).select_from(DataValue)).one() == before
