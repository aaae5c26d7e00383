"""Concurrent saves keep the roll-up exact: two real transactions, the second waiting for the
first's lock, for a stock, a flow, a yes/no share, an "each unit" target and two imports.

After each interleaving the kept tables equal a rebuild (`rollup.check` finds nothing) and the
province's (or commune's) kept figure is the one worked out by hand. Without the locks of
`app.rollup.service` the second transaction would not wait (different months of one stock) or
would compute its change from a "before" the first had already replaced.
"""
import pytest
from sqlalchemy import select as sa_select
from sqlmodel import Session

from app.core.db import write_session
from app.rollup import service as rollup
from app.rollup.models import RollupCell, RollupEach, RollupOwn
from app.values import bulk, service
from tests.concurrency_support import (
    Interleaving,
    admin_principal,
    indicator,
    private_copy,
    program,
    unit,
)

COMMUNE, DISTRICT, OTHER_DISTRICT, VILLAGE = "04720", "141", "132", "04720-01"


@pytest.fixture
def copy(engine):
    with private_copy(engine) as eng:
        yield eng


def save(code: str, ind: str, period: str, version: int | None = None, **figure):
    """A step of an interleaving: save one figure in the given session."""
    def step(s: Session):
        return service.save_value(s, admin_principal(s), program(s), unit(s, code), indicator(s, ind),
                                  period, service.Figure(**figure), expected_version=version, via="api")
    return step


def commit(eng, *steps) -> None:
    with write_session(eng) as s:
        for step in steps:
            step(s)
        s.commit()


def cell(eng, unit_code: str, ind: str, period: str) -> tuple[int, int, int, int] | None:
    with Session(eng) as s:
        c = RollupCell.__table__.c
        row = s.execute(sa_select(c.value_sum, c.num_sum, c.den_sum, c.reported_count).where(
            c.unit_id == unit(s, unit_code).id, c.indicator_id == indicator(s, ind).id,
            c.period == period)).first()
        return None if row is None else tuple(row)


def differences(eng) -> list:
    with Session(eng) as s:
        return rollup.check(s)


def test_stock_two_months_saved_at_once_province_total_exact(copy):
    # Commune 04720 enters CT01 (cadres studied, a stock) for March in one transaction and for
    # May in another, at the same time. By hand: March–April carry 40/50, May onwards 45/50.
    Interleaving(copy).run(save(COMMUNE, "CT01", "2023-03", numerator=40, denominator=50),
                           save(COMMUNE, "CT01", "2023-05", numerator=45, denominator=50))
    assert cell(copy, "15", "CT01", "2023-04") == (0, 40, 50, 1)
    assert cell(copy, "15", "CT01", "2023-05") == (0, 45, 50, 1)
    assert cell(copy, DISTRICT, "CT01", "2023-12") == (0, 45, 50, 1)
    assert differences(copy) == []


def test_flow_same_figure_overwritten_at_once_sum_exact(copy):
    # CT17 (supervisions, a flow): April is 2; two API saves without a version set it to 3 and
    # to 5 at once (last writer wins). By hand: the province's April is 5, not 2 + 1 + 3.
    commit(copy, save(COMMUNE, "CT17", "2023-04", value=2))
    Interleaving(copy).run(save(COMMUNE, "CT17", "2023-04", value=3),
                           save(COMMUNE, "CT17", "2023-04", value=5))
    assert cell(copy, "15", "CT17", "2023-04") == (5, 0, 0, 1)
    with Session(copy) as s:
        o = RollupOwn.__table__.c
        own = s.execute(sa_select(o.value_sum).where(
            o.unit_id == unit(s, COMMUNE).id, o.indicator_id == indicator(s, "CT17").id,
            o.period == "2023-12")).scalar_one()
    assert own == 5  # January–December cumulative of the commune's own supervisions
    assert differences(copy) == []


def test_yes_no_share_two_months_at_once_share_exact(copy):
    # Village 04720-01 answers CT08 (Great Unity Day held) "yes" for March and "no" for June at
    # once. By hand, in the commune's cell: March–May 1 yes of 1 answering; June on, 0 of 1.
    Interleaving(copy).run(save(VILLAGE, "CT08", "2023-03", value=1),
                           save(VILLAGE, "CT08", "2023-06", value=0))
    assert cell(copy, COMMUNE, "CT08", "2023-05") == (1, 0, 0, 1)
    assert cell(copy, COMMUNE, "CT08", "2023-06") == (0, 0, 0, 1)
    assert cell(copy, "15", "CT08", "2023-12") == (0, 0, 0, 1)
    assert differences(copy) == []


def test_each_district_target_counts_exact(copy):
    # CT12 "each district builds ≥ 3 great-unity houses". District 132 built 4 in January and a
    # rebuild wrote the kept per-span counts. Then district 141's April figure is set to 2 and
    # to 3 at once. By hand, for the province over the year: 2 districts with data, 2 meeting
    # (4 ≥ 3, 3 ≥ 3); over April alone: 1 with data, 1 meeting.
    with write_session(copy) as s:
        save(OTHER_DISTRICT, "CT12", "2023-01", value=4)(s)
        rollup.rebuild(s)
        s.commit()
    Interleaving(copy).run(save(DISTRICT, "CT12", "2023-04", value=2),
                           save(DISTRICT, "CT12", "2023-04", value=3))
    with Session(copy) as s:
        e = RollupEach.__table__.c
        rows = dict(((r[0], r[1]), (r[2], r[3])) for r in s.execute(
            sa_select(e.period_start, e.period_end, e.with_data, e.meeting).where(
                e.unit_id == unit(s, "15").id, e.indicator_id == indicator(s, "CT12").id)))
    assert rows[("2023-01", "2023-12")] == (2, 2)
    assert rows[("2023-04", "2023-04")] == (1, 1)
    assert differences(copy) == []


def test_two_imports_of_the_same_figures_at_once_counted_once(copy):
    # Both batches raise three communes' CT01 for March from 30/50 to 45/50. By hand: the
    # province's March is 135/150 (3 × 45/50), and the second batch finds nothing to change.
    communes = [COMMUNE, "04714", "04726"]
    commit(copy, *[save(c, "CT01", "2023-03", numerator=30, denominator=50) for c in communes])
    rows = [bulk.ImportRow(c, "CT01", "2023-03", numerator="45", denominator="50") for c in communes]

    def batch(s: Session) -> bulk.ImportResult:
        return bulk.import_values(s, admin_principal(s), rows, via="api")

    first, second = Interleaving(copy).run(batch, batch)
    assert (first.updated, second.updated, second.unchanged) == (3, 0, 3)
    assert cell(copy, "15", "CT01", "2023-03") == (0, 135, 150, 3)
    assert differences(copy) == []


def test_rollup_check_lists_a_corrupted_cell(copy):
    # The check is what the load bench and `app.cli rollup check` rely on: it must see a wrong
    # kept figure, and a rebuild must repair it.
    commit(copy, save(COMMUNE, "CT17", "2023-04", value=2))
    with write_session(copy) as s:
        c = RollupCell.__table__
        s.execute(c.update().where(c.c.unit_id == unit(s, "15").id,
                                   c.c.indicator_id == indicator(s, "CT17").id,
                                   c.c.period == "2023-04").values(value_sum=7))
        s.commit()
    diffs = differences(copy)
    assert [(d.table, d.kept, d.expected) for d in diffs] == [("rollup_cell", (7, 0, 0, 1), (2, 0, 0, 1))]
    with write_session(copy) as s:
        rollup.rebuild(s)
        s.commit()
    assert differences(copy) == []


def test_submit_while_saving_waits_then_refuses_the_save(copy):
    # A save holds its figure; the month's submission waits for it. A save that starts after the
    # submission committed is refused: nothing lands in a submitted month.
    def submit(s: Session):
        return service.submit_period(s, admin_principal(s), program(s), unit(s, COMMUNE), "2023-04")

    Interleaving(copy).run(save(COMMUNE, "CT17", "2023-04", value=2), submit)
    with pytest.raises(service.EntryError) as refused:
        commit(copy, save(COMMUNE, "CT17", "2023-04", value=9))
    assert refused.value.code == "period_submitted"
    assert cell(copy, "15", "CT17", "2023-04") == (2, 0, 0, 1)
