"""The audit trail: `audit()` writes one row in the caller's transaction; `history()` reads the
rows of one figure. Every domain that changes something (values, tasks, notes, submissions,
programs, accounts, petitions) writes through here, so the audit depends on no domain."""
import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from app.accounts.models import ApiToken, User
from app.accounts.principal import Principal
from app.audit.models import AuditLog
from app.core.time import utcnow


def audit(session: Session, principal: Principal | None, via: str, entity: str, entity_id: int | None,
          action: str, old: Any, new: Any, **where: Any) -> None:
    """Add one audit row (`old`/`new` as JSON) to the session; the caller commits."""
    session.add(AuditLog(
        at=utcnow(),
        user_id=principal.user_id if principal else None,
        token_id=principal.token_id if principal else None,
        via=via, entity=entity, entity_id=entity_id, action=action,
        old=None if old is None else json.dumps(old, ensure_ascii=False, default=str),
        new=None if new is None else json.dumps(new, ensure_ascii=False, default=str),
        **where,
    ))


@dataclass
class HistoryRow:
    at: Any
    who: str
    via: str
    action: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None


def history(session: Session, unit_id: int, indicator_id: int, period: str) -> list[HistoryRow]:
    """The audit rows of one figure, newest first, with the name of who made each change."""
    rows = session.exec(
        select(AuditLog, User.full_name, ApiToken.name)
        .join(User, AuditLog.user_id == User.id, isouter=True)  # type: ignore[arg-type]
        .join(ApiToken, AuditLog.token_id == ApiToken.id, isouter=True)  # type: ignore[arg-type]
        .where(AuditLog.entity == "data_value", AuditLog.unit_id == unit_id,
               AuditLog.indicator_id == indicator_id, AuditLog.period == period)
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())  # type: ignore[attr-defined]
    ).all()
    return [HistoryRow(a.at, user_name or token_name or "—", a.via, a.action,
                       json.loads(a.old) if a.old else None, json.loads(a.new) if a.new else None)
            for a, user_name, token_name in rows]
