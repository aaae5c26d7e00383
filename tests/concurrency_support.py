"""Private copies of the test database, and two real transactions interleaved on demand.

A copy (SQLite: the online backup API; PostgreSQL: CREATE DATABASE … TEMPLATE) lets a test
commit for real from several connections without touching the shared, rolled-back database.
"""
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.accounts.deps import Principal
from app.core.db import make_engine, write_session
from app.program.models import Indicator, Program
from app.units.models import Unit
from tests.databases import database_url, drop_database

GUARD_SECONDS = 60  # only a guard against a hang: the tests wait for events, not for time


@contextmanager
def private_copy(shared: Engine, *, lock_timeout: float | None = None) -> Iterator[Engine]:
    """An engine on a private copy of the (migrated, seeded) shared test database."""
    admin = os.environ.get("TEST_DATABASE_URL", "")
    if shared.dialect.name == "sqlite":
        import tempfile

        path = os.path.join(tempfile.mkdtemp(prefix="mttq-copy-"), "copy.db")
        src, dst = sqlite3.connect(shared.url.database), sqlite3.connect(path)
        with dst:
            src.backup(dst)
        src.close()
        dst.close()
        eng = make_engine(f"sqlite:///{path}", lock_timeout=lock_timeout)
        try:
            yield eng
        finally:
            eng.dispose()
        return
    url, name = database_url(admin, "mttq_copy")
    shared.dispose()  # CREATE DATABASE … TEMPLATE needs the template without connections
    from sqlalchemy import create_engine

    admin_engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{shared.url.database}"'))
    admin_engine.dispose()
    eng = make_engine(url)
    try:
        yield eng
    finally:
        eng.dispose()
        drop_database(admin, name)


def admin_principal(session: Session) -> Principal:
    root = session.exec(select(Unit).where(Unit.code == "15")).one()
    return Principal(unit=root, role="admin", via="api")


def unit(session: Session, code: str) -> Unit:
    return session.exec(select(Unit).where(Unit.code == code)).one()


def indicator(session: Session, code: str) -> Indicator:
    return session.exec(select(Indicator).where(Indicator.code == code)).one()


def program(session: Session) -> Program:
    return session.exec(select(Program)).one()


class Interleaving:
    """`first` runs in a transaction that stays open; `second` starts in another thread and
    connection and must wait for `first`'s lock; then `first` commits and `second` finishes.

    Waiting is observed, not assumed, on PostgreSQL: the second backend shows a lock wait in
    pg_stat_activity before the first commits (if it never waits, the test fails). On SQLite
    the first holds the write lock and the second is released as it asks for it (BEGIN
    IMMEDIATE): it waits unless the first has already committed, the same outcome."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.second_result: Any = None
        self.second_error: BaseException | None = None

    def run(self, first: Callable[[Session], Any], second: Callable[[Session], Any]) -> Any:
        s1 = write_session(self.engine)
        first_result = first(s1)
        ready, about_to_begin = threading.Event(), threading.Event()
        pid: list[int] = []
        is_sqlite = self.engine.dialect.name == "sqlite"

        def run_second() -> None:
            try:
                with Session(self.engine) as s2:
                    if not is_sqlite:
                        pid.append(s2.execute(text("SELECT pg_backend_pid()")).scalar_one())
                        s2.commit()
                    ready.set()
                    if is_sqlite:
                        from app.core.db import begin_write

                        about_to_begin.set()
                        begin_write(s2)  # waits for the first's write lock
                    self.second_result = second(s2)
                    s2.commit()
            except BaseException as e:
                self.second_error = e
                ready.set()

        worker = threading.Thread(target=run_second)
        try:
            worker.start()
            assert ready.wait(GUARD_SECONDS)
            if is_sqlite:
                assert about_to_begin.wait(GUARD_SECONDS), "the second transaction never began"
            else:
                self._wait_until_blocked(pid[0])
            s1.commit()
        finally:
            s1.close()
            worker.join(GUARD_SECONDS)
        if self.second_error is not None:
            raise self.second_error
        return first_result, self.second_result

    def _wait_until_blocked(self, pid: int) -> None:
        deadline = time.monotonic() + GUARD_SECONDS
        with self.engine.connect() as conn:
            while time.monotonic() < deadline:
                wait = conn.execute(text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :p"),
                                    {"p": pid}).scalar()
                conn.rollback()
                if wait == "Lock":
                    return
                if self.second_error is not None:
                    raise self.second_error
                time.sleep(0.01)
        raise AssertionError("the second transaction never waited for the first one's lock")
