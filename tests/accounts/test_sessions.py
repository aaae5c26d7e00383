"""Server-side sessions: a row per sign-in, ended at once by sign-out and account changes;
the forced change of a temporary password."""
import hashlib
import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import select

from app.accounts.demo import DEMO_PASSWORD
from app.accounts.models import User, UserSession
from app.core.time import utcnow

NEW_PASSWORD = "Xuân Long 2023!"
COOKIE = "mttq_session"


def _user(db, username: str) -> User:
    return db.exec(select(User).where(User.username == username)).one()


def _replay(app, cookie: str) -> TestClient:
    """A different browser holding a copy of the cookie."""
    c = TestClient(app, base_url="http://testserver", follow_redirects=False)
    c.cookies.set(COOKIE, cookie)
    return c


def _post(c: TestClient, url: str, data: dict | None = None):
    return c.post(url, data={"csrf_token": c.headers["X-CSRF-Token"], **(data or {})})


def _live(db, username: str) -> list[UserSession]:
    db.expire_all()
    uid = _user(db, username).id
    return list(db.exec(select(UserSession).where(UserSession.user_id == uid,
                                                  UserSession.ended_at.is_(None))).all())


def _signed_out(r) -> bool:
    return r.status_code == 303 and r.headers["location"].startswith("/login")


# --- the row ---------------------------------------------------------------------------------

def test_sign_in_creates_session_row_with_hashed_id(login, db):
    c = login("xa.xem")
    rows = _live(db, "xa.xem")
    assert len(rows) == 1
    # The cookie's id is nowhere in the table; its SHA-256 is.
    cookie = c.cookies.get(COOKIE)
    assert cookie not in {r.id_hash for r in rows}
    import base64
    import json

    from app.main import app as fastapi_app  # noqa: F401  (the signed cookie's payload)

    payload = json.loads(base64.b64decode(cookie.split(".")[0] + "=="))
    assert rows[0].id_hash == hashlib.sha256(payload["sid"].encode()).hexdigest()


def test_replayed_cookie_after_sign_out_refused(app, login, db):
    c = login("xa.xem")
    copied = c.cookies.get(COOKIE)
    assert _replay(app, copied).get("/dashboard").status_code == 200
    assert _post(c, "/logout").status_code == 303
    thief = _replay(app, copied)
    assert _signed_out(thief.get("/dashboard"))
    r = thief.get("/api/v1/me")
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    assert _live(db, "xa.xem") == []


def test_session_activity_keeps_it_past_idle_limit(login, monkeypatch):
    from app.accounts import deps

    c = login("xa.xem")
    start = utcnow()
    monkeypatch.setattr(deps, "utcnow", lambda: start + timedelta(hours=4))
    assert c.get("/account").status_code == 200  # 4 h idle: on, and last seen now
    monkeypatch.setattr(deps, "utcnow", lambda: start + timedelta(hours=11, minutes=59))
    assert c.get("/account").status_code == 200  # 7 h 59 min after the last request


def test_session_idle_eight_hours_ends_it(login, monkeypatch):
    from app.accounts import deps

    c = login("xa.xem")
    start = utcnow()
    monkeypatch.setattr(deps, "utcnow", lambda: start + timedelta(hours=8, minutes=1))
    assert _signed_out(c.get("/account"))


def test_idle_and_absolute_limits_are_settings(login, monkeypatch):
    from app.accounts import deps
    from app.core.config import settings

    monkeypatch.setattr(settings, "SESSION_IDLE_MINUTES", 30)
    c = login("xa.xem")
    start = utcnow()
    monkeypatch.setattr(deps, "utcnow", lambda: start + timedelta(minutes=29))
    assert c.get("/account").status_code == 200
    monkeypatch.setattr(deps, "utcnow", lambda: start + timedelta(minutes=60))
    assert _signed_out(c.get("/account"))  # 31 minutes after the last request


# --- what ends sessions ----------------------------------------------------------------------

def test_password_change_ends_every_other_session(app, login, db):
    phone = login("xa.nhaplieu")
    desk = login("xa.nhaplieu")
    r = _post(desk, "/account/password", {"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD,
                                          "confirm_password": NEW_PASSWORD})
    assert r.status_code == 303
    assert desk.get("/account").status_code == 200
    assert _signed_out(phone.get("/account"))
    assert len(_live(db, "xa.nhaplieu")) == 1


def test_role_change_by_admin_ends_sessions(login, db):
    victim = login("xa.nhaplieu")
    admin = login("huyen.quantri")
    uid = _user(db, "xa.nhaplieu").id
    r = _post(admin, f"/admin/users/{uid}/access", {"new_role": "viewer", "new_unit_code": "04720",
                                                     "new_can_edit_below": "true"})
    assert r.status_code == 303 and r.headers["location"] == "/admin/users?done=access"
    assert _signed_out(victim.get("/entry"))
    db.expire_all()
    assert _user(db, "xa.nhaplieu").role == "viewer"
    assert _live(db, "xa.nhaplieu") == []


def test_unit_change_by_admin_ends_sessions(login, db):
    victim = login("xa.xem")
    admin = login("huyen.quantri")
    uid = _user(db, "xa.xem").id
    sibling = db.exec(select(User.unit_id).where(User.username == "xa.xem")).one()
    from app.units.models import Unit

    commune = db.get(Unit, sibling)
    other = db.exec(select(Unit).where(Unit.parent_id == commune.parent_id, Unit.id != commune.id)).first()
    r = _post(admin, f"/admin/users/{uid}/access", {"new_role": "viewer", "new_unit_code": other.code})
    assert r.status_code == 303
    assert _signed_out(victim.get("/dashboard"))
    db.expire_all()
    assert _user(db, "xa.xem").unit_id == other.id


def test_access_change_outside_subtree_refused_and_sessions_kept(login, db):
    victim = login("xa.xem")
    admin = login("huyen.quantri")
    uid = _user(db, "xa.xem").id
    r = _post(admin, f"/admin/users/{uid}/access", {"new_role": "admin", "new_unit_code": "15"})
    assert r.status_code == 400
    assert "Không có đơn vị mã “15” trong phạm vi của bạn." in r.text
    assert victim.get("/dashboard").status_code == 200
    db.expire_all()
    assert _user(db, "xa.xem").role == "viewer"


def test_disable_ends_sessions_at_once(login, db):
    victim = login("xa.xem")
    admin = login("huyen.quantri")
    uid = _user(db, "xa.xem").id
    assert _post(admin, f"/admin/users/{uid}/active", {"active": "false"}).status_code == 303
    assert _live(db, "xa.xem") == []
    assert _signed_out(victim.get("/dashboard"))


def test_admin_signs_user_out_everywhere(login, db):
    phone, desk = login("xa.xem"), login("xa.xem")
    admin = login("xa.quantri")
    uid = _user(db, "xa.xem").id
    r = _post(admin, f"/admin/users/{uid}/sessions/end")
    assert r.status_code == 303 and r.headers["location"] == "/admin/users?done=signed_out"
    assert _signed_out(phone.get("/dashboard")) and _signed_out(desk.get("/dashboard"))
    assert admin.get("/admin/users").status_code == 200  # the administrator's own session lives on


def test_admin_of_other_district_cannot_sign_user_out(login, db):
    victim = login("xa.xem")
    admin = login("huyen.quantri")
    from app.units.models import Unit

    stranger = db.exec(select(User).join(Unit, Unit.id == User.unit_id).where(Unit.code == "15")).first()
    r = _post(admin, f"/admin/users/{stranger.id}/sessions/end")
    assert r.status_code == 404
    assert victim.get("/dashboard").status_code == 200


def test_user_signs_out_everywhere(login, db):
    phone, desk = login("xa.xem"), login("xa.xem")
    r = _post(desk, "/account/sessions/end-all")
    assert r.status_code == 303
    assert _signed_out(phone.get("/dashboard")) and _signed_out(desk.get("/dashboard"))
    assert _live(db, "xa.xem") == []


def test_account_lists_sessions_and_ends_one(login, db):
    phone = login("xa.xem")
    phone.headers["User-Agent"] = "Mozilla/5.0 (Linux; Android 13) Chrome/120.0 Mobile Safari/537.36"
    desk = TestClient(phone.app, base_url="http://testserver", follow_redirects=False,
                      headers={"User-Agent": "Mozilla/5.0 (Windows NT 10.0) Firefox/121.0"})
    from tests.conftest import _login

    _login(desk, "xa.xem")
    page = desk.get("/account").text
    assert "Firefox · Windows" in page and "Thiết bị này" in page
    phone_row = [r for r in _live(db, "xa.xem") if "Firefox" not in r.device][0]
    r = _post(desk, f"/account/sessions/{phone_row.id}/end")
    assert r.status_code == 303 and r.headers["location"] == "/account?ended=1#sessions"
    assert _signed_out(phone.get("/dashboard"))
    assert desk.get("/dashboard").status_code == 200
    desk.close()


def test_ending_another_users_session_changes_nothing(login, db):
    victim = login("xa.nhaplieu")
    other = login("xa.xem")
    row = _live(db, "xa.nhaplieu")[0]
    r = _post(other, f"/account/sessions/{row.id}/end")
    assert r.status_code == 303
    assert victim.get("/dashboard").status_code == 200
    assert len(_live(db, "xa.nhaplieu")) == 1


def test_sign_in_again_ends_previous_session_of_that_browser(login, db):
    c = login("xa.xem")
    assert _post(c, "/login", {"username": "xa.xem", "password": DEMO_PASSWORD}).status_code == 303
    assert len(_live(db, "xa.xem")) == 1


# --- forced password change ------------------------------------------------------------------

def _new_user_with_temp_password(login) -> tuple[TestClient, str]:
    admin = login("tinh.quantri")
    r = _post(admin, "/admin/users", {"username": "moi.nhaplieu", "full_name": "Người mới", "unit_code": "04720",
                                      "role": "editor"})
    return admin, re.search(r'class="secret" value="([^"]+)"', r.text).group(1)


def test_temporary_password_every_page_answers_change_form(login):
    _admin, temp = _new_user_with_temp_password(login)
    c = login("moi.nhaplieu", temp)
    for path in ("/dashboard", "/entry", "/tasks", "/reports", "/admin/users", "/entry/04720/2023-04"):
        r = c.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/account?first=1", path
    page = c.get("/account?first=1")
    assert page.status_code == 200 and "Bạn đang dùng mật khẩu tạm thời." in page.text
    r = c.get("/tasks", headers={"HX-Request": "true"})
    assert r.headers["HX-Redirect"] == "/account?first=1"


def test_temporary_password_cannot_save_figures(login, db):
    from app.values.models import DataValue

    _admin, temp = _new_user_with_temp_password(login)
    c = login("moi.nhaplieu", temp)
    before = db.exec(select(DataValue)).all()
    r = _post(c, "/entry/04720/2023-04", {"CT17.value": "3"})
    assert r.status_code == 303 and r.headers["location"] == "/account?first=1"
    r = c.post("/api/v1/data-values", json={"dataValues": [
        {"orgUnit": "04720", "dataElement": "CT17", "period": "2023-04", "value": 3}]})
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["title"] == "Password change required"
    assert c.get("/api/v1/me").status_code == 403
    db.expire_all()
    assert db.exec(select(DataValue)).all() == before


def test_temporary_password_changed_then_pages_open(login):
    _admin, temp = _new_user_with_temp_password(login)
    c = login("moi.nhaplieu", temp)
    r = _post(c, "/account/password", {"current_password": temp, "new_password": NEW_PASSWORD,
                                       "confirm_password": NEW_PASSWORD})
    assert r.status_code == 303
    assert c.get("/dashboard").status_code == 200
    assert c.get("/api/v1/me").status_code == 200


def test_temporary_password_may_sign_out(login, db):
    _admin, temp = _new_user_with_temp_password(login)
    c = login("moi.nhaplieu", temp)
    assert _post(c, "/logout").status_code == 303
    assert _live(db, "moi.nhaplieu") == []
