"""Migration 0011 (program drafts, baseline source): a database made by the previous release
(head 0005) holding a program, indicators and targets upgrades with its rows intact, every
existing program in force ("published"), and downgrades back."""
import os
import tempfile
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from app.core.migrate import alembic_config
from tests.databases import drop_database, new_database_url


@pytest.fixture
def empty_engine():
    admin_url = os.environ.get("TEST_DATABASE_URL", "")
    if admin_url.startswith("postgresql"):
        url, name = new_database_url(admin_url, "mttq_mig")
        engine = create_engine(url)
        yield engine
        engine.dispose()
        drop_database(admin_url, name)
    else:
        path = Path(tempfile.mkdtemp(prefix="mttq-mig-")) / "old.db"
        engine = create_engine(f"sqlite:///{path}")
        yield engine
        engine.dispose()
        path.unlink(missing_ok=True)
        path.parent.rmdir()


def _migrate(engine, how: str, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, how)(cfg, revision)


ROWS = [
    "INSERT INTO unit_level (depth, key, name) VALUES (0, 'province', 'Cấp tỉnh')",
    "INSERT INTO unit_kind (code, name, depth) VALUES ('tinh', 'Tỉnh', 0)",
    "INSERT INTO unit (id, code, name, kind, depth, path, sort_order, front_led, is_demo) "
    "VALUES (1, '15', 'Yên Bái', 'tinh', 0, '/1/', 0, false, false)",
    "INSERT INTO program (id, year, title, theme, motto, root_unit_id) "
    "VALUES (1, 2023, 'Chương trình năm 2023', 'Chủ đề', 'Phương châm', 1)",
    "INSERT INTO indicator (id, program_id, code, number, name, short_name, measure, entry_depths, "
    "time_rollup, share_filter, baseline, baseline_year) "
    "VALUES (1, 1, 'CT06', 6, 'Trường hợp tảo hôn', 'Tảo hôn', 'count', '0', 'flow', 'all', 180, 2022)",
    "INSERT INTO target (id, indicator_id, scope, unit_id, basis, comparator, value, value_high, \"on\") "
    "VALUES (1, 1, 'total', 1, 'own', 'range', 10, 15, 'reduction_pct')",
]


def test_upgrade_from_0005_keeps_rows_and_publishes_existing_programs(empty_engine):
    _migrate(empty_engine, "upgrade", "0005")
    with empty_engine.begin() as conn:
        for statement in ROWS:
            conn.execute(text(statement))
    _migrate(empty_engine, "upgrade", "0011")
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT year, title, status FROM program")).all() == [
            (2023, "Chương trình năm 2023", "published")]
        assert conn.execute(text("SELECT code, baseline, baseline_year, baseline_source FROM indicator")).all() == [
            ("CT06", 180, 2022, None)]
        assert conn.execute(text("SELECT comparator, value, value_high FROM target")).all() == [("range", 10, 15)]
    # A row written after the upgrade without a status is in force too (the server default).
    with empty_engine.begin() as conn:
        conn.execute(text("INSERT INTO program (id, year, title, theme, motto, root_unit_id) "
                          "VALUES (2, 2024, 'Năm 2024', 'Chủ đề', 'Phương châm', 1)"))
        assert conn.execute(text("SELECT status FROM program WHERE year = 2024")).scalar_one() == "published"
    _migrate(empty_engine, "downgrade", "0005")
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM program")).scalar_one() == 2
        assert conn.execute(text("SELECT baseline FROM indicator")).scalar_one() == 180
