"""Migration 0008 (petitions) upgrades a database made by the previous release (head 0005)
with its rows intact, adds the field list, and goes back down cleanly."""
import os

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from app.core.migrate import alembic_config
from tests.databases import drop_database, new_database_url


@pytest.fixture
def empty_engine(tmp_path):
    admin_url = os.environ.get("TEST_DATABASE_URL", "")
    if admin_url.startswith("postgresql"):
        url, name = new_database_url(admin_url, "mttq_mig")
    else:
        url, name = f"sqlite:///{tmp_path / 'release-0005.db'}", None
    engine = create_engine(url)
    yield engine
    engine.dispose()
    if name:
        drop_database(admin_url, name)


def _migrate(engine, verb: str, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, verb)(cfg, revision)


ROWS_0005 = [
    "INSERT INTO unit_level (depth, key, name) VALUES (0, 'province', 'Cấp tỉnh'), (1, 'district', 'Cấp huyện')",
    "INSERT INTO unit_kind (code, name, depth) VALUES ('tinh', 'Tỉnh', 0), ('huyen', 'Huyện', 1)",
    "INSERT INTO unit (id, code, name, kind, depth, parent_id, path, sort_order, front_led, is_demo) VALUES "
    "(1, '15', 'Yên Bái', 'tinh', 0, NULL, '/1/', 0, false, false), "
    "(2, '141', 'Yên Bình', 'huyen', 1, 1, '/1/2/', 1, false, false)",
    "INSERT INTO program (id, year, title, theme, motto, root_unit_id) VALUES "
    "(1, 2023, 'Chương trình công tác năm 2023', 'Chủ đề', 'Phương châm', 1)",
    "INSERT INTO task (id, program_id, plan_unit_id, quarter, number, title, text, lead_unit_id, status, "
    "is_addition, created_at, updated_at, version) VALUES (1, 1, 1, 2, 4, 'Tổng hợp ý kiến, kiến nghị cử tri', "
    "'Tổng hợp ý kiến, kiến nghị', 1, 'in_progress', false, '2023-04-01 00:00:00', '2023-04-01 00:00:00', 3)",
]


def _snapshot(conn) -> dict:
    return {
        "units": conn.execute(text("SELECT code, name, path FROM unit ORDER BY id")).all(),
        "task": conn.execute(text("SELECT title, status, version FROM task")).all(),
        "program": conn.execute(text("SELECT year, title FROM program")).all(),
    }


def test_0008_upgrades_a_0005_database_with_its_rows_intact(empty_engine):
    _migrate(empty_engine, "upgrade", "0005")
    with empty_engine.begin() as conn:
        for statement in ROWS_0005:
            conn.execute(text(statement))
        before = _snapshot(conn)
    assert before["units"] == [("15", "Yên Bái", "/1/"), ("141", "Yên Bình", "/1/2/")]

    _migrate(empty_engine, "upgrade", "0008")
    with empty_engine.begin() as conn:
        assert _snapshot(conn) == before
        fields = conn.execute(text("SELECT code, name FROM petition_field ORDER BY sort_order")).all()
        assert fields[0] == ("land", "Đất đai") and fields[-1] == ("other", "Lĩnh vực khác") and len(fields) == 7
        conn.execute(text("INSERT INTO petition_session (id, unit_id, name, year) VALUES (1, 1, 'Kỳ họp thứ 7', 2023)"))
        conn.execute(text(
            "INSERT INTO petition (unit_id, session_id, channel, heard_on, raiser_kind, field_id, content, addressee, "
            "created_at) VALUES (2, 1, 'voter_meeting', '2023-04-12', 'person', 1, 'Sửa đường', 'department', "
            "'2023-04-12 00:00:00')"))
        assert conn.execute(text("SELECT count(*) FROM petition")).scalar() == 1

    _migrate(empty_engine, "downgrade", "0005")
    with empty_engine.begin() as conn:
        assert _snapshot(conn) == before
    assert "petition" not in inspect(empty_engine).get_table_names()
