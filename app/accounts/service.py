"""Accounts: sign-in with throttling and lockout, password rules, users and API tokens.

Pure logic on a Session (no HTTP); the pages call it. Nothing here commits except
`authenticate`, whose bookkeeping (failure count, lock, rehash) must stick even when the
sign-in is refused.

Sign-in throttling. Failures in a row on one account: the 3rd pauses sign-in for 5 seconds,
the 4th for 30 seconds, the 5th (LOGIN_MAX_FAILURES) locks the account for 15 minutes
(LOGIN_LOCK_MINUTES) and starts the count again. An attempt made while the account is paused
or locked is refused without checking the password, without counting and without extending
the lock, so an attacker can keep an account locked at most 15 minutes per 5 guesses, never
lock it for good, and guesses at most 5 passwords per 15 minutes. A success resets the count;
an administrator's password reset or re-enabling lifts the lock at once. Every refusal reads
the same ("wrong username or password"), for unknown usernames too, so the answer does not
reveal which usernames exist or which are locked.

Concurrency. Every attempt is counted BEFORE its password is checked, in one atomic
statement (`UPDATE app_user SET failed_logins = …, locked_until = … WHERE username = … AND
not locked RETURNING …`), committed at once: the row lock orders parallel attempts, each sees
the count left by the one before, and the attempt that reaches a pause or the lock sets it
for all that follow. So 30 parallel guesses check 3 passwords (the 3rd sets the 5-second
pause), not 30. A right password then undoes its own count, only if no other attempt came
in meanwhile (`WHERE failed_logins = <its count>`): a success never lifts a pause or lock that
a parallel failure set. One row, one statement at a time: no deadlock is possible.
"""
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import case, func, or_, update
from sqlmodel import Session, col, select

from app.accounts import sessions
from app.accounts.models import ROLES, ApiToken, User
from app.accounts.principal import Principal
from app.accounts.security import (
    hash_password,
    needs_rehash,
    new_api_token,
    new_temporary_password,
    verify_password,
)
from app.core import time as clock
from app.core.config import settings
from app.core.errors import InputError
from app.core.time import VN_TZ, parse_day, today_vn
from app.units.models import Unit

MAX_FAILURES = settings.LOGIN_MAX_FAILURES
LOCK_DURATION = timedelta(minutes=settings.LOGIN_LOCK_MINUTES)
# Pause after the n-th failure in a row (before the lock).
SLOWDOWN = {3: timedelta(seconds=5), 4: timedelta(seconds=30)}
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MODES = ("read", "write")
MAX_TOKEN_DAYS = 731  # two years


class AccountError(InputError):
    """A refused account change. `message` is an English msgid; `field` names the form field."""


class NotInScope(Exception):
    """The user or token does not exist or lies outside the caller's subtree (answer 404)."""


# --- sign-in -------------------------------------------------------------------------------

def normal_username(username: str) -> str | None:
    name = username.strip().lower()
    if not name or len(name) > 64 or "\x00" in name:
        return None
    return name


def find_user(session: Session, username: str) -> User | None:
    name = normal_username(username)
    if name is None:
        return None
    return session.exec(select(User).where(User.username == name)).first()


def is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def _count_attempt(session: Session, name: str, now: datetime):
    """Count one attempt on an active, unlocked account, setting the pause or lock it
    reaches; None when the account is unknown, disabled, paused or locked. One statement."""
    n = User.failed_logins + 1
    pauses = [(n == k, now + wait) for k, wait in sorted(SLOWDOWN.items()) if k < MAX_FAILURES]
    stmt = (update(User)
            .where(col(User.username) == name, col(User.is_active).is_(True),
                   or_(col(User.locked_until).is_(None), col(User.locked_until) <= now))
            .values(failed_logins=case((n >= MAX_FAILURES, 0), else_=n),
                    locked_until=case((n >= MAX_FAILURES, now + LOCK_DURATION), *pauses, else_=None))
            .returning(User.id, User.failed_logins, User.locked_until, User.password_hash)
            .execution_options(synchronize_session=False))
    return session.execute(stmt).first()


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user if the sign-in succeeds, else None (same answer for every kind of refusal).

    Commits: the attempt's count must stick before the password is checked, and whatever
    the answer."""
    now = clock.utcnow()
    name = normal_username(username)
    counted = _count_attempt(session, name, now) if name else None
    session.commit()
    # Always verify (against a dummy hash when refused): every refusal costs the same time.
    ok = verify_password(password[:MAX_PASSWORD_LENGTH], counted.password_hash if counted else None)
    if counted is None or not ok:
        return None
    session.execute(update(User).where(col(User.id) == counted.id).values(last_login_at=now)
                    .execution_options(synchronize_session=False))
    # Undo this attempt's count, unless a parallel attempt counted meanwhile.
    session.execute(update(User).where(col(User.id) == counted.id,
                                       col(User.failed_logins) == counted.failed_logins,
                                       col(User.locked_until).is_not_distinct_from(counted.locked_until))
                    .values(failed_logins=0, locked_until=None).execution_options(synchronize_session=False))
    user = session.get_one(User, counted.id)
    session.refresh(user)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.add(user)
    session.commit()
    return user


def must_change_password(user: User) -> bool:
    """A temporary password (new account or reset) is to be replaced at the first sign-in."""
    return user.password_changed_at is None and not user.is_demo


# --- passwords -----------------------------------------------------------------------------

def check_new_password(user: User, new: str, confirm: str) -> None:
    if len(new) < MIN_PASSWORD_LENGTH:
        raise AccountError("The new password needs at least {n} characters.", "new_password",
                           n=MIN_PASSWORD_LENGTH)
    if len(new) > MAX_PASSWORD_LENGTH:
        raise AccountError("The new password is too long (at most {n} characters).", "new_password",
                           n=MAX_PASSWORD_LENGTH)
    if new.strip().lower() == user.username.lower():
        raise AccountError("The password cannot be your username.", "new_password")
    if new != confirm:
        raise AccountError("The two new passwords differ.", "confirm_password")


def change_own_password(session: Session, user: User, current: str, new: str, confirm: str) -> None:
    """Change the signed-in user's password; every session of the user ends (the caller starts
    a fresh one for this browser)."""
    if not verify_password(current[:MAX_PASSWORD_LENGTH], user.password_hash):
        raise AccountError("The current password is wrong.", "current_password")
    check_new_password(user, new, confirm)
    if verify_password(new, user.password_hash):
        raise AccountError("Choose a password different from the current one.", "new_password")
    user.password_hash = hash_password(new)
    user.password_changed_at = clock.utcnow()
    sessions.end_all(session, user.id, clock.utcnow())  # type: ignore[arg-type]
    session.add(user)
    session.flush()


# --- users (administrators) ----------------------------------------------------------------

def _require_admin(principal: Principal) -> None:
    if principal.role != "admin" or principal.token is not None:
        raise PermissionError("administrators only")


def _subtree(principal: Principal):
    return Unit.path.startswith(principal.unit.path)  # type: ignore[attr-defined]


USERS_PAGE = 200


def users_in_scope(session: Session, principal: Principal, q: str = "",
                   limit: int = USERS_PAGE) -> list[tuple[User, Unit]]:
    """Users of the administrator's subtree, its own unit first; `q` filters by username,
    name, unit code or unit name (case-insensitive)."""
    _require_admin(principal)
    stmt = select(User, Unit).join(Unit, Unit.id == User.unit_id).where(_subtree(principal))
    q = q.strip()[:100]
    if q:
        # %, _ and \\ in the search are letters, not wildcards.
        like = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(func.lower(User.username).like(like, escape="\\"),
                              func.lower(User.full_name).like(like, escape="\\"),
                              func.lower(Unit.name).like(like, escape="\\"), Unit.code == q))
    return list(session.exec(stmt.order_by(Unit.depth, Unit.path, User.username).limit(limit)).all())


def units_for_choice(session: Session, principal: Principal, max_depth: int = 2) -> list[Unit]:
    """Units an administrator may pick from a list (villages are typed by code)."""
    return list(session.exec(
        select(Unit).where(_subtree(principal), Unit.depth <= max_depth).order_by(Unit.path)
    ).all())


def unit_in_scope(session: Session, principal: Principal, code: str, field: str = "unit_code") -> Unit:
    unit = session.exec(select(Unit).where(Unit.code == code.strip())).first() if code.strip() else None
    if unit is None or not principal.can_admin(unit):
        # Same words for a missing unit and one outside the caller's subtree.
        raise AccountError("No unit with code “{code}” in your area.", field, code=code.strip())
    return unit


def user_in_scope(session: Session, principal: Principal, user_id: int) -> User:
    _require_admin(principal)
    user = session.get(User, user_id)
    unit = session.get(Unit, user.unit_id) if user else None
    if user is None or unit is None or not principal.can_admin(unit):
        raise NotInScope()
    return user


def create_user(session: Session, principal: Principal, *, username: str, full_name: str,
                unit_code: str, role: str, can_edit_below: bool = True) -> tuple[User, str]:
    """Create a user in the caller's subtree; returns it with its one-time temporary password."""
    _require_admin(principal)
    name = username.strip().lower()
    if not USERNAME_RE.match(name):
        raise AccountError("A username has 3 to 64 characters: lowercase letters, digits, dot, dash, "
                           "underscore.", "username")
    if session.exec(select(func.count()).select_from(User).where(User.username == name)).one():
        raise AccountError("The username “{name}” is taken.", "username", name=name)
    full_name = full_name.strip()
    if not full_name or len(full_name) > 200:
        raise AccountError("Enter the person's full name.", "full_name")
    unit = unit_in_scope(session, principal, unit_code)
    if role not in ROLES:
        raise AccountError("Choose a role.", "role")
    temp = new_temporary_password()
    user = User(username=name, full_name=full_name, unit_id=unit.id, role=role,
                can_edit_below=can_edit_below, password_hash=hash_password(temp))
    session.add(user)
    session.flush()
    return user, temp


def set_active(session: Session, principal: Principal, user_id: int, active: bool) -> User:
    user = user_in_scope(session, principal, user_id)
    if not active and user.id == principal.user_id:
        raise AccountError("You cannot disable your own account.")
    user.is_active = active
    if active:
        user.failed_logins, user.locked_until = 0, None
    else:
        sessions.end_all(session, user.id, clock.utcnow())  # type: ignore[arg-type]
    session.add(user)
    session.flush()
    return user


def change_access(session: Session, principal: Principal, user_id: int, *, role: str, unit_code: str,
                  can_edit_below: bool) -> User:
    """Change a user's role and unit (within the caller's subtree); their sessions end, so the
    next request signs in with the new access."""
    user = user_in_scope(session, principal, user_id)
    if user.id == principal.user_id:
        raise AccountError("You cannot change your own role or unit.", "role")
    if role not in ROLES:
        raise AccountError("Choose a role.", "role")
    unit = unit_in_scope(session, principal, unit_code)
    if (user.role, user.unit_id, user.can_edit_below) != (role, unit.id, can_edit_below):
        user.role, user.unit_id, user.can_edit_below = role, unit.id, can_edit_below  # type: ignore[assignment]
        sessions.end_all(session, user.id, clock.utcnow())  # type: ignore[arg-type]
        session.add(user)
        session.flush()
    return user


def end_user_sessions(session: Session, principal: Principal, user_id: int) -> int:
    """An administrator signs a user out everywhere; returns how many sessions ended."""
    user = user_in_scope(session, principal, user_id)
    return sessions.end_all(session, user.id, clock.utcnow())  # type: ignore[arg-type]


def reset_password(session: Session, principal: Principal, user_id: int) -> tuple[User, str]:
    """Give a user a new temporary password (shown once); their sessions end, any lock lifts."""
    user = user_in_scope(session, principal, user_id)
    temp = new_temporary_password()
    user.password_hash = hash_password(temp)
    user.password_changed_at = None  # to be changed at the next sign-in
    user.failed_logins, user.locked_until = 0, None
    sessions.end_all(session, user.id, clock.utcnow())  # type: ignore[arg-type]
    session.add(user)
    session.flush()
    return user, temp


# --- API tokens ----------------------------------------------------------------------------

@dataclass
class TokenRow:
    token: ApiToken
    unit: Unit
    status: str  # active | expired | revoked


def token_status(token: ApiToken, now: datetime) -> str:
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


def tokens_in_scope(session: Session, principal: Principal) -> list[TokenRow]:
    _require_admin(principal)
    now = clock.utcnow()
    rows = session.exec(
        select(ApiToken, Unit).join(Unit, Unit.id == ApiToken.unit_id).where(_subtree(principal))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())  # type: ignore[attr-defined]
    ).all()
    return [TokenRow(t, u, token_status(t, now)) for t, u in rows]


def last_day_of_use(token: ApiToken) -> date | None:
    """The last day (Vietnam time) a token works: it expires at the start of the next day."""
    if token.expires_at is None:
        return None
    return (token.expires_at.astimezone(VN_TZ) - timedelta(seconds=1)).date()


def create_token(session: Session, principal: Principal, *, name: str, unit_code: str, mode: str,
                 expires_on: str) -> tuple[ApiToken, str]:
    """Create a token for a unit of the caller's subtree; returns it with its secret (shown once).

    `expires_on` is a date (dd/mm/yyyy); the token works until the end of that day, Vietnam time.
    """
    _require_admin(principal)
    name = name.strip()
    if not name or len(name) > 200:
        raise AccountError("Name the token after the system that will use it.", "name")
    unit = unit_in_scope(session, principal, unit_code)
    if mode not in MODES:
        raise AccountError("Choose read-only or read-write.", "mode")
    try:
        day = parse_day(expires_on)
    except ValueError:
        day = None
    if day is None:
        raise AccountError("Write the expiry date as dd/mm/yyyy, e.g. 31/12/2024.", "expires_on")
    today = today_vn(clock.utcnow())
    if day < today:
        raise AccountError("The expiry date has passed; choose a later date.", "expires_on")
    if day > today + timedelta(days=MAX_TOKEN_DAYS):
        raise AccountError("A token lasts at most two years; choose an earlier date.", "expires_on")
    secret, digest = new_api_token()
    token = ApiToken(name=name, unit_id=unit.id, mode=mode, token_hash=digest, prefix=secret[:12],
                     created_by_id=principal.user_id,
                     expires_at=datetime.combine(day + timedelta(days=1), time(0), VN_TZ))
    session.add(token)
    session.flush()
    return token, secret


def revoke_token(session: Session, principal: Principal, token_id: int) -> ApiToken:
    _require_admin(principal)
    token = session.get(ApiToken, token_id)
    unit = session.get(Unit, token.unit_id) if token else None
    if token is None or unit is None or not principal.can_admin(unit):
        raise NotInScope()
    if token.revoked_at is None:
        token.revoked_at = clock.utcnow()
        session.add(token)
        session.flush()
    return token
