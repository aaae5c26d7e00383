"""Roll-up engine entry points used by the rest of the app (implemented in this package)."""
from typing import Any

from sqlmodel import Session

from app.program.models import Indicator
from app.units.models import Unit


def on_value_changed(session: Session, unit: Unit, indicator: Indicator, period: str,
                     old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
    """Bring every aggregate above `unit` up to date after one figure changed (same transaction)."""
    # Implemented by the roll-up engine (issue #7).
