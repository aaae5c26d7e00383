"""The save path: the advisory locks a saving transaction takes before it reads what it will
change, and the upkeep of the kept tables after figures changed (see "Concurrency" in
`app.rollup.service`: what is locked, in which order, and why it cannot deadlock).
"""
from collections.abc import Iterable
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from app.program.models import Indicator
from app.rollup import batch
from app.rollup.types import ValueChange
from app.units.models import Unit

# --------------------------------------------------------------------------------------------
# Locks (see "Concurrency" in the module docstring)
# --------------------------------------------------------------------------------------------

_LOCK_SPACE = 0x4D54 << 48  # "MT": this app's advisory-lock keys, apart from anyone else's
EVERYTHING = _LOCK_SPACE  # shared by every save, exclusive for a rebuild or a large batch
MANY_FIGURES = 200  # a batch locking more figures than this takes EVERYTHING exclusively


def figure_lock_key(unit_id: int, indicator_id: int) -> int:
    """The advisory-lock key of one unit's figures of one indicator (every month and year)."""
    return _LOCK_SPACE | ((unit_id & 0xFFFFFFFF) << 16) | (indicator_id & 0xFFFF)


def lock_figures(session: Session, figures: Iterable[tuple[int, int]]) -> None:
    """Lock (unit id, indicator id) pairs for the rest of the transaction, before reading them.

    PostgreSQL: the roll-up lock EVERYTHING shared, then one advisory lock per pair in
    ascending key order, in two statements; more than MANY_FIGURES pairs take EVERYTHING
    exclusively instead. SQLite: nothing to do (the transaction holds the database's write
    lock, see `app.core.db`). Take all of a transaction's pairs in one call."""
    if session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted({figure_lock_key(u, i) for u, i in figures})
    if not keys:
        return
    if len(keys) > MANY_FIGURES:
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": EVERYTHING})
        return
    session.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": EVERYTHING})
    if len(keys) == 1:
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": keys[0]})
    else:  # OFFSET 0 keeps the sort below the locking call: locks are taken in key order
        session.execute(text("SELECT pg_advisory_xact_lock(k) FROM (SELECT k FROM "
                             "unnest(CAST(:keys AS bigint[])) AS k ORDER BY k OFFSET 0) AS s"),
                        {"keys": keys})


def lock_everything(session: Session) -> None:
    """Wait for every save in flight and hold back new ones until this transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": EVERYTHING})


# --------------------------------------------------------------------------------------------
# Keeping the kept tables up to date
# --------------------------------------------------------------------------------------------

def on_value_changed(session: Session, unit: Unit, indicator: Indicator, period: str,
                     old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
    """Bring every aggregate above `unit` up to date after one figure changed (same transaction).

    Call it after the `data_value` row is written (or deleted); `old` is the row as it was.
    """
    on_values_changed(session, [ValueChange(unit, indicator, period, old, new)])


def on_values_changed(session: Session, changes: Iterable[ValueChange], *,
                      after: dict[tuple[int, int, int], dict[str, Any]] | None = None) -> None:
    """Batch form for imports: call once after all the `data_value` rows are written.

    For every (unit, indicator, year) touched, the effective monthly figures after the changes
    (read from `data_value`) and before them (the same rows with each changed month put back to
    its `old` snapshot) are compared, and the differences added to the ancestors' cells.
    `after`: those stored figures once changed, when the caller has them already (an import
    read them under its locks, `app.values.bulk`), by (unit id, indicator id, year) → month →
    (value, numerator, denominator), nulls as 0; else they are read back.
    """
    batch.apply_changes(session, changes, after=after)  # set-wise, per batch: see that module

