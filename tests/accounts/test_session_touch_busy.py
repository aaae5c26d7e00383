"""SQLite: a page read whose session is due for its "seen" stamp while a writer has committed
since the read began answers the page (not 503); the stamp waits for the next request."""
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from app.accounts import sessions
from app.accounts.deps import SESSION_KEY, _session_user
from app.accounts.models import User, UserSession
from app.core.time import utcnow


@pytest.fixture
def stale_session(engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("the deferred read's snapshot is SQLite's")
    with Session(engine) as s:
        user = s.exec(select(User).where(User.username == "xa.xem")).one()
        secret = sessions.start(s, user, utcnow())
        row_id = s.exec(select(UserSession.id).where(UserSession.user_id == user.id)
                        .order_by(UserSession.id.desc())).first()
        s.execute(text("UPDATE user_session SET last_seen_at = :t WHERE id = :i"),
                  {"t": utcnow() - timedelta(minutes=5), "i": row_id})
        s.commit()
    yield secret, row_id
    with Session(engine) as s:
        s.execute(text("DELETE FROM user_session WHERE id = :i"), {"i": row_id})
        s.commit()


def _seen(engine, row_id: int):
    with Session(engine) as s:
        return s.execute(text("SELECT last_seen_at FROM user_session WHERE id = :i"), {"i": row_id}).scalar_one()


def test_read_with_a_stale_snapshot_keeps_its_session_and_skips_the_stamp(engine, stale_session):
    secret, row_id = stale_session
    before = _seen(engine, row_id)
    request = SimpleNamespace(session={SESSION_KEY: secret}, method="GET")
    with Session(engine) as reader:
        reader.execute(text("SELECT count(*) FROM unit")).scalar_one()  # the read's snapshot
        with Session(engine) as writer:  # a writer commits after it
            writer.execute(text("UPDATE unit_level SET name = name WHERE depth = 0"))
            writer.commit()
        found = _session_user(request, reader)  # the stamp meets SQLITE_BUSY_SNAPSHOT
        assert found is not None and found[1].username == "xa.xem"
    assert _seen(engine, row_id) == before  # not stamped this time
    with Session(engine) as next_request:
        assert _session_user(request, next_request) is not None
    assert _seen(engine, row_id) != before  # the next request stamps it


def test_write_request_keeps_the_stamp_in_its_own_transaction(engine, stale_session):
    """A save's request holds SQLite's write lock from its first statement; stamping its session
    must not commit (the save would then run without the lock and meet "database is locked")."""
    from app.core.db import IMMEDIATE

    secret, row_id = stale_session
    before = _seen(engine, row_id)
    request = SimpleNamespace(session={SESSION_KEY: secret}, method="POST")
    with Session(engine) as save:
        if engine.dialect.name == "sqlite":
            save.connection(execution_options={IMMEDIATE: True})
        assert _session_user(request, save) is not None
        assert save.in_transaction() and save.connection().connection.dbapi_connection.in_transaction
        assert _seen(engine, row_id) == before  # stamped inside the save's transaction, not yet committed
        save.commit()
    assert _seen(engine, row_id) != before
