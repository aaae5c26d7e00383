"""Users, their unit-scoped role, and API tokens."""
from datetime import datetime

from sqlmodel import Field, SQLModel

from app.core.time import utcnow

ROLES = ("admin", "editor", "viewer")


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, index=True, max_length=64)
    full_name: str = Field(max_length=200)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    role: str = Field(max_length=16)  # admin | editor | viewer
    # An editor may also enter for the units below its own (a commune for its villages).
    can_edit_below: bool = True
    password_hash: str = Field(max_length=255)
    is_active: bool = True
    is_demo: bool = False
    failed_logins: int = 0
    locked_until: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None
    password_changed_at: datetime | None = None


class ApiToken(SQLModel, table=True):
    """A bearer token for an integration: scoped to a unit's subtree, read or read-write."""

    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    mode: str = Field(max_length=8)  # read | write
    token_hash: str = Field(unique=True, index=True, max_length=64)  # sha256 of the secret
    prefix: str = Field(max_length=16)  # first characters, to recognise it in lists
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class UserSession(SQLModel, table=True):
    """One sign-in: the browser's cookie holds a random id, this row holds its SHA-256.

    The row is the truth, checked on every request, so every process and instance sees the
    same sessions, and ending one (sign-out, password change, role or unit change, account
    disabled, "sign out everywhere") takes effect on the next request, wherever it lands.
    """

    __tablename__ = "user_session"
    id: int | None = Field(default=None, primary_key=True)
    id_hash: str = Field(unique=True, max_length=64)  # sha256 of the cookie's session id
    user_id: int = Field(foreign_key="app_user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None
    address: str = Field(default="", max_length=64)
    device: str = Field(default="", max_length=200)  # the browser's User-Agent, shortened


class RateCounter(SQLModel, table=True):
    """Attempts per key (e.g. sign-ins from one address) in a fixed window, shared by every
    process through the database; one upsert counts and reads the count at once."""

    __tablename__ = "rate_counter"
    key: str = Field(primary_key=True, max_length=120)
    window_no: int  # seconds since the epoch // window length: the window the hits belong to
    hits: int = 0
