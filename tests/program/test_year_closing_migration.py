"""Migration 0016 (closing a year): a database of the previous release (head 0015) holding a
program upgrades with its rows intact and the program open (closed_at NULL); a closed year
with a reopening is written; a downgrade drops both and keeps the program."""
from alembic import command
from sqlalchemy import text

from app.core.migrate import alembic_config
from tests.core.test_figures_generation_migration import empty_engine  # noqa: F401 -- the fixture, shared
from tests.program.test_program_lifecycle_migration import ROWS as ROWS_0005

# The same rows as a 0015 database holds them: the unit without the per-year columns of 0012.
ROWS = [r.replace(", front_led, is_demo) ", ", is_demo) ").replace(", 0, false, false)", ", 0, false)")
        for r in ROWS_0005]


def _migrate(engine, how: str, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, how)(cfg, revision)


def test_upgrade_from_0015_keeps_rows_and_leaves_the_year_open(empty_engine):  # noqa: F811 -- the fixture
    _migrate(empty_engine, "upgrade", "0015")
    with empty_engine.begin() as conn:
        for statement in ROWS:
            conn.execute(text(statement))
    _migrate(empty_engine, "upgrade", "head")
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT year, title, status, closed_at, closed_by_id FROM program")).all() == [
            (2023, "Chương trình năm 2023", "published", None, None)]
        assert conn.execute(text("SELECT code, baseline FROM indicator")).all() == [("CT06", 180)]
        assert conn.execute(text("SELECT count(*) FROM year_reopening")).scalar_one() == 0
    with empty_engine.begin() as conn:
        conn.execute(text("UPDATE program SET closed_at = '2024-01-15 02:00:00' WHERE year = 2023"))
        conn.execute(text("INSERT INTO year_reopening (program_id, unit_id, reopened_at, reason) "
                          "VALUES (1, 1, '2024-02-01 03:00:00', 'Sửa số liệu')"))
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT unit_id, reason FROM year_reopening")).all() == [(1, "Sửa số liệu")]
    _migrate(empty_engine, "downgrade", "0015")
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT year, status FROM program")).all() == [(2023, "published")]
        assert conn.execute(text("SELECT target.value_high FROM target")).scalar_one() == 15
