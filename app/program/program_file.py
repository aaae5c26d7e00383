"""The program file: a year's program as one XLSX workbook, out and back in (docs/programs.md).

Why a workbook: Front offices plan in spreadsheets and e-mail them; a province can prepare the
next year's program in the file it exported from this year's, and import it into an empty
draft. openpyxl is already a serving dependency (the report's spreadsheet), so no new library.

Four sheets, each with a header row of field names (order free, unknown columns refused):
"Chương trình" (field | value rows), "Chỉ tiêu" (indicators), "Mục tiêu" (targets), "Nhiệm vụ"
(the province plan's tasks). Units and indicators are named by code, never by id, so a file
moves between databases. Reading checks the cells (types, required fields) and reports every
bad cell by sheet and row; the program's own rules are `lifecycle.problems`, whose errors are
given the sheet and row they come from. Export then import gives the same program back
(tests/program/test_program_file.py).
"""
from dataclasses import dataclass, fields
from io import BytesIO
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from sqlmodel import Session

from app.accounts.principal import Principal
from app.program import lifecycle
from app.program.lifecycle import IndicatorSpec, ProgramError, ProgramSpec, TargetSpec, TaskSpec
from app.program.models import Program

SHEET_PROGRAM, SHEET_INDICATORS, SHEET_TARGETS, SHEET_TASKS = "Chương trình", "Chỉ tiêu", "Mục tiêu", "Nhiệm vụ"
PROGRAM_KEYS = ("year", "title", "theme", "motto", "source")
INDICATOR_COLUMNS = tuple(f.name for f in fields(IndicatorSpec))
TARGET_COLUMNS = ("indicator", "scope", "unit", "depth", "basis", "comparator", "value", "value_high", "on", "label")
TASK_COLUMNS = ("quarter", "number", "parent", "title", "text", "due_month", "due_note", "lead_unit",
                "lead_department", "indicators")
INT_FIELDS = {"year", "number", "baseline", "baseline_year", "depth", "quarter", "parent", "due_month"}
FLOAT_FIELDS = {"value", "value_high"}
REQUIRED = {
    SHEET_INDICATORS: ("code", "number", "name", "short_name", "measure", "entry_depths", "time_rollup"),
    SHEET_TARGETS: ("indicator", "scope", "comparator", "value"),
    SHEET_TASKS: ("quarter", "number", "title"),
}
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 2000


class FileInvalid(Exception):
    """Errors of the file (bad cells, or the program's rules), each with its sheet and row."""

    def __init__(self, errors: list[ProgramError]) -> None:
        super().__init__("; ".join(e.english() for e in errors))
        self.errors = errors


def _at(err: ProgramError, sheet: str, row: int | None) -> ProgramError:
    """The same error, placed at a sheet and row of the file."""
    placed = ProgramError(err.code, err.message, loc=("file", sheet, row, *err.loc), where=err.where,
                          status=err.status, **err.params)
    placed.sheet, placed.row = sheet, row
    return placed


# --- writing -----------------------------------------------------------------------------------

def _sheet(wb: Workbook, title: str, columns: tuple[str, ...], rows: list[list[Any]]) -> None:
    ws = wb.create_sheet(title)
    ws.append(list(columns))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    for i, name in enumerate(columns, start=1):
        wide = name in ("name", "title", "text", "label", "theme", "description", "baseline_source")
        ws.column_dimensions[ws.cell(1, i).column_letter].width = 60 if wide else 14
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"


def _cell(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def write_xlsx(spec: ProgramSpec) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    _sheet(wb, SHEET_PROGRAM, ("field", "value"), [[k, getattr(spec, k)] for k in PROGRAM_KEYS])
    _sheet(wb, SHEET_INDICATORS, INDICATOR_COLUMNS,
           [[_cell(getattr(i, c)) for c in INDICATOR_COLUMNS] for i in spec.indicators])
    _sheet(wb, SHEET_TARGETS, TARGET_COLUMNS, [[_cell(getattr(t, c)) for c in TARGET_COLUMNS] for t in spec.targets])
    _sheet(wb, SHEET_TASKS, TASK_COLUMNS,
           [[",".join(t.indicators) if c == "indicators" else getattr(t, c) for c in TASK_COLUMNS]
            for t in spec.tasks])
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def export_xlsx(session: Session, program: Program) -> bytes:
    return write_xlsx(lifecycle.spec_of(session, program))


# --- reading -----------------------------------------------------------------------------------

@dataclass
class _Rows:
    indicators: list[int]
    targets: list[int]
    tasks: list[int]


def _value(name: str, raw: Any, sheet: str, row: int, errors: list[ProgramError]) -> Any:
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None
    if name in INT_FIELDS:
        try:
            number = float(str(raw).strip().replace(" ", "")) if isinstance(raw, str) else float(raw)
        except ValueError:
            number = None
        if number is None or not number.is_integer():
            errors.append(_at(ProgramError("not_a_whole_number", "{column}: write a whole number.",
                                           column=name), sheet, row))
            return None
        return int(number)
    if name in FLOAT_FIELDS:
        try:
            return float(str(raw).strip().replace(" ", "")) if isinstance(raw, str) else float(raw)
        except ValueError:
            errors.append(_at(ProgramError("not_a_number", "{column}: write a number.", column=name), sheet, row))
            return None
    if name == "entry_depths" and isinstance(raw, (int, float)):
        return str(int(raw))
    return str(raw).strip() if name not in ("text", "theme", "name", "description") else str(raw)


def _table(wb: Any, sheet: str, columns: tuple[str, ...], errors: list[ProgramError]
           ) -> list[tuple[int, dict[str, Any]]]:
    if sheet not in wb.sheetnames:
        if sheet == SHEET_TASKS:
            return []
        errors.append(_at(ProgramError("sheet_missing", "The sheet is missing."), sheet, None))
        return []
    rows = list(wb[sheet].iter_rows(values_only=True))
    if not rows:
        return []
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    for h in header:
        if h and h not in columns:
            errors.append(_at(ProgramError("unknown_column", "Unknown column {column}.", column=h), sheet, 1))
    if len(rows) > MAX_ROWS:
        errors.append(_at(ProgramError("too_many_rows", "At most {max} rows.", max=MAX_ROWS), sheet, None))
        return []
    out = []
    for n, row in enumerate(rows[1:], start=2):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue
        values = {h: _value(h, v, sheet, n, errors) for h, v in zip(header, row, strict=False) if h in columns}
        for name in REQUIRED.get(sheet, ()):
            if values.get(name) is None:
                errors.append(_at(ProgramError("cell_missing", "{column}: this cell is required.", column=name),
                                  sheet, n))
        out.append((n, values))
    return out


def read_xlsx(data: bytes) -> ProgramSpec:
    """The program the workbook describes; FileInvalid listing every bad cell otherwise."""
    spec, _rows = _read(data)
    return spec


def _read(data: bytes) -> tuple[ProgramSpec, _Rows]:
    if len(data) > MAX_BYTES:
        raise FileInvalid([ProgramError("file_too_large", "The file is too large (at most {max} MB).", max=5)])
    try:
        wb = load_workbook(BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise FileInvalid([ProgramError("not_xlsx", "The file is not an XLSX workbook.")]) from None
    errors: list[ProgramError] = []
    head: dict[str, Any] = {}
    if SHEET_PROGRAM not in wb.sheetnames:
        errors.append(_at(ProgramError("sheet_missing", "The sheet is missing."), SHEET_PROGRAM, None))
    else:
        for n, row in enumerate(wb[SHEET_PROGRAM].iter_rows(min_row=2, values_only=True), start=2):
            if not row or row[0] is None:
                continue
            key = str(row[0]).strip()
            if key not in PROGRAM_KEYS:
                errors.append(_at(ProgramError("unknown_field", "{name} cannot be changed here.", name=key),
                                  SHEET_PROGRAM, n))
                continue
            head[key] = _value(key, row[1] if len(row) > 1 else None, SHEET_PROGRAM, n, errors)
    indicators = _table(wb, SHEET_INDICATORS, INDICATOR_COLUMNS, errors)
    targets = _table(wb, SHEET_TARGETS, TARGET_COLUMNS, errors)
    tasks = _table(wb, SHEET_TASKS, TASK_COLUMNS, errors)
    wb.close()
    if errors:
        raise FileInvalid(errors)
    spec = ProgramSpec(
        year=head.get("year") or 0, title=head.get("title") or "", theme=head.get("theme") or "",
        motto=head.get("motto") or "", source=head.get("source"),
        indicators=[IndicatorSpec(**{**{"share_filter": "all"}, **{k: v for k, v in vals.items() if v is not None}})
                    for _n, vals in indicators],
        targets=[TargetSpec(**{**{"basis": "own", "on": "value"}, **{k: v for k, v in vals.items() if v is not None}})
                 for _n, vals in targets],
        tasks=[TaskSpec(**{**{"text": ""}, **{k: v for k, v in vals.items() if v is not None and k != "indicators"}},
                        indicators=[c.strip() for c in (vals.get("indicators") or "").split(",") if c.strip()])
               for _n, vals in tasks])
    return spec, _Rows([n for n, _v in indicators], [n for n, _v in targets], [n for n, _v in tasks])


def _placed(err: ProgramError, spec: ProgramSpec, rows: _Rows) -> ProgramError:
    """A program rule's error, at the sheet and row it comes from."""
    loc = err.loc
    if loc[:1] == ("indicators",) and len(loc) > 1:
        key = loc[1]
        n = key if isinstance(key, int) else next((i for i, ind in enumerate(spec.indicators) if ind.code == key), None)
        return _at(err, SHEET_INDICATORS, rows.indicators[n] if n is not None else None)
    if loc[:1] == ("targets",) and len(loc) > 1:
        return _at(err, SHEET_TARGETS, rows.targets[loc[1]])
    if loc[:1] == ("tasks",) and len(loc) > 1:
        return _at(err, SHEET_TASKS, rows.tasks[loc[1]])
    return _at(err, SHEET_PROGRAM, None)


def import_xlsx(session: Session, principal: Principal, program: Program, data: bytes, *,
                via: str = "import") -> ProgramSpec:
    """Fill an empty draft from a workbook: every error by sheet and row, or all of it written."""
    spec, rows = _read(data)
    try:
        lifecycle.import_spec(session, principal, program, spec, via=via)
    except lifecycle.ProgramInvalid as exc:
        raise FileInvalid([_placed(e, spec, rows) for e in exc.errors]) from None
    return spec

