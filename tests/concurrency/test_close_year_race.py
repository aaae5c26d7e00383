"""A save and the close of its year at the same moment: two real transactions, the second
waiting for the first's lock (`app.program.closing`, "A save and a close at the same moment").

Xã Xuân Long (04720) enters CT17 (supervisions, a flow) for April 2023; nothing else of
district 141 enters CT17 that month in the test data, so the district's April total is the
commune's figure, or nothing. Without the year's lock on PostgreSQL the second transaction
would not wait (the interleaving fails) and a save read "open" just before the close landed in
the closed year.
"""
import pytest
from sqlmodel import Session, select

from app.core.db import write_session
from app.program import closing
from app.program.models import Program
from app.values import bulk, service
from app.values.models import DataValue
from tests.concurrency_support import Interleaving, admin_principal, indicator, private_copy, program, unit

COMMUNE, DISTRICT, MONTH = "04720", "141", "2023-04"


@pytest.fixture
def copy(engine):
    with private_copy(engine) as eng:
        yield eng


def save(value: int):
    def step(s: Session):
        return service.save_value(s, admin_principal(s), program(s), unit(s, COMMUNE), indicator(s, "CT17"),
                                  MONTH, service.Figure(value=value), via="api")
    return step


def close(s: Session) -> Program:
    return closing.close_year(s, admin_principal(s), program(s), via="api")


def stored(eng) -> int | None:
    with Session(eng) as s:
        row = s.exec(select(DataValue).where(DataValue.unit_id == unit(s, COMMUNE).id,
                                             DataValue.indicator_id == indicator(s, "CT17").id,
                                             DataValue.period == MONTH)).first()
        return None if row is None else row.value


def district_total(eng) -> int | None:
    from tests.concurrency.test_concurrency import cell

    found = cell(eng, DISTRICT, "CT17", MONTH)
    return None if found is None else found[0]


def test_a_save_asking_after_the_close_waits_then_is_refused(copy):
    with pytest.raises(service.EntryError) as refused:
        Interleaving(copy).run(close, save(3))
    assert refused.value.code == "year_closed"
    assert (stored(copy), district_total(copy)) == (None, None)


def test_the_close_waits_for_the_save_in_flight(copy):
    # The save began first: it lands (3), then the year closes, and a later save is refused.
    _, closed_at = Interleaving(copy).run(save(3), lambda s: close(s).closed_at)
    assert closed_at is not None
    assert (stored(copy), district_total(copy)) == (3, 3)
    with pytest.raises(service.EntryError) as refused, write_session(copy) as s:
        save(5)(s)
    assert refused.value.code == "year_closed"


def test_an_import_asking_after_the_close_rejects_its_rows(copy):
    rows = [bulk.ImportRow(COMMUNE, "CT17", MONTH, value="4")]
    _, result = Interleaving(copy).run(
        close, lambda s: bulk.import_values(s, admin_principal(s), rows, via="api"))
    assert [r.code for r in result.rejected] == ["year_closed"]
    assert (stored(copy), district_total(copy)) == (None, None)


def test_ending_a_reopening_waits_then_the_units_save_is_refused(copy):
    # The year is closed and 04720 reopened (it saved 2); the level above ends the reopening while
    # the commune saves 6: the save waits for the end, then finds the year closed for it again.
    with write_session(copy) as s:
        close(s)
        closing.reopen_unit(s, admin_principal(s), program(s), unit(s, COMMUNE), "Sửa số liệu tháng 4", via="api")
        save(2)(s)
        s.commit()

    def end_reopening(s: Session) -> None:
        closing.close_unit(s, admin_principal(s), program(s), unit(s, COMMUNE), via="api")

    with pytest.raises(service.EntryError) as refused:
        Interleaving(copy).run(end_reopening, save(6))
    assert refused.value.code == "year_closed"
    assert (stored(copy), district_total(copy)) == (2, 2)
