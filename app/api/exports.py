"""Exports: data values and roll-ups as CSV (UTF-8 with BOM, for Excel) and XLSX, same filters.

Data values stream: rows are read from the database in chunks (`yield_per`: a server-side
cursor on PostgreSQL) and written out as they come: the CSV to the response, the XLSX into a
write-only workbook on disk, then sent from the file. Memory stays flat whatever the size.
"""
import csv
import io
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response, StreamingResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import func
from sqlmodel import select
from starlette.background import BackgroundTask

from app.accounts.deps import ApiCaller
from app.api.common import API_AUTH, IndicatorParam, SubtreeParam, UnitParam, problems
from app.api.data_values import ORDER, FromParam, PeriodParam, ToParam, data_values_query
from app.api.rollups import ChildrenQuery, FigureOut, IndicatorQuery, PeriodQuery, UnitQuery, compute
from app.core.db import SessionDep
from app.core.i18n import _
from app.core.problems import Problem
from app.core.spreadsheet import safe_cell, safe_row
from app.program.models import Indicator
from app.units.models import Unit
from app.values.models import DataValue

router = APIRouter(tags=["exports"], dependencies=API_AUTH)

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_EXPORT_ROWS = 500_000

# (column name in CSV, header msgid in XLSX)
DV_COLUMNS = [
    ("orgUnit", "Unit code"), ("orgUnitName", "Unit"), ("dataElement", "Indicator code"),
    ("dataElementName", "Indicator"), ("period", "Month"), ("value", "Value"),
    ("numerator", "Numerator"), ("denominator", "Denominator"), ("comment", "Comment"),
    ("version", "Version"), ("lastUpdated", "Last updated (UTC)"), ("updatedVia", "Entered via"),
]
ROLLUP_COLUMNS = [
    ("unit", "Unit code"), ("unitName", "Unit"), ("period", "Period"), ("indicator", "Indicator code"),
    ("indicatorName", "Indicator"), ("measure", "Measure"), ("status", "Status"), ("value", "Value"),
    ("numerator", "Numerator"), ("denominator", "Denominator"), ("reported", "Units reported"),
    ("expected", "Units expected"), ("ownValue", "Own value"), ("ownNumerator", "Own numerator"),
    ("ownDenominator", "Own denominator"), ("targets", "Targets"),
]


def _file_response(body: bytes, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def to_csv(columns: Sequence[tuple[str, str]], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([c for c, _h in columns])
    for row in rows:
        w.writerow(safe_row("" if v is None else v for v in row))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(columns: Sequence[tuple[str, str]], rows: list[list[Any]], title: str) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])
    ws.append([_(h) for _c, h in columns])
    for row in rows:
        ws.append(safe_row(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _bold_header(body: bytes) -> bytes:
    """Re-open a small workbook to bold its header row (write-only sheets cannot style cells later)."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(body))
    for ws in wb.worksheets:
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


_CHUNK_ROWS = 2000  # rows fetched from the database at a time (server-side cursor on PostgreSQL)


def _dv_statement(session: SessionDep, principal: ApiCaller, unit: str | None, subtree: str | None,
                  indicator: str | None, period: str | None, from_: str | None, to: str | None) -> Any:
    """The export's SELECT (plain columns, in export order), after the size check (413)."""
    stmt = data_values_query(session, principal, unit, subtree, indicator, period, from_, to)
    n = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    if n > MAX_EXPORT_ROWS:
        raise Problem(413, "Content Too Large", f"{n} figures match; export at most {MAX_EXPORT_ROWS} at once "
                      "(narrow by subtree or period).")
    if session.get_bind().dialect.name == "postgresql":
        updated = func.to_char(func.timezone("UTC", DataValue.updated_at), "YYYY-MM-DD HH24:MI:SS")
    else:  # stored as UTC text, "YYYY-MM-DD HH:MM:SS.ffffff"
        updated = func.substr(DataValue.updated_at, 1, 19)
    # Formatted by the database: the same text as updated_at.strftime("%Y-%m-%d %H:%M:%S") in UTC.
    return stmt.with_only_columns(
        DataValue.period, Unit.code, Unit.name, Indicator.code, Indicator.short_name, DataValue.value,
        DataValue.numerator, DataValue.denominator, DataValue.comment, DataValue.version,
        updated, DataValue.updated_via).order_by(*ORDER)


def _dv_chunks(session: SessionDep, stmt: Any) -> Iterator[list[tuple[Any, ...]]]:
    """The export's rows, a chunk at a time, read from the database as they are written out:
    memory stays the same whatever the number of rows. Text cells are made safe here
    (`safe_cell`; a unit's or indicator's names once per export), numbers pass as they are."""
    memo: dict[str, Any] = {}

    def safe(v: Any) -> Any:
        out = memo.get(v)
        if out is None:
            out = memo[v] = safe_cell(v)
        return out

    result = session.connection().execute(stmt.execution_options(yield_per=_CHUNK_ROWS))
    for part in result.partitions():
        yield [(safe(uc), safe(un), safe(ic), safe(iname), per, v, n, d,
                None if c is None else safe_cell(c), ver, at, safe(via))
               for per, uc, un, ic, iname, v, n, d, c, ver, at, via in part]


def _csv_stream(columns: Sequence[tuple[str, str]], chunks: Iterable[list[tuple[Any, ...]]]) -> Iterator[bytes]:
    """`to_csv`, written out a chunk at a time (rows already safe; None is written empty)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([c for c, _h in columns])
    yield ("\ufeff" + out.getvalue()).encode("utf-8")
    for rows in chunks:
        out.seek(0)
        out.truncate()
        w.writerows(rows)
        yield out.getvalue().encode("utf-8")


def xlsx_file(columns: Sequence[tuple[str, str]], chunks: Iterable[list[tuple[Any, ...]]], title: str) -> str:
    """Rows already made safe (`_dv_chunks`) in a write-only workbook (rows go to disk as they are appended) saved to a temporary file;
    the header bold and frozen. Returns the file's path (the caller deletes it)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for _c, h in columns:
        cell = WriteOnlyCell(ws, value=_(h))
        cell.font = bold
        header.append(cell)
    ws.append(header)
    for rows in chunks:
        for row in rows:
            ws.append(row)
    fd, path = tempfile.mkstemp(prefix="mttq-export-", suffix=".xlsx")
    os.close(fd)
    try:
        wb.save(path)
    except BaseException:
        os.unlink(path)
        raise
    return path


def _file_stream(path: str, media_type: str, filename: str) -> FileResponse:
    """Send a temporary file in chunks, then delete it."""
    return FileResponse(path, media_type=media_type, filename=filename,
                        background=BackgroundTask(os.unlink, path))


_DV_DOC = ("Same filters and scope as GET /data-values, all matching rows. The CSV columns start with "
           "the import's columns, so a file can be edited and sent back to POST /data-values.")
_CSV_RESP = {200: {"description": "CSV file, UTF-8 with BOM.",
                   "content": {"text/csv": {"schema": {"type": "string"}}}}}
_XLSX_RESP = {200: {"description": "Excel workbook.",
                    "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}}


def _name(prefix: str, *parts: str | None) -> str:
    """A safe file name from codes and periods ("data-values-141-2023-Q2")."""
    return "-".join([prefix, *[re.sub(r"[^0-9A-Za-z-]+", "_", p.strip()) for p in parts if p]])


@router.get("/data-values.csv", response_class=Response, summary="Export figures as CSV",
            description=_DV_DOC, responses={**_CSV_RESP, **problems(404, 413)})
def export_data_values_csv(session: SessionDep, principal: ApiCaller, unit: UnitParam = None,
                           subtree: SubtreeParam = None, indicator: IndicatorParam = None,
                           period: PeriodParam = None, from_: FromParam = None, to: ToParam = None) -> Response:
    stmt = _dv_statement(session, principal, unit, subtree, indicator, period, from_, to)
    name = _name("data-values", unit or subtree or principal.unit.code, period) + ".csv"
    return StreamingResponse(_csv_stream(DV_COLUMNS, _dv_chunks(session, stmt)), media_type=CSV,
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/data-values.xlsx", response_class=Response, summary="Export figures as XLSX",
            description=_DV_DOC, responses={**_XLSX_RESP, **problems(404, 413)})
def export_data_values_xlsx(session: SessionDep, principal: ApiCaller, unit: UnitParam = None,
                            subtree: SubtreeParam = None, indicator: IndicatorParam = None,
                            period: PeriodParam = None, from_: FromParam = None, to: ToParam = None) -> Response:
    stmt = _dv_statement(session, principal, unit, subtree, indicator, period, from_, to)
    path = xlsx_file(DV_COLUMNS, _dv_chunks(session, stmt), _("Figures"))
    name = _name("data-values", unit or subtree or principal.unit.code, period)
    return _file_stream(path, XLSX, name + ".xlsx")


def _fig(f: FigureOut | None) -> list[Any]:
    return [None, None, None] if f is None else [f.value, f.numerator, f.denominator]


def _rollup_rows(session: SessionDep, principal: ApiCaller, unit: str, period: str, indicator: str | None,
                 children: bool) -> tuple[str, list[list[Any]]]:
    u, _program, pr, results = compute(session, principal, unit, period, indicator, children)
    rows: list[list[Any]] = []
    for r in results:
        targets = "; ".join(
            f"{t.comparator} {t.value:g}{'–' + format(t.value_high, 'g') if t.value_high else ''} ({t.scope}): "
            f"{t.status}" for t in r.targets)
        rows.append([u.code, u.name, pr.key, r.code, r.short_name, r.measure, r.status, *_fig(r.subtree),
                     r.subtree.reported, r.subtree.expected, *_fig(r.own), targets])
        for c in r.children or []:
            rows.append([c.unit, c.name, pr.key, r.code, r.short_name, r.measure, c.status, *_fig(c.subtree),
                         c.subtree.reported, c.subtree.expected, *_fig(c.own), None])
    return _name("rollups", u.code, pr.key), rows


_ROLLUP_DOC = ("The figures of GET /rollups, one row per indicator (and, with children=true, one row per "
               "child unit after it). `value` is a share 0…1 for ratios and yes/no.")


@router.get("/rollups.csv", response_class=Response, summary="Export a roll-up as CSV",
            description=_ROLLUP_DOC, responses={**_CSV_RESP, **problems(404)})
def export_rollups_csv(session: SessionDep, principal: ApiCaller, unit: UnitQuery, period: PeriodQuery,
                       indicator: IndicatorQuery = None, children: ChildrenQuery = False) -> Response:
    name, rows = _rollup_rows(session, principal, unit, period, indicator, children)
    return _file_response(to_csv(ROLLUP_COLUMNS, rows), CSV, name + ".csv")


@router.get("/rollups.xlsx", response_class=Response, summary="Export a roll-up as XLSX",
            description=_ROLLUP_DOC, responses={**_XLSX_RESP, **problems(404)})
def export_rollups_xlsx(session: SessionDep, principal: ApiCaller, unit: UnitQuery, period: PeriodQuery,
                        indicator: IndicatorQuery = None, children: ChildrenQuery = False) -> Response:
    name, rows = _rollup_rows(session, principal, unit, period, indicator, children)
    return _file_response(_bold_header(to_xlsx(ROLLUP_COLUMNS, rows, _("Roll-up"))), XLSX, name + ".xlsx")
