"""Who is calling, and what they may touch: one `Principal` for web sessions and API tokens.

Scope rule (the unit subtree is the `Unit.path` prefix):
- everyone reads its unit's subtree and nothing else;
- an admin writes (and manages users and tokens in) its whole subtree;
- an editor writes its own unit, and the units below when `can_edit_below`;
- a viewer writes nothing;
- a token reads its unit's subtree and, when its mode is `write`, writes it; it never
  administers.
"""
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from app.accounts import sessions
from app.accounts.models import ApiToken, User, UserSession
from app.accounts.security import TOKEN_PREFIX, hash_api_token, new_csrf_token, same_token
from app.core.db import SessionDep, is_busy, is_sqlite
from app.core.i18n import _
from app.core.problems import Problem
from app.core.time import utcnow
from app.units.models import Unit

# `last_used_at` is written at most this often per token, so reads stay reads.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)
SESSION_KEY = "sid"  # the cookie's key holding the session's secret id (app/accounts/sessions.py)
# What a user with a temporary password may still open: the form to change it, and sign-out.
PASSWORD_CHANGE_PATHS = {"/account", "/account/password", "/logout", "/login"}

CSRF_SESSION_KEY = "csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass
class Principal:
    unit: Unit  # the root of what the caller may see
    role: str  # admin | editor | viewer | token
    via: str  # web | api
    user: User | None = None
    token: ApiToken | None = None
    token_writes: bool = False
    web_session: UserSession | None = None  # the sign-in this request came with

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user else None

    @property
    def token_id(self) -> int | None:
        return self.token.id if self.token else None

    def can_read(self, unit: Unit) -> bool:
        return unit.path.startswith(self.unit.path)

    def can_write(self, unit: Unit) -> bool:
        if not self.can_read(unit):
            return False
        if self.token is not None:
            return self.token_writes
        if self.role == "admin":
            return True
        if self.role == "editor":
            return unit.id == self.unit.id or bool(self.user and self.user.can_edit_below)
        return False

    def can_follow(self, unit: Unit) -> bool:
        """Reading a unit's plan of tasks: plans in the caller's subtree, and the plans of the
        units above it, which are the program the caller follows."""
        return self.can_read(unit) or self.unit.path.startswith(unit.path)

    def figures_unit(self, unit: Unit) -> Unit:
        """Whose figures to show on a page about `unit` (a plan the caller follows): the unit's
        own where the caller may read them, else the caller's unit. The one rule for pages, as
        `can_read` is for the API: figures of units outside the caller's subtree never show."""
        return unit if self.can_read(unit) else self.unit

    def can_admin(self, unit: Unit) -> bool:
        return self.role == "admin" and self.token is None and self.can_read(unit)

    def can_reopen(self, unit: Unit) -> bool:
        """Reopening a submitted month belongs to the level above the unit."""
        return unit.id != self.unit.id and self.can_write(unit) and self.role in ("admin", "editor")


class LoginRequired(Exception):
    """Raised on a page that needs a signed-in user; answered with a redirect to /login."""


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_SESSION_KEY)
    if not token:
        token = new_csrf_token()
        request.session[CSRF_SESSION_KEY] = token
    return token


async def verify_csrf(request: Request) -> None:
    """Unsafe requests from a browser session must carry the session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = (await request.form()).get(CSRF_FIELD)  # cached on the request for the route
    if not same_token(request.session.get(CSRF_SESSION_KEY), sent if isinstance(sent, str) else None):
        raise Problem(403, "CSRF check failed",
                      _("Reload the page and try again (the session has expired or the request is not valid)."))


def _session_user(request: Request, session: SessionDep) -> tuple[UserSession, User] | None:
    """The request's live server-side session and its user; a dead one clears the cookie."""
    secret = request.session.get(SESSION_KEY)
    if not secret:
        return None
    now = utcnow()
    found = sessions.find(session, secret, now)
    if found is None:
        request.session.clear()
        return None
    try:
        if sessions.touch(session, found[0], now) and request.method in SAFE_METHODS:
            session.commit()  # one small UPDATE, committed at once (nothing else is pending yet)
        # A write request keeps it in its own transaction: committing here would end the
        # transaction that holds SQLite's write lock, and the save would then begin without it.
    except OperationalError as exc:
        # SQLite: a reading request began deferred and cannot wait for a writer (its snapshot
        # may be older than the writer's commit). "Seen recently" can wait for the next
        # request; the page must not answer 503 for it.
        if not (is_sqlite(session) and is_busy(exc)):
            raise
        session.rollback()
    return found


def start_session(request: Request, session: SessionDep, user: User) -> None:
    """A fresh sign-in for this browser: a new session row, cookie contents and CSRF token.
    Ends the session the browser held before, if any. The caller commits."""
    old = request.session.get(SESSION_KEY)
    now = utcnow()
    if old:
        found = sessions.find(session, old, now)
        if found is not None:
            sessions.end(session, found[0].id, now)  # type: ignore[arg-type]
    from app.accounts.protection import client_address

    secret = sessions.start(session, user, now, address=client_address(request),
                            device=request.headers.get("user-agent", ""))
    request.session.clear()
    request.session.update({SESSION_KEY: secret, CSRF_SESSION_KEY: new_csrf_token()})


def end_session(request: Request, session: SessionDep) -> None:
    """Sign-out: the browser's session row ends at once (a copied cookie dies with it)."""
    found = sessions.find(session, request.session.get(SESSION_KEY), utcnow())
    if found is not None:
        sessions.end(session, found[0].id, utcnow())  # type: ignore[arg-type]
    request.session.clear()


def _require_changed_password(request: Request, user: User) -> None:
    from app.accounts.protection import PasswordChangeRequired
    from app.accounts.service import must_change_password

    if must_change_password(user) and request.url.path not in PASSWORD_CHANGE_PATHS:
        raise PasswordChangeRequired()


def _principal_for_user(session: SessionDep, user: User, via: str,
                        web_session: UserSession | None = None) -> Principal:
    unit = session.get(Unit, user.unit_id)
    assert unit is not None
    return Principal(unit=unit, role=user.role, via=via, user=user, web_session=web_session)


def optional_web_user(request: Request, session: SessionDep) -> Principal | None:
    found = _session_user(request, session)
    if found is not None:
        _require_changed_password(request, found[1])
    principal = _principal_for_user(session, found[1], "web", found[0]) if found else None
    request.state.principal = principal  # the navigation shows for a signed-in user
    return principal


def web_user(request: Request, session: SessionDep) -> Principal:
    principal = optional_web_user(request, session)
    if principal is None:
        raise LoginRequired()
    request.state.principal = principal
    return principal


def api_principal(request: Request, session: SessionDep) -> Principal:
    """A bearer token, or a browser session (whose unsafe calls then need the CSRF header)."""
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return _token_principal(session, auth[7:].strip())
    found = _session_user(request, session)
    if found is None:
        raise Problem(401, "Unauthorized",
                      "Send `Authorization: Bearer <token>` with a token an administrator created.",
                      headers={"WWW-Authenticate": "Bearer"})
    if request.method not in SAFE_METHODS and not same_token(
        request.session.get(CSRF_SESSION_KEY), request.headers.get(CSRF_HEADER)
    ):
        raise Problem(403, "CSRF check failed", f"Browser calls must send the {CSRF_HEADER} header.")
    _require_changed_password(request, found[1])
    return _principal_for_user(session, found[1], "api", found[0])


def _token_principal(session: SessionDep, secret: str) -> Principal:
    token = None
    if secret.startswith(TOKEN_PREFIX) and len(secret) <= 128:
        token = session.exec(select(ApiToken).where(ApiToken.token_hash == hash_api_token(secret))).first()
    now = utcnow()
    if token is None or token.revoked_at is not None or (
        token.expires_at is not None and token.expires_at <= now
    ):
        raise Problem(401, "Unauthorized", "The bearer token is unknown, expired or revoked.",
                      headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_TOUCH_INTERVAL:
        # One small UPDATE, committed at once (nothing else is pending yet in this request).
        session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
        session.commit()
    unit = session.get(Unit, token.unit_id)
    assert unit is not None
    return Principal(unit=unit, role="token", via="api", token=token,
                     token_writes=token.mode == "write")


WebUser = Annotated[Principal, Depends(web_user)]
OptionalWebUser = Annotated[Principal | None, Depends(optional_web_user)]
ApiCaller = Annotated[Principal, Depends(api_principal)]
