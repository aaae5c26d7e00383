"""The figures' generation: one token in the database that changes with every committed write,
so a page computed from the figures can be kept in memory and never served stale.

Why: the dashboard and the drill-down cost more in formatting and templates than in the
roll-up they show (issue #16), and what they show of a unit and a period is the same for every
reader. Keeping it per process is only safe if every process knows, cheaply, when anything it
was computed from changed — the app may run as several processes on one PostgreSQL.

How:
- `figures_generation` holds one row with a random 63-bit `token`.
- Every transaction that writes (any INSERT/UPDATE/DELETE/DDL seen by the engine, except on the
  tables in `UNRELATED`: sessions, rate counters, tokens, idempotency records) sets a new
  random token as its last statement before COMMIT (and at each RELEASE SAVEPOINT), in the
  same transaction: a reader sees the new figures and the new token together, or neither.
  The token is random, not a counter: a rolled-back transaction's token is never seen again
  (a counter would come back to a number already used for other figures).
- A reader reads the token first, then the figures (`token(session)`); a page kept under a
  token therefore holds figures at least as new as that token, and a later reader asks for it
  only while that token is still current. A connection holding writes not yet stamped (its own
  uncommitted figures) reads no token and keeps nothing.
- PostgreSQL: the token row is updated only at commit time, so concurrent writers wait for
  each other only through their COMMITs; a writer holding it has no other lock to wait for,
  so it cannot deadlock.
- Writes that bypass SQLAlchemy's cursor (a raw `COPY`) must call `written(connection)`.

`PageCache` keeps rendered fragments per process, keyed with the token (least recently used
out first).
"""
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from sqlalchemy import BigInteger, Column, event, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, Session, SQLModel

TABLE = "figures_generation"
# Tables whose writes change nothing a cached page shows.
UNRELATED = frozenset({TABLE, "user_session", "rate_counter", "api_token", "idempotency_record",
                       "app_user", "alembic_version"})
_READS = ("SELECT", "PRAGMA", "SHOW", "SET", "BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT",
          "EXPLAIN", "VALUES")
_TARGET = re.compile(r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.I)
_DDL = ("CREATE", "DROP", "ALTER")


class FiguresGeneration(SQLModel, table=True):
    __tablename__ = TABLE
    id: int = Field(default=1, primary_key=True)
    token: int = Field(sa_column=Column(BigInteger, nullable=False))


def new_token() -> int:
    return secrets.randbits(62) + 1


# DBAPI connections (by id) holding writes the token does not reflect yet; and those whose
# transaction ran DDL (the token table may have come or gone).
_dirty: set[int] = set()
_ddl: set[int] = set()


def _raw_id(conn: Connection) -> int:
    return id(conn.connection.dbapi_connection)


def written(conn: Connection) -> None:
    """Mark a connection as holding writes (for writes that bypass the cursor events)."""
    _dirty.add(_raw_id(conn))


def is_write(statement: str) -> bool:
    """Whether a statement may change what a cached page shows."""
    head = statement.lstrip()[:9].upper()
    if head.startswith(_READS):
        return False
    m = _TARGET.match(statement)
    return not (m and m.group(1).lower() in UNRELATED)


def install(engine: Engine) -> None:
    """Stamp every committed write of this engine with a new token (see the module docstring)."""
    @event.listens_for(engine, "before_cursor_execute")
    def _seen(conn, _cursor, statement, *_args):
        if is_write(statement):
            key = _raw_id(conn)
            _dirty.add(key)
            if statement.lstrip()[:6].upper().startswith(_DDL):
                _ddl.add(key)

    @event.listens_for(engine, "after_cursor_execute")
    def _autocommitted(conn, *_args):
        # A write outside a transaction (sign-in's statements on SQLite) committed on its own:
        # stamp it at once, as its own statement.
        dbapi_conn = conn.connection.dbapi_connection
        if id(dbapi_conn) in _dirty and not _in_transaction(dbapi_conn):
            _stamp(engine, dbapi_conn)

    dialect = engine.dialect
    commit, rollback, release = dialect.do_commit, dialect.do_rollback, dialect.do_release_savepoint

    def do_commit(dbapi_conn) -> None:
        _stamp(engine, dbapi_conn)
        commit(dbapi_conn)

    def do_rollback(dbapi_conn) -> None:
        try:
            rollback(dbapi_conn)
        finally:
            _dirty.discard(id(_unwrap(dbapi_conn)))
            _ddl.discard(id(_unwrap(dbapi_conn)))

    def do_release_savepoint(connection, name) -> None:
        _stamp(engine, connection.connection.dbapi_connection)
        release(connection, name)

    dialect.do_commit, dialect.do_rollback = do_commit, do_rollback
    dialect.do_release_savepoint = do_release_savepoint
    engine.figures_generation = False  # type: ignore[attr-defined]  # True once the table is seen


_STAMP = f"UPDATE {TABLE} SET token = {{}} WHERE id = 1"  # noqa: S608 -- TABLE is this module's constant


def _table_exists(engine: Engine, cursor, key: int) -> bool:
    if key in _ddl or not engine.figures_generation:  # type: ignore[attr-defined]
        cursor.execute(_check(engine))
        row = cursor.fetchone()
        engine.figures_generation = bool(row and row[0])  # type: ignore[attr-defined]
    return engine.figures_generation  # type: ignore[attr-defined]


def _stamp(engine: Engine, dbapi_conn) -> None:
    """A new token in the generation row, if this connection wrote (before its COMMIT)."""
    dbapi_conn = _unwrap(dbapi_conn)
    key = id(dbapi_conn)
    if key not in _dirty:
        return
    cursor = dbapi_conn.cursor()
    try:
        if _table_exists(engine, cursor, key):
            cursor.execute(_STAMP.format(new_token()))
    finally:
        cursor.close()
    _dirty.discard(key)
    _ddl.discard(key)


def _unwrap(conn):
    """The DBAPI connection itself, whether given bare or through the pool's proxy."""
    return getattr(conn, "dbapi_connection", None) or conn


def _in_transaction(dbapi_conn) -> bool:
    autocommit = getattr(dbapi_conn, "autocommit", None)
    if autocommit is True:  # psycopg in autocommit mode
        return False
    return bool(getattr(dbapi_conn, "in_transaction", True))


def _check(engine: Engine) -> str:
    if engine.dialect.name == "sqlite":
        return f"SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '{TABLE}'"  # noqa: S608 -- a constant
    return f"SELECT to_regclass('{TABLE}') IS NOT NULL"


def token(session: Session) -> int | None:
    """The current token, read before the figures it guards; None when nothing may be kept:
    this session holds writes not yet stamped, or the database has no token yet."""
    conn = session.connection()
    engine = conn.engine
    if not hasattr(engine, "figures_generation") or _raw_id(conn) in _dirty:
        return None
    if not engine.figures_generation:  # an old database, or not seen yet
        engine.figures_generation = bool(conn.exec_driver_sql(_check(engine)).scalar())
        if not engine.figures_generation:
            return None
    return conn.execute(_SELECT).scalar_one_or_none()


_SELECT = text(f"SELECT token FROM {TABLE} WHERE id = 1")  # noqa: S608 -- TABLE is a constant


class PageCache:
    """Rendered fragments, per process, least recently used out first."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.items: OrderedDict[tuple, Any] = OrderedDict()
        self.lock = threading.Lock()
        self.hits = self.misses = 0

    def get_or_build(self, stamp: int | None, key: tuple, build: Callable[[], Any]) -> Any:
        """The value kept under `stamp` — the token read by `token(session)` before anything
        the value shows (None: build, keep nothing) — and `key`, else `build()` kept."""
        if stamp is None:
            return build()
        full = (stamp, *key)
        with self.lock:
            found = self.items.get(full)
            if found is not None:
                self.items.move_to_end(full)
                self.hits += 1
                return found
        value = build()
        with self.lock:
            self.misses += 1
            self.items[full] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


pages = PageCache()
