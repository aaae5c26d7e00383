"""What a page shows, as a spreadsheet: CSV (UTF-8 with a BOM, so Excel reads the diacritics)
and XLSX, each opening with the lines that say what it is (title, unit, period, time of export).

Text is made inert: a cell that begins with = + - @ (or a tab / carriage return) would be read
as a formula by a spreadsheet (CSV injection), so in CSV it gets a leading apostrophe and in
XLSX it is stored as a string, never a formula. Numbers stay numbers.

A shared helper (`app.core.spreadsheet`) is being written elsewhere; until it lands, this tiny
one serves the dashboard and scorecard exports.
"""
import csv
from io import BytesIO, StringIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"


def inert(value: Any) -> Any:
    """A text cell that cannot run as a formula; other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(meta: list[tuple[str, str]], header: list[str], rows: list[list[Any]]) -> bytes:
    buf = StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for k, v in meta:
        w.writerow([inert(k), inert(v)])
    w.writerow([])
    w.writerow([inert(h) for h in header])
    for row in rows:
        w.writerow(["" if v is None else inert(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(sheet: str, meta: list[tuple[str, str]], header: list[str], rows: list[list[Any]],
            widths: list[int] | None = None, formats: dict[int, str] | None = None) -> bytes:
    """formats: column index (0-based) → number format of that column's cells."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]
    for k, v in meta:
        ws.append([k, v])
        _as_text(ws, ws.max_row)
    ws.cell(1, 2).font = Font(bold=True, size=12)
    ws.append([])
    ws.append(header)
    _as_text(ws, ws.max_row)
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    ws.freeze_panes = ws.cell(ws.max_row + 1, 2)
    for row in rows:
        ws.append(row)
        _as_text(ws, ws.max_row)
        for col, fmt in (formats or {}).items():
            ws.cell(ws.max_row, col + 1).number_format = fmt
    for i, width in enumerate(widths or [], 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _as_text(ws, row: int) -> None:  # noqa: ANN001
    for cell in ws[row]:
        if isinstance(cell.value, str) and cell.data_type == "f":
            cell.data_type = "s"
