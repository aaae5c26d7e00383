"""Batch import of figures (API dataValueSets, CSV files): all-or-nothing, idempotent, set-wise.

Every row is judged by the same rules as the entry forms (`check_save` and
`decide_save`, the rules `service.save_value` applies to one figure), in Python, over
what the batch needs loaded in a few queries first (units, indicators, the stored figures as
plain rows, submitted months). Only when no row is rejected (and not on a dry run) is anything
written, set-wise (`app.values.bulk_write`: one statement per table and kind of change, audit
rows included), then the roll-up brought up to date once for the whole batch
(`rollup.on_values_changed`: each kept cell changed once per affected key). Does not commit
(the caller does). No savepoint of its own: a failure while writing raises, and the caller
rolls its transaction back (the API's session does, and answers 409 or 500), so nothing of the
batch is ever committed in part. (On SQLite a savepoint made every page the batch changed be
copied to a sub-journal first: a fifth of the writes' cost when every figure changes.)

The batch's figures are locked (`rollup.lock_figures`, all in one call) before their current
values are read, so the roll-up's "before" and the version checks see the last committed
state. A row may carry the `version` it was read at: if the stored figure has moved on since
(and the row would change it), the row is rejected as a `conflict` with the current figure,
and so is the whole batch; rows without a version overwrite (last writer wins).
"""
import csv
import gc
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from app.accounts.deps import Principal
from app.core.time import utcnow
from app.program import rules
from app.program.closing import hold_year, reopened_unit_ids
from app.program.models import Indicator, Program
from app.rollup import service as rollup
from app.rollup.rules import IndicatorFacts
from app.units.models import Unit
from app.units.time import is_in_force, month_last_day
from app.values import bulk_write
from app.values.models import DataValue, PeriodSubmission
from app.values.rules import (
    Conflict,
    EntryError,
    check_numbers,
    check_place,
    check_year_open,
    decide_save,
    parse_figure,
)

CSV_COLUMNS = ("orgUnit", "dataElement", "period", "value", "numerator", "denominator", "comment",
               "version")
REQUIRED_COLUMNS = ("orgUnit", "dataElement", "period")
# Columns of the CSV export that an edited export may still carry: read past them.
EXPORT_ONLY_COLUMNS = ("orgUnitName", "dataElementName", "lastUpdated", "updatedVia")
MAX_ROWS = 50_000
_CHUNK = 500  # ids per IN (…) clause
_CODE = re.compile(r"^[0-9A-Za-z_.-]{1,32}$")
# A stored figure as the rules read it: a row, not an object (and no timestamps to parse).
_DV_COLUMNS = [DataValue.__table__.c[name] for name in (
    "id", "unit_id", "indicator_id", "period", "value", "numerator", "denominator", "comment", "version",
    "updated_by_id")]


@dataclass(slots=True)
class ImportRow:
    """One figure as sent: unit code, indicator code, month, and the raw numbers."""

    org_unit: str
    data_element: str
    period: str
    value: Any = None
    numerator: Any = None
    denominator: Any = None
    comment: str | None = None
    line: int | None = None  # line in a CSV file (the header is line 1)
    version: int | None = None  # the version the sender read (0: it saw no figure); None: no check


@dataclass
class Rejection:
    index: int  # 0-based position in the batch
    line: int | None
    org_unit: str
    data_element: str
    period: str
    code: str
    message: str
    field: str | None = None
    current: DataValue | None = None  # code "conflict": the figure as stored now (None: cleared)


@dataclass
class ImportResult:
    dry_run: bool
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    total: int = 0

    @property
    def ok(self) -> bool:
        return not self.rejected

    @property
    def conflicts_only(self) -> bool:
        """Rejected only because figures changed since the sender read them (answer 409)."""
        return bool(self.rejected) and all(r.code == "conflict" for r in self.rejected)

    @property
    def year_closed(self) -> bool:
        """Some rows fall in a closed year (answer 409, code `year_closed`)."""
        return any(r.code == "year_closed" for r in self.rejected)


def month_from_dhis2(period: str | None) -> str | None:
    """DHIS2's monthly period "202304" → "2023-04"; anything else as sent."""
    if period is not None and len(period) == 6 and period.isdigit():
        return f"{period[:4]}-{period[4:]}"
    return period


class CsvError(ValueError):
    """The CSV file itself cannot be read (no header, a required column missing)."""


def rows_from_csv(text: str) -> list[ImportRow]:
    """Read `orgUnit,dataElement,period,value,numerator,denominator[,comment]` (`,` or `;`)."""
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise CsvError("The CSV file is empty; its first line must be the header "
                       "orgUnit,dataElement,period,value,numerator,denominator.") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise CsvError(f"The CSV header lacks {', '.join(missing)}; expected "
                       f"{','.join(CSV_COLUMNS[:6])} (comment optional), got {','.join(header)[:200]}.")
    unknown = [h for h in header if h not in CSV_COLUMNS and h not in EXPORT_ONLY_COLUMNS]
    if unknown:
        raise CsvError(f"Unknown CSV column(s) {', '.join(unknown)[:200]}; allowed: {','.join(CSV_COLUMNS)}.")
    pos = {name: header.index(name) for name in header}
    rows: list[ImportRow] = []
    for line_no, cells in enumerate(reader, start=2):
        if not cells or all(c.strip() == "" for c in cells):
            continue

        def cell(name: str, cells: list[str] = cells) -> str | None:
            i = pos.get(name)
            return cells[i].strip() if i is not None and i < len(cells) else None

        version_text = cell("version") or ""
        rows.append(ImportRow(org_unit=cell("orgUnit") or "", data_element=cell("dataElement") or "",
                              period=month_from_dhis2(cell("period")) or "", value=cell("value") or None,
                              numerator=cell("numerator") or None, denominator=cell("denominator") or None,
                              comment=cell("comment") or None, line=line_no,
                              version=int(version_text) if version_text.isdigit() else None))
    return rows


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


@dataclass
class _Preloaded:
    units: dict[str, list[Unit]]  # a code may name several units over the years
    programs: dict[int, Program]
    latest: Program | None
    indicators: dict[tuple[int, str], Indicator]
    values: dict[tuple[int, int, str], Row] = field(default_factory=dict)  # DataValue's columns
    submitted: set[tuple[int, str]] = field(default_factory=set)
    # (unit, indicator, year) → month → (value, numerator, denominator): stored figures (`_load_current`)
    years: dict[tuple[int, int, int], dict[str, Any]] = field(default_factory=dict)
    reopened: dict[int, frozenset[int]] = field(default_factory=dict)  # closed programs' reopened units


def _preload(session: Session, rows: Sequence[ImportRow]) -> _Preloaded:
    codes = sorted({r.org_unit for r in rows if _CODE.fullmatch(r.org_unit)})  # others match no unit
    units: dict[str, Unit] = {}
    for chunk in _chunks(codes):
        for u in session.exec(select(Unit).where(Unit.code.in_(chunk)).order_by(Unit.id)).all():
            units.setdefault(u.code, []).append(u)
    programs = {p.year: p for p in session.exec(select(Program).where(Program.status == "published")).all()}
    latest = programs[max(programs)] if programs else None
    for program in programs.values():  # a close waits for this batch, or the batch for the close
        hold_year(session, program)
    indicators = {(i.program_id, i.code): i for i in session.exec(select(Indicator)).all()}
    reopened = {p.id: reopened_unit_ids(session, p) for p in programs.values() if p.closed_at is not None}
    return _Preloaded(units, programs, latest, indicators, reopened=reopened)


def _load_current(session: Session, pre: _Preloaded, keys: set[tuple[int, int, str]], *,
                  whole_years: bool) -> None:
    """The stored values and the submitted months that the batch's rows touch. With
    `whole_years` (a batch that may write), every stored figure of the batch's units and
    indicators in the batch's years too, by (unit, indicator, year) in `pre.years`: the roll-up's
    "after" is worked out from them (`_after`) instead of read again once written. The batch's
    figures are locked before this read (`rollup.lock_figures`), so they are still the stored
    ones when the batch writes."""
    unit_ids = sorted({k[0] for k in keys})
    ind_ids = sorted({k[1] for k in keys})
    periods = sorted(p for p in {k[2] for k in keys} if rules.parse_period(p))  # the others are refused later
    if whole_years and periods:
        span = (DataValue.period >= f"{periods[0][:4]}-01", DataValue.period <= f"{periods[-1][:4]}-12")
    else:
        span = (DataValue.period.in_(periods),)
    conn = session.connection()  # plain rows, past the ORM's result machinery (_preload has flushed)
    values, years, year_of = pre.values, pre.years, {}
    for chunk in _chunks(unit_ids):
        rows = conn.execute(sa_select(*_DV_COLUMNS).where(
            DataValue.unit_id.in_(chunk), DataValue.indicator_id.in_(ind_ids), *span)).all()
        for dv in rows:
            _id, u, i, p, v, n, d, _c, _ver, _by = dv
            if (u, i, p) in keys:
                values[(u, i, p)] = dv
            if whole_years:
                y = year_of.get(p)
                if y is None:
                    y = year_of[p] = int(p[:4])
                group = years.get((u, i, y))
                if group is None:
                    group = years[(u, i, y)] = {}
                group[p] = (v or 0, n or 0, d or 0)
        pre.submitted.update(session.exec(
            select(PeriodSubmission.unit_id, PeriodSubmission.period)
            .where(PeriodSubmission.unit_id.in_(chunk), PeriodSubmission.status == "submitted",
                   PeriodSubmission.period.in_(periods))).all())


def _after(years: dict[tuple[int, int, int], dict[str, Any]],
           writes: bulk_write.Writes) -> dict[tuple[int, int, int], dict[str, Any]]:
    """The stored figures of the batch's (unit, indicator, year) groups once the batch is written,
    as `rollup.batch.read_rows` would read them back: `years` with the batch's writes applied."""
    year_of: dict[str, int] = {}
    for kind, entries in (("created", writes.created), ("updated", writes.updated), ("deleted", writes.deleted)):
        for entry in entries:
            u, i, p = entry[0]
            y = year_of.get(p)
            if y is None:
                y = year_of[p] = int(p[:4])
            if kind == "deleted":
                years.get((u, i, y), {}).pop(p, None)
                continue
            new = entry[-1]
            group = years.get((u, i, y))
            if group is None:
                group = years[(u, i, y)] = {}
            group[p] = (new["value"] or 0, new["numerator"] or 0, new["denominator"] or 0)
    return years


def _shape_error(indicator: Indicator, row: ImportRow) -> EntryError | None:
    """A figure sent in the fields of another kind of indicator (rather than silently dropped)."""
    if indicator.measure == "ratio" and row.value not in (None, ""):
        return EntryError("wrong_fields", f"{indicator.code} is a ratio: send numerator and "
                                  "denominator, not value.", "value")
    if indicator.measure != "ratio" and (row.numerator not in (None, "") or row.denominator not in (None, "")):
        return EntryError("wrong_fields", f"{indicator.code} is a {indicator.measure}: send value, "
                                  "not numerator/denominator.", "numerator")
    return None


class _Judge:
    """`check_save` for the rows of one batch, with what is the same for many rows worked out once.

    May the caller write the unit: once per unit. Where the figure goes (`check_place`): its
    rules depend only on (program, indicator, the unit's depth, month) and on (unit, month), so
    once both were found right for a row they are right for every row sharing them; otherwise
    `check_place` runs and raises its first broken rule, as for a single save. The numbers
    (`check_numbers`) are checked for every row."""

    def __init__(self, principal: Principal, reopened: dict[int, frozenset[int]]) -> None:
        self.principal = principal
        self.reopened = reopened  # closed programs' reopened units, by program id
        self.units: dict[int, tuple[bool, int]] = {}  # id(unit) → (may write, depth)
        self.right: set[tuple[Any, ...]] = set()

    def check(self, program: Program, unit: Unit, facts: IndicatorFacts, period: str, fig: Any) -> None:
        known = self.units.get(id(unit))
        if known is None:
            known = self.units[id(unit)] = (self.principal.can_write(unit), unit.depth)
        if not known[0]:
            raise PermissionError(unit.code)
        level, place = (id(program), facts.id, known[1], period), (id(unit), period)
        if level not in self.right or place not in self.right:
            # a place's year (closed unless reopened for it), then where the figure goes
            check_year_open(program, unit, self.reopened.get(program.id, frozenset()))
            check_place(program, unit, facts.obj, period)
            self.right.add(level)
            self.right.add(place)
        check_numbers(facts, fig)


def _expire_values(session: Session) -> None:
    """Figures the session already holds were written past the ORM: read them again on use."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, DataValue):
            session.expire(obj)


@contextmanager
def _collector_paused(rows: int) -> Iterator[None]:
    """Hold Python's cyclic garbage collector during a large batch. The batch makes hundreds of
    thousands of small objects that all live until it ends (rows, snapshots, deltas); each of
    them makes the collector walk the whole heap again and again (a third of the batch's CPU
    for 10,000 rows), to free nothing. Reference counting still frees everything as usual;
    the collector runs again as soon as the batch ends."""
    if rows < 1000 or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def import_values(session: Session, principal: Principal, rows: Sequence[ImportRow], *, via: str,
                  dry_run: bool = False, comment: str | None = None) -> ImportResult:
    """Validate and save every row, or none. Does not commit.

    A rejected row (unknown or out-of-scope unit, unknown indicator, a figure the entry rules
    refuse, a submitted month, the same figure twice) rolls the whole batch back; the result
    lists every rejected row. A dry run validates and counts the same way, then rolls back.
    """
    with _collector_paused(len(rows)):
        return _import_values(session, principal, rows, via=via, dry_run=dry_run, comment=comment)


def _import_values(session: Session, principal: Principal, rows: Sequence[ImportRow], *, via: str,
                   dry_run: bool, comment: str | None) -> ImportResult:
    result = ImportResult(dry_run=dry_run, total=len(rows))
    pre = _preload(session, rows)
    resolved, seen = _resolve(principal, rows, comment, pre, result)
    if not dry_run:
        rollup.lock_figures(session, {(k[0], k[1]) for k in seen})
    _load_current(session, pre, set(seen), whole_years=not dry_run)

    # Pass 2: every row judged by the service's rules (`check_save`, `decide_save`), in Python;
    # then, if none is rejected, the whole batch written set-wise (`bulk_write`) and the
    # roll-up brought up to date once.
    writes = bulk_write.Writes()
    changes: list[Any] = []
    _judge_rows(session, _Judge(principal, pre.reopened), pre, resolved, comment, result, writes, changes)
    if not result.rejected and not dry_run and writes.order:
        _write_batch(session, principal, writes, changes, via, pre.years)
    result.rejected.sort(key=lambda r: r.index)
    if result.rejected and not dry_run:
        result.imported = result.updated = result.unchanged = result.deleted = 0
    return result


# (index, row, unit, program, indicator as plain facts, (unit, indicator, month) ids)
_Resolved = tuple[int, ImportRow, Unit, Program, IndicatorFacts, tuple[int, int, str]]


def _unit_of_month(units: list[Unit], principal: Principal, period: str) -> Unit | None:
    """Among the readable units carrying a code, the one in force in the row's month (15 is Yên
    Bái in 2023-04 and Lào Cai in 2026-04), else the latest; the entry rules judge the rest."""
    units = [u for u in units if principal.can_read(u)]
    if len(units) > 1 and rules.parse_period(period):
        units = [u for u in units if is_in_force(u, month_last_day(period))] or units
    return units[-1] if units else None


def _resolve(principal: Principal, rows: Sequence[ImportRow], comment: str | None, pre: _Preloaded,
             result: ImportResult) -> tuple[list[_Resolved | None], dict[tuple[int, int, str], int]]:
    """Pass 1: resolve codes; the same figure twice in a batch is ambiguous."""
    resolved: list[_Resolved | None] = []
    seen: dict[tuple[int, int, str], int] = {}
    units_of: dict[tuple[str, str], tuple[Unit, int] | None] = {}  # (code, month) → the unit it names then
    programs_of: dict[str, Program | None] = {}  # period → the program of its year, else the latest
    facts_of: dict[tuple[int, str], IndicatorFacts | None] = {}  # (id(program), code) → its indicator
    nul = "\x00" in (comment or "")

    def reject(i: int, row: ImportRow, code: str, message: str, fld: str | None = None) -> None:
        result.rejected.append(Rejection(i, row.line, row.org_unit, row.data_element, row.period,
                                         code, message, fld))
        resolved.append(None)

    for i, row in enumerate(rows):
        if nul or (row.comment and "\x00" in row.comment):
            reject(i, row, "bad_characters", "The comment contains a NUL character.", "comment")
            continue
        unit = units_of.get((row.org_unit, row.period), False)
        if unit is False:
            found = _unit_of_month(pre.units.get(row.org_unit, []), principal, row.period)
            unit = units_of[(row.org_unit, row.period)] = (found, found.id) if found is not None else None
        if unit is None:
            reject(i, row, "unknown_unit", f"No unit with code {row.org_unit!r} in your scope.", "orgUnit")
            continue
        program = programs_of.get(row.period, False)
        if program is False:
            parsed = rules.parse_period(row.period)
            # no program of its year: the latest, whose rules then refuse the month with a clear message
            program = programs_of[row.period] = (pre.programs.get(parsed[0]) if parsed else None) or pre.latest
        if program is None:
            reject(i, row, "no_program", "No program has been set up yet.", "period")
            continue
        facts = facts_of.get((id(program), row.data_element), False)
        if facts is False:
            indicator = pre.indicators.get((program.id, row.data_element))
            facts = facts_of[(id(program), row.data_element)] = IndicatorFacts(indicator) if indicator is not None else None
        if facts is None:
            reject(i, row, "unknown_indicator",
                   f"No indicator {row.data_element!r} in the {program.year} program (CT01…).", "dataElement")
            continue
        key = (unit[1], facts.id, row.period)
        if key in seen:
            reject(i, row, "duplicate_row", f"Same unit, indicator and month as row {seen[key]}; "
                   "send each figure once.")
            continue
        seen[key] = i
        resolved.append((i, row, unit[0], program, facts, key))
    return resolved, seen


def _rejected(result: ImportResult, item: _Resolved, code: str, message: str, fld: str | None = None,
              now: DataValue | None = None) -> None:
    row = item[1]
    result.rejected.append(Rejection(item[0], row.line, row.org_unit, row.data_element, row.period,
                                     code, message, fld, now))


def _judge_rows(session: Session, judge: _Judge, pre: _Preloaded, resolved: list[_Resolved | None],
                comment: str | None, result: ImportResult, writes: bulk_write.Writes, changes: list[Any]) -> None:
    """Each resolved row judged (`check_save`, `decide_save`) over the stored figure, counted,
    and its write and roll-up change queued (`writes.order`: the audit rows' order)."""
    values, submitted, check = pre.values, pre.submitted, judge.check
    order, created, updated, deleted = writes.order.append, writes.created, writes.updated, writes.deleted
    authors = writes.authors
    counts = {"created": 0, "updated": 0, "deleted": 0, "unchanged": 0}
    for item in resolved:
        if item is None:
            continue
        _i, row, unit, program, facts, key = item  # facts: what the rules read of the indicator
        current = values.get(key)
        try:
            bad_shape = _shape_error(facts, row)
            if bad_shape:
                raise bad_shape
            fig = parse_figure(facts, {"value": row.value, "numerator": row.numerator,
                                       "denominator": row.denominator, "comment": row.comment or comment})
            check(program, unit, facts, row.period, fig)  # `check_save`
            action = decide_save(unit, row.period, fig, current, row.version,
                                 bool(submitted) and (key[0], row.period) in submitted)
        except (Conflict, EntryError, PermissionError) as e:
            _refuse(session, result, item, current, e)
            continue
        counts[action] += 1
        if action == "unchanged":
            continue
        old = None if current is None else {"value": current[4], "numerator": current[5],  # `snapshot`
                                            "denominator": current[6], "comment": current[7], "version": current[8]}
        if action == "deleted":
            order(("deleted", len(deleted)))
            deleted.append((key, current[0], old))
            changes.append(rollup.ValueChange(unit, facts.obj, row.period, old, None))
            continue
        new = {"value": fig.value, "numerator": fig.numerator, "denominator": fig.denominator,
               "comment": fig.comment if fig.comment is not None else (current[7] if current is not None else None),
               "version": current[8] + 1 if current is not None else 1}
        if action == "created":
            order(("created", len(created)))
            created.append((key, new))
        else:
            order(("updated", len(updated)))
            updated.append((key, current[0], old, new))
            authors[current[0]] = current[9]
        changes.append(rollup.ValueChange(unit, facts.obj, row.period, old, new))
    result.imported += counts["created"]
    result.updated += counts["updated"]
    result.deleted += counts["deleted"]
    result.unchanged += counts["unchanged"]


def _refuse(session: Session, result: ImportResult, item: _Resolved, current: Any, e: Exception) -> None:
    """The rejection of a row whose figure a rule refuses (`decide_save`'s conflicts as `conflict`)."""
    row = item[1]
    if isinstance(e, Conflict):
        assert current is not None  # noqa: S101 -- a conflict is only ever over a stored row (for the type checker)
        _rejected(result, item, "conflict", f"The figure changed since version {row.version} was read: it is now "
                  f"version {current.version}. Read it again and send the batch again.", None,
                  session.get(DataValue, current.id, populate_existing=True))
    elif isinstance(e, PermissionError):
        _rejected(result, item, "forbidden", f"You may read unit {row.org_unit!r} but not enter its figures.",
                  "orgUnit")
    elif e.code == "deleted_meanwhile":  # type: ignore[attr-defined]
        _rejected(result, item, "conflict", f"The figure was cleared since version {row.version} was read. "
                  "Read it again and send the batch again.")
    else:
        _rejected(result, item, e.code, str(e), e.field)  # type: ignore[attr-defined]


def _write_batch(session: Session, principal: Principal, writes: bulk_write.Writes, changes: list[Any],
                 via: str, years: dict[tuple[int, int, int], dict[str, Any]]) -> None:
    """The whole batch written set-wise and the roll-up brought up to date (on a failure the
    caller rolls the transaction back)."""
    bulk_write.write(session, writes, now=utcnow(), user_id=principal.user_id, token_id=principal.token_id,
                     via=via)
    _expire_values(session)
    if changes:
        rollup.on_values_changed(session, changes, after=_after(years, writes))
