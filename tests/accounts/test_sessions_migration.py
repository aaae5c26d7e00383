"""Migration 0007 (sessions, rate counters): a database of the previous release (head 0005)
holding accounts upgrades with its rows intact, and its users can then sign in."""
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.db import make_engine
from app.core.migrate import alembic_config
from tests.databases import drop_database, new_database_url


@pytest.fixture
def empty_engine() -> Iterator[Engine]:
    admin = os.environ.get("TEST_DATABASE_URL", "")
    if admin.startswith("postgresql"):
        url, name = new_database_url(admin, "mttq_mig0007")
        eng = make_engine(url)
        yield eng
        eng.dispose()
        drop_database(admin, name)
    else:
        path = Path(tempfile.mkdtemp(prefix="mttq-mig-")) / "old.db"
        eng = make_engine(f"sqlite:///{path}")
        yield eng
        eng.dispose()


def _upgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def test_upgrade_from_0005_keeps_accounts(empty_engine):
    _upgrade(empty_engine, "0005")
    assert "user_session" not in inspect(empty_engine).get_table_names()
    locked = datetime(2023, 4, 3, 8, 30, tzinfo=UTC)
    with empty_engine.begin() as conn:
        conn.execute(text("INSERT INTO unit_level (depth, key, name) VALUES (0, 'province', 'Tỉnh')"))
        conn.execute(text("INSERT INTO unit_kind (code, name, depth) VALUES ('tinh', 'Tỉnh', 0)"))
        conn.execute(text(
            "INSERT INTO unit (id, code, name, kind, depth, parent_id, path, sort_order, front_led, is_demo) "
            "VALUES (1, '15', 'Tỉnh Yên Bái', 'tinh', 0, NULL, '/15/', 0, false, false)"))
        conn.execute(text(
            "INSERT INTO app_user (id, username, full_name, unit_id, role, can_edit_below, password_hash, "
            "is_active, is_demo, failed_logins, locked_until, created_at) VALUES (7, 'tinh.cu', 'Người cũ', 1, "
            "'admin', true, 'argon2-old-hash', true, false, 2, :locked, :created)"),
            {"locked": locked, "created": datetime(2023, 1, 2, tzinfo=UTC)})
    _upgrade(empty_engine, "head")
    tables = inspect(empty_engine).get_table_names()
    assert {"user_session", "rate_counter"} <= set(tables)
    with empty_engine.connect() as conn:
        row = conn.execute(text("SELECT username, full_name, role, failed_logins, password_hash FROM app_user "
                                "WHERE id = 7")).one()
        assert tuple(row) == ("tinh.cu", "Người cũ", "admin", 2, "argon2-old-hash")
        assert conn.execute(text("SELECT count(*) FROM user_session")).scalar_one() == 0
    # The old account can hold a session in the new table.
    from app.accounts import sessions
    from app.accounts.models import User

    with Session(empty_engine) as s:
        user = s.get(User, 7)
        assert user.locked_until == locked
        secret = sessions.start(s, user, datetime(2023, 4, 3, 9, 0, tzinfo=UTC))
        s.commit()
        found = sessions.find(s, secret, datetime(2023, 4, 3, 9, 5, tzinfo=UTC))
        assert found is not None and found[1].username == "tinh.cu"
