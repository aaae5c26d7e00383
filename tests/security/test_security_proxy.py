"""Behind a reverse proxy: the forwarded client address is believed only from a proxy listed
in TRUSTED_PROXIES, so clients behind the proxy each get their own sign-in limit and nobody
else can pick an address by sending X-Forwarded-For."""
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.accounts import protection
from app.accounts.demo import DEMO_PASSWORD
from app.accounts.models import RateCounter, User, UserSession
from app.core.time import utcnow

PROXY = "10.0.0.1"


@pytest.fixture
def behind_proxy(db, monkeypatch) -> Callable[[str], TestClient]:
    """A client factory for an app that trusts PROXY, per-address limit on, clock still."""
    from app.core.config import settings
    from app.core.db import get_session
    from app.main import create_app

    monkeypatch.setattr(settings, "TRUSTED_PROXIES", PROXY)
    now = utcnow()
    monkeypatch.setattr(protection, "LIMIT_ENABLED", True)
    monkeypatch.setattr(protection, "utcnow", lambda: now)
    app = create_app(run_startup=False)
    app.dependency_overrides[get_session] = lambda: (yield db)
    clients: list[TestClient] = []

    def make(peer: str) -> TestClient:
        c = TestClient(app, follow_redirects=False, client=(peer, 40000))
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


def _attempt(c: TestClient, forwarded: str | None, username: str = "nobody", password: str = "wrong"):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login", headers=headers).text).group(1)
    return c.post("/login", data={"username": username, "password": password, "csrf_token": token},
                  headers=headers)


def test_trusted_proxy_forwarded_address_counted(behind_proxy, db):
    c = behind_proxy(PROXY)
    _attempt(c, "203.0.113.5")
    _attempt(c, "203.0.113.5")
    _attempt(c, "203.0.113.6")
    assert db.get(RateCounter, "login:203.0.113.5").hits == 2
    assert db.get(RateCounter, "login:203.0.113.6").hits == 1
    assert db.get(RateCounter, f"login:{PROXY}") is None


def test_clients_behind_proxy_have_their_own_limit(behind_proxy):
    c = behind_proxy(PROXY)
    statuses = [_attempt(c, "203.0.113.5").status_code for _ in range(protection.LOGIN_LIMIT + 1)]
    assert statuses == [400] * protection.LOGIN_LIMIT + [429]
    assert _attempt(c, "203.0.113.6").status_code == 400  # a colleague behind the same proxy


def test_untrusted_peer_cannot_choose_its_address(behind_proxy, db):
    c = behind_proxy("198.51.100.7")
    statuses = [_attempt(c, f"203.0.113.{i}").status_code for i in range(protection.LOGIN_LIMIT + 1)]
    assert statuses[-1] == 429  # a new forwarded address each time did not help
    assert db.get(RateCounter, "login:198.51.100.7").hits == protection.LOGIN_LIMIT + 1
    assert db.exec(select(RateCounter).where(RateCounter.key.like("login:203.0.113.%"))).all() == []


def test_session_records_forwarded_address(behind_proxy, db):
    c = behind_proxy(PROXY)
    assert _attempt(c, "203.0.113.5", "xa.xem", DEMO_PASSWORD).status_code == 303
    uid = db.exec(select(User.id).where(User.username == "xa.xem")).one()
    row = db.exec(select(UserSession).where(UserSession.user_id == uid)).one()
    assert row.address == "203.0.113.5"


def test_no_trusted_proxy_by_default():
    from app.core.config import Settings

    assert Settings().TRUSTED_PROXIES == ""
