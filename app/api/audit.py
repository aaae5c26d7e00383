"""GET /api/v1/audit: who changed which figure or submission, when, how, old → new."""
import json
import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlmodel import select

from app.accounts.deps import ApiCaller
from app.accounts.models import ApiToken, User
from app.api.common import (
    API_AUTH,
    PERIOD_PATTERN,
    IndicatorParam,
    Page,
    PagingDep,
    SubtreeParam,
    UnitParam,
    filter_unit_indicator_period,
    page,
    period_bounds,
    problems,
    scope_clause,
    scope_root,
)
from app.audit.models import AuditLog
from app.core.db import SessionDep
from app.core.problems import Problem
from app.program.models import Indicator
from app.units.models import Unit

router = APIRouter(tags=["audit"], dependencies=API_AUTH)


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


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def parse_since(text: str) -> datetime:
    """An RFC 3339 time with its offset ("2023-05-01T00:00:00Z"); 422 otherwise."""
    try:
        if not _RFC3339.fullmatch(text):
            raise ValueError(text)
        return datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        raise Problem(422, "Unprocessable Content", f"Parameter `since`: {text[:40]!r} is not an RFC 3339 "
                      "time; write e.g. 2023-05-01T00:00:00Z or 2023-05-01T07:00:00+07:00.",
                      errors=[{"loc": ["query", "since"], "msg": "not an RFC 3339 date-time",
                               "type": "value_error"}]) from None


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
                                        json_schema_extra=PERIOD_PATTERN,
                                        examples=["2023-04"])] = None,
    since: Annotated[str | None, Query(max_length=40, description="Only changes at or after this time "
                                       "(RFC 3339, with its offset).", examples=["2023-05-01T00:00:00Z"],
                                       json_schema_extra={"format": "date-time"})] = None,
) -> Page[AuditOut]:
    """Changes to the units of the caller's subtree, newest first."""
    exact, root = scope_root(session, principal, unit, subtree)
    lo, hi = period_bounds(period, None, None)
    stmt = (select(AuditLog, Unit.code, Indicator.code, User.username, ApiToken.name)
            .join(Unit, Unit.id == AuditLog.unit_id)
            .outerjoin(Indicator, Indicator.id == AuditLog.indicator_id)
            .outerjoin(User, User.id == AuditLog.user_id)
            .outerjoin(ApiToken, ApiToken.id == AuditLog.token_id)
            .where(scope_clause(Unit.path, principal, root)))
    stmt = filter_unit_indicator_period(stmt, AuditLog, exact, indicator, lo, hi)
    if since is not None:
        stmt = stmt.where(AuditLog.at >= parse_since(since))
    rows, count = page(session, stmt, paging, [AuditLog.at.desc(), AuditLog.id.desc()])
    return Page(data=[AuditOut(id=a.id, at=a.at, via=a.via, entity=a.entity, entity_id=a.entity_id,
                               action=a.action, unit=uc, indicator=ic, period=a.period, user=un, token=tn,
                               old=_json(a.old), new=_json(a.new)) for a, uc, ic, un, tn in rows],
                count=count, limit=paging.limit, offset=paging.offset)
