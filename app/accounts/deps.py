"""Who is calling, per request: the `Principal` of a web session or an API token, and CSRF.

What a principal may touch (the scope rule) is written beside it in `app.accounts.principal`.
"""
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from app.accounts import sessions
from app.accounts.models import ApiToken, User, UserSession
from app.accounts.principal import Principal
from app.accounts.protection import PasswordChangeRequired, client_address
from app.accounts.security import TOKEN_PREFIX, hash_api_token, new_csrf_token, same_token
from app.accounts.service import must_change_password
from app.core.db import SessionDep, is_busy, is_sqlite
from app.core.i18n import _
from app.core.problems import Problem
from app.core.time import utcnow
from app.units import tree
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
    if must_change_password(user) and request.url.path not in PASSWORD_CHANGE_PATHS:
        raise PasswordChangeRequired()


def _predecessors(session: SessionDep, unit: Unit) -> Callable[[], tuple[Unit, ...]]:
    """What reads the roots of the predecessors' subtrees the principal also reads (a few small
    queries over `unit_successor`), when a check first needs them; those inside another's
    subtree are left out."""
    def load() -> tuple[Unit, ...]:
        return tuple(tree.outermost([u for u in tree.predecessors(session, unit) if not u.path.startswith(unit.path)]))
    return load


def _principal_for_user(session: SessionDep, user: User, via: str,
                        web_session: UserSession | None = None) -> Principal:
    unit = session.get_one(Unit, user.unit_id)
    return Principal(unit=unit, role=user.role, via=via, user=user, web_session=web_session,
                     predecessors=None,
                     load_predecessors=_predecessors(session, unit))


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
    unit = session.get_one(Unit, token.unit_id)
    return Principal(unit=unit, role="token", via="api", token=token,
                     token_writes=token.mode == "write", predecessors=None,
                     load_predecessors=_predecessors(session, unit))


__all__ = ["ApiCaller", "LoginRequired", "OptionalWebUser", "Principal", "WebUser", "csrf_token",
           "end_session", "start_session", "verify_csrf"]

WebUser = Annotated[Principal, Depends(web_user)]
OptionalWebUser = Annotated[Principal | None, Depends(optional_web_user)]
ApiCaller = Annotated[Principal, Depends(api_principal)]
