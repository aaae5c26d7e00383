"""Kept pages never show a stale figure (issue #16): the dashboard and drill-down bodies are kept
per process under the figures' generation (app/core/generation.py), renewed by every committed
write. Commune 04720 enters CT17 (a count, summed over months); July 2023 is empty in the seed.
"""
import re

from sqlalchemy import text
from sqlmodel import Session

from app.core import generation

HX = {"HX-Request": "true"}
URL = "/dashboard/04720?period=2023-07"
DRILL = "/dashboard/141/CT17?period=2023-07"


def _card(html: str, code: str) -> str:
    m = re.search(rf'<li class="card ind [^"]*" id="ind-{code}">(.*?)</li>', html, re.S)
    assert m, f"no card {code}"
    return m.group(1)


def _figure(html: str) -> str:
    return re.search(r'<p class="fig">(.*?)</p>', html, re.S).group(1).strip()


def _save(c, value: int) -> None:
    page = c.get("/entry/04720/2023-07/CT17", headers=HX)
    version = re.search(r'name="CT17.version" value="(\d+)"', page.text).group(1)
    r = c.post("/entry/04720/2023-07/CT17", data={"CT17.value": str(value), "CT17.version": version},
               headers=HX)
    assert r.status_code == 200, r.text[:300]


def test_dashboard_shows_a_save_at_once_though_kept(login):
    c = login("tinh.quantri")
    generation.pages.clear()
    before = _card(c.get(URL).text, "CT17")
    hits = generation.pages.hits
    assert _card(c.get(URL).text, "CT17") == before
    assert generation.pages.hits == hits + 1  # the second read was served from the kept body
    _save(c, 17)
    assert "17" in _figure(_card(c.get(URL).text, "CT17"))
    _save(c, 23)
    card = _card(c.get(URL).text, "CT17")
    assert "23" in _figure(card) and "17" not in _figure(card)


def test_drill_down_shows_a_save_at_once_though_kept(login):
    c = login("tinh.quantri")
    generation.pages.clear()
    c.get(DRILL)
    _save(c, 31)
    html = c.get(DRILL).text
    row = re.search(r'id="u-04720">(.*?)</li>', html, re.S).group(1)
    assert "31" in _figure(row)
    # The district's own total for July: only this commune has CT17 then (hand-checked: 31).
    assert "31" in _figure(html.split('<section class="card ind', 1)[1])


def test_token_changes_with_a_committed_write_only(engine):
    with Session(engine) as s:
        t0 = generation.token(s)
    assert t0 is not None
    with Session(engine) as s:  # a write rolled back: the token stays
        s.execute(text("UPDATE unit SET sort_order = sort_order WHERE code = '04720'"))
        assert generation.token(s) is None  # its own unstamped write: nothing may be kept
        s.rollback()
    with Session(engine) as s:
        assert generation.token(s) == t0
    with Session(engine) as s:  # sessions and rate counters show on no page: the token stays
        s.execute(text("UPDATE user_session SET last_seen_at = last_seen_at"))
        s.commit()
        assert generation.token(s) == t0
    with Session(engine) as s:
        s.execute(text("UPDATE unit SET sort_order = sort_order WHERE code = '04720'"))
        s.commit()
    with Session(engine) as s:
        t1 = generation.token(s)
    assert t1 is not None and t1 != t0


def test_write_classification():
    assert generation.is_write("INSERT INTO data_value (unit_id) VALUES (1)")
    assert generation.is_write("UPDATE rollup_cell SET value_sum = 1")
    assert generation.is_write('DELETE FROM "target" WHERE id = 1')
    assert generation.is_write("WITH x AS (SELECT 1) INSERT INTO rollup_cell SELECT * FROM x")
    assert not generation.is_write("SELECT * FROM data_value")
    assert not generation.is_write("UPDATE user_session SET last_seen_at = 1")
    assert not generation.is_write("INSERT INTO rate_counter (key) VALUES ('x')")
    assert not generation.is_write("SAVEPOINT sa_1")


def test_two_instances_never_serve_a_stale_figure(engine, tmp_path):
    """Two app processes on one database, each keeping the dashboard: a save through one is on
    the other's next page (its kept body is under the old token)."""
    import os

    import httpx

    from tests.core.test_two_instances import TLS, _start
    from tests.databases import drop_database, seeded_copy

    admin = os.environ.get("TEST_DATABASE_URL", "")
    url, name = seeded_copy("mttq_kept", tmp_path)  # a copy of the run's seeded database
    env = {**os.environ, "DATABASE_URL": url, "ENVIRONMENT": "test", "SEED_DEMO_USERS": "true",
           "SEED_DEMO_VALUES": "false", "SECRET_KEY": "kept-pages-shared-secret"}
    procs = []
    try:
        a, url_a = _start(env)
        procs.append(a)
        b, url_b = _start(env)
        procs.append(b)
        clients = []
        for base in (url_a, url_b):
            c = httpx.Client(base_url=base, follow_redirects=False, timeout=60, verify=TLS)
            token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
            assert c.post("/login", data={"username": "tinh.quantri", "password": "demo2023",
                                          "csrf_token": token}).status_code == 303
            c.headers["X-CSRF-Token"] = re.search(r'name="csrf-token" content="([^"]+)"',
                                                  c.get("/signed-in").text).group(1)
            clients.append(c)
        ca, cb = clients
        for value in (5, 8, 13):
            for c in (ca, cb, ca, cb):  # both keep the body of this generation
                c.get(URL)
            _save(ca, value)
            assert str(value) in _figure(_card(cb.get(URL).text, "CT17"))
            assert str(value) in _figure(_card(ca.get(URL).text, "CT17"))
        for c in clients:
            c.close()
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(30)
        if name:
            drop_database(admin, name)


def test_entry_page_shows_a_save_at_once_with_each_readers_csrf_token(login):
    first, second = login("tinh.quantri"), login("tinh.quantri")  # two sign-ins: two CSRF tokens
    generation.pages.clear()
    page = "/entry/04720/2023-07"
    first.get(page)
    _save(first, 41)
    for c in (first, second, first):
        html = c.get(page).text
        field = re.search(r'id="f-CT17".*?</div>\s*</div>', html, re.S) or re.search(r'CT17\.value"[^>]*>', html)
        assert 'value="41"' in field.group(0)
        meta = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
        assert set(re.findall(r'name="csrf_token" value="([^"]+)"', html)) == {meta}
    assert first.headers["X-CSRF-Token"] != second.headers["X-CSRF-Token"]
    assert generation.pages.hits >= 2


def test_request_sessions_bounded_by_the_request_threads_and_given_back_before_sending():
    """At most WEB_THREADS requests hold a database session at once (the others wait on the
    event loop without a connection), so the pool (WEB_THREADS + 2, + 4 overflow) never runs dry
    between a request's dependencies and its route."""
    from typing import get_args

    from app.core.config import settings
    from app.core.db import SessionDep, pool_size

    depends = get_args(SessionDep)[1]
    assert depends.max_concurrency == settings.WEB_THREADS
    assert pool_size() >= settings.WEB_THREADS
