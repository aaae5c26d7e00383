"""Import units from CSV or XLSX: code, name, kind, parent code (+ households, population).

Every row is checked first; a file with any bad row imports nothing and the errors name the
line. Existing codes are updated in place (name, kind, attributes; a unit does not move to
another parent). With `replace_demo`, the generated demo villages under each parent named in
the file are removed when the file brings real villages for that parent.

Unit codes follow one documented pattern, `CODE_PATTERN`: letters and digits, in groups joined
by one `-`, `.` or `_` (`15`, `04720`, `04720-01`, `04720-T01`), at most 32 characters: a
code is part of every entry link, so `/`, `?`, quotes and spaces are refused. CSV files are
read the way Excel writes them: the delimiter (`,`, `;` or tab) is guessed from the header,
quotes are Excel's (`"Thôn ""Mới"" 2"` reads `Thôn "Mới" 2`), and a field over 128 KiB or a NUL
character refuses the file with the line named, never a crash.
"""
import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, SQLModel, col, delete, select

from app.rollup import service as rollup
from app.units.models import Unit, UnitKind

CODE_PATTERN = re.compile(r"^[0-9A-Za-z]+(?:[-._][0-9A-Za-z]+)*$")
MAX_CODE_LENGTH = 32
MAX_NAME_LENGTH = 200
COLUMNS = ("code", "name", "kind", "parent_code")
OPTIONAL = ("households", "population")
ALIASES = {"ma": "code", "mã": "code", "ten": "name", "tên": "name", "loai": "kind", "loại": "kind",
           "ma_cha": "parent_code", "mã cha": "parent_code", "parent": "parent_code",
           "so_ho": "households", "số hộ": "households", "dan_so": "population", "dân số": "population"}


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    removed_demo: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class UnreadableFile(ValueError):
    """The file cannot be read as a table (bad encoding, a runaway field)."""


def _delimiter(header: str) -> str:
    """`,`, `;` or tab: whichever the header line uses most (a comma when it has none)."""
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_rows(text: str) -> list[list[str]]:
    """Rows of a CSV text, quoted as Excel quotes (`""` inside quotes is one `"`)."""
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text.split("\n", 1)[0]), quotechar='"',
                        doublequote=True, strict=False)
    rows = []
    try:
        for r in reader:
            rows.append([c.strip() for c in r])
    except csv.Error as e:  # e.g. a field over csv.field_size_limit() (128 KiB)
        raise UnreadableFile(f"Line {reader.line_num}: the file cannot be read as CSV ({e}).") from None
    return rows


def read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) pairs; line numbers as a spreadsheet shows them (header is line 1)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        ws = load_workbook(path, read_only=True, data_only=True).active
        rows = [["" if v is None else str(v).strip() for v in r] for r in ws.iter_rows(values_only=True)]
    else:
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UnreadableFile("The file is not UTF-8 text; save it as CSV UTF-8 or as XLSX.") from None
        rows = _csv_rows(text)
    if not rows:
        return []
    header = [ALIASES.get(h.strip().lower(), h.strip().lower()) for h in rows[0]]
    out = []
    for i, r in enumerate(rows[1:], start=2):
        if not any(r):
            continue
        out.append((i, {h: (r[j] if j < len(r) else "") for j, h in enumerate(header)}))
    return out


def import_units(session: Session, path: Path, *, replace_demo: bool = False) -> ImportReport:
    report = ImportReport()
    try:
        rows = read_rows(path)
    except UnreadableFile as e:
        report.errors.append(str(e))
        return report
    if not rows:
        report.errors.append("The file has no rows (expected a header: code,name,kind,parent_code).")
        return report
    missing = [c for c in COLUMNS if c not in rows[0][1]]
    if missing:
        report.errors.append(f"Line 1: missing column(s) {', '.join(missing)}; "
                             f"expected {', '.join(COLUMNS)} (+ {', '.join(OPTIONAL)}).")
        return report
    kinds = {k.code: k for k in session.exec(select(UnitKind))}
    existing = {u.code: u for u in session.exec(select(Unit))}
    in_file: dict[str, dict[str, str]] = {}
    for line, row in rows:
        _check_row(line, row, kinds, existing, in_file, report)
        in_file.setdefault(row.get("code", ""), {**row, "_line": str(line)})
    if report.errors:
        return report
    _apply(session, rows, kinds, existing, report, replace_demo)
    return report


def _check_row(line: int, row: dict[str, str], kinds: dict, existing: dict, in_file: dict,
               report: ImportReport) -> None:
    err = report.errors.append
    code, name, kind, parent = (row.get(c, "").strip() for c in COLUMNS)
    if not code:
        err(f"Line {line}: code is empty.")
        return
    if len(code) > MAX_CODE_LENGTH or not CODE_PATTERN.match(code):
        err(f"Line {line}: code {code[:40]!r} is not a unit code: letters and digits, in groups joined by "
            f"one - . or _ (e.g. 04720-01), at most {MAX_CODE_LENGTH} characters.")
        return
    if code in in_file:
        err(f"Line {line}: code {code} appears twice (also line {in_file[code]['_line']}).")
    if not name:
        err(f"Line {line}: name is empty.")
    elif len(name) > MAX_NAME_LENGTH or any(ord(ch) < 32 for ch in name):
        err(f"Line {line}: the name must have at most {MAX_NAME_LENGTH} characters and no control "
            "characters (NUL, line breaks).")
    if kind not in kinds:
        err(f"Line {line}: unknown kind {kind!r}; use one of {', '.join(sorted(kinds))}.")
        return
    depth = kinds[kind].depth
    if depth == 0:
        err(f"Line {line}: a province cannot be imported under another unit.")
        return
    parent_row = in_file.get(parent)
    parent_unit = existing.get(parent)
    if parent_unit is None and parent_row is None:
        err(f"Line {line}: parent code {parent!r} is neither in the database nor earlier in the file.")
        return
    parent_depth = parent_unit.depth if parent_unit else kinds[parent_row["kind"]].depth
    if parent_depth != depth - 1:
        err(f"Line {line}: a {kind} must sit directly under a unit of level {depth - 1}, "
            f"but {parent} is at level {parent_depth}.")
    if code in existing and existing[code].parent_id is not None and parent_unit is not None \
            and existing[code].parent_id != parent_unit.id:
        err(f"Line {line}: unit {code} exists under another parent; moving units is not supported.")
    for col_name in OPTIONAL:
        v = row.get(col_name, "").replace(".", "").replace(",", "").strip()
        if v and (not v.isdigit()):
            err(f"Line {line}: {col_name} must be a whole number ≥ 0, not {row[col_name]!r}.")


def _apply(session: Session, rows: list, kinds: dict, existing: dict, report: ImportReport,
           replace_demo: bool) -> None:
    parents_with_real_villages: set[int] = set()
    for _line, row in rows:
        code, name, kind, parent_code = (row[c].strip() for c in COLUMNS)
        attrs = {c: int(row[c].replace(".", "").replace(",", "")) for c in OPTIONAL
                 if row.get(c, "").replace(".", "").replace(",", "").strip()}
        parent = existing[parent_code]
        unit = existing.get(code)
        if unit is None:
            unit = Unit(code=code, name=name, kind=kind, depth=kinds[kind].depth, parent_id=parent.id,
                        path="", **attrs)
            session.add(unit)
            session.flush()
            unit.path = f"{parent.path}{unit.id}/"
            existing[code] = unit
            report.created += 1
        else:
            unit.name, unit.kind, unit.is_demo = name, kind, False
            for k, v in attrs.items():
                setattr(unit, k, v)
            report.updated += 1
        session.add(unit)
        if unit.depth == 3:
            parents_with_real_villages.add(parent.id)
    if replace_demo and parents_with_real_villages:
        demo_ids = list(session.exec(select(Unit.id).where(
            col(Unit.parent_id).in_(parents_with_real_villages), Unit.is_demo == True)))  # noqa: E712
        if demo_ids:
            _delete_units(session, demo_ids)
            report.removed_demo = len(demo_ids)
    session.flush()
    rollup.rebuild(session)  # new units change the share denominators and subtree sums


def _delete_units(session: Session, unit_ids: list[int]) -> None:
    """Remove demo units with every row that belongs to them (figures, submissions, audit, aggregates)."""
    for table in reversed(SQLModel.metadata.sorted_tables):
        if table.name == "unit":
            continue
        for column in table.columns:
            if any(fk.column.table.name == "unit" for fk in column.foreign_keys):
                session.exec(delete(table).where(column.in_(unit_ids)))
    session.exec(delete(Unit).where(col(Unit.id).in_(unit_ids)))
