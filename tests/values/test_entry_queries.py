"""How many statements one saved figure costs (issue 11, item 4).

The entry routes resolve the unit, the program, the month and the right to write once per
request (`app.values.entry_request`), and hand `save_value` the row they already read, so one
save reads the unit once, the figure once and the indicator list once. These tests pin upper
bounds on the statements one htmx save sends (a count, not a time): a change that walks the
database back and forth again fails here.

Measured when written, statements besides PostgreSQL's locks (two advisory-lock calls, and the
year's share lock that a close waits for: `app.program.closing.hold_year`): a field of the
commune's own page 14 (16 before; data_value read 2 times instead of 4), a village's cell 13
(19 before; data_value 2 instead of 5, unit 3 instead of 5); neither reads the caller's
predecessors.
"""
import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

HX = {"HX-Request": "true"}


@contextmanager
def _statements(engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def _record(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", _record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", _record)


def _reads(seen: list[str], table: str) -> int:
    """SELECTs whose main table is `table` (the FROM before any WHERE), locks aside."""
    return sum(1 for s in seen if s.startswith("SELECT ") and not _year_lock(s)
               and re.search(rf"\bFROM {table}\b", s.split(" WHERE ")[0]))


def _year_lock(statement: str) -> bool:
    return statement.startswith("SELECT program.") and statement.endswith("FOR KEY SHARE")


def _locks(seen: list[str]) -> int:
    return sum(1 for s in seen if "pg_advisory_xact_lock" in s or _year_lock(s))


def _year_locks_as_expected(seen: list[str], engine) -> bool:
    """PostgreSQL: the year read once under its share lock; SQLite: no such statement."""
    return sum(map(_year_lock, seen)) == (engine.dialect.name == "postgresql")


def test_one_field_save_reads_each_thing_once(login, engine):
    c = login("xa.nhaplieu")
    with _statements(engine) as seen:
        r = c.post("/entry/04720/2023-03/CT17", data={"CT17.value": "3", "CT17.version": "0"}, headers=HX)
    assert r.status_code == 200 and "Đã lưu" in r.text
    assert 'hx-swap-oob' in r.text and "1/8" in r.text.replace(" ", "")  # the "n of m filled" line
    # The caller's own unit (the session check) and the unit named in the address: one each.
    assert _reads(seen, "unit") <= 2
    assert _reads(seen, "program") == 1
    assert _year_locks_as_expected(seen, engine)
    assert _reads(seen, "indicator") == 1
    # The page's one read of the month and the month before, and the roll-up's "before".
    assert _reads(seen, "data_value") == 2
    # The caller's predecessors (whose earlier units it may read) are read only when a check
    # needs them: a commune writing its own figure never does.
    assert _reads(seen, "unit_successor") == 0
    assert len(seen) - _locks(seen) <= 14


def test_one_village_cell_save_reads_each_thing_once(login, engine):
    c = login("xa.nhaplieu")
    with _statements(engine) as seen:
        r = c.post("/entry/04720/2023-03/villages/04720-01/CT07",
                   data={"04720-01.CT07.value": "2", "04720-01.CT07.version": "0"}, headers=HX)
    assert r.status_code == 200 and "Đã lưu" in r.text
    # The caller's unit, the commune and the village.
    assert _reads(seen, "unit") <= 3
    assert _reads(seen, "program") == 1
    assert _year_locks_as_expected(seen, engine)
    assert _reads(seen, "indicator") == 1
    assert _reads(seen, "data_value") == 2
    assert _reads(seen, "unit_successor") == 0
    assert len(seen) - _locks(seen) <= 13
