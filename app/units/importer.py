"""Import units from CSV or XLSX: code, name, kind, parent code (+ households, population,
valid_to, from_codes, change).

Every row is checked first; a file with any bad row imports nothing and the errors name the
line (every problem, not only the first).

Units live in time (`app.units.time`). An import describes the tree **as of a day**: its
`effective` date (a new tree version: `--effective 2025-07-01`), else today. A row whose code
names a unit in force that day with the same name, kind and parent only updates its attributes
for the year (`unit_year`: households, population). A unit is never renamed or moved in place:
with an effective date, a new name, kind or parent ends the old unit the day before and makes a
new version from that day, linked to it as "renamed" (its units in force below follow it as new
versions too). Generated demo villages are corrected in place (they stand for nothing yet).
Without an effective date a real unit's name or parent cannot change (the old name must stay
right for the past). A code may name a new unit once the old unit carrying it has ended:
validity ranges of one code never overlap ("code clash" otherwise). `from_codes` (codes of
units in force the day before, separated by spaces or `;`) records which former units the row's
unit comes from, with `change` (merged_into by default, split_from, renamed). `--retire CODE`
ends a unit and everything under it the day before the effective date (the old tree).

A parent may sit at any shallower level (a xã directly under a province in the two-tier tree;
a province has no parent), must be in force on the day (in the database or in the file, in any
order) and the parents of the file may not form a cycle. With `replace_demo`, the generated demo
villages under each parent named in the file are removed when the file brings real villages for
that parent.

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
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, SQLModel, col, delete, select

from app.rollup import service as rollup
from app.units import tree
from app.units.models import SUCCESSOR_KINDS, Unit, UnitKind, UnitSuccessor, UnitYear
from app.units.time import is_in_force, overlaps, set_year_attributes, unit_by_code_on

CODE_PATTERN = re.compile(r"^[0-9A-Za-z]+(?:[-._][0-9A-Za-z]+)*$")
MAX_CODE_LENGTH = 32
MAX_NAME_LENGTH = 200
COLUMNS = ("code", "name", "kind", "parent_code")
OPTIONAL = ("households", "population")
TIME_COLUMNS = ("valid_to", "from_codes", "change")
# Levels a parent may skip: the district level (1), abolished on 01/07/2025 (a xã directly under
# the province). A village still sits under a commune.
SKIPPABLE_LEVELS = {1}
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


def import_units(session: Session, path: Path, *, replace_demo: bool = False, effective: date | None = None,
                 year: int | None = None, retire: list[str] | tuple[str, ...] = ()) -> ImportReport:
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
                             f"expected {', '.join(COLUMNS)} (+ {', '.join(OPTIONAL + TIME_COLUMNS)}).")
        return report
    return import_rows(session, rows, replace_demo=replace_demo, effective=effective, year=year, retire=retire)


def _today() -> date:
    from app.program.service import today_vn

    return today_vn()


def _parse_day(text: str) -> date | None:
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _number(text: str) -> int | None:
    v = (text or "").replace(".", "").replace(",", "").strip()
    return int(v) if v.isdigit() else None


class _Index:
    """Every unit by code, read once per import (a query per row costs more than the import):
    `index(code)` is the unit carrying the code on the import's day (None if retired by it)."""

    def __init__(self, session: Session, day: date, retired: set[int]) -> None:
        self.day, self.retired = day, retired
        self.by_code: dict[str, list[Unit]] = {}
        for u in session.exec(select(Unit).order_by(Unit.id)).all():
            self.by_code.setdefault(u.code, []).append(u)

    def all(self, code: str) -> list[Unit]:
        return self.by_code.get(code, [])

    def on(self, code: str, day: date) -> Unit | None:
        return next((u for u in self.all(code) if is_in_force(u, day)), None)

    def __call__(self, code: str) -> Unit | None:
        u = self.on(code, self.day)
        return None if u is not None and u.id in self.retired else u


@dataclass
class _Plan:
    """What the checked file will do, row by row."""

    line: int
    row: dict[str, str]
    code: str
    existing: Unit | None = None  # the unit carrying the code on the day
    action: str = "create"  # create | update | correct | version
    valid_to: date | None = None
    sources: list[Unit] = field(default_factory=list)


def import_rows(session: Session, rows: list[tuple[int, dict[str, str]]], *, replace_demo: bool = False,
                effective: date | None = None, year: int | None = None,
                retire: list[str] | tuple[str, ...] = (), rebuild: bool = True) -> ImportReport:
    """Check every row, then (only when none is wrong) write them: see the module docstring.
    `rebuild=False` leaves the roll-up rebuild to the caller (who must run it)."""
    report = ImportReport()
    err = report.errors.append
    day = effective or _today()
    before = day - timedelta(days=1)
    year = year or day.year
    kinds = {k.code: k for k in session.exec(select(UnitKind))}
    retiring: list[Unit] = []
    for code in retire:
        if effective is None:
            err(f"Retiring {code}: a tree is retired the day before an effective date; give one.")
            continue
        root = unit_by_code_on(session, code, before)
        if root is None:
            err(f"Retiring {code}: no unit with that code is in force on {before:%d/%m/%Y}.")
            continue
        retiring += tree.subtree(session, root, before)
    retired_ids = {u.id for u in retiring}

    in_force_on_day = _Index(session, day, retired_ids)

    by_code: dict[str, _Plan] = {}
    plans: list[_Plan] = []
    for line, row in rows:
        plan = _check_row(session, line, row, kinds, by_code, day, effective, in_force_on_day, report,
                          {uid: before for uid in retired_ids})
        if plan is not None:
            plans.append(plan)
            by_code.setdefault(plan.code, plan)
    # Parents: in the file (any order) or in force on the day; levels; cycles.
    for plan in plans:
        _check_parent(plan, kinds, by_code, day, in_force_on_day, session, report)
    _check_cycles(plans, by_code, report)
    if report.errors:
        return report
    for u in retiring:
        u.valid_to = before
        session.add(u)
    session.flush()
    _apply(session, plans, kinds, by_code, report, replace_demo, day, effective, year, in_force_on_day, rebuild)
    return report


def _check_row(session: Session, line: int, row: dict[str, str], kinds: dict, by_code: dict, day: date,
               effective: date | None, in_force_on_day, report: ImportReport,
               ending: dict[int, date]) -> "_Plan | None":
    err = report.errors.append
    code, name, kind, parent = (row.get(c, "").strip() for c in COLUMNS)
    if not code:
        err(f"Line {line}: code is empty.")
        return None
    if len(code) > MAX_CODE_LENGTH or not CODE_PATTERN.match(code):
        err(f"Line {line}: code {code[:40]!r} is not a unit code: letters and digits, in groups joined by "
            f"one - . or _ (e.g. 04720-01), at most {MAX_CODE_LENGTH} characters.")
        return None
    if code in by_code:
        err(f"Line {line}: code {code} appears twice (also line {by_code[code].line}).")
    if not name:
        err(f"Line {line}: name is empty.")
    elif len(name) > MAX_NAME_LENGTH or any(ord(ch) < 32 for ch in name):
        err(f"Line {line}: the name must have at most {MAX_NAME_LENGTH} characters and no control "
            "characters (NUL, line breaks).")
    if kind not in kinds:
        err(f"Line {line}: unknown kind {kind!r}; use one of {', '.join(sorted(kinds))}.")
        return None
    for col_name in OPTIONAL:
        v = row.get(col_name, "").replace(".", "").replace(",", "").strip()
        if v and (not v.isdigit()):
            err(f"Line {line}: {col_name} must be a whole number ≥ 0, not {row[col_name]!r}.")
    plan = _Plan(line=line, row=row, code=code)
    _read_validity_and_sources(plan, line, row, day, effective, in_force_on_day, err)
    _decide_action(plan, line, name, kind, parent, day, effective, in_force_on_day, ending, err)
    return plan


def _read_validity_and_sources(plan: "_Plan", line: int, row: dict[str, str], day: date, effective: date | None,
                               in_force_on_day, err) -> None:
    """The row's end of validity, its kind of change and the former units it comes from."""
    vt = row.get("valid_to", "").strip()
    if vt:
        plan.valid_to = _parse_day(vt)
        if plan.valid_to is None:
            err(f"Line {line}: valid_to {vt!r} is not a date (dd/mm/yyyy or yyyy-mm-dd).")
        elif plan.valid_to < day:
            err(f"Line {line}: valid_to {plan.valid_to:%d/%m/%Y} is before the day the file takes effect "
                f"({day:%d/%m/%Y}).")
    change = row.get("change", "").strip() or "merged_into"
    if change not in SUCCESSOR_KINDS:
        err(f"Line {line}: change {change!r} is not one of {', '.join(SUCCESSOR_KINDS)}.")
    for src in re.split(r"[\s;|]+", row.get("from_codes", "").strip()):
        if not src:
            continue
        if effective is None:
            err(f"Line {line}: from_codes names former units; give the effective date of the change.")
            break
        former = in_force_on_day.on(src, effective - timedelta(days=1))
        if former is None:
            err(f"Line {line}: from_codes: no unit {src} was in force on "
                f"{effective - timedelta(days=1):%d/%m/%Y}.")
        else:
            plan.sources.append(former)


def _decide_action(plan: "_Plan", line: int, name: str, kind: str, parent: str, day: date,
                   effective: date | None, in_force_on_day, ending: dict[int, date], err) -> None:
    """Update, correct or version the unit in force with this code; or, for a new one, check
    its code clashes with no unit whose validity overlaps."""
    code = plan.code
    existing = in_force_on_day(code)
    if existing is not None:
        plan.existing = existing
        parent_unit = in_force_on_day(parent) if parent else None
        same_parent = (parent_unit is not None and parent_unit.id == existing.parent_id) or \
            (not parent and existing.parent_id is None)
        same = existing.name == name and existing.kind == kind and same_parent
        if same:
            plan.action = "update"
        elif existing.is_demo and same_parent:
            plan.action = "correct"
        elif effective is None:
            what = "moved to another parent" if not same_parent else "renamed"
            err(f"Line {line}: unit {code} ({existing.name}) would be {what} in place; a change takes "
                f"effect on a date (give --effective): the old unit stays as it was for the past.")
        elif existing.valid_from is not None and existing.valid_from >= day:
            plan.action = "correct"  # the version starts that very day: nothing of the past to keep
        else:
            plan.action = "version"
    else:
        # A new unit from the day (or always, without an effective date): its code must not be
        # carried by another unit at any day of its validity.
        start = effective
        for other in in_force_on_day.all(code):
            o_to = ending.get(other.id, other.valid_to)  # units retired by this import end the day before
            if overlaps(start, plan.valid_to, other.valid_from, o_to):
                span = f"{other.valid_from:%d/%m/%Y}" if other.valid_from else "always"
                err(f"Line {line}: code clash: {code} is carried by {other.name} ({span} – "
                    f"{f'{o_to:%d/%m/%Y}' if o_to else 'still'}), and validity ranges of one code may "
                    f"not overlap; end that unit first (--retire) or use the day after it ends.")
                break


def _check_parent(plan: _Plan, kinds: dict, by_code: dict, day: date, in_force_on_day, session: Session,
                  report: ImportReport) -> None:
    err = report.errors.append
    row, line = plan.row, plan.line
    kind, parent = row.get("kind", "").strip(), row.get("parent_code", "").strip()
    if kind not in kinds:
        return
    depth = kinds[kind].depth
    if depth == 0:
        if parent:
            err(f"Line {line}: a province has no parent (found {parent!r}).")
        return
    if not parent:
        err(f"Line {line}: parent code is empty; a {kind} needs a parent in force on {day:%d/%m/%Y}.")
        return
    if parent == plan.code:
        err(f"Line {line}: cycle: {plan.code} is its own parent.")
        return
    in_file = by_code.get(parent)
    parent_unit = in_force_on_day(parent)
    if in_file is None and parent_unit is None:
        ever = next(iter(in_force_on_day.all(parent)), None)
        if ever is not None:
            err(f"Line {line}: parent {parent} ({ever.name}) is not in force on {day:%d/%m/%Y}: a unit "
                "needs a parent in force.")
        else:
            err(f"Line {line}: parent code {parent!r} is neither in the database nor in the file.")
        return
    parent_kind = in_file.row.get("kind", "").strip() if in_file is not None else parent_unit.kind
    parent_depth = kinds[parent_kind].depth if parent_kind in kinds else None
    skipped = set(range(parent_depth + 1, depth)) if parent_depth is not None else set()
    if parent_depth is not None and (parent_depth >= depth or skipped - SKIPPABLE_LEVELS):
        err(f"Line {line}: a {kind} (level {depth}) must sit directly under a unit of level {depth - 1}"
            f"{' or of a shallower level when only the district level lies between' if depth == 2 else ''}, "
            f"but {parent} is at level {parent_depth}.")
    if in_file is not None and in_file.valid_to is not None and (plan.valid_to is None or plan.valid_to > in_file.valid_to):
        err(f"Line {line}: {plan.code} would outlive its parent {parent}, which ends on {in_file.valid_to:%d/%m/%Y}.")


def _check_cycles(plans: list[_Plan], by_code: dict, report: ImportReport) -> None:
    """Parents named in the file may not lead back to the row itself (A under B under A)."""
    reported: set[str] = set()
    for plan in plans:
        seen = [plan.code]
        cur = by_code.get(plan.row.get("parent_code", "").strip())
        while cur is not None:
            if cur.code in seen:
                if plan.code not in reported and cur.code == plan.code:
                    chain = " → ".join([*seen, cur.code])
                    report.errors.append(f"Line {plan.line}: cycle: {chain}.")
                    reported.update(seen)
                break
            seen.append(cur.code)
            cur = by_code.get(cur.row.get("parent_code", "").strip())


def _apply(session: Session, plans: list[_Plan], kinds: dict, by_code: dict, report: ImportReport,
           replace_demo: bool, day: date, effective: date | None, year: int, in_force_on_day,
           rebuild: bool = True) -> None:
    parents_with_real_villages: set[int] = set()
    made: dict[str, Unit] = {}
    remaining = list(plans)
    # Parents first, in waves: the rows whose parent is written (or in the database), one flush
    # per wave for their ids, then their paths, links and attributes.
    while remaining:
        wave = []
        for plan in remaining:
            parent_code = plan.row["parent_code"].strip()
            if parent_code and parent_code in by_code and parent_code not in made:
                continue
            parent = made.get(parent_code) or (in_force_on_day(parent_code) if parent_code else None)
            wave.append((plan, parent, _write(session, plan, kinds, parent, effective, report)))
        if not wave:  # pragma: no cover - cycles are refused before
            raise RuntimeError("unit import: parents could not be ordered")
        session.flush()
        for plan, parent, unit in wave:
            _after_write(session, plan, unit, parent, day, year, report)
            made[plan.code] = unit
            if unit.depth == 3 and parent is not None:
                parents_with_real_villages.add(parent.id)
        done = {id(p) for p, _parent, _u in wave}
        remaining = [p for p in remaining if id(p) not in done]
        session.flush()
    if replace_demo and parents_with_real_villages:
        demo_ids = list(session.exec(select(Unit.id).where(
            col(Unit.parent_id).in_(parents_with_real_villages), Unit.is_demo == True)))  # noqa: E712
        if demo_ids:
            _delete_units(session, demo_ids)
            report.removed_demo = len(demo_ids)
    session.flush()
    if rebuild:
        rollup.rebuild(session)  # new units change the share denominators and subtree sums


def _write(session: Session, plan: _Plan, kinds: dict, parent: Unit | None, effective: date | None,
           report: ImportReport) -> Unit:
    """The row's unit, changed or added (not flushed: ids come with the wave's flush)."""
    code, name, kind = plan.code, plan.row["name"].strip(), plan.row["kind"].strip()
    unit = plan.existing
    if plan.action in ("update", "correct"):
        unit.name, unit.kind, unit.is_demo = name, kind, False
        if plan.valid_to is not None:
            unit.valid_to = plan.valid_to
        session.add(unit)
        report.updated += 1
        return unit
    unit = Unit(code=code, name=name, kind=kind, depth=kinds[kind].depth, is_demo=plan.row.get("is_demo") == "1",
                parent_id=parent.id if parent else None, path="", valid_from=effective,
                valid_to=plan.valid_to or (plan.existing.valid_to if plan.action == "version" else None),
                sort_order=int(plan.row.get("sort_order") or 0)
                if (plan.row.get("sort_order") or "").isdigit() else 0)
    session.add(unit)
    report.created += 1
    return unit


def _after_write(session: Session, plan: _Plan, unit: Unit, parent: Unit | None, day: date, year: int,
                 report: ImportReport) -> None:
    """Once the unit has its id: its path, the old version ended and linked, links to the former
    units it comes from, its attributes for the year."""
    new = plan.action not in ("update", "correct")
    if new:
        unit.path = f"{parent.path if parent else '/'}{unit.id}/"
        session.add(unit)
        if plan.action == "version":
            old = plan.existing
            old.valid_to = day - timedelta(days=1)
            session.add(old)
            session.add(UnitSuccessor(from_unit_id=old.id, to_unit_id=unit.id, kind="renamed", effective=day))
            _carry_forward(session, old, unit, day, report)
    change = plan.row.get("change", "").strip() or "merged_into"
    for src in plan.sources:
        a, b = (unit, src) if change == "split_from" else (src, unit)
        session.add(UnitSuccessor(from_unit_id=a.id, to_unit_id=b.id, kind=change, effective=day))
    attrs = {c: _number(plan.row.get(c, "")) for c in OPTIONAL if _number(plan.row.get(c, "")) is not None}
    if attrs:
        if new:  # a new unit has no attributes yet
            session.add(UnitYear(unit_id=unit.id, year=year, is_demo=unit.is_demo, **attrs))
        else:
            set_year_attributes(session, unit, year, is_demo=unit.is_demo, **attrs)


def _carry_forward(session: Session, old: Unit, new: Unit, day: date, report: ImportReport) -> None:
    """The units in force below a unit that got a new version follow it: each gets a new version
    under the new parent from `day` (same code, name, kind), linked "renamed"."""
    for child in tree.children(session, old, day):
        copy = Unit(code=child.code, name=child.name, kind=child.kind, depth=child.depth, parent_id=new.id,
                    path="", sort_order=child.sort_order, is_demo=child.is_demo, valid_from=day,
                    valid_to=child.valid_to)
        session.add(copy)
        session.flush()
        copy.path = f"{new.path}{copy.id}/"
        child.valid_to = day - timedelta(days=1)
        session.add(child)
        session.add(UnitSuccessor(from_unit_id=child.id, to_unit_id=copy.id, kind="renamed", effective=day))
        for a in session.exec(select(UnitYear).where(UnitYear.unit_id == child.id, UnitYear.year >= day.year)):
            session.add(UnitYear(unit_id=copy.id, year=a.year, new_rural=a.new_rural, front_led=a.front_led,
                                 households=a.households, population=a.population, is_demo=a.is_demo))
        report.created += 1
        _carry_forward(session, child, copy, day, report)


def _delete_units(session: Session, unit_ids: list[int]) -> None:
    """Remove demo units with every row that belongs to them (figures, submissions, audit, aggregates)."""
    for table in reversed(SQLModel.metadata.sorted_tables):
        if table.name == "unit":
            continue
        for column in table.columns:
            if any(fk.column.table.name == "unit" for fk in column.foreign_keys):
                session.exec(delete(table).where(column.in_(unit_ids)))
    session.exec(delete(Unit).where(col(Unit.id).in_(unit_ids)))
