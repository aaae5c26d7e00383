"""Engine, session dependency and the metadata naming convention; how writers take turns.

Concurrency, the month-end rush (issue #10):

- **SQLite has one writer.** A transaction that starts reading and later writes cannot wait
  for the write lock: if another writer committed meanwhile, SQLite refuses it at once
  ("database is locked"), whatever the busy timeout. So a request that may write (any method
  but GET/HEAD/OPTIONS) opens its first transaction with `BEGIN IMMEDIATE`: it waits its turn
  for the write lock (up to `SQLITE_LOCK_TIMEOUT` s) *before* reading anything, and then
  cannot be refused. Transactions after that request's commit (re-reading what it saved to
  answer) begin deferred, as reads, so a committed save is never made to wait again. Readers
  never wait (WAL). One mechanism for every route: entry, submit, tasks, admin, imports;
  `begin_write` re-takes the lock for a route that commits early (the API token's "last
  used" stamp) and writes again. Sign-in is the one exception (STATEMENT_PATHS): its one
  write is a single UPDATE, which takes the lock at its own start, after the password hash.
  Writers of one process queue in order for their turn (`_WriterTurn`).
- **Threads and connections are sized together.** Routes that touch the database are plain
  `def` and run in AnyIO's thread pool; `configure_threads` sets that pool to `WEB_THREADS`
  and the connection pool holds as many connections (plus a few for startup and the odd
  second connection), so a request in a thread always finds a connection. Should the pool
  still run dry, a request waits at most `DB_POOL_TIMEOUT` s and answers 503.
- **Busy is a 503, never a 500.** Waiting too long for the SQLite write lock or for a
  connection, or PostgreSQL choosing this transaction as a deadlock victim, answers 503 with
  `Retry-After` and a Vietnamese message (problem+json under /api/): nothing was written, so
  sending again is safe.
"""
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

from app.core import generation
from app.core.config import settings

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
IMMEDIATE = "mttq_sqlite_immediate"  # execution option: begin this transaction with BEGIN IMMEDIATE
TURN = "mttq_sqlite_turn"  # execution option: the request's Ticket, already holding the turn
STATEMENTS = "mttq_sqlite_statements"  # execution option: no BEGIN; each statement its own transaction
# Requests whose only write is one statement after slow work that needs no lock: sign-in reads
# the account, verifies the password (a deliberately slow hash, ~0.1–1 s) and updates one row.
# Holding the write lock through the hash would queue every save behind a burst of sign-ins;
# instead each statement runs on its own and the single UPDATE takes the writer's turn.
STATEMENT_PATHS = frozenset({"/login"})


def _reads(statement: str) -> bool:
    return statement.lstrip()[:6].upper() in ("SELECT", "PRAGMA")
RETRY_AFTER = "2"  # seconds suggested to a client told 503


def pool_size() -> int:
    """Connections kept per process: one per request thread, plus a few for everything else."""
    return settings.WEB_THREADS + 2


def _sqlite_pragmas_on_connect(eng: Engine, *, in_memory: bool) -> None:
    """Every new SQLite connection: foreign keys on, WAL (files), and SQLAlchemy's own BEGIN."""

    @event.listens_for(eng, "connect")
    def _sqlite_pragmas(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        if not in_memory:
            # Setting the journal mode takes a lock (a new connection would wait for the
            # writer of the moment): set it only when the file is not in WAL mode yet.
            if cur.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()
        # pysqlite's own transaction handling breaks SAVEPOINTs (a released savepoint
        # commits): let SQLAlchemy issue BEGIN itself (the documented SQLAlchemy recipe).
        dbapi_conn.isolation_level = None


def _sqlite_writer_turns(eng: Engine, writer: "_WriterTurn") -> None:
    """One writer at a time: a writing transaction (BEGIN IMMEDIATE) or a writing statement
    outside a transaction waits for the writer's turn, and gives it back when done."""

    @event.listens_for(eng, "begin")
    def _sqlite_begin(conn):
        options = conn.get_execution_options()
        if options.get(STATEMENTS):
            return  # no transaction: each statement commits on its own (see STATEMENT_PATHS)
        if not options.get(IMMEDIATE):
            conn.exec_driver_sql("BEGIN")
            return
        dbapi_conn = conn.connection.dbapi_connection
        ticket = options.get(TURN)
        if ticket is not None and ticket.owner == "request":
            writer.adopt(ticket, dbapi_conn)  # the request already waited for it
        else:
            writer.take(dbapi_conn)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writer.give_back(dbapi_conn)
            raise

    @event.listens_for(eng, "before_cursor_execute")
    def _turn_for_a_write(conn, _cursor, statement, *_args):
        if conn.get_execution_options().get(STATEMENTS) and not _reads(statement):
            writer.take(conn.connection.dbapi_connection)

    @event.listens_for(eng, "after_cursor_execute")
    def _write_done(conn, *_args):
        if conn.get_execution_options().get(STATEMENTS):
            writer.give_back(conn.connection.dbapi_connection)

    @event.listens_for(eng, "handle_error")
    def _write_failed(context):
        conn = context.connection
        if conn is not None and conn.get_execution_options().get(STATEMENTS):
            writer.give_back(conn.connection.dbapi_connection)


def make_engine(url: str, *, lock_timeout: float | None = None) -> Engine:
    """An engine with SQLite tuned for one writer and many readers."""
    timeout = settings.SQLITE_LOCK_TIMEOUT if lock_timeout is None else lock_timeout
    pool = {"pool_size": pool_size(), "max_overflow": 4, "pool_timeout": settings.DB_POOL_TIMEOUT}
    if url.startswith("sqlite"):
        if ":memory:" in url:
            pool = {}
        eng = create_engine(url, connect_args={"check_same_thread": False, "timeout": timeout}, **pool)
        _sqlite_pragmas_on_connect(eng, in_memory=":memory:" in url)
        writer = _WriterTurn(timeout)
        _sqlite_writer_turns(eng, writer)
        generation.install(eng)  # inside the writer's turn: stamps before COMMIT
        writer.watch(eng.dialect)
        eng.writer_turn = writer  # type: ignore[attr-defined]
        return eng
    eng = create_engine(url, pool_pre_ping=True, **pool)
    generation.install(eng)
    return eng


class Ticket:
    """A request's turn, taken on the event loop before any of its work runs in a thread."""

    owner = "request"  # → "connection" once its BEGIN IMMEDIATE has run (COMMIT gives it back)


class _WriterTurn:
    """SQLite writers of this process queue here, first come first served, before BEGIN IMMEDIATE.

    SQLite's own wait is a sleep-and-retry loop (sleeps of up to 100 ms): when the writer
    commits, the lock stays free until some waiter happens to wake, and a waiter can be
    overtaken again and again until its timeout. Queuing on a lock in the process hands the
    turn over at once, in order; SQLite's lock still guards against other processes. The turn
    is given back when the transaction's COMMIT or ROLLBACK has run.

    A web request waits for its turn *before* taking a request thread (`take_for_request`, on
    a thread of its own limiter): a holder whose next step needs a request thread must never
    find every request thread waiting for the turn it holds. Waiting inside a request thread
    (sign-in's UPDATE, `begin_write`, scripts) is allowed to at most half the request threads;
    beyond that the request answers 503 at once."""

    def __init__(self, timeout: float) -> None:
        import threading

        self.timeout = timeout
        self.lock = threading.Lock()
        self.holder: int | None = None  # id of the DBAPI connection holding the turn
        self.waiting_in_threads = 0
        self.count_lock = threading.Lock()
        self.wait_limiter = None

    @staticmethod
    def _busy() -> sa_exc.OperationalError:
        import sqlite3

        return sa_exc.OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))

    def take(self, dbapi_conn) -> None:
        """Wait in this thread for the turn (sign-in's UPDATE, `begin_write`, scripts)."""
        with self.count_lock:
            if self.waiting_in_threads >= max(1, settings.WEB_THREADS // 2):
                raise self._busy()
            self.waiting_in_threads += 1
        try:
            if not self.lock.acquire(timeout=self.timeout):
                raise self._busy()
        finally:
            with self.count_lock:
                self.waiting_in_threads -= 1
        self.holder = self._id(dbapi_conn)

    async def take_for_request(self) -> Ticket:
        import anyio

        if self.wait_limiter is None:
            self.wait_limiter = anyio.CapacityLimiter(10_000)
        with anyio.CancelScope(shield=True):  # a turn taken is never lost to a cancellation
            ok = await anyio.to_thread.run_sync(self.lock.acquire, True, self.timeout,
                                                limiter=self.wait_limiter)
        if not ok:
            raise self._busy()
        return Ticket()

    def adopt(self, ticket: Ticket, dbapi_conn) -> None:
        ticket.owner = "connection"
        self.holder = self._id(dbapi_conn)

    def release_ticket(self, ticket: Ticket) -> None:
        if ticket.owner == "request":  # never used by a transaction
            ticket.owner = "released"
            self.lock.release()

    @staticmethod
    def _id(conn) -> int:
        """The DBAPI connection's id, whether given bare or through the pool's proxy."""
        return id(getattr(conn, "dbapi_connection", None) or conn)

    def give_back(self, dbapi_conn) -> None:
        if self.holder is not None and self.holder == self._id(dbapi_conn):
            self.holder = None
            self.lock.release()

    def watch(self, dialect) -> None:
        """Give the turn back after every COMMIT or ROLLBACK (pool resets included)."""
        for name in ("do_commit", "do_rollback"):
            original = getattr(dialect, name)

            def ended(dbapi_conn, _original=original) -> None:
                try:
                    _original(dbapi_conn)
                finally:
                    self.give_back(dbapi_conn)
            setattr(dialect, name, ended)


engine = make_engine(settings.DATABASE_URL)


def is_sqlite(session_or_engine: Session | Engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "sqlite"


def begin_write(session: Session) -> None:
    """Start the session's transaction holding SQLite's write lock (no-op on PostgreSQL).

    Any open transaction is committed first (it must hold only reads, or writes the caller
    meant to keep). Use it before a read-then-write in a session that has already committed,
    and in scripts (`write_session`)."""
    if not is_sqlite(session):
        return
    if session.in_transaction():
        if session.connection().get_execution_options().get(IMMEDIATE):
            return  # already holding it
        session.commit()
    session.connection(execution_options={IMMEDIATE: True})


def write_session(bind: Engine | None = None) -> Session:
    """A Session whose first transaction holds SQLite's write lock from its start (CLI, scripts)."""
    session = Session(bind or engine)
    begin_write(session)
    return session


async def writer_turn(request: Request) -> AsyncIterator[Ticket | None]:
    """SQLite: a request that may write waits for the writer's turn here, on the event loop,
    before any of its work takes a request thread (see `_WriterTurn`)."""
    writer = getattr(engine, "writer_turn", None)
    if writer is None or request.method in SAFE_METHODS or request.url.path in STATEMENT_PATHS:
        yield None
        return
    ticket = await writer.take_for_request()
    try:
        yield ticket
    finally:
        writer.release_ticket(ticket)


def get_session(request: Request, ticket: Annotated[Ticket | None, Depends(writer_turn)]
                ) -> Iterator[Session]:
    """The request's session. A request that may write begins with the write lock (SQLite)."""
    with Session(engine) as session:
        if request.method not in SAFE_METHODS and engine.dialect.name == "sqlite":
            if request.url.path in STATEMENT_PATHS:
                session.connection(execution_options={STATEMENTS: True})
            else:
                session.connection(execution_options={IMMEDIATE: True, TURN: ticket})
        yield session


# At most WEB_THREADS requests hold a session at once (the others wait on the event loop, with
# no thread and no connection): the dependencies and the route each take a thread of their own in
# turn, and the session lives until the response has been sent, so the thread limit alone did
# not bound the connections held, and under load the pool ran dry (503 after DB_POOL_TIMEOUT).
SessionDep = Annotated[Session, Depends(get_session, max_concurrency=settings.WEB_THREADS)]


# --- Busy: 503 with Retry-After -------------------------------------------------------------

def _is_busy(exc: BaseException) -> bool:
    """The database could not serve this transaction now; nothing of it was written."""
    if isinstance(exc, sa_exc.TimeoutError):  # no connection free in time
        return True
    if isinstance(exc, sa_exc.OperationalError):
        text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
        if "database is locked" in text or "database is busy" in text:
            return True
        code = getattr(exc.orig, "sqlstate", None)
        return code in ("40P01", "40001", "55P03")  # deadlock victim, serialization, lock timeout
    return False


is_busy = _is_busy


def busy_message() -> str:
    from app.core.i18n import _

    return _("The system is busy with many saves at once; nothing was saved. Wait a moment "
             "and send again.")


def install(app: FastAPI) -> None:
    """Answer "database busy" with 503 + Retry-After (problem+json under /api/, a page elsewhere)."""
    from app.core.problems import Problem

    async def _busy(request: Request, exc: Exception):
        if not _is_busy(exc):
            raise exc
        logging.getLogger("app.db").warning("503 busy: %s %s: %s", request.method, request.url.path,
                                            str(exc).splitlines()[0][:200])
        handler = app.exception_handlers[Problem]
        return await handler(request, Problem(503, "Service Unavailable", busy_message(),
                                              headers={"Retry-After": RETRY_AFTER}))

    app.add_exception_handler(sa_exc.TimeoutError, _busy)
    app.add_exception_handler(sa_exc.OperationalError, _busy)


def configure_threads() -> None:
    """Size AnyIO's thread pool (where plain `def` routes and dependencies run) to WEB_THREADS.

    Call from inside the event loop (the app's lifespan)."""
    import anyio.to_thread

    anyio.to_thread.current_default_thread_limiter().total_tokens = settings.WEB_THREADS
