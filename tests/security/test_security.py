"""Security: CSRF, sessions, sign-in lockout and rate limit, headers, tokens, production start."""
from datetime import timedelta

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import select
from starlette.middleware.sessions import SessionMiddleware

from app.accounts import protection, service
from app.accounts.demo import DEMO_PASSWORD
from app.accounts.deps import ApiCaller, Principal
from app.accounts.models import ApiToken, User
from app.accounts.security import hash_password, new_api_token
from app.accounts.startup import InsecureStartup, check_production_accounts
from app.core.config import Settings
from app.core.time import utcnow
from app.units.models import Unit

NEW_PASSWORD = "Xuân Long 2023!"
WRONG = "not-the-password"


class Clock:
    """A settable clock for the sign-in rules: time moves only when the test says so."""

    def __init__(self) -> None:
        self.now = utcnow()

    def utcnow(self):
        return self.now

    def advance(self, **kw) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(service, "clock", c)
    return c


def _user(db, username: str) -> User:
    return db.exec(select(User).where(User.username == username)).one()


def _unit(db, code: str) -> Unit:
    return db.exec(select(Unit).where(Unit.code == code)).one()


def _page_csrf(c: TestClient) -> str:
    import re

    return re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)


def _try_login(c: TestClient, username: str, password: str):
    return c.post("/login", data={"username": username, "password": password, "csrf_token": _page_csrf(c)})


def _alert(html: str) -> str:
    start = html.index('class="alert error"')
    return html[start:html.index("</div>", start)]


# --- CSRF ------------------------------------------------------------------------------------

def test_post_form_without_csrf_token_rejected(login, db):
    c = login("xa.nhaplieu")
    del c.headers["X-CSRF-Token"]
    r = c.post("/account/password", data={"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD,
                                          "confirm_password": NEW_PASSWORD})
    assert r.status_code == 403
    db.expire_all()
    assert service.verify_password(DEMO_PASSWORD, _user(db, "xa.nhaplieu").password_hash)


def test_post_form_with_wrong_csrf_token_rejected(login):
    c = login("xa.nhaplieu")
    del c.headers["X-CSRF-Token"]
    r = c.post("/account/password", data={"csrf_token": "forged", "current_password": DEMO_PASSWORD,
                                          "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert r.status_code == 403


def test_htmx_request_with_wrong_csrf_header_rejected(login):
    c = login("xa.quantri")
    r = c.post("/logout", headers={"HX-Request": "true", "X-CSRF-Token": "forged"})
    assert r.status_code == 403
    assert c.get("/account").status_code == 200  # still signed in: the forged sign-out did nothing


def test_login_form_without_csrf_token_rejected(client):
    client.get("/login")
    r = client.post("/login", data={"username": "xa.xem", "password": DEMO_PASSWORD})
    assert r.status_code == 403


def _api_app(db) -> FastAPI:
    """A minimal app: the real session middleware and sign-in, plus one unsafe API route."""
    from app.accounts import pages
    from app.core import problems
    from app.core.db import get_session

    mini = FastAPI()
    problems.install(mini)
    api = APIRouter()

    @api.post("/api/v1/echo")
    def echo(principal: ApiCaller) -> dict:
        return {"role": principal.role}

    mini.include_router(api)
    mini.include_router(pages.router)
    mini.add_middleware(SessionMiddleware, secret_key="k", session_cookie="mttq_session", same_site="lax")

    def _session():
        yield db

    mini.dependency_overrides[get_session] = _session
    return mini


def test_api_call_with_session_cookie_without_csrf_header_rejected(db):
    with TestClient(_api_app(db), follow_redirects=False) as c:
        assert _try_login(c, "xa.nhaplieu", DEMO_PASSWORD).status_code == 303
        r = c.post("/api/v1/echo")
        assert r.status_code == 403
        assert r.headers["content-type"].startswith("application/problem+json")


def test_api_call_with_session_cookie_and_csrf_header_accepted(db):
    import re

    with TestClient(_api_app(db), follow_redirects=False) as c:
        assert _try_login(c, "xa.nhaplieu", DEMO_PASSWORD).status_code == 303
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/account").text)
        r = c.post("/api/v1/echo", headers={"X-CSRF-Token": token.group(1)} if token else {})
        assert r.status_code == 200 and r.json() == {"role": "editor"}


# --- sessions --------------------------------------------------------------------------------

def test_sign_in_rotates_session_and_csrf_token(client):
    before = _page_csrf(client)
    cookie_before = client.cookies.get("mttq_session")
    r = client.post("/login", data={"username": "xa.xem", "password": DEMO_PASSWORD, "csrf_token": before})
    assert r.status_code == 303
    assert client.cookies.get("mttq_session") != cookie_before
    # The token from before sign-in no longer passes.
    r = client.post("/logout", data={"csrf_token": before})
    assert r.status_code == 403


def test_session_cookie_http_only_same_site_lax(client):
    r = client.post("/login", data={"username": "xa.xem", "password": DEMO_PASSWORD, "csrf_token": _page_csrf(client)})
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_production_session_cookie_secure_and_hsts(db, monkeypatch):
    from app.core.config import settings
    from app.core.db import get_session
    from app.main import create_app

    monkeypatch.setattr(settings, "ENVIRONMENT", "production")
    prod = create_app(run_startup=False)
    prod.dependency_overrides[get_session] = lambda: (yield db)
    with TestClient(prod, base_url="https://testserver", follow_redirects=False) as c:
        r = c.post("/login", data={"username": "xa.xem", "password": DEMO_PASSWORD, "csrf_token": _page_csrf(c)})
    assert r.status_code == 303
    cookie = r.headers["set-cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert r.headers["strict-transport-security"].startswith("max-age=")


def test_change_password_ends_other_sessions(login):
    phone = login("xa.nhaplieu")
    desk = login("xa.nhaplieu")
    r = desk.post("/account/password", data={"csrf_token": desk.headers["X-CSRF-Token"],
                                             "current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD,
                                             "confirm_password": NEW_PASSWORD})
    assert r.status_code == 303
    assert desk.get("/account").status_code == 200
    r = phone.get("/account")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_session_ends_twelve_hours_after_sign_in(login, monkeypatch):
    from app.accounts import deps

    c = login("xa.xem")
    start = utcnow()
    # Active every 4 hours (inside the 8-hour idle limit), yet the 12th hour ends it.
    for hours in (4, 8, 11.98):
        monkeypatch.setattr(deps, "utcnow", lambda h=hours: start + timedelta(hours=h))
        assert c.get("/account").status_code == 200
    monkeypatch.setattr(deps, "utcnow", lambda: start + timedelta(hours=12, minutes=1))
    r = c.get("/account")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_sign_out_ends_session(login):
    c = login("xa.xem")
    assert c.post("/logout").status_code == 303
    assert c.get("/account").status_code == 303


def test_login_redirect_ignores_foreign_next(client):
    r = client.post("/login", data={"username": "xa.xem", "password": DEMO_PASSWORD, "next": "//evil.example/x",
                                    "csrf_token": _page_csrf(client)})
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_page_anonymous_redirects_to_login_with_next(client):
    r = client.get("/account?x=1&y=2")
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/account%3Fx%3D1%26y%3D2"


# --- lockout ---------------------------------------------------------------------------------

def _fail(c, clock: Clock, n: int, username: str = "xa.xem") -> None:
    """n wrong passwords in a row, waiting out each short pause so every one counts."""
    for _ in range(n):
        assert _try_login(c, username, WRONG).status_code == 400
        clock.advance(seconds=31)


def test_five_failures_lock_account(client, db, clock):
    _fail(client, clock, 4)
    db.expire_all()
    assert _user(db, "xa.xem").failed_logins == 4
    assert _try_login(client, "xa.xem", WRONG).status_code == 400
    db.expire_all()
    user = _user(db, "xa.xem")
    # Locked 15 minutes from the 5th failure (the clock stood still since).
    assert user.locked_until == clock.now + timedelta(minutes=15)


def test_locked_account_refuses_correct_password(client, clock):
    _fail(client, clock, 5)
    r = _try_login(client, "xa.xem", DEMO_PASSWORD)
    assert r.status_code == 400
    assert "Sai tên đăng nhập hoặc mật khẩu." in r.text


def test_failures_during_lock_do_not_extend_it(client, db, clock):
    _fail(client, clock, 5)
    db.expire_all()
    until = _user(db, "xa.xem").locked_until
    clock.advance(minutes=10)
    _fail(client, clock, 6)  # 6 more wrong guesses inside the lock (3 more minutes pass)
    db.expire_all()
    assert _user(db, "xa.xem").locked_until == until


def test_lock_ends_after_fifteen_minutes(client, db, clock):
    _fail(client, clock, 5)
    clock.advance(minutes=15)
    r = _try_login(client, "xa.xem", DEMO_PASSWORD)
    assert r.status_code == 303
    db.expire_all()
    user = _user(db, "xa.xem")
    assert user.failed_logins == 0 and user.locked_until is None


def test_third_failure_pauses_sign_in(client, clock):
    for _ in range(3):
        _try_login(client, "xa.xem", WRONG)
    # Within the 5-second pause even the right password is refused…
    assert _try_login(client, "xa.xem", DEMO_PASSWORD).status_code == 400
    clock.advance(seconds=6)
    # …and after it, it works.
    assert _try_login(client, "xa.xem", DEMO_PASSWORD).status_code == 303


def test_success_resets_failure_count(client, db, clock):
    _fail(client, clock, 2)
    assert _try_login(client, "xa.xem", DEMO_PASSWORD).status_code == 303
    db.expire_all()
    assert _user(db, "xa.xem").failed_logins == 0


def test_lockout_message_same_as_unknown_user(client, clock):
    _fail(client, clock, 5)
    locked = _try_login(client, "xa.xem", DEMO_PASSWORD)
    unknown = _try_login(client, "khong.ton.tai", DEMO_PASSWORD)
    wrong = _try_login(client, "xa.nhaplieu", WRONG)
    assert locked.status_code == unknown.status_code == wrong.status_code == 400
    assert _alert(locked.text) == _alert(unknown.text) == _alert(wrong.text)


def test_admin_reset_lifts_lock(login, client, db, clock):
    _fail(client, clock, 5)
    admin = login("xa.quantri")
    uid = _user(db, "xa.xem").id
    r = admin.post(f"/admin/users/{uid}/password", data={"csrf_token": admin.headers["X-CSRF-Token"]})
    assert r.status_code == 200
    db.expire_all()
    assert _user(db, "xa.xem").locked_until is None


def test_disabled_user_cannot_sign_in(client, db):
    user = _user(db, "xa.xem")
    user.is_active = False
    db.add(user)
    db.commit()
    assert _try_login(client, "xa.xem", DEMO_PASSWORD).status_code == 400


def test_rehash_on_login_when_parameters_changed(client, db):
    from argon2 import PasswordHasher

    user = _user(db, "xa.xem")
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(DEMO_PASSWORD)
    db.add(user)
    db.commit()
    assert _try_login(client, "xa.xem", DEMO_PASSWORD).status_code == 303
    db.expire_all()
    assert not service.needs_rehash(_user(db, "xa.xem").password_hash)


@pytest.fixture
def address_limit(monkeypatch):
    """The per-address limit switched on, its clock held still (one window for the test)."""
    now = utcnow()
    monkeypatch.setattr(protection, "LIMIT_ENABLED", True)
    monkeypatch.setattr(protection, "utcnow", lambda: now)
    return protection.LOGIN_LIMIT


def test_login_rate_limit_per_address(client, address_limit):
    assert (protection.LOGIN_LIMIT, protection.LOGIN_WINDOW) == (20, 60)  # the default: 20 a minute
    statuses = [_try_login(client, f"nobody{i}", WRONG).status_code for i in range(address_limit)]
    r = _try_login(client, "nobody", WRONG)
    assert statuses == [400] * 20
    assert r.status_code == 429
    assert "Có quá nhiều lần đăng nhập từ địa chỉ này." in r.text and "Quá nhiều lần thử" in r.text
    assert r.headers["retry-after"] == "60"


def test_login_rate_limit_refuses_even_right_password_when_reached(client, address_limit):
    for i in range(address_limit):
        _try_login(client, f"nobody{i}", WRONG)
    r = _try_login(client, "xa.xem", DEMO_PASSWORD)
    assert r.status_code == 429


def test_login_rate_limit_counts_successful_sign_ins_too(client, address_limit):
    statuses = [_try_login(TestClient(client.app, follow_redirects=False), "xa.xem", DEMO_PASSWORD).status_code
                for _ in range(address_limit + 1)]
    assert statuses == [303] * 20 + [429]


def test_login_rate_limit_count_stored_in_database(client, db, address_limit):
    from app.accounts.models import RateCounter

    for i in range(3):
        _try_login(client, f"nobody{i}", WRONG)
    row = db.get(RateCounter, "login:testclient")
    assert row is not None and row.hits == 3


# --- headers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/login", "/api/v1/me", "/static/app.css", "/no-such-page"])
def test_security_headers_on_every_response(client, path):
    r = client.get(path)
    assert r.headers["content-security-policy"] == protection.CSP
    assert "script-src 'self';" in r.headers["content-security-policy"]
    assert "unsafe-inline" not in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "same-origin"


def test_docs_page_has_its_own_relaxed_policy(client):
    r = client.get("/docs")
    assert r.status_code == 200
    assert r.headers["content-security-policy"] == protection.DOCS_CSP
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


# --- API tokens ------------------------------------------------------------------------------

def _token(db, mode: str = "read", **fields) -> tuple[ApiToken, str]:
    secret, digest = new_api_token()
    fields.setdefault("expires_at", utcnow() + timedelta(days=1))
    token = ApiToken(name="t", unit_id=_unit(db, "04720").id, mode=mode, token_hash=digest,
                     prefix=secret[:12], **fields)
    db.add(token)
    db.commit()
    return token, secret


def test_token_valid_accepted_and_last_used_recorded(client, db):
    token, secret = _token(db)
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 200
    db.refresh(token)
    assert token.last_used_at is not None


def test_token_expired_unauthorized(client, db):
    _token_row, secret = _token(db, expires_at=utcnow() - timedelta(seconds=1))
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == 401


def test_token_revoked_unauthorized(client, db):
    _token_row, secret = _token(db, revoked_at=utcnow())
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 401


def test_token_revoked_through_admin_page_stops_working(login, client, db):
    token, secret = _token(db)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    admin = login("huyen.quantri")
    r = admin.post(f"/admin/tokens/{token.id}/revoke", data={"csrf_token": admin.headers["X-CSRF-Token"]})
    assert r.status_code == 303
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_token_unknown_unauthorized(client):
    r = client.get("/api/v1/me", headers={"Authorization": "Bearer mttq_not-a-real-token"})
    assert r.status_code == 401


def test_token_does_not_open_pages(client, db):
    _token_row, secret = _token(db, mode="write")
    r = client.get("/account", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


# --- the scope rule --------------------------------------------------------------------------

def test_principal_editor_writes_own_unit_and_below_only(db):
    user = _user(db, "xa.nhaplieu")
    p = Principal(unit=_unit(db, "04720"), role="editor", via="web", user=user)
    assert p.can_write(_unit(db, "04720")) and p.can_write(_unit(db, "04720-01"))
    assert not p.can_write(_unit(db, "141")) and not p.can_read(_unit(db, "141"))
    user.can_edit_below = False
    assert p.can_write(_unit(db, "04720")) and not p.can_write(_unit(db, "04720-01"))


def test_principal_viewer_reads_subtree_writes_nothing(db):
    p = Principal(unit=_unit(db, "141"), role="viewer", via="web", user=_user(db, "huyen.xem"))
    assert p.can_read(_unit(db, "04720")) and not p.can_write(_unit(db, "141"))
    assert not p.can_write(_unit(db, "04720"))


def test_principal_token_never_administers(db):
    token, _secret = _token(db, mode="write")
    p = Principal(unit=_unit(db, "04720"), role="token", via="api", token=token, token_writes=True)
    assert p.can_write(_unit(db, "04720-01")) and not p.can_admin(_unit(db, "04720"))


# --- production start ------------------------------------------------------------------------

def test_production_refuses_default_secret_key():
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(ENVIRONMENT="production", SECRET_KEY="changethis", SEED_DEMO_USERS=False)


def test_production_refuses_seeding_demo_users():
    with pytest.raises(ValidationError, match="SEED_DEMO_USERS"):
        Settings(ENVIRONMENT="production", SECRET_KEY="s3cret-production-key", SEED_DEMO_USERS=True)


def test_production_refuses_active_demo_accounts(db):
    with pytest.raises(InsecureStartup, match="tinh.quantri"):
        check_production_accounts(db, environment="production")


def test_production_refuses_demo_password_on_non_demo_account(db):
    other = hash_password("a-real-password-2023")
    for user in db.exec(select(User).where(User.is_demo == True)).all():  # noqa: E712
        user.is_demo = False
        if user.username != "tinh.quantri":
            user.password_hash = other
        db.add(user)
    db.commit()
    # tinh.quantri lost its demo flag but still opens with the demo password.
    with pytest.raises(InsecureStartup) as e:
        check_production_accounts(db, environment="production")
    assert "tinh.quantri" in str(e.value) and "xa.xem" not in str(e.value)


def test_production_starts_without_demo_accounts(db):
    for user in db.exec(select(User).where(User.is_demo == True)).all():  # noqa: E712
        user.is_active = False
        db.add(user)
    db.commit()
    check_production_accounts(db, environment="production")  # raises nothing


def test_app_start_refused_in_production_with_demo_accounts(engine, monkeypatch):
    from app.accounts import startup
    from app.main import create_app

    monkeypatch.setattr(startup.settings, "ENVIRONMENT", "production")
    # TestClient runs the start-up: migrate, seed if empty, check accounts.
    with pytest.raises(InsecureStartup), TestClient(create_app()):
        pass


def test_local_mode_allows_demo_accounts(db):
    check_production_accounts(db, environment="local")
