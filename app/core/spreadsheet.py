"""One rule for every cell this app writes to a CSV or XLSX file: text stays text.

Why: a spreadsheet program reads a cell that starts with `=`, `+`, `-` or `@` (or a tab or
carriage return before one) as a formula, so a comment or unit name like
`=HYPERLINK("http://…","Bấm vào đây")` typed by one user would run in the spreadsheet of
whoever opens the export (OWASP "CSV injection"). Such text is written with a leading
apostrophe, the mark spreadsheet programs themselves use for "this is text"; openpyxl then
stores it as a string, never as a formula. Numbers, dates and empty cells pass unchanged, so
figures stay figures.
"""
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value to write in a cell: text that a spreadsheet would run gets a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]
