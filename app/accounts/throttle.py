"""Attempt counters shared by every process: one row per key (e.g. sign-ins from an address).

Why in the database: an in-memory counter (slowapi's) is per process, so four workers or two
instances behind a proxy would each allow the full limit. Each attempt is counted by ONE
upsert that also returns the new count (`INSERT … ON CONFLICT (key) DO UPDATE … RETURNING`,
on SQLite and PostgreSQL alike): the row lock orders concurrent attempts, so 30 parallel
attempts read 1…30 and never the same count twice. The window is fixed (e.g. the current
minute): a new window starts the count again at 1. One row per key is kept and reused.

Nothing here commits; the caller commits at once, so the count holds even when the attempt
is then refused.
"""
import re
from datetime import datetime

from sqlalchemy import case
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from app.accounts.models import RateCounter

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour|day)s?\s*$")


def parse_rate(text: str) -> tuple[int, int]:
    """'20/minute' → (20, 60): attempts allowed per window, window length in seconds."""
    m = _RATE.match(text)
    if not m:
        raise ValueError(f"not a rate like '20/minute': {text!r}")
    return int(m.group(1)), PERIODS[m.group(2)]


def hit(db: Session, key: str, window_seconds: int, now: datetime) -> int:
    """Count one attempt for `key` in the current window; returns the count including it."""
    window_no = int(now.timestamp()) // window_seconds
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(RateCounter).values(key=key[:120], window_no=window_no, hits=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=["key"],
        set_={"hits": case((RateCounter.window_no == window_no, RateCounter.hits + 1), else_=1),
              "window_no": window_no},
    ).returning(RateCounter.hits)
    return int(db.execute(stmt).scalar_one())
