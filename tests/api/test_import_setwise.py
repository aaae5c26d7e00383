"""The set-wise import (issue #16): the same figures, audit rows and roll-up as saving each
row through `save_value`, written one statement per table."""
import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from app.accounts.deps import Principal
from app.audit.models import AuditLog
from app.program.models import Indicator, Program
from app.rollup import service as rollup
from app.units.models import Unit
from app.values import bulk
from app.values.models import DataValue
from app.values.service import Figure, save_value


@pytest.fixture
def program(db) -> Program:
    return db.exec(select(Program).where(Program.year == 2023)).one()


def _admin(db) -> Principal:
    return Principal(unit=db.exec(select(Unit).where(Unit.code == "15")).one(), role="admin", via="api")


def _stored(db, code: str, ind: str, period: str) -> DataValue | None:
    return db.exec(select(DataValue).join(Unit, Unit.id == DataValue.unit_id)
                   .join(Indicator, Indicator.id == DataValue.indicator_id)
                   .where(Unit.code == code, Indicator.code == ind, DataValue.period == period)
                   .execution_options(populate_existing=True)).first()


def _audit(db, dv_unit: int, dv_ind: int, period: str) -> list[AuditLog]:
    return list(db.exec(select(AuditLog).where(AuditLog.unit_id == dv_unit, AuditLog.indicator_id == dv_ind,
                                               AuditLog.period == period).order_by(AuditLog.id)).all())


def test_batch_creates_updates_and_clears_with_the_audit_rows_save_value_writes(db, program):
    admin = _admin(db)
    # Before: Xuân Long (04720) has CT17 April = 2 with a comment, and CT17 May = 5.
    commune = db.exec(select(Unit).where(Unit.code == "04720")).one()
    ct17 = db.exec(select(Indicator).where(Indicator.code == "CT17", Indicator.program_id == program.id)).one()
    save_value(db, admin, program, commune, ct17, "2023-04", Figure(value=2, comment="họp \"dân\""))
    save_value(db, admin, program, commune, ct17, "2023-05", Figure(value=5))
    db.commit()
    before = datetime.now(UTC)
    rows = [bulk.ImportRow("04720", "CT17", "2023-04", value="3"),          # update, comment kept
            bulk.ImportRow("04720", "CT17", "2023-05", value=None),         # clear
            bulk.ImportRow("04720", "CT17", "2023-06", value="1.000"),      # create (1000)
            bulk.ImportRow("04720-01", "CT11", "2023-06", numerator="8", denominator="10")]
    result = bulk.import_values(db, admin, rows, via="api")
    db.commit()
    assert (result.imported, result.updated, result.deleted, result.unchanged, result.rejected) == (2, 1, 1, 0, [])

    april = _stored(db, "04720", "CT17", "2023-04")
    assert (april.value, april.comment, april.version, april.updated_via) == (3, 'họp "dân"', 2, "api")
    assert _stored(db, "04720", "CT17", "2023-05") is None
    june = _stored(db, "04720", "CT17", "2023-06")
    assert (june.value, june.version, june.updated_via) == (1000, 1, "api")
    # Timestamps are stored as the ORM stores them: they read back as aware UTC datetimes.
    assert june.updated_at.tzinfo is not None and june.created_at == june.updated_at
    assert before - timedelta(seconds=1) <= june.updated_at <= datetime.now(UTC) + timedelta(seconds=1)
    # …and in the same raw form as a figure saved through the ORM (on SQLite: the same text shape).
    orm_row = save_value(db, admin, program, commune, ct17, "2023-07", Figure(value=1)).data_value
    db.flush()
    raw = dict(db.execute(text("SELECT id, updated_at FROM data_value WHERE id IN (:a, :b)"),
                          {"a": june.id, "b": orm_row.id}).all())
    assert type(raw[june.id]) is type(raw[orm_row.id])
    if isinstance(raw[june.id], str):
        assert len(raw[june.id]) == len(raw[orm_row.id])

    upd = _audit(db, commune.id, ct17.id, "2023-04")[-1]
    assert (upd.action, upd.entity, upd.entity_id, upd.via) == ("update", "data_value", april.id, "api")
    assert json.loads(upd.old) == {"value": 2, "numerator": None, "denominator": None,
                                   "comment": 'họp "dân"', "version": 1}
    assert json.loads(upd.new) == {"value": 3, "numerator": None, "denominator": None,
                                   "comment": 'họp "dân"', "version": 2}
    # Byte for byte what `service.audit` writes (json.dumps, ensure_ascii=False).
    assert upd.new == json.dumps(json.loads(upd.new), ensure_ascii=False)
    dele = _audit(db, commune.id, ct17.id, "2023-05")[-1]
    assert (dele.action, dele.new) == ("delete", None)
    assert json.loads(dele.old)["value"] == 5
    create = _audit(db, commune.id, ct17.id, "2023-06")
    assert [(a.action, a.entity_id, a.old) for a in create] == [("create", june.id, None)]
    assert json.loads(create[0].new) == {"value": 1000, "numerator": None, "denominator": None,
                                         "comment": None, "version": 1}
    assert rollup.check(db) == []


def test_identity_map_copies_are_read_again_after_the_batch(db, program):
    admin = _admin(db)
    commune = db.exec(select(Unit).where(Unit.code == "04720")).one()
    ct17 = db.exec(select(Indicator).where(Indicator.code == "CT17", Indicator.program_id == program.id)).one()
    held = save_value(db, admin, program, commune, ct17, "2023-04", Figure(value=2)).data_value
    bulk.import_values(db, admin, [bulk.ImportRow("04720", "CT17", "2023-04", value="7")], via="api")
    assert (held.value, held.version) == (7, 2)  # the session's copy is not stale


def _random_rows(rng: random.Random, db, program, units: list[Unit], n: int) -> list[bulk.ImportRow]:
    indicators = list(db.exec(select(Indicator).where(Indicator.program_id == program.id)).all())
    seen, rows = set(), []
    while len(rows) < n:
        ind = rng.choice(indicators)
        depths = {int(d) for d in ind.entry_depths.split(",")}
        candidates = [u for u in units if u.depth in depths]
        if not candidates:
            continue
        u = rng.choice(candidates)
        period = f"2023-{rng.randint(1, 8):02d}"
        if (u.code, ind.code, period) in seen:
            continue
        seen.add((u.code, ind.code, period))
        if rng.random() < 0.15:
            rows.append(bulk.ImportRow(u.code, ind.code, period))  # clear (or nothing to clear)
        elif ind.measure == "ratio":
            den = rng.randint(1, 50)
            rows.append(bulk.ImportRow(u.code, ind.code, period, numerator=rng.randint(0, den), denominator=den))
        elif ind.measure == "yes_no":
            rows.append(bulk.ImportRow(u.code, ind.code, period, value=rng.randint(0, 1)))
        else:
            rows.append(bulk.ImportRow(u.code, ind.code, period, value=rng.randint(0, 4)))
    return rows


def test_random_batches_keep_every_rollup_table_exact(db, program):
    # Yên Bình district's tree: five batches of 400 rows (creates, overwrites, clears, stocks
    # and flows over eight months, several months of one figure in one batch); after each, the
    # kept tables equal a rebuild from raw values, and the figures equal the last row sent.
    top = db.exec(select(Unit).where(Unit.code == "141")).one()
    units = list(db.exec(select(Unit).where(Unit.path.startswith(top.path))).all())
    rng = random.Random(16)
    admin = _admin(db)
    last: dict[tuple[str, str, str], bulk.ImportRow] = {}
    for _ in range(5):
        rows = _random_rows(rng, db, program, units, 400)
        result = bulk.import_values(db, admin, rows, via="api")
        assert result.rejected == []
        db.commit()
        assert rollup.check(db) == []
        last.update({(r.org_unit, r.data_element, r.period): r for r in rows})
    for (code, ind, period), r in rng.sample(sorted(last.items()), 60):
        dv = _stored(db, code, ind, period)
        if r.value is None and r.numerator is None:
            assert dv is None
        else:
            assert (dv.value, dv.numerator, dv.denominator) == (r.value, r.numerator, r.denominator)


def test_the_same_random_batch_twice_changes_nothing(db, program):
    top = db.exec(select(Unit).where(Unit.code == "141")).one()
    units = list(db.exec(select(Unit).where(Unit.path.startswith(top.path))).all())
    rows = _random_rows(random.Random(3), db, program, units, 300)
    admin = _admin(db)
    bulk.import_values(db, admin, rows, via="api")
    db.commit()
    audits = db.exec(select(AuditLog.id)).all()
    again = bulk.import_values(db, admin, rows, via="api")
    db.commit()
    assert (again.imported, again.updated, again.deleted, again.unchanged) == (0, 0, 0, 300)
    assert db.exec(select(AuditLog.id)).all() == audits


def test_the_collector_runs_again_after_a_large_batch_even_one_that_fails(db, program, monkeypatch):
    import gc

    top = db.exec(select(Unit).where(Unit.code == "141")).one()
    units = list(db.exec(select(Unit).where(Unit.path.startswith(top.path))).all())
    rows = _random_rows(random.Random(9), db, program, units, 1200)
    seen: list[bool] = []
    real = rollup.on_values_changed

    def spy(session, changes, **kw):
        seen.append(gc.isenabled())
        return real(session, changes, **kw)

    monkeypatch.setattr(rollup, "on_values_changed", spy)
    bulk.import_values(db, _admin(db), rows, via="api")
    assert seen == [False] and gc.isenabled()  # held during the batch, running again after

    def boom(session, changes, **kw):
        raise RuntimeError("disk full")

    monkeypatch.setattr(rollup, "on_values_changed", boom)
    changed = [bulk.ImportRow(r.org_unit, r.data_element, r.period, value=None) for r in rows]
    with pytest.raises(RuntimeError):
        bulk.import_values(db, _admin(db), changed, via="api")
    assert gc.isenabled()


def test_rows_sharing_a_place_with_a_right_row_are_still_judged_by_every_rule(db, program):
    # A batch judges where a figure goes once per (level, month) and (unit, month): rows that
    # share those with a right row must still meet every other rule, and report the same first
    # broken rule as a single save. Village 04720-01 (depth 3): CT08 is a village yes/no; CT17
    # is entered by communes only; CT07 is a village count.
    rows = [bulk.ImportRow("04720-01", "CT08", "2023-04", value="1"),
            bulk.ImportRow("04720-01", "CT17", "2023-04", value="2"),   # same unit and month
            bulk.ImportRow("04720-01", "CT07", "2023-04", value="-1"),  # same place, a broken number
            bulk.ImportRow("04720-02", "CT08", "2023-04", value="1"),   # same level and month
            bulk.ImportRow("04720-02", "CT08", "2023-13", value="1")]   # not a month
    result = bulk.import_values(db, _admin(db), rows, via="api", dry_run=True)
    assert [(r.index, r.code) for r in result.rejected] == [
        (1, "level_does_not_enter"), (2, "negative"), (4, "bad_period")]
    assert result.imported == 2  # a dry run counts the right rows


def test_a_batch_failing_after_its_writes_commits_nothing_of_it(engine, monkeypatch):
    # The import has no savepoint of its own: when the roll-up update fails after the batch's
    # figures and audit rows were written, the request's own session (not the tests' shared
    # one) rolls them all back. Checked from another session, on committed state.
    from fastapi.testclient import TestClient
    from sqlalchemy import delete, func
    from sqlmodel import Session

    from app.accounts.models import ApiToken
    from app.main import app
    from tests.api_support import make_token

    with Session(engine) as s:
        secret = make_token(s, "141")
        audits_before = s.exec(select(func.count()).select_from(AuditLog)).one()
    written: list[int] = []

    def boom(session, changes, **kw):
        written.append(session.exec(select(func.count()).select_from(DataValue)).one())
        raise RuntimeError("disk full")

    monkeypatch.setattr(rollup, "on_values_changed", boom)
    body = {"dataValues": [{"orgUnit": "04720", "dataElement": "CT17", "period": "2023-04", "value": "2"},
                           {"orgUnit": "04720-01", "dataElement": "CT11", "period": "2023-04",
                            "numerator": 120, "denominator": 150}]}
    try:
        r = TestClient(app, raise_server_exceptions=False).post(
            "/api/v1/data-values", json=body, headers={"Authorization": f"Bearer {secret}"})
        assert r.status_code == 500
        assert written == [2]  # both figures were written in the request's transaction
        with Session(engine) as s:
            assert s.exec(select(func.count()).select_from(DataValue)).one() == 0
            assert s.exec(select(func.count()).select_from(AuditLog)).one() == audits_before
    finally:
        with Session(engine) as s:
            s.execute(delete(ApiToken).where(ApiToken.prefix == secret[:12]))
            s.commit()


def test_rows_the_caller_may_read_but_not_enter_and_figures_cleared_meanwhile_are_refused(db, program):
    # An editor of commune 04720 (no right below it) reads its village 04720-01 but does not
    # enter its figures; a row sent with the version of a figure cleared since is a conflict.
    commune = db.exec(select(Unit).where(Unit.code == "04720")).one()
    editor = Principal(unit=commune, role="editor", via="api")
    ct17 = db.exec(select(Indicator).where(Indicator.code == "CT17", Indicator.program_id == program.id)).one()
    save_value(db, editor, program, commune, ct17, "2023-04", Figure(value=2))
    save_value(db, editor, program, commune, ct17, "2023-04", Figure())  # cleared: no figure now
    db.commit()
    rows = [bulk.ImportRow("04720-01", "CT11", "2023-05", numerator="8", denominator="10"),
            bulk.ImportRow("04720", "CT17", "2023-04", value="3", version=1),
            bulk.ImportRow("04720", "CT17", "2023-05", value="1")]
    result = bulk.import_values(db, editor, rows, via="api")
    assert [(r.index, r.code, r.field) for r in result.rejected] == [(0, "forbidden", "orgUnit"),
                                                                      (1, "conflict", None)]
    assert "may read unit '04720-01' but not enter" in result.rejected[0].message
    assert "cleared since version 1" in result.rejected[1].message and result.rejected[1].current is None
    assert (result.imported, result.updated, result.unchanged, result.deleted) == (0, 0, 0, 0)
    assert _stored(db, "04720", "CT17", "2023-05") is None  # nothing of the batch was written


def test_an_update_records_who_made_it_whoever_made_the_figure_before(db, program):
    # `updated_by_id` is the writer's (None for a token), also where it already was (SQLite
    # then writes the row without that column).
    from app.accounts.models import User

    user = db.exec(select(User).order_by(User.id)).first()
    province = db.exec(select(Unit).where(Unit.code == "15")).one()
    signed_in = Principal(unit=province, role="admin", via="web", user=user)
    ct17 = db.exec(select(Indicator).where(Indicator.code == "CT17", Indicator.program_id == program.id)).one()
    commune = db.exec(select(Unit).where(Unit.code == "04720")).one()
    save_value(db, signed_in, program, commune, ct17, "2023-04", Figure(value=1))  # by the user
    save_value(db, _admin(db), program, commune, ct17, "2023-05", Figure(value=1))  # by no user
    db.commit()

    def by() -> list[int | None]:
        return [_stored(db, "04720", "CT17", p).updated_by_id for p in ("2023-04", "2023-05")]

    assert by() == [user.id, None]
    rows = [bulk.ImportRow("04720", "CT17", p, value=str(v)) for p, v in (("2023-04", 2), ("2023-05", 2))]
    assert bulk.import_values(db, signed_in, rows, via="import").updated == 2
    db.commit()
    assert by() == [user.id, user.id]
    rows = [bulk.ImportRow("04720", "CT17", "2023-04", value="3")]
    assert bulk.import_values(db, _admin(db), rows, via="api").updated == 1
    db.commit()
    assert by() == [None, user.id]
