"""Server-side sign-in sessions: a row per sign-in, checked on every request.

Why in the database: a signed cookie alone stays valid until it expires, so a copied cookie
outlives sign-out, and every process would need its own memory of ended sessions. Here the
cookie carries a random id (256 bits) and the row carries only its SHA-256, so a leaked
database does not hand out live cookies; the row decides, on every request and in every
process or instance:
- a session lives `SESSION_IDLE_MINUTES` after its last request and at most
  `SESSION_ABSOLUTE_HOURS` after sign-in;
- sign-out ends it; a password change, password reset, role or unit change, disabling the
  account and "sign out everywhere" end every session of the user;
- `last_seen_at` is written at most once a minute, so reading pages stays reading.

Pure logic on a Session; like every service, nothing here commits.
"""
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.accounts.models import User, UserSession
from app.core.config import settings

TOUCH_INTERVAL = timedelta(minutes=1)
DEVICE_LENGTH = 200


def idle_limit() -> timedelta:
    return timedelta(minutes=settings.SESSION_IDLE_MINUTES)


def absolute_limit() -> timedelta:
    return timedelta(hours=settings.SESSION_ABSOLUTE_HOURS)


def hash_session_id(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start(db: Session, user: User, now: datetime, address: str = "", device: str = "") -> str:
    """A new session for `user`; returns the secret id to put in the cookie (never stored)."""
    secret = secrets.token_urlsafe(32)
    db.add(UserSession(id_hash=hash_session_id(secret), user_id=user.id, created_at=now,
                       last_seen_at=now, address=address[:64], device=device[:DEVICE_LENGTH]))
    db.flush()
    return secret


def is_live(row: UserSession, now: datetime) -> bool:
    return (row.ended_at is None and now - row.last_seen_at < idle_limit()
            and now - row.created_at < absolute_limit())


def find(db: Session, secret: str | None, now: datetime) -> tuple[UserSession, User] | None:
    """The live session with this cookie id and its (active) user, else None."""
    if not secret or not isinstance(secret, str) or len(secret) > 128:
        return None
    found = db.exec(select(UserSession, User).join(User, col(User.id) == UserSession.user_id)
                    .where(UserSession.id_hash == hash_session_id(secret))).first()  # one query
    if found is None or not is_live(found[0], now) or not found[1].is_active:
        return None
    return found[0], found[1]


def touch(db: Session, row: UserSession, now: datetime) -> bool:
    """Record activity (at most once per TOUCH_INTERVAL); True when a row was written."""
    if now - row.last_seen_at < TOUCH_INTERVAL:
        return False
    db.execute(update(UserSession).where(col(UserSession.id) == row.id).values(last_seen_at=now))
    return True


def end(db: Session, session_id: int, now: datetime, user_id: int | None = None) -> int:
    """End one session (of `user_id`, when given); returns how many rows were ended (0 or 1)."""
    stmt = update(UserSession).where(col(UserSession.id) == session_id, col(UserSession.ended_at).is_(None))
    if user_id is not None:
        stmt = stmt.where(col(UserSession.user_id) == user_id)
    return db.execute(stmt.values(ended_at=now)).rowcount  # type: ignore[attr-defined]


def end_all(db: Session, user_id: int, now: datetime, keep_id: int | None = None) -> int:
    """End every session of a user (but `keep_id`); returns how many were ended."""
    stmt = update(UserSession).where(col(UserSession.user_id) == user_id, col(UserSession.ended_at).is_(None))
    if keep_id is not None:
        stmt = stmt.where(col(UserSession.id) != keep_id)
    return db.execute(stmt.values(ended_at=now)).rowcount  # type: ignore[attr-defined]


def live_sessions(db: Session, user_id: int, now: datetime) -> list[UserSession]:
    """The user's live sessions, most recently used first."""
    rows = db.exec(select(UserSession).where(UserSession.user_id == user_id, col(UserSession.ended_at).is_(None),
                                             UserSession.created_at > now - absolute_limit(),
                                             UserSession.last_seen_at > now - idle_limit())
                   .order_by(col(UserSession.last_seen_at).desc(), col(UserSession.id).desc())).all()
    return list(rows)


def device_name(user_agent: str) -> str:
    """A short readable name for a browser from its User-Agent (shown in the session list)."""
    ua = user_agent or ""
    browser = next((name for key, name in (("Edg/", "Edge"), ("OPR/", "Opera"), ("CocCoc", "Cốc Cốc"),
                                           ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
                                           ("Safari/", "Safari")) if key in ua), "")
    system = next((name for key, name in (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
                                          ("Windows", "Windows"), ("Mac OS X", "macOS"),
                                          ("Linux", "Linux")) if key in ua), "")
    return " · ".join(p for p in (browser, system) if p) or ua[:60]
