"""Test database set-up: SQLite by default, PostgreSQL when TEST_DATABASE_URL names one.

A session-wide database is migrated and seeded once (units, program, demo accounts; no demo
figures, so each test works out its own expected numbers). Each test runs inside a
transaction that is rolled back, so tests never see each other's writes.
"""
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.databases import create_database, database_url, drop_database, drop_template, keep_template

_TMP = Path(tempfile.mkdtemp(prefix="mttq-tests-"))
_ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "")
if _ADMIN_URL.startswith("postgresql"):
    _TEST_URL, _DB_NAME = database_url(_ADMIN_URL, "mttq_test")
else:
    _DB_NAME = None
    _TEST_URL = f"sqlite:///{_TMP / 'test.db'}"

os.environ.update(
    ENVIRONMENT="test",
    DATABASE_URL=_TEST_URL,
    SEED_DEMO_VALUES="false",
    SEED_DEMO_2026="false",  # servers started by tests seed 2023 only; test_demo_seed seeds both years
    SEED_DEMO_USERS="true",
    SECRET_KEY="test-secret-key-not-for-production",
)

import pytest  # noqa: E402
from anyio.from_thread import BlockingPortal, start_blocking_portal  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlmodel import Session  # noqa: E402

from app.accounts.demo import DEMO_PASSWORD  # noqa: E402  (after the environment above)


@pytest.fixture(scope="session")
def engine():
    """The migrated, seeded test database (shared by the whole run)."""
    if _DB_NAME:
        create_database(_ADMIN_URL, _DB_NAME)
    from app.core.db import engine as app_engine
    from app.core.migrate import upgrade_to_head
    from app.seed.run import seed

    upgrade_to_head(app_engine)
    with Session(app_engine) as session:
        seed(session, demo_users=True, demo_values=False)
    # Servers and CLI runs that tests start get copies of this database (tests/databases.py).
    keep_template(app_engine, _ADMIN_URL, _DB_NAME, _TMP)
    yield app_engine
    app_engine.dispose()
    drop_template()
    if _DB_NAME:
        drop_database(_ADMIN_URL, _DB_NAME)


@pytest.fixture
def db(engine) -> Iterator[Session]:
    """A session whose commits land in a savepoint, rolled back after the test."""
    conn = engine.connect()
    outer = conn.begin()
    session = Session(bind=conn, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        conn.close()


@pytest.fixture
def app(db):
    from app.core.db import get_session
    from app.main import app as fastapi_app

    def _session_override():
        yield db

    fastapi_app.dependency_overrides[get_session] = _session_override
    yield fastapi_app
    fastapi_app.dependency_overrides.clear()


@pytest.fixture(scope="session")
def portal() -> Iterator[BlockingPortal]:
    """One event loop thread for the run's test clients, as a server has one. A TestClient not
    entered with `with` starts a loop thread for each request otherwise, and one entered runs
    the app's start-up each time (migration check, seeding check, a full garbage collection):
    the session's `engine` fixture has done that start-up once."""
    with start_blocking_portal() as p:
        yield p


def _test_client(app, portal: BlockingPortal) -> TestClient:
    c = TestClient(app, base_url="http://testserver", follow_redirects=False)
    c.portal = portal  # what `with TestClient(...)` sets, without the start-up
    return c


@pytest.fixture
def client(app, portal) -> Iterator[TestClient]:
    c = _test_client(app, portal)
    yield c
    c.close()


def _login(c: TestClient, username: str, password: str = DEMO_PASSWORD) -> TestClient:
    page = c.get("/login")
    token = _csrf_from(page.text)
    r = c.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert r.status_code == 303, (r.status_code, r.text[:500])
    # Sign-in rotates the session's CSRF token; any page (here the 404 page) carries the new one.
    c.headers["X-CSRF-Token"] = _csrf_from(c.get("/__csrf_probe__").text)
    return c


def _csrf_from(html: str) -> str:
    import re

    m = re.search(r'name="csrf-token" content="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)


@pytest.fixture
def login(app, portal):
    """login("tinh.quantri") → a TestClient signed in as that demo user, CSRF header set."""
    clients: list[TestClient] = []

    def _make(username: str, password: str = DEMO_PASSWORD) -> TestClient:
        c = _test_client(app, portal)
        clients.append(c)
        return _login(c, username, password)

    yield _make
    for c in clients:
        c.close()


# The quick lane (`pytest -m "not slow"`) leaves out what takes minutes and rarely breaks from
# a small change: the browser, the API fuzzing, the access matrix and the migration upgrades.
_SLOW_FILES = ("test_schemathesis.py", "test_access_matrix.py", "_migration.py", "test_two_instances.py")


# Worker balance (`-n 2` hands out tests in collection order, in chunks): the access matrix's
# hundreds of sub-second tests run last, as filler, so that no worker finishes early and waits
# for a 20-second test the other one picked up near the end (tests/units, tests/values).
_FILLER_FILES = ("test_access_matrix.py",)


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = item.path.as_posix()
        if "/tests/browser/" in path or path.endswith(_SLOW_FILES):
            item.add_marker(pytest.mark.slow)
    items.sort(key=lambda item: item.path.as_posix().endswith(_FILLER_FILES))  # stable: others keep their order
