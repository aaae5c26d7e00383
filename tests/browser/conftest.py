"""Browser tests: a real uvicorn server on a free loopback port, against its own database (a
SQLite file, or a private PostgreSQL database when TEST_DATABASE_URL names a PostgreSQL server),
driven by Debian's headless Chromium. A server without demo figures starts on a copy of the
run's seeded database (tests/databases.py: no migrating and seeding at each start); one with
demo figures migrates and seeds its empty database on start, as a real deployment does.

Fixtures: `live_server` (base URL), `browser` (Playwright Browser), `page_as("tinh.nhaplieu")`
→ a signed-in Page at phone size (390×844). Mark tests `@pytest.mark.browser`.
"""
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from app.accounts.demo import DEMO_PASSWORD
from tests.conftest import _csrf_from
from tests.databases import drop_database, has_template, new_database_url, seeded_copy

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PHONE = {"width": 390, "height": 844}
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def app_server(name: str, *, demo_values: bool = False, wait_s: float = 60, demo_2026: bool = False
               ) -> Iterator[str]:
    """A real uvicorn server on a free loopback port with a database of its own (a SQLite file, or
    a private PostgreSQL database when TEST_DATABASE_URL names a server), holding the demo
    accounts (and the demo figures if `demo_values`): a copy of the run's seeded database, or,
    with demo figures or the 2026 program, an empty one migrated and seeded on start. Yields its
    base URL. It runs with ENVIRONMENT=test (the cheap password hashing of the suite: the
    browser tests sign in over a hundred times)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium is not installed")
    tmp = Path(tempfile.mkdtemp(prefix=f"mttq-{name}-"))
    port = _free_port()
    pg_admin_url = os.environ.get("TEST_DATABASE_URL", "")
    if not demo_values and not demo_2026 and has_template():
        db_url, db_name = seeded_copy(f"mttq_{name}", tmp)
    elif pg_admin_url.startswith("postgresql"):
        db_url, db_name = new_database_url(pg_admin_url, f"mttq_{name}")
    else:
        db_name, db_url = None, f"sqlite:///{tmp / (name + '.db')}"
    env = {**os.environ, "DATABASE_URL": db_url, "ENVIRONMENT": "test",
           "SEED_DEMO_USERS": "true", "SEED_DEMO_VALUES": "true" if demo_values else "false",
           # The demo 2026 program on the two-tier tree only where a test asks for it.
           "SEED_DEMO_2026": "true" if demo_2026 else "false",
           # Every browser test signs in from 127.0.0.1: no per-address sign-in limit.
           "LOGIN_RATE_LIMIT_ENABLED": "false",
           "SECRET_KEY": "browser-test-secret-key-not-for-production"}
    log = (tmp / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
                             "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(int(wait_s * 10)):  # migrating and seeding takes a few seconds (demo figures: more)
            if proc.poll() is not None:
                raise RuntimeError(f"server exited; see {tmp / 'server.log'}")
            try:
                urllib.request.urlopen(base + "/login", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("server did not start")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        if db_name:
            drop_database(pg_admin_url, db_name)


def signed_in_page(browser, base_url: str, username: str, viewport: dict | None = None):
    """A new browser context at `viewport` (phone size by default), signed in as `username`:
    (context, page), the page on where signing in leads. The sign-in is the form's own request
    (its CSRF token, POST /login), sent by the context's request client, which shares the
    context's cookies: the browser does not render the sign-in page first (half a second of
    Chromium's CPU on each of the suite's sign-ins). The form itself is driven by
    test_offline_entry (signing in again after a session ended) and test_entry_phone (without
    JavaScript)."""
    ctx = browser.new_context(viewport=viewport or PHONE, base_url=base_url)
    token = _csrf_from(ctx.request.get("/login").text())
    r = ctx.request.post("/login", form={"username": username, "password": DEMO_PASSWORD,
                                         "csrf_token": token}, max_redirects=0)
    assert r.status == 303, f"{username} could not sign in: {r.status} {r.text()[:300]}"
    page = ctx.new_page()
    page.goto(r.headers["location"])
    return ctx, page


def keep_screenshot(page, name: str, *, full_page: bool = False) -> None:
    """Save a screenshot for a person to look at, only when BROWSER_SCREENSHOTS names a directory
    (`BROWSER_SCREENSHOTS=shots bash scripts/test.sh`): a full-page screenshot costs Chromium
    about half a second of CPU, and nothing reads them in a test run."""
    directory = os.environ.get("BROWSER_SCREENSHOTS")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(directory) / name), full_page=full_page)


@pytest.fixture(scope="session", autouse=True)
def _seeded_template(engine) -> None:
    """The run's seeded database exists (and is kept as the template) before any server starts."""


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    with app_server("browser") as base:
        yield base


@pytest.fixture(scope="session")
def two_year_server() -> Iterator[str]:
    """A server started as a fresh deployment with both years (SEED_DEMO_2026: the 2023 program
    on the Yên Bái tree, the Lào Cai 2025 tree and its 2026 program; no demo figures), shared by
    the tests of the two years: each enters figures no other test reads."""
    with app_server("two_years", demo_2026=True, wait_s=120) as base:
        yield base


@pytest.fixture(scope="session")
def browser(live_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page_as(browser, live_server):
    """page_as("tinh.nhaplieu") → a signed-in Page in a fresh context at phone width."""
    contexts = []

    def _make(username: str, viewport: dict | None = None):
        ctx, page = signed_in_page(browser, live_server, username, viewport)
        contexts.append(ctx)
        return page

    yield _make
    for ctx in contexts:
        ctx.close()
