"""GET /api/v1/audit: who changed which figure or submission, when, how, old → new."""
import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlmodel import select

from app.accounts.deps import ApiCaller
from app.accounts.models import ApiToken, User
from app.api.common import IndicatorParam, Page, PagingDep, SubtreeParam, UnitParam, in_subtree, page, \
    period_bounds, problems, scope_root
from app.core.db import SessionDep
from app.program.models import Indicator
from app.units.models import Unit
from app.values.models import AuditLog

router = APIRouter(tags=["audit"])


class AuditOut(BaseModel):
    id: int
    at: datetime
    via: str = Field(examples=["import"], description="web | api | import | seed | system")
    entity: str = Field(examples=["data_value"])
    entity_id: int | None = None
    action: str = Field(examples=["update"], description="create | update | delete | submit | reopen")
    unit: str | None = Field(default=None, examples=["04720"])
    indicator: str | None = Field(default=None, examples=["CT17"])
    period: str | None = Field(default=None, examples=["2023-04"])
    user: str | None = Field(default=None, description="Username, for changes made by a person.")
    token: str | None = Field(default=None, description="Token name, for changes made by an integration.")
    old: dict[str, Any] | None = None
    new: dict[str, Any] | None = None


def _json(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    value = json.loads(text)
    return value if isinstance(value, dict) else {"value": value}


@router.get("/audit", response_model=Page[AuditOut], summary="Audit trail", responses=problems(404))
def list_audit(
    session: SessionDep,
    principal: ApiCaller,
    paging: PagingDep,
    unit: UnitParam = None,
    subtree: SubtreeParam = None,
    indicator: IndicatorParam = None,
    period: Annotated[str | None, Query(max_length=20, description="Month, quarter, year or span.",
                                        examples=["2023-04"])] = None,
    since: Annotated[datetime | None, Query(description="Only changes at or after this time (ISO 8601; UTC when no offset).",
                                            examples=["2023-05-01T00:00:00Z"])] = None,
) -> Page[AuditOut]:
    """Changes to the units of the caller's subtree, newest first."""
    exact, root = scope_root(session, principal, unit, subtree)
    lo, hi = period_bounds(period, None, None)
    stmt = (select(AuditLog, Unit.code, Indicator.code, User.username, ApiToken.name)
            .join(Unit, Unit.id == AuditLog.unit_id)
            .outerjoin(Indicator, Indicator.id == AuditLog.indicator_id)
            .outerjoin(User, User.id == AuditLog.user_id)
            .outerjoin(ApiToken, ApiToken.id == AuditLog.token_id)
            .where(in_subtree(Unit.path, root)))
    if exact is not None:
        stmt = stmt.where(AuditLog.unit_id == exact.id)
    if indicator:
        stmt = stmt.where(Indicator.code == indicator)
    if lo:
        stmt = stmt.where(AuditLog.period >= lo, AuditLog.period <= hi)
    if since is not None:
        stmt = stmt.where(AuditLog.at >= (since if since.tzinfo else since.replace(tzinfo=UTC)))
    rows, count = page(session, stmt, paging, [AuditLog.at.desc(), AuditLog.id.desc()])
    return Page(data=[AuditOut(id=a.id, at=a.at, via=a.via, entity=a.entity, entity_id=a.entity_id,
                               action=a.action, unit=uc, indicator=ic, period=a.period, user=un, token=tn,
                               old=_json(a.old), new=_json(a.new)) for a, uc, ic, un, tn in rows],
                count=count, limit=paging.limit, offset=paging.offset)
