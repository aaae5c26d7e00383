"""Migration 0015 (the figures' generation): a database of the previous release (head 0011)
holding a program upgrades with its rows intact and one token row; writes commit before the
table exists, renew the token once it does, and commit again after a downgrade."""
import os
import tempfile
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from app.core.db import make_engine
from app.core.migrate import alembic_config
from tests.databases import drop_database, new_database_url
from tests.program.test_program_lifecycle_migration import ROWS


@pytest.fixture
def empty_engine():
    admin_url = os.environ.get("TEST_DATABASE_URL", "")
    if admin_url.startswith("postgresql"):
        url, name = new_database_url(admin_url, "mttq_mig0015")
        engine = make_engine(url)
        yield engine
        engine.dispose()
        drop_database(admin_url, name)
    else:
        path = Path(tempfile.mkdtemp(prefix="mttq-mig-")) / "old.db"
        engine = make_engine(f"sqlite:///{path}")  # the app's engine: it stamps writes
        yield engine
        engine.dispose()


def _migrate(engine, how: str, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, how)(cfg, revision)


def _token(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT token FROM figures_generation")).scalar_one()


def test_upgrade_from_0011_keeps_rows_and_adds_one_token(empty_engine):
    _migrate(empty_engine, "upgrade", "0011")
    with empty_engine.begin() as conn:  # writes commit though there is no token table yet
        for statement in ROWS:
            conn.execute(text(statement))
    _migrate(empty_engine, "upgrade", "head")
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT year, title, status FROM program")).all() == [
            (2023, "Chương trình năm 2023", "published")]
        assert conn.execute(text("SELECT code, baseline FROM indicator")).all() == [("CT06", 180)]
        assert conn.execute(text("SELECT comparator, value, value_high FROM target")).all() == [("range", 10, 15)]
        assert conn.execute(text("SELECT count(*) FROM figures_generation")).scalar_one() == 1
    before = _token(empty_engine)
    with empty_engine.begin() as conn:
        conn.execute(text("UPDATE target SET value = 12 WHERE id = 1"))
    assert _token(empty_engine) != before
    _migrate(empty_engine, "downgrade", "0011")
    with empty_engine.begin() as conn:  # and again without it
        conn.execute(text("UPDATE target SET value = 11 WHERE id = 1"))
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT value FROM target")).scalar_one() == 11
