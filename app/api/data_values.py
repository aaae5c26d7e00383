"""/api/v1/data-values: read entered figures; POST a batch (JSON dataValueSet or CSV)."""
import hashlib
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.accounts.deps import ApiCaller, Principal
from app.api.common import (
    API_AUTH,
    CODE_PATTERN,
    PERIOD_PATTERN,
    PROBLEM_SCHEMA,
    AllowAllMethodsRoute,
    IndicatorParam,
    Page,
    PagingDep,
    SubtreeParam,
    UnitParam,
    filter_unit_indicator_period,
    inline_schema,
    page,
    period_bounds,
    problems,
    scope_clause,
    scope_root,
)
from app.core.db import SessionDep, begin_write
from app.core.problems import Problem, problem_response
from app.program.models import Indicator
from app.units.models import Unit
from app.values import bulk
from app.values.models import DataValue, IdempotencyRecord

router = APIRouter(tags=["data values"], route_class=AllowAllMethodsRoute, dependencies=API_AUTH)

MAX_BODY_BYTES = 20 * 1024 * 1024

PeriodParam = Annotated[str | None, Query(
    max_length=20, json_schema_extra=PERIOD_PATTERN,
    description="A month, quarter, year or span: 2023-04, 2023-Q2, 2023, 2023-01..2023-04.",
    examples=["2023-Q2"])]
FromParam = Annotated[str | None, Query(
    alias="from", max_length=20, json_schema_extra=PERIOD_PATTERN,
    description="From this month (or the start of this quarter/year).",
    examples=["2023-01"])]
ToParam = Annotated[str | None, Query(
    max_length=20, json_schema_extra=PERIOD_PATTERN,
    description="Up to this month (or the end of this quarter/year).",
    examples=["2023-06"])]


class DataValueOut(BaseModel):
    """A figure as stored, in the same names the import takes, so it can be sent back."""

    orgUnit: str = Field(examples=["04720"], description="GSO code of the unit.")
    dataElement: str = Field(examples=["CT17"], description="Indicator code.")
    period: str = Field(examples=["2023-04"])
    value: int | None = Field(default=None, description="count, amount (VND) or yes/no (1/0).")
    numerator: int | None = Field(default=None, description="ratio: the part.")
    denominator: int | None = Field(default=None, description="ratio: the total.")
    comment: str | None = None
    version: int = Field(ge=1, description="Rises on every change.")
    lastUpdated: str = Field(description="ISO 8601 time of the last change.")
    updatedVia: str = Field(examples=["web"], description="web | api | import | seed")


def data_values_query(session: Session, principal: Principal, unit: str | None, subtree: str | None,
                      indicator: str | None, period: str | None, from_: str | None, to: str | None) -> Any:
    """SELECT (DataValue, unit code, indicator code) within the caller's scope and the filters."""
    exact, root = scope_root(session, principal, unit, subtree)
    lo, hi = period_bounds(period, from_, to)
    stmt = (select(DataValue, Unit.code, Indicator.code)
            .join(Unit, Unit.id == DataValue.unit_id)
            .join(Indicator, Indicator.id == DataValue.indicator_id)
            .where(scope_clause(Unit.path, principal, root)))
    return filter_unit_indicator_period(stmt, DataValue, exact, indicator, lo, hi)


ORDER = [DataValue.period, Unit.code, Indicator.code, DataValue.id]


def dv_out(dv: DataValue, unit_code: str, ind_code: str) -> DataValueOut:
    return DataValueOut(orgUnit=unit_code, dataElement=ind_code, period=dv.period, value=dv.value,
                        numerator=dv.numerator, denominator=dv.denominator, comment=dv.comment,
                        version=dv.version, lastUpdated=dv.updated_at.isoformat(),
                        updatedVia=dv.updated_via)


@router.get("/data-values", response_model=Page[DataValueOut], summary="List entered figures",
            responses=problems(404))
def list_data_values(
    session: SessionDep,
    principal: ApiCaller,
    paging: PagingDep,
    unit: UnitParam = None,
    subtree: SubtreeParam = None,
    indicator: IndicatorParam = None,
    period: PeriodParam = None,
    from_: FromParam = None,
    to: ToParam = None,
) -> Page[DataValueOut]:
    """Figures of the caller's subtree (or of `unit`, or under `subtree`), ordered by month,
    unit code, indicator code."""
    stmt = data_values_query(session, principal, unit, subtree, indicator, period, from_, to)
    rows, count = page(session, stmt, paging, ORDER)
    return Page(data=[dv_out(*r) for r in rows], count=count, limit=paging.limit, offset=paging.offset)


# --- bulk import -----------------------------------------------------------------------------

Number = int | str | None


DHIS2_MONTH = r"^\d{4}-?(0[1-9]|1[0-2])$"  # 2023-04, or DHIS2's monthly form 202304


class DataValueIn(BaseModel):
    """One figure. Counts, amounts and yes/no go in `value`; ratios in numerator/denominator.
    An empty value (null or "") clears the stored figure."""

    model_config = ConfigDict(extra="ignore")
    orgUnit: str | None = Field(default=None, min_length=1, max_length=32, pattern=CODE_PATTERN,
                                description="GSO code of the unit (or the set's `orgUnit`).")
    dataElement: str = Field(min_length=1, max_length=32, pattern=CODE_PATTERN,
                             description="Indicator code, CT01….")
    period: str | None = Field(default=None, max_length=10, pattern=DHIS2_MONTH,
                               description="Month, YYYY-MM (DHIS2's YYYYMM too), or the set's `period`.")
    value: int | str | bool | None = Field(default=None, description="e.g. 2, \"10.000.000\", true.")
    numerator: Number = None
    denominator: Number = None
    comment: str | None = Field(default=None, max_length=2000)
    version: int | None = Field(default=None, ge=0, le=2**31 - 1, description=(
        "The figure's `version` as you read it (0: you saw no figure). If the stored figure has "
        "changed since, the whole batch is refused with 409. Leave it out to overwrite."))

    normalise_period = field_validator("period")(bulk.month_from_dhis2)


class DataValueSetIn(BaseModel):
    """A batch, in the shape of DHIS2's dataValueSets (other DHIS2 fields are ignored)."""

    model_config = ConfigDict(extra="ignore")
    dataValues: list[DataValueIn] = Field(max_length=bulk.MAX_ROWS)
    orgUnit: str | None = Field(default=None, min_length=1, max_length=32, pattern=CODE_PATTERN,
                                description="Unit of every row that does not name its own.")
    period: str | None = Field(default=None, max_length=10, pattern=DHIS2_MONTH,
                               description="Month of every row that does not name its own.")
    comment: str | None = Field(default=None, max_length=2000,
                                description="Comment for every figure that does not carry its own.")

    normalise_period = field_validator("period")(bulk.month_from_dhis2)

    @model_validator(mode="after")
    def _defaults(self) -> "DataValueSetIn":
        for i, row in enumerate(self.dataValues):
            if row.orgUnit is None:  # never "" (at least one character)
                row.orgUnit = self.orgUnit
            if row.period is None:  # never "" (a month)
                row.period = self.period
            if row.orgUnit is None or row.period is None:
                missing = "orgUnit" if row.orgUnit is None else "period"
                raise ValueError(f"dataValues[{i}] has no {missing}, and the set gives none")
        return self


class RejectionOut(BaseModel):
    index: int = Field(description="0-based position of the row in the batch.")
    line: int | None = Field(default=None, description="CSV: line of the file (the header is line 1).")
    orgUnit: str
    dataElement: str
    period: str
    code: str = Field(examples=["negative"], description="Machine-readable reason.")
    message: str = Field(examples=["The number cannot be negative."])
    field: str | None = Field(default=None, examples=["value"])
    current: DataValueOut | None = Field(default=None, description=(
        "code `conflict`: the figure as stored now (null when it was cleared)."))


class ImportSummary(BaseModel):
    status: Literal["imported", "dry_run"] = Field(
        description="imported: written; dry_run: validated only, nothing written.")
    dryRun: bool
    total: int = Field(description="Rows received.")
    imported: int = Field(description="New figures.")
    updated: int = Field(description="Changed figures.")
    unchanged: int = Field(description="Figures already stored as sent.")
    deleted: int = Field(description="Figures cleared by an empty value.")
    rejected: list[RejectionOut] = Field(description="Rows refused (a dry run may list some).")


_IMPORT_EXAMPLE = {"dataValues": [
    {"orgUnit": "04720", "dataElement": "CT17", "period": "2023-04", "value": "2"},
    {"orgUnit": "04720-01", "dataElement": "CT11", "period": "2023-04", "numerator": 120, "denominator": 150},
    {"orgUnit": "04720-01", "dataElement": "CT08", "period": "2023-04", "value": "1"},
]}
_CSV_EXAMPLE = ("orgUnit,dataElement,period,value,numerator,denominator\n"
                "04720,CT17,2023-04,2,,\n04720-01,CT11,2023-04,,120,150\n")

_REJECTED_SCHEMA = {**PROBLEM_SCHEMA, "title": "ImportRejected", "properties": {
    **PROBLEM_SCHEMA["properties"], **inline_schema(ImportSummary)["properties"],
    "status": {"type": "integer", "example": 422}}}

_IMPORT_OPENAPI = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": inline_schema(DataValueSetIn), "example": _IMPORT_EXAMPLE},
    "text/csv": {"schema": {"type": "string", "description": "UTF-8 (BOM allowed), `,` or `;`; header "
                            "orgUnit,dataElement,period,value,numerator,denominator[,comment]."},
                 "example": _CSV_EXAMPLE},
}}}


async def raw_body(request: Request) -> bytes:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise Problem(413, "Content Too Large", f"Send at most {MAX_BODY_BYTES // 2**20} MB per request; "
                      "split the batch.")
    return body


def _parse_body(content_type: str, body: bytes) -> tuple[list[bulk.ImportRow], str | None, str]:
    """(rows, batch comment, via) from a JSON dataValueSet or a CSV file."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media in ("text/csv", "application/csv"):
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Problem(422, "Unprocessable Content", "The CSV file is not UTF-8; save it as "
                          "“CSV UTF-8” and send it again.") from None
        try:
            rows = bulk.rows_from_csv(text)
        except bulk.CsvError as e:
            raise Problem(422, "Unprocessable Content", str(e)) from None
        if len(rows) > bulk.MAX_ROWS:
            raise Problem(413, "Content Too Large", f"At most {bulk.MAX_ROWS} rows per batch; split it.")
        return rows, None, "import"
    if media == "application/json" or media.endswith("+json"):
        try:
            payload = DataValueSetIn.model_validate_json(body)
        except ValidationError as e:
            errors = [{"loc": ["body", *e_["loc"]], "msg": e_["msg"], "type": e_["type"]}
                      for e_ in e.errors(include_url=False)[:100]]
            raise Problem(422, "Unprocessable Content",
                          "The body is not a dataValueSet ({\"dataValues\": [{orgUnit, dataElement, "
                          "period, value | numerator+denominator}]}); see `errors`.", errors=errors) from None
        rows = [bulk.ImportRow(org_unit=v.orgUnit or "", data_element=v.dataElement, period=v.period or "",
                               value=v.value, numerator=v.numerator, denominator=v.denominator,
                               comment=v.comment, version=v.version) for v in payload.dataValues]
        return rows, payload.comment, "api"
    raise Problem(415, "Unsupported Media Type",
                  "Send Content-Type application/json (a dataValueSet) or text/csv, "
                  f"not {media or 'nothing'!r}.")


def _concurrent_write() -> Problem:
    return Problem(409, "Conflict", "A request running at the same time wrote the same figures or used the "
                   "same Idempotency-Key; nothing of this batch was written. Send it again.")


def _owner(principal: Principal) -> str:
    return f"token:{principal.token_id}" if principal.token is not None else f"user:{principal.user_id}"


def _summary(result: bulk.ImportResult) -> dict[str, Any]:
    def current(r: bulk.Rejection) -> DataValueOut | None:
        if r.current is None:
            return None
        return dv_out(r.current, r.org_unit, r.data_element)

    return ImportSummary(
        status="dry_run" if result.dry_run else "imported", dryRun=result.dry_run, total=result.total,
        imported=result.imported, updated=result.updated, unchanged=result.unchanged, deleted=result.deleted,
        rejected=[RejectionOut(index=r.index, line=r.line, orgUnit=r.org_unit, dataElement=r.data_element,
                               period=r.period, code=r.code, message=r.message, field=r.field,
                               current=current(r))
                  for r in result.rejected]).model_dump(exclude_none=False)


def _replayed(session: Session, owner: str, key: str | None, digest: str) -> JSONResponse | None:
    """The stored answer to a retried batch (same Idempotency-Key, same body), else None;
    the key reused with another body is refused."""
    if key is None:
        return None
    record = session.exec(select(IdempotencyRecord).where(
        IdempotencyRecord.owner == owner, IdempotencyRecord.key == key)).first()
    if record is None:
        return None
    if record.request_hash != digest:
        raise Problem(422, "Idempotency-Key reused",
                      "This Idempotency-Key was already used with a different body; use a new "
                      "key for a new batch.")
    return JSONResponse(json.loads(record.response), status_code=record.status_code,
                        headers={"Idempotent-Replayed": "true"})


def _refused(result: Any, summary: dict[str, Any], path: str) -> Response | None:
    """The problem answer of a batch that writes nothing (409 when every refusal is a conflict)."""
    n = len(result.rejected)
    extra = {k: v for k, v in summary.items() if k != "status"}
    if result.conflicts_only:
        return problem_response(409, "Conflict",
                                f"{n} of {result.total} figures changed since the versions you sent "
                                "were read; nothing was imported. Each row in `rejected` (code "
                                "`conflict`) carries the figure as stored now in `current`: read, "
                                "reconcile and send the whole batch again.", path, **extra)
    if result.year_closed:
        closed = sum(1 for r in result.rejected if r.code == "year_closed")
        return problem_response(409, "Year closed",
                                f"{closed} of {result.total} rows fall in a closed year; nothing was imported. "
                                "A closed year is read-only: the level above a unit reopens its year for "
                                "corrections. Every refused row is in `rejected`.", path, code="year_closed",
                                **extra)
    if result.rejected:
        return problem_response(422, "Import rejected",
                                f"{n} of {result.total} rows were rejected; nothing was imported. Fix the "
                                "rows listed in `rejected` and send the whole batch again.", path, **extra)
    return None


@router.post(
    "/data-values", response_model=ImportSummary, summary="Import a batch of figures (all or nothing)",
    responses={200: {"headers": {"Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the same "
                       "Idempotency-Key.", "schema": {"type": "string", "enum": ["true"]}}}},
               **problems(403, 409, 413, 415, 503, schemas={409: _REJECTED_SCHEMA, 422: _REJECTED_SCHEMA})},
    openapi_extra=_IMPORT_OPENAPI,
)
def import_data_values(
    request: Request,
    session: SessionDep,
    principal: ApiCaller,
    body: Annotated[bytes, Depends(raw_body)],
    dry_run: Annotated[bool, Query(alias="dryRun", description="Validate and report; write nothing.",
                                   examples=[False])] = False,
    idempotency_key: Annotated[str | None, Header(
        alias="Idempotency-Key", min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$",
        description="Retry-safe key: the same key with the same body replays the stored answer.",
        examples=["import-2023-04-batch-1"])] = None,
) -> Any:
    """Validate every row with the entry rules and save them all, or none.

    A batch with any rejected row writes nothing and answers 422 (problem+json) listing every
    rejected row. Sending the same batch again changes nothing (all rows `unchanged`). A token
    may import only into units of its subtree, and needs write mode.
    """
    if not principal.can_write(principal.unit):
        raise Problem(403, "Forbidden", "This token (or account) may read but not write; ask an "
                      "administrator for a token in write mode.")
    begin_write(session)  # SQLite: the write lock again, if authentication committed its stamp
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";")[0].strip().lower()
    digest = hashlib.sha256(f"{dry_run}|{media}|".encode() + body).hexdigest()
    owner = _owner(principal)
    replay = _replayed(session, owner, idempotency_key, digest)
    if replay is not None:
        return replay
    rows, comment, via = _parse_body(content_type, body)
    try:
        result = bulk.import_values(session, principal, rows, via=via, dry_run=dry_run, comment=comment)
    except IntegrityError:
        session.rollback()
        raise _concurrent_write() from None
    summary = _summary(result)
    refused = _refused(result, summary, request.url.path) if not dry_run else None
    if refused is not None:
        session.rollback()
        return refused
    if idempotency_key is not None and not dry_run:
        session.add(IdempotencyRecord(owner=owner, key=idempotency_key, request_hash=digest, status_code=200,
                                      response=json.dumps(summary, ensure_ascii=False)))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise _concurrent_write() from None
    return JSONResponse(summary)
