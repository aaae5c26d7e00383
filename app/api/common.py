"""What every /api/v1 route shares: pagination, problem responses, scope filters, parameters."""
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from fastapi import Depends, Path, Query
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, select
from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope, Send

from app.accounts.deps import Principal
from app.core.problems import PROBLEM_JSON, Problem
from app.program.models import Indicator, Program
from app.program.periods import PeriodRange
from app.units.deps import readable_unit
from app.units.models import Unit

T = TypeVar("T")

# Declares the bearer token in the OpenAPI document (the Authorize button of /docs); the check
# itself is `ApiCaller`, which also takes a browser session (unsafe calls then need X-CSRF-Token).
bearer_scheme = HTTPBearer(auto_error=False, scheme_name="bearer", description=(
    "An API token created by an administrator (`mttq_…`), scoped to a unit's subtree, read or write."))
API_AUTH = [Depends(bearer_scheme)]
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100


class Page(BaseModel, Generic[T]):
    """One page of a list: `count` is the total matching rows, before limit/offset."""

    data: list[T]
    count: int = Field(ge=0, description="Rows matching the filters, all pages together.")
    limit: int = Field(ge=1, le=MAX_LIMIT)
    offset: int = Field(ge=0)


class Paging(BaseModel):
    limit: int
    offset: int


def paging(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Rows per page (at most {MAX_LIMIT}).",
                                examples=[100])] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip.", examples=[0])] = 0,
) -> Paging:
    return Paging(limit=limit, offset=offset)


PagingDep = Annotated[Paging, Depends(paging)]


def page(session: Session, stmt: Any, p: Paging, order_by: list[Any]) -> tuple[list[Any], int]:
    """Run `stmt` for one page in a deterministic order, and count all its rows."""
    from sqlalchemy import func

    count = session.exec(select(func.count()).select_from(stmt.order_by(None).subquery())).one()
    rows = session.exec(stmt.order_by(*order_by).limit(p.limit).offset(p.offset)).all()
    return list(rows), int(count)


class AllowAllMethodsRoute(APIRoute):
    """A 405 whose `Allow` lists every method of the path (GET and POST), not just this route's."""

    _methods_by_path: ClassVar[dict[str, set[str]]] = {}

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self._methods_by_path.setdefault(self.path_format, set()).update(self.methods or ())

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.methods and scope["method"] not in self.methods:
            allowed = self._methods_by_path.get(self.path_format) or self.methods
            raise HTTPException(405, headers={"Allow": ", ".join(sorted(allowed))})
        await super().handle(scope, receive, send)


# --- problem+json (RFC 9457) in the OpenAPI document ---------------------------------------

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details; `detail` says what to change.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "example": "about:blank"},
        "title": {"type": "string", "example": "Not Found"},
        "status": {"type": "integer", "example": 404},
        "detail": {"type": "string", "example": "No unit with code '999' in your scope."},
        "instance": {"type": "string", "example": "/api/v1/units/999"},
        "errors": {"type": "array", "description": "Validation errors: where and what.",
                   "items": {"type": "object", "properties": {
                       "loc": {"type": "array", "items": {}},
                       "msg": {"type": "string"}, "type": {"type": "string"}}}},
    },
    "additionalProperties": True,
}

_DESCRIPTIONS = {
    400: "Bad request: a parameter cannot be read (see `detail`).",
    401: "No valid credentials: send `Authorization: Bearer <token>`.",
    403: "Authenticated, but not allowed (e.g. a read-only token writing).",
    404: "Not found, or outside the caller's scope (the two are not told apart).",
    409: "Conflict with another request (e.g. the same Idempotency-Key in flight), or a figure "
         "changed since the `version` sent (rows with code `conflict`, each with `current`).",
    413: "The batch is too large.",
    415: "Unsupported Content-Type.",
    422: "The request does not match the schema, or a value is not valid (see `errors`).",
    503: "Busy (too many writers at once): nothing was written; retry after `Retry-After` seconds.",
}


def problems(*statuses: int, schemas: dict[int, dict[str, Any]] | None = None) -> dict[int | str, Any]:
    """OpenAPI `responses` entries for the given error statuses, as application/problem+json."""
    out: dict[int | str, Any] = {}
    for status in sorted({401, 422, *statuses}):
        schema = (schemas or {}).get(status, PROBLEM_SCHEMA)
        out[status] = {"description": _DESCRIPTIONS.get(status, "Error"),
                       "content": {PROBLEM_JSON: {"schema": schema}}}
    return out


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A model's JSON schema with its `$defs` inlined, for use in `openapi_extra`."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(schema)


# --- parameters shared by several resources -------------------------------------------------

# Unit and indicator codes: GSO digits, generated village suffixes ("04720-01"), "CT01".
CODE_PATTERN = r"^[0-9A-Za-z_.-]+$"


def code_query(description: str, example: str) -> Any:
    return Query(min_length=1, max_length=32, pattern=CODE_PATTERN, description=description, examples=[example])


def code_path(description: str, example: str) -> Any:
    return Path(min_length=1, max_length=32, pattern=CODE_PATTERN, description=description, examples=[example])

# Documented in the schema; the parser checks them itself so its messages say what to write.
MONTH_PATTERN = {"pattern": r"^\d{4}-(0[1-9]|1[0-2])$"}
PERIOD_PATTERN = {"pattern": r"^(\d{4})(-(0[1-9]|1[0-2])(\.\.\1-(0[1-9]|1[0-2]))?|-Q[1-4])?$"}

UnitParam = Annotated[str | None, code_query("Only this unit (GSO code), not the units below it.", "04720")]
SubtreeParam = Annotated[str | None, code_query("This unit and every unit below it (GSO code).", "141")]
IndicatorParam = Annotated[str | None, code_query("Indicator code.", "CT17")]


def parse_period_range(text: str, name: str = "period") -> PeriodRange:
    """A month, quarter, year or span; 422 with the parser's message otherwise."""
    try:
        return PeriodRange.parse(text)
    except ValueError as exc:
        raise Problem(422, "Unprocessable Content", f"Parameter `{name}`: {exc}",
                      errors=[{"loc": ["query", name], "msg": str(exc), "type": "value_error"}]) from None


def period_bounds(period: str | None, from_: str | None, to: str | None) -> tuple[str | None, str | None]:
    """First and last month ("YYYY-MM") of the asked span, or None for open ends."""
    lo = hi = None
    if period is not None:
        r = parse_period_range(period, "period")
        lo, hi = r.start, r.end
    if from_ is not None:
        start = parse_period_range(from_, "from").start
        lo = max(lo, start) if lo else start
    if to is not None:
        end = parse_period_range(to, "to").end
        hi = min(hi, end) if hi else end
    return lo, hi


def in_subtree(column_path: Any, unit: Unit) -> ColumnElement[bool]:
    """SQL: the unit whose path is `column_path` lies in `unit`'s subtree (paths are digits and /)."""
    return column_path.like(unit.path + "%")


def in_scope(column_path: Any, principal: Principal) -> ColumnElement[bool]:
    """SQL: the unit whose path is `column_path` is one the caller reads (its subtree and its
    predecessors' subtrees, `Principal.read_paths`)."""
    return or_(*(column_path.like(path + "%") for path in principal.read_paths))


def scope_root(session: Session, principal: Principal, unit: str | None, subtree: str | None
               ) -> tuple[Unit | None, Unit | None]:
    """(exact unit or None, subtree root or None: all the caller reads) for a list filter, both
    within the caller's scope."""
    exact = readable_unit(session, principal, unit) if unit is not None else None
    root = readable_unit(session, principal, subtree) if subtree is not None else None
    return exact, root


def scope_clause(column_path: Any, principal: Principal, root: Unit | None) -> ColumnElement[bool]:
    """SQL: within `root`'s subtree, or (None) within all the caller reads."""
    return in_subtree(column_path, root) if root is not None else in_scope(column_path, principal)


def filter_unit_indicator_period(stmt: Any, model: Any, exact: Unit | None, indicator: str | None,
                                 lo: str | None, hi: str | None) -> Any:
    """Narrow a list of rows with `unit_id` and `period` (joined to Indicator) by the common
    filters: one exact unit, an indicator code, a span of months (open ends allowed)."""
    if exact is not None:
        stmt = stmt.where(model.unit_id == exact.id)
    if indicator is not None:
        stmt = stmt.where(Indicator.code == indicator)
    if lo:
        stmt = stmt.where(model.period >= lo)
    if hi:
        stmt = stmt.where(model.period <= hi)
    return stmt


def program_for_year(session: Session, year: int | None) -> Program:
    """The program of `year`, or the latest one when no year is given; 404 if none."""
    stmt = select(Program).where(Program.status == "published")
    stmt = stmt.where(Program.year == year) if year is not None else stmt.order_by(Program.year.desc())
    program = session.exec(stmt).first()
    if program is None:
        raise Problem(404, "Not Found", f"No program for year {year}." if year is not None
                      else "No program has been set up yet.")
    return program
