"""JSON API of accounts: who the caller is (`GET /api/v1/me`)."""
from fastapi import APIRouter
from pydantic import BaseModel

from app.accounts.deps import ApiCaller

router = APIRouter(tags=["accounts"])


class MeUnit(BaseModel):
    code: str
    name: str
    depth: int


class MeToken(BaseModel):
    name: str
    mode: str  # read | write
    prefix: str
    expires_at: str | None


class Me(BaseModel):
    """The caller: its unit (the root of what it may read), role and what it may write."""

    unit: MeUnit
    role: str  # admin | editor | viewer | token
    via: str  # web | api
    username: str | None
    can_write_own_unit: bool
    can_write_below: bool
    token: MeToken | None


@router.get("/me", response_model=Me, summary="The caller's unit, role and write access")
def me(principal: ApiCaller) -> Me:
    t = principal.token
    user = principal.user
    below = principal.token_writes if t else (
        principal.role == "admin" or (principal.role == "editor" and bool(user and user.can_edit_below)))
    return Me(
        unit=MeUnit(code=principal.unit.code, name=principal.unit.name, depth=principal.unit.depth),
        role=principal.role, via=principal.via, username=user.username if user else None,
        can_write_own_unit=principal.can_write(principal.unit), can_write_below=below,
        token=MeToken(name=t.name, mode=t.mode, prefix=t.prefix,
                      expires_at=t.expires_at.isoformat() if t.expires_at else None) if t else None,
    )
