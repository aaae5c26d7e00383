"""Accounts: own password, administrators' users and tokens pages, /api/v1/me."""
import re
from datetime import UTC, datetime, time, timedelta

from sqlmodel import select

from app.accounts import service
from app.accounts.demo import DEMO_PASSWORD
from app.accounts.models import ApiToken, User
from app.accounts.security import hash_api_token, verify_password
from app.core.time import today_vn
from app.units.models import Unit

NEW_PASSWORD = "Xuân Long 2023!"


def _csrf(c) -> str:
    return c.headers["X-CSRF-Token"]


def _form(c, url: str, data: dict):
    return c.post(url, data={**data, "csrf_token": _csrf(c)})


def _user(db, username: str) -> User:
    return db.exec(select(User).where(User.username == username)).one()


def _unit(db, code: str) -> Unit:
    return db.exec(select(Unit).where(Unit.code == code)).one()


def _shown_secret(html: str) -> str:
    m = re.search(r'class="secret" value="([^"]+)"', html)
    assert m, "no secret on the page"
    return m.group(1)


def _later(days: int = 30) -> str:
    return (today_vn() + timedelta(days=days)).isoformat()


# --- own account -----------------------------------------------------------------------------

def test_show_account_page_own_profile(login):
    c = login("xa.nhaplieu")
    r = c.get("/account")
    assert r.status_code == 200
    assert "xa.nhaplieu" in r.text and "Xuân Long" in r.text and "Cán bộ nhập liệu" in r.text


def test_change_password_with_current_password(login, db):
    c = login("xa.nhaplieu")
    r = _form(c, "/account/password", {"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD,
                                       "confirm_password": NEW_PASSWORD})
    assert r.status_code == 303 and r.headers["location"] == "/account?changed=1"
    db.expire_all()
    assert verify_password(NEW_PASSWORD, _user(db, "xa.nhaplieu").password_hash)
    # This browser stays signed in.
    assert c.get("/account").status_code == 200


def test_change_password_wrong_current_refused(login, db):
    c = login("xa.nhaplieu")
    r = _form(c, "/account/password", {"current_password": "wrong-password", "new_password": NEW_PASSWORD,
                                       "confirm_password": NEW_PASSWORD})
    assert r.status_code == 400
    assert "Mật khẩu hiện tại không đúng." in r.text
    db.expire_all()
    assert verify_password(DEMO_PASSWORD, _user(db, "xa.nhaplieu").password_hash)


def test_change_password_too_short_refused(login):
    c = login("xa.nhaplieu")
    r = _form(c, "/account/password", {"current_password": DEMO_PASSWORD, "new_password": "short12345"[:9],
                                       "confirm_password": "short12345"[:9]})
    assert r.status_code == 400
    assert "Mật khẩu mới cần ít nhất 10 ký tự." in r.text


def test_change_password_equal_to_username_refused(login):
    c = login("xa.nhaplieu")
    r = _form(c, "/account/password", {"current_password": DEMO_PASSWORD, "new_password": "XA.NHAPLIEU",
                                       "confirm_password": "XA.NHAPLIEU"})
    assert r.status_code == 400
    assert "Mật khẩu không được trùng tên đăng nhập." in r.text


def test_change_password_confirmation_mismatch_refused(login):
    c = login("xa.nhaplieu")
    r = _form(c, "/account/password", {"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD,
                                       "confirm_password": NEW_PASSWORD + "x"})
    assert r.status_code == 400
    assert "Hai lần nhập mật khẩu mới không khớp nhau." in r.text


# --- users -----------------------------------------------------------------------------------

def test_list_users_district_admin_sees_only_subtree(login):
    c = login("huyen.quantri")
    r = c.get("/admin/users")
    assert r.status_code == 200
    # District 141 and commune 04720 below it: huyen.* and xa.*; never the province's tinh.*.
    assert "huyen.xem" in r.text and "xa.xem" in r.text
    assert "tinh.quantri" not in r.text


def test_open_admin_users_as_editor_forbidden(login):
    c = login("huyen.nhaplieu")
    assert c.get("/admin/users").status_code == 403


def test_create_user_in_subtree_shows_temporary_password_once(login, db):
    c = login("huyen.quantri")
    r = _form(c, "/admin/users", {"username": "xa.ketoan", "full_name": "Kế toán xã Xuân Long",
                                  "unit_code": "04720", "role": "editor", "can_edit_below": "true"})
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    temp = _shown_secret(r.text)
    user = _user(db, "xa.ketoan")
    assert user.role == "editor" and user.unit_id == _unit(db, "04720").id and user.is_active
    assert verify_password(temp, user.password_hash)
    # The list never shows it again.
    assert temp not in c.get("/admin/users").text


def test_create_user_outside_subtree_refused(login, db):
    c = login("huyen.quantri")
    # A commune of another district is outside district 141.
    other = db.exec(select(Unit).where(Unit.depth == 2, ~Unit.path.startswith(_unit(db, "141").path))).first()
    r = _form(c, "/admin/users", {"username": "ngoai.pham.vi", "full_name": "Ngoài phạm vi",
                                  "unit_code": other.code, "role": "admin"})
    assert r.status_code == 400
    assert f"Không có đơn vị mã “{other.code}” trong phạm vi của bạn." in r.text
    assert db.exec(select(User).where(User.username == "ngoai.pham.vi")).first() is None


def test_create_user_above_own_unit_refused(login, db):
    c = login("huyen.quantri")
    r = _form(c, "/admin/users", {"username": "tinh.moi", "full_name": "Cấp tỉnh", "unit_code": "15",
                                  "role": "admin"})
    assert r.status_code == 400
    assert db.exec(select(User).where(User.username == "tinh.moi")).first() is None


def test_create_user_duplicate_username_refused(login):
    c = login("tinh.quantri")
    r = _form(c, "/admin/users", {"username": "xa.xem", "full_name": "Trùng tên", "unit_code": "04720",
                                  "role": "viewer"})
    assert r.status_code == 400
    assert "Tên đăng nhập “xa.xem” đã có người dùng." in r.text


def test_first_sign_in_with_temporary_password_asks_for_new_one(login, client, db):
    admin = login("tinh.quantri")
    r = _form(admin, "/admin/users", {"username": "moi.dung", "full_name": "Người mới", "unit_code": "141",
                                      "role": "viewer"})
    temp = _shown_secret(r.text)
    c = login("moi.dung", temp)  # the fixture asserts the 303
    page = c.get("/account")
    assert "Bạn đang dùng mật khẩu tạm thời." in page.text


def test_disable_user_blocks_sign_in_and_ends_session(login, db):
    victim = login("xa.xem")
    admin = login("huyen.quantri")
    uid = _user(db, "xa.xem").id
    r = _form(admin, f"/admin/users/{uid}/active", {"active": "false"})
    assert r.status_code == 303
    db.expire_all()
    assert _user(db, "xa.xem").is_active is False
    assert victim.get("/account").status_code == 303  # the open session is gone


def test_enable_user_again(login, db):
    admin = login("huyen.quantri")
    user = _user(db, "xa.xem")
    user.is_active = False
    db.add(user)
    db.commit()
    r = _form(admin, f"/admin/users/{user.id}/active", {"active": "true"})
    assert r.status_code == 303
    db.expire_all()
    assert _user(db, "xa.xem").is_active is True


def test_disable_own_account_refused(login, db):
    admin = login("huyen.quantri")
    uid = _user(db, "huyen.quantri").id
    r = _form(admin, f"/admin/users/{uid}/active", {"active": "false"})
    assert r.status_code == 400
    db.expire_all()
    assert _user(db, "huyen.quantri").is_active is True


def test_disable_user_outside_subtree_not_found(login, db):
    admin = login("xa.quantri")
    uid = _user(db, "huyen.xem").id  # district 141 is above commune 04720
    r = _form(admin, f"/admin/users/{uid}/active", {"active": "false"})
    assert r.status_code == 404
    db.expire_all()
    assert _user(db, "huyen.xem").is_active is True


def test_reset_password_outside_subtree_not_found_same_as_missing(login, db):
    admin = login("xa.quantri")
    uid = _user(db, "tinh.quantri").id
    outside = _form(admin, f"/admin/users/{uid}/password", {})
    missing = _form(admin, "/admin/users/987654/password", {})
    assert outside.status_code == 404 and missing.status_code == 404


def test_reset_password_shows_temporary_password_and_ends_sessions(login, db):
    victim = login("xa.nhaplieu")
    admin = login("xa.quantri")
    uid = _user(db, "xa.nhaplieu").id
    r = _form(admin, f"/admin/users/{uid}/password", {})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    temp = _shown_secret(r.text)
    db.expire_all()
    assert verify_password(temp, _user(db, "xa.nhaplieu").password_hash)
    assert victim.get("/account").status_code == 303


# --- tokens ----------------------------------------------------------------------------------

def test_create_token_secret_shown_once_and_stored_hashed(login, db):
    c = login("huyen.quantri")
    r = _form(c, "/admin/tokens", {"name": "Cổng dữ liệu huyện", "unit_code": "04720", "mode": "write",
                                   "expires_on": _later()})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    secret = _shown_secret(r.text)
    assert secret.startswith("mttq_")
    token = db.exec(select(ApiToken).where(ApiToken.name == "Cổng dữ liệu huyện")).one()
    assert token.token_hash == hash_api_token(secret) and secret not in token.token_hash
    assert token.mode == "write" and token.unit_id == _unit(db, "04720").id
    listing = c.get("/admin/tokens").text
    assert token.prefix in listing and secret not in listing


def test_create_token_unit_outside_subtree_refused(login, db):
    c = login("xa.quantri")
    r = _form(c, "/admin/tokens", {"name": "Ngoài phạm vi", "unit_code": "141", "mode": "read",
                                   "expires_on": _later()})
    assert r.status_code == 400
    assert db.exec(select(ApiToken).where(ApiToken.name == "Ngoài phạm vi")).first() is None


def test_create_token_past_expiry_refused(login):
    c = login("tinh.quantri")
    r = _form(c, "/admin/tokens", {"name": "Hết hạn", "unit_code": "15", "mode": "read",
                                   "expires_on": _later(-1)})
    assert r.status_code == 400
    assert "Ngày hết hạn đã qua; hãy chọn ngày sau." in r.text


def test_create_token_expiry_beyond_two_years_refused(login):
    c = login("tinh.quantri")
    r = _form(c, "/admin/tokens", {"name": "Quá dài", "unit_code": "15", "mode": "read",
                                   "expires_on": _later(800)})
    assert r.status_code == 400


def test_revoke_token_outside_subtree_not_found(login, db):
    token, _secret = _make_token(db, "15", "read")
    c = login("xa.quantri")
    assert _form(c, f"/admin/tokens/{token.id}/revoke", {}).status_code == 404
    db.refresh(token)
    assert token.revoked_at is None


def _make_token(db, unit_code: str, mode: str, days: int = 30):
    from app.accounts.deps import Principal

    admin = Principal(unit=_unit(db, "15"), role="admin", via="web", user=_user(db, "tinh.quantri"))
    token, secret = service.create_token(db, admin, name=f"t-{unit_code}-{mode}", unit_code=unit_code,
                                         mode=mode, expires_on=_later(days))
    db.commit()
    return token, secret


# --- /api/v1/me ------------------------------------------------------------------------------

def test_me_with_read_token_reports_unit_and_mode(client, db):
    _token, secret = _make_token(db, "04720", "read")
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 200
    body = r.json()
    assert body["unit"]["code"] == "04720" and body["role"] == "token"
    assert body["token"]["mode"] == "read" and body["can_write_own_unit"] is False


def test_me_with_session_reports_role(login):
    c = login("huyen.nhaplieu")
    r = c.get("/api/v1/me")
    assert r.status_code == 200
    body = r.json()
    assert (body["unit"]["code"], body["role"], body["username"]) == ("141", "editor", "huyen.nhaplieu")
    assert body["can_write_own_unit"] is True


def test_me_anonymous_unauthorized(client):
    r = client.get("/api/v1/me")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["www-authenticate"] == "Bearer"


def test_create_token_expiry_dd_mm_yyyy_lasts_through_that_day(login, db):
    c = login("tinh.quantri")
    day = today_vn() + timedelta(days=10)
    r = _form(c, "/admin/tokens", {"name": "Hạn theo ngày", "unit_code": "15", "mode": "read",
                                   "expires_on": day.strftime("%d/%m/%Y")})
    assert r.status_code == 200
    token = db.exec(select(ApiToken).where(ApiToken.name == "Hạn theo ngày")).one()
    # Vietnam is UTC+7: the end of `day` there is 17:00 UTC on `day`.
    assert token.expires_at.astimezone(UTC) == datetime.combine(day, time(17, 0), UTC)
    assert service.last_day_of_use(token) == day


def test_create_token_unreadable_expiry_refused(login):
    c = login("tinh.quantri")
    r = _form(c, "/admin/tokens", {"name": "Sai ngày", "unit_code": "15", "mode": "read",
                                   "expires_on": "31/02/2030"})
    assert r.status_code == 400
    assert "Hãy viết ngày hết hạn theo dạng ngày/tháng/năm" in r.text


def test_list_users_shows_locked_account(login, db):
    from app.core.time import utcnow

    user = _user(db, "xa.xem")
    user.locked_until = utcnow() + timedelta(minutes=10)
    db.add(user)
    db.commit()
    r = login("xa.quantri").get("/admin/users")
    assert r.status_code == 200
    assert r.text.count("Tạm khóa đăng nhập do nhập sai nhiều lần") == 1


def test_list_users_filtered_by_unit_name(login):
    r = login("tinh.quantri").get("/admin/users", params={"q": "Xuân Long"})
    assert r.status_code == 200
    # Only the three commune accounts (their unit is Xuân Long).
    assert "xa.xem" in r.text and "xa.quantri" in r.text and "huyen.xem" not in r.text


def test_cli_create_admin_prints_temporary_password(engine, capsys):
    from sqlmodel import Session, delete

    from app.accounts import cli

    try:
        assert cli.main(["create-admin", "tinh.quantri2", "--unit", "15", "--name", "Quản trị mới"]) == 0
        temp = capsys.readouterr().out.rsplit(": ", 1)[1].strip()
        with Session(engine) as s:
            user = s.exec(select(User).where(User.username == "tinh.quantri2")).one()
            assert user.role == "admin" and not user.is_demo and verify_password(temp, user.password_hash)
            assert service.must_change_password(user)
    finally:
        with Session(engine) as s:
            s.exec(delete(User).where(User.username == "tinh.quantri2"))
            s.commit()
