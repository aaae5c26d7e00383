"""The province sets, per year, which communes are new-rural and which it leads (`unit_year`).

Who should report depends on it: a share-of-units indicator with `share_filter` "new_rural"
(CT16) counts only the year's new-rural communes, in its figures and in its denominator. So a
change of new-rural status is followed, in the same transaction, by a rebuild of the kept
roll-up (`app.rollup.service.rebuild`, as a unit import does): the committed statuses and the
kept totals never disagree. The province-led flag changes no kept figure.

One path for the page, the file import (CLI and upload) and the API: `plan` checks every row
first and names every problem by line; `apply` writes only a plan with no error, audits each
changed row, and clears its demo mark (`is_demo`: the seed's fixed-seed picks stand in until
the province sets the year). Services never commit: the caller owns the transaction.

Which communes a year has: those under the province whose validity meets the year (the
province's own validity bounds it: Yên Bái's 2025 ends on 30/06/2025, Lào Cai's starts on
01/07/2025). A code is unique among them; without a province (the CLI) a code carried by two
communes that year means the later one.
"""
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlmodel import Session, col, select

from app.accounts.principal import Principal
from app.audit.service import audit
from app.rollup import service as rollup
from app.units.importer import UnreadableFile, read_rows
from app.units.models import Unit, UnitYear
from app.units.time import NEW_RURAL, overlaps_clause

COMMUNE_DEPTH = 2
YEAR_MIN, YEAR_MAX = 2000, 2100
MAX_ROWS = 20_000
# Spellings a file may use: the API's words, and what a Vietnamese spreadsheet writes.
STATUS_WORDS = {"recognised": "recognised", "recognized": "recognised", "đã đạt": "recognised", "da dat": "recognised",
                "expected": "expected", "phấn đấu đạt": "expected", "phan dau dat": "expected",
                "": None, "none": None, "no": None, "không": None, "khong": None}
YES_WORDS = {"1", "true", "yes", "x", "có", "co"}
NO_WORDS = {"", "0", "false", "no", "không", "khong"}
FIELDS = ("new_rural", "front_led", "households", "population")
ALIASES = {"ma": "code", "mã": "code", "nam": "year", "năm": "year", "nong_thon_moi": "new_rural",
           "nông thôn mới": "new_rural", "province_led": "front_led", "tinh_chi_dao": "front_led",
           "tỉnh chỉ đạo": "front_led"}


@dataclass(frozen=True)
class Attributes:
    """What the province sets for one commune and year; households/population None: unchanged."""

    new_rural: str | None
    front_led: bool
    households: int | None = None
    population: int | None = None


# Every problem a row can have: English msgids, shown in Vietnamese on the page (`locales/vi/units.po`).
MESSAGES = {
    "line": "Line {line}: {problems}.",
    "no_rows": "The file has no rows.",
    "too_many": "The file has {n} rows; at most {max}.",
    "bad_year": "year {value} is not a year ({lo}–{hi})",
    "bad_status": "new_rural {value}: write recognised, expected or leave it empty",
    "bad_flag": "province_led {value}: write 1 (yes) or 0 (no)",
    "bad_count": "{column} {value} is not a whole number",
    "no_commune": "no commune with code {code} in {year}",
    "no_commune_under": "no commune with code {code} in {year} under {unit}",
    "twice": "commune {code} for {year} is already on line {other}",
    "no_code": "the code is empty",
}


def english(msgid: str, **kwargs: object) -> str:
    return msgid.format(**kwargs)


@dataclass
class Plan:
    """The rows to write, or every problem found (then nothing is written): `problems` holds
    (line or None, [(message key, its values)]); `messages(tr)` words them in a language."""

    changes: list[tuple[Unit, int, Attributes]] = field(default_factory=list)
    problems: list[tuple[int | None, list[tuple[str, dict]]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def messages(self, tr=english) -> list[str]:
        out = []
        for line, items in self.problems:
            words = [tr(MESSAGES[key], **values) for key, values in items]
            out.append(tr(MESSAGES["line"], line=line, problems="; ".join(words)) if line is not None else words[0])
        return out

    @property
    def errors(self) -> list[str]:
        """The problems in English (CLI, API)."""
        return self.messages()


def can_set(principal: Principal) -> bool:
    """Only an administrator of the province (the root unit), signed in: tokens never do."""
    return principal.role == "admin" and principal.token is None and principal.unit.parent_id is None


def year_bounds(root: Unit, year: int) -> tuple[date, date] | None:
    """The days of `year` the province is in force (None: not at all that year)."""
    start = max(date(year, 1, 1), root.valid_from or date.min)
    end = min(date(year, 12, 31), root.valid_to or date.max)
    return (start, end) if start <= end else None


def communes_of_year(session: Session, year: int, root: Unit | None = None) -> list[Unit]:
    """The communes of `year` (see the module docstring), in the tree's order."""
    q = select(Unit).where(Unit.depth == COMMUNE_DEPTH)
    if root is not None:
        bounds = year_bounds(root, year)
        if bounds is None:
            return []
        q = q.where(col(Unit.path).startswith(root.path), overlaps_clause(*bounds))
    else:
        q = q.where(overlaps_clause(date(year, 1, 1), date(year, 12, 31)))
    return list(session.exec(q.order_by(Unit.path, Unit.sort_order, Unit.code)).all())


def by_code(communes: list[Unit]) -> dict[str, Unit]:
    """Code → commune; a code carried twice in the year names the later one."""
    out: dict[str, Unit] = {}
    for u in sorted(communes, key=lambda u: (u.valid_from or date.min, u.id)):
        out[u.code] = u
    return out


def attributes_of(session: Session, year: int, units: list[Unit]) -> dict[int, UnitYear]:
    ids = [u.id for u in units]
    rows: dict[int, UnitYear] = {}
    for i in range(0, len(ids), 5000):
        rows.update((a.unit_id, a) for a in session.exec(select(UnitYear).where(
            UnitYear.year == year, col(UnitYear.unit_id).in_(ids[i:i + 5000]))).all())
    return rows


def year_is_demo(rows: dict[int, UnitYear]) -> bool:
    """The year's list is still the demo's while any commune row of it is a demo pick: the
    communes without a row were then "not new-rural" by the same draw."""
    return any(a.is_demo for a in rows.values())


def is_demo(unit: Unit, rows: dict[int, UnitYear], demo_year: bool) -> bool:
    row = rows.get(unit.id)
    return row.is_demo if row is not None else demo_year


# --- checking rows -------------------------------------------------------------------------------

def _status(text: str) -> tuple[bool, str | None]:
    key = " ".join((text or "").strip().lower().replace("_", " ").split())
    return (key in STATUS_WORDS, STATUS_WORDS.get(key))


def _flag(text: str) -> bool | None:
    key = (text or "").strip().lower()
    return True if key in YES_WORDS else False if key in NO_WORDS else None


def _count(text: str) -> tuple[bool, int | None]:
    v = (text or "").replace(".", "").replace(",", "").replace(" ", "").strip()
    if not v:
        return True, None
    return (True, int(v)) if v.isdigit() and len(v) <= 12 else (False, None)


def _row_problems(row: dict[str, str]) -> tuple[list[tuple[str, dict]], Attributes | None, int | None]:
    """The problems of one row (without its line), the attributes it sets, its year."""
    problems: list[tuple[str, dict]] = []
    year_text = (row.get("year") or "").strip()
    year = int(year_text) if year_text.isdigit() and len(year_text) == 4 else None
    if year is None or not YEAR_MIN <= year <= YEAR_MAX:
        problems.append(("bad_year", {"value": repr(year_text), "lo": YEAR_MIN, "hi": YEAR_MAX}))
        year = None
    ok_status, status = _status(row.get("new_rural", ""))
    if not ok_status:
        problems.append(("bad_status", {"value": repr(row.get("new_rural"))}))
    led = _flag(row.get("front_led", ""))
    if led is None:
        problems.append(("bad_flag", {"value": repr(row.get("front_led"))}))
    counts = {}
    for name in ("households", "population"):
        ok, counts[name] = _count(row.get(name, ""))
        if not ok:
            problems.append(("bad_count", {"column": name, "value": repr(row.get(name))}))
    attrs = Attributes(status, bool(led), counts["households"], counts["population"]) if not problems else None
    return problems, attrs, year


def plan(session: Session, rows: list[tuple[int, dict[str, str]]], root: Unit | None = None) -> Plan:
    """Check every row (line, {code, year, new_rural, front_led, households, population});
    the plan holds every problem by line, or the changes."""
    out = Plan()
    if not rows:
        out.problems.append((None, [("no_rows", {})]))
        return out
    if len(rows) > MAX_ROWS:
        out.problems.append((None, [("too_many", {"n": len(rows), "max": MAX_ROWS})]))
        return out
    communes: dict[int, dict[str, Unit]] = {}
    seen: dict[tuple[str, int], int] = {}
    for line, row in rows:
        code = (row.get("code") or "").strip()
        problems, attrs, year = _row_problems(row)
        if year is not None and code:
            if year not in communes:
                communes[year] = by_code(communes_of_year(session, year, root))
            if code not in communes[year]:
                problems.append(("no_commune_under", {"code": repr(code), "year": year, "unit": root.name})
                                if root is not None else ("no_commune", {"code": repr(code), "year": year}))
            elif (code, year) in seen:
                problems.append(("twice", {"code": code, "year": year, "other": seen[(code, year)]}))
            else:
                seen[(code, year)] = line
        elif not code:
            problems.append(("no_code", {}))
        if problems:
            out.problems.append((line, problems))
        elif attrs is not None and year is not None:
            out.changes.append((communes[year][code], year, attrs))
    if out.problems:
        out.changes.clear()
    return out


def read_file(path: Path) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV or XLSX file (header on line 1); `UnreadableFile` if it is not a table."""
    rows = read_rows(path)
    return [(line, {ALIASES.get(k, k): v for k, v in row.items()}) for line, row in rows]


def read_upload(data: bytes, filename: str) -> list[tuple[int, dict[str, str]]]:
    """The same for an uploaded file's bytes (XLSX when its name or its bytes say so)."""
    import tempfile

    suffix = ".xlsx" if filename.lower().endswith((".xlsx", ".xlsm")) or data[:2] == b"PK" else ".csv"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            return read_file(path)
        except UnreadableFile:
            raise
        except Exception:  # any parser failure of a foreign file is one clear refusal
            raise UnreadableFile("The file cannot be read: upload a CSV (UTF-8) or XLSX file.") from None


# --- writing -------------------------------------------------------------------------------------

def _as_dict(row: UnitYear | None) -> dict | None:
    if row is None:
        return None
    return {"year": row.year, "new_rural": row.new_rural, "front_led": row.front_led,
            "households": row.households, "population": row.population, "is_demo": row.is_demo}


def apply(session: Session, principal: Principal | None, via: str, checked: Plan) -> int:
    """Write a checked plan (refused if it has errors); audit every changed row; rebuild the
    roll-up when a new-rural status changed. Returns how many rows changed. Does not commit."""
    if not checked.ok:
        raise ValueError("a plan with errors is never applied")
    changed, status_changed = 0, False
    for unit, year, attrs in checked.changes:
        row = session.get(UnitYear, (unit.id, year))
        old = _as_dict(row)
        if row is None:
            row = UnitYear(unit_id=unit.id, year=year)
        before = (row.new_rural, row.front_led, row.households, row.population, row.is_demo)
        row.new_rural = attrs.new_rural if attrs.new_rural in NEW_RURAL else None
        row.front_led = attrs.front_led
        if attrs.households is not None:
            row.households = attrs.households
        if attrs.population is not None:
            row.population = attrs.population
        row.is_demo = False
        if (row.new_rural, row.front_led, row.households, row.population, row.is_demo) == before and old:
            continue
        status_changed |= (old or {}).get("new_rural") != row.new_rural
        session.add(row)
        audit(session, principal, via, "unit_year", unit.id, "update" if old else "create", old, _as_dict(row),
              unit_id=unit.id, period=str(year))
        changed += 1
    session.flush()
    if status_changed:
        rollup.rebuild(session)  # who should report changed: shares' figures and denominators
    return changed
