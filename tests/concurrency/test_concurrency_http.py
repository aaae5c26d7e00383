"""Through HTTP, against a private copy of the database and the real request session (no
test savepoint): SQLite writers wait their turn or answer 503 with Retry-After, an exhausted
pool answers 503 at once, and a committed save answers 200 whatever happens after the commit."""
import re
import sqlite3
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event
from sqlalchemy import exc as sa_exc
from sqlmodel import Session, select

import app.core.db as db_module
from app.values.models import DataValue
from tests.api_support import make_token
from tests.concurrency_support import GUARD_SECONDS, indicator, private_copy, unit
from tests.conftest import DEMO_PASSWORD, _csrf_from

HX = {"HX-Request": "true"}
BUSY_VI = "Hệ thống đang bận vì nhiều người lưu cùng lúc; chưa có gì được lưu."


def _client(monkeypatch, eng) -> TestClient:
    from app.main import app

    monkeypatch.setattr(db_module, "engine", eng)
    return TestClient(app, base_url="http://testserver", follow_redirects=False)


def _sign_in(c: TestClient, username: str = "xa.nhaplieu") -> TestClient:
    token = _csrf_from(c.get("/login").text)
    r = c.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})
    assert r.status_code == 303, r.text[:300]
    c.headers["X-CSRF-Token"] = _csrf_from(c.get("/__csrf_probe__").text)
    return c


def _stored(eng, code: str = "04720", ind: str = "CT17", period: str = "2023-04"):
    with Session(eng) as s:
        return s.exec(select(DataValue).where(DataValue.unit_id == unit(s, code).id,
                                              DataValue.indicator_id == indicator(s, ind).id,
                                              DataValue.period == period)).first()


def _save(c: TestClient, value: str, version: str = "0"):
    return c.post("/entry/04720/2023-04/CT17", data={"CT17.value": value, "CT17.version": version},
                  headers=HX)


def _needs_sqlite(engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's write lock")


def test_save_while_sqlite_write_lock_held_too_long_answers_503_nothing_saved(engine, monkeypatch):
    _needs_sqlite(engine)
    with private_copy(engine, lock_timeout=0.2) as eng:
        c = _sign_in(_client(monkeypatch, eng))
        holder = sqlite3.connect(eng.url.database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another writer, for longer than the lock timeout
        try:
            r = _save(c, "3")
            signed = c.post("/login", data={"username": "xa.quantri", "password": DEMO_PASSWORD,
                                            "csrf_token": c.headers["X-CSRF-Token"]})
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert r.status_code == 503
        assert r.headers["Retry-After"] == "2"
        assert BUSY_VI in r.text
        assert signed.status_code == 503 and BUSY_VI in signed.text  # sign-in: 503, not 500
        assert _stored(eng) is None
        assert _save(c, "3").status_code == 200  # once the lock is free, the same save lands
        assert _stored(eng).value == 3


def test_two_saves_of_one_figure_sqlite_second_waits_then_409(engine, monkeypatch):
    # The first save holds the write lock (and has written 4, version 1) when the web save of
    # 5 "from version 0" arrives; it waits its turn, reads version 1, and answers 409.
    _needs_sqlite(engine)
    with private_copy(engine) as eng:
        c = _sign_in(_client(monkeypatch, eng))
        from app.core.db import write_session
        from app.values import service
        from tests.concurrency_support import admin_principal, program

        first = write_session(eng)
        service.save_value(first, admin_principal(first), program(first), unit(first, "04720"),
                           indicator(first, "CT17"), "2023-04", service.Figure(value=4), via="api")
        answer: list = []
        asked = threading.Event()
        take_for_request = eng.writer_turn.take_for_request

        async def asking():
            asked.set()
            return await take_for_request()

        monkeypatch.setattr(eng.writer_turn, "take_for_request", asking)
        worker = threading.Thread(target=lambda: answer.append(_save(c, "5")))
        worker.start()
        try:
            assert asked.wait(GUARD_SECONDS)
            first.commit()
        finally:
            first.close()
            worker.join(GUARD_SECONDS)
        assert answer[0].status_code == 409
        assert re.search(r'class="theirs">4<', answer[0].text)
        assert (_stored(eng).value, _stored(eng).version) == (4, 1)


def test_committed_save_answers_200_even_if_database_fails_after_commit(engine, monkeypatch):
    # Once the save is committed, the answer needs nothing more from the database: here any
    # later connection request fails (as when the pool is exhausted), and the answer is still 200.
    with private_copy(engine) as eng:
        c = _sign_in(_client(monkeypatch, eng))
        state = {"armed": False, "committed": False}

        def on_commit(_conn) -> None:
            if state["armed"]:
                state["committed"] = True

        def on_checkout(*_args) -> None:
            if state["committed"]:
                raise sa_exc.TimeoutError("no connection after the commit (simulated)")

        event.listen(eng, "commit", on_commit)
        event.listen(eng.pool, "checkout", on_checkout)
        state["armed"] = True
        try:
            r = _save(c, "3")
        finally:
            state.update(armed=False, committed=False)
            event.remove(eng.pool, "checkout", on_checkout)
            event.remove(eng, "commit", on_commit)
        assert r.status_code == 200
        assert "Đã lưu" in r.text and 'name="CT17.version" value="1"' in r.text
        assert _stored(eng).value == 3


def test_pool_exhausted_answers_503_quickly_with_retry_after(engine, monkeypatch):
    with private_copy(engine) as copy:
        with Session(copy) as s:
            secret = make_token(s, "15", mode="read")
        small = create_engine(copy.url.render_as_string(hide_password=False), pool_size=1,
                              max_overflow=0, pool_timeout=0.1,
                              **({"connect_args": {"check_same_thread": False}}
                                 if copy.dialect.name == "sqlite" else {}))
        c = _client(monkeypatch, small)
        held = small.connect()  # the only connection, taken
        try:
            r = c.get("/api/v1/data-values", headers={"Authorization": f"Bearer {secret}"})
        finally:
            held.close()
            small.dispose()
        assert r.status_code == 503
        assert r.headers["Retry-After"] == "2"
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["detail"].startswith("Hệ thống đang bận")
