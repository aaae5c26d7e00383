"""The pre-aggregated cells agree with the straightforward computation over raw values,
after single saves, a batch import and a rebuild."""
import random

import pytest
from sqlalchemy import select as sa_select
from sqlmodel import select

from app.accounts.deps import Principal
from app.program.models import Indicator, Program
from app.program.periods import PeriodRange
from app.rollup import service as rollup
from app.rollup.models import RollupCell, RollupEach, RollupOwn
from app.units.models import Unit
from app.values.models import DataValue
from app.values.rules import snapshot
from app.values.service import Figure as Entry
from app.values.service import save_value

PERIODS = ["2023-01", "2023-03", "2023-Q1", "2023-Q2", "2023-01..2023-05", "2023"]


@pytest.fixture
def program(db) -> Program:
    return db.exec(select(Program).where(Program.year == 2023)).one()


def _unit(db, code: str) -> Unit:
    return db.exec(select(Unit).where(Unit.code == code)).one()


def _subtree(db, code: str) -> list[Unit]:
    top = _unit(db, code)
    return list(db.exec(select(Unit).where(Unit.path.startswith(top.path))).all())


def _random_entry(rng: random.Random, ind: Indicator) -> Entry:
    if ind.measure == "ratio":
        den = rng.randint(1, 200)
        return Entry(numerator=rng.randint(0, den), denominator=den)
    if ind.measure == "yes_no":
        return Entry(value=rng.randint(0, 1))
    return Entry(value=rng.randint(0, 3))  # small counts: figures land on the targets


def _fill(db, program, rng: random.Random, units: list[Unit], n: int) -> None:
    """n random saves (some overwrite, some clear) through save_value."""
    root = db.get(Unit, program.root_unit_id)
    admin = Principal(unit=root, role="admin", via="web")
    indicators = list(db.exec(select(Indicator).where(Indicator.program_id == program.id)).all())
    for _ in range(n):
        ind = rng.choice(indicators)
        depths = [int(d) for d in ind.entry_depths.split(",")]
        candidates = [u for u in units if u.depth in depths]
        if not candidates:
            continue
        u = rng.choice(candidates)
        period = f"2023-{rng.randint(1, 6):02d}"
        entry = Entry() if rng.random() < 0.1 else _random_entry(rng, ind)
        save_value(db, admin, program, u, ind, period, entry)
    db.flush()


def _as_tuples(results) -> list:
    out = []
    for r in results:
        s = r.subtree
        own = r.own
        out.append((r.indicator.code, s.value, s.numerator, s.denominator, s.reported, s.expected,
                    None if own is None else (own.value, own.numerator, own.denominator),
                    [(t.status, t.actual, t.units_meeting, t.units_total,
                      sorted(u.id for u in t.units_failing)) for t in r.targets]))
    return out


def _assert_same_as_raw(db, program, codes: list[str]) -> None:
    with_data = 0
    for code in codes:
        u = _unit(db, code)
        for p in PERIODS:
            period = PeriodRange.parse(p)
            fast, fast_children = rollup.dashboard(db, u, period, program)
            slow, slow_children = rollup.raw_rollup(db, u, period, program, with_children=True)
            assert _as_tuples(fast) == _as_tuples(slow), (code, p)
            with_data += sum(r.subtree.value is not None for r in fast)
            for (c1, r1), (c2, r2) in zip(fast_children, slow_children, strict=True):
                assert c1.id == c2.id
                assert _as_tuples(r1) == _as_tuples(r2), (code, c1.code, p)
    assert with_data > 50  # the comparison is about real figures, not empty ones


def test_cells_match_raw_values_after_random_saves(db, program):
    # Yên Bình district and its tree: 300 random saves, overwrites and clears.
    rng = random.Random(7)
    units = _subtree(db, "141") + [_unit(db, "15")]
    _fill(db, program, rng, units, 300)
    _assert_same_as_raw(db, program, ["15", "141", "04720"])


def test_rebuild_gives_the_same_cells_as_incremental_updates(db, program):
    rng = random.Random(11)
    _fill(db, program, rng, _subtree(db, "04720") + [_unit(db, "141"), _unit(db, "15")], 150)
    q = sa_select(RollupCell.unit_id, RollupCell.indicator_id, RollupCell.period,
                  RollupCell.value_sum, RollupCell.num_sum, RollupCell.den_sum,
                  RollupCell.reported_count).order_by(RollupCell.unit_id, RollupCell.indicator_id,
                                                      RollupCell.period)
    o = sa_select(RollupOwn.unit_id, RollupOwn.indicator_id, RollupOwn.period, RollupOwn.value_sum,
                  RollupOwn.num_sum, RollupOwn.den_sum, RollupOwn.reported_count).order_by(
        RollupOwn.unit_id, RollupOwn.indicator_id, RollupOwn.period)
    incremental = [tuple(r) for r in db.execute(q) if any(r[3:])]
    incremental_own = [tuple(r) for r in db.execute(o) if any(r[3:])]
    rollup.rebuild(db)
    rebuilt = [tuple(r) for r in db.execute(q) if any(r[3:])]
    rebuilt_own = [tuple(r) for r in db.execute(o) if any(r[3:])]
    assert incremental == rebuilt
    assert incremental_own == rebuilt_own
    assert len(rebuilt) > 0 and len(rebuilt_own) > 0


def test_batch_change_of_several_stock_months_matches_raw(db, program):
    # An import writes March, June (and clears nothing) for one village's stock in one batch,
    # then reports all changes at once: Q2 must show June's 8, May March's 5.
    village = db.exec(select(Unit).where(Unit.parent_id == _unit(db, "04720").id)).first()
    ind = db.exec(select(Indicator).where(Indicator.code == "CT07")).one()
    changes = []
    for period, value in (("2023-03", 5), ("2023-06", 8)):
        dv = DataValue(unit_id=village.id, indicator_id=ind.id, period=period, value=value)
        db.add(dv)
        db.flush()
        changes.append(rollup.ValueChange(village, ind, period, None, snapshot(dv)))
    rollup.on_values_changed(db, changes)
    commune = _unit(db, "04720")

    def figure(p: str):
        res = rollup.rollup(db, commune, PeriodRange.parse(p), program)
        return next(r for r in res if r.indicator.code == "CT07").subtree.value

    assert (figure("2023-05"), figure("2023-Q2"), figure("2023-02")) == (5, 8, None)


def _each_rows(db) -> list[tuple]:
    e = RollupEach
    q = sa_select(e.unit_id, e.target_id, e.period_start, e.period_end, e.with_data, e.meeting
                  ).order_by(e.unit_id, e.target_id, e.period_start, e.period_end)
    return [tuple(r) for r in db.execute(q)]


def test_each_counts_kept_on_save_match_raw_values(db, program):
    # Figures, a rebuild (which writes the per-ancestor "each commune" counts), then 300 more
    # saves kept up to date incrementally: every "each" verdict equals the one judged unit by
    # unit from raw values, and the kept counts equal those of a fresh rebuild.
    rng = random.Random(23)
    units = _subtree(db, "141") + [_unit(db, "15")]
    _fill(db, program, rng, units, 150)
    rollup.rebuild(db)
    province = _unit(db, "15")
    assert db.exec(select(RollupEach).where(RollupEach.unit_id == province.id)).first() is not None
    _fill(db, program, rng, units, 300)
    _assert_same_as_raw(db, program, ["15"])
    incremental = _each_rows(db)
    rollup.rebuild(db)
    assert incremental == _each_rows(db)


def test_each_counts_of_an_edited_target_fall_back_to_units_figures(db, program):
    # "Each commune holds ≥ 1 supervision" raised to ≥ 2 after the rebuild: the kept counts
    # (for ≥ 1) no longer apply, and the roll-up judges the communes against ≥ 2 instead.
    from app.program.models import Target

    rng = random.Random(5)
    _fill(db, program, rng, _subtree(db, "141") + [_unit(db, "15")], 200)
    rollup.rebuild(db)
    ct17 = db.exec(select(Indicator).where(Indicator.code == "CT17")).one()
    target = db.exec(select(Target).where(Target.indicator_id == ct17.id, Target.scope == "each",
                                          Target.depth == 2)).one()
    target.value = 2
    db.add(target)
    db.flush()
    _assert_same_as_raw(db, program, ["15"])


def test_save_updates_kept_each_commune_count_for_the_quarter(db, program):
    # "Each commune holds ≥ 1 supervision" (CT17) over 2023-Q1 in province 15, kept per span:
    # commune A enters 1 in January, then a rebuild writes the kept counts: 1 commune with data,
    # 1 meeting. B enters 2 in February: 2 with data, 2 meeting. C enters 0 in March: 3 with
    # data, 2 meeting (0 < 1). A's January is cleared: A has no figure in Q1 any more, so 2 with
    # data (B, C), 1 meeting (B: 2 ≥ 1) — of 173 communes.
    root = _unit(db, "15")
    admin = Principal(unit=root, role="admin", via="web")
    a, b, c = db.exec(select(Unit).where(Unit.parent_id == _unit(db, "141").id)
                      .order_by(Unit.code)).all()[:3]
    ct17 = db.exec(select(Indicator).where(Indicator.code == "CT17")).one()
    save_value(db, admin, program, a, ct17, "2023-01", Entry(value=1))
    rollup.rebuild(db)
    save_value(db, admin, program, b, ct17, "2023-02", Entry(value=2))
    save_value(db, admin, program, c, ct17, "2023-03", Entry(value=0))
    save_value(db, admin, program, a, ct17, "2023-01", Entry())
    db.flush()
    row = db.exec(select(RollupEach).where(RollupEach.unit_id == root.id,
                                           RollupEach.indicator_id == ct17.id, RollupEach.depth == 2,
                                           RollupEach.period_start == "2023-01",
                                           RollupEach.period_end == "2023-03")).one()
    assert (row.with_data, row.meeting) == (2, 1)
    res = next(r for r in rollup.rollup(db, root, PeriodRange.parse("2023-Q1"), program)
               if r.indicator.code == "CT17")
    each = next(t for t in res.targets if t.target is not None and t.target.depth == 2)
    assert (each.units_meeting, each.units_total) == (1, 173)


def test_lazy_units_give_their_ids_without_reading_rows(db):
    """`LazyUnits.ids()`: the ids given, in order, with no statement; the same as the rows read."""
    from sqlalchemy import event

    from app.rollup.subtree import LazyUnits

    ids = [u.id for u in db.exec(select(Unit).where(Unit.depth == 2).order_by(Unit.code.desc()).limit(5)).all()]
    lazy, seen = LazyUnits(db, ids), []

    def record(conn, cursor, statement, *rest) -> None:
        seen.append(statement)

    event.listen(db.get_bind(), "before_cursor_execute", record)
    try:
        assert (lazy.ids(), len(lazy), seen) == (ids, 5, [])
        assert [u.id for u in lazy] == ids and len(seen) == 1
    finally:
        event.remove(db.get_bind(), "before_cursor_execute", record)
