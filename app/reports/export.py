"""What a page shows, as a spreadsheet: CSV (UTF-8 with a BOM, so Excel reads the diacritics)
and XLSX, each opening with the lines that say what it is (title, unit, period, time of export).

Every cell goes through the app's one rule for spreadsheet text (`app.core.spreadsheet`):
text that a spreadsheet would run as a formula is written inert; numbers stay numbers.
"""
import csv
from io import BytesIO, StringIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from app.core.spreadsheet import safe_cell, safe_row

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"


def to_csv(meta: list[tuple[str, str]], header: list[str], rows: list[list[Any]]) -> bytes:
    buf = StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for k, v in meta:
        w.writerow([safe_cell(k), safe_cell(v)])
    w.writerow([])
    w.writerow(safe_row(header))
    for row in rows:
        w.writerow(["" if v is None else safe_cell(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(sheet: str, meta: list[tuple[str, str]], header: list[str], rows: list[list[Any]],
            widths: list[int] | None = None, formats: dict[int, str] | None = None) -> bytes:
    """formats: column index (0-based) → number format of that column's cells."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]
    for k, v in meta:
        ws.append(safe_row([k, v]))
    ws.cell(1, 2).font = Font(bold=True, size=12)
    ws.append([])
    ws.append(safe_row(header))
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    ws.freeze_panes = ws.cell(ws.max_row + 1, 2)
    for row in rows:
        ws.append(safe_row(row))
        for col, fmt in (formats or {}).items():
            ws.cell(ws.max_row, col + 1).number_format = fmt
    for i, width in enumerate(widths or [], 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()

