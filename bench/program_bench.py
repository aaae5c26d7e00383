"""What a province administrator waits for on the program pages (issue #12, points 3 and 4).

On a throw-away SQLite database seeded with the demo figures (January–March 2023), times:
- a target edit of the published 2023 program (`lifecycle.update_target`): an 'each commune'
  target (audited, the kept roll-up rebuilt in the same transaction) and the province's own
  target (audited; no kept counts), beside their floor measured in the same run: the same
  UPDATE of the target row alone, without audit or rebuild;
- copying 2023 (indicators, targets, 47 task rows) into a draft (`lifecycle.create_draft`);
- publishing that draft (every check over the whole program);
- the program file: export of 2023, import into an empty draft.
Each is run 5 times in a transaction rolled back afterwards; the median wall time is printed.

    .venv/bin/python bench/program_bench.py
"""
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

_tmp = Path(tempfile.mkdtemp(prefix="mttq-bench-"))
os.environ.update(ENVIRONMENT="test", DATABASE_URL=f"sqlite:///{_tmp / 'bench.db'}",
                  SEED_DEMO_VALUES="true", SEED_DEMO_USERS="true",
                  SECRET_KEY="bench-secret-key-not-for-production")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, update  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from app.accounts.deps import Principal  # noqa: E402
from app.accounts.models import User  # noqa: E402
from app.core.db import engine  # noqa: E402
from app.core.migrate import upgrade_to_head  # noqa: E402
from app.program import lifecycle, program_file  # noqa: E402
from app.program.models import Indicator, Program, Target  # noqa: E402
from app.seed.run import seed  # noqa: E402
from app.units.models import Unit  # noqa: E402
from app.values.models import DataValue  # noqa: E402

RUNS = 5


def _admin(session: Session) -> Principal:
    user = session.exec(select(User).where(User.username == "tinh.quantri")).one()
    return Principal(unit=session.get(Unit, user.unit_id), role="admin", via="web", user=user)


def _median_ms(work) -> float:
    times = []
    for n in range(RUNS):
        with engine.connect() as conn:
            outer = conn.begin()
            session = Session(bind=conn, join_transaction_mode="create_savepoint")
            started = time.perf_counter()
            work(session, n)
            session.flush()
            times.append((time.perf_counter() - started) * 1000)
            session.close()
            outer.rollback()
    return statistics.median(times)


def main() -> int:
    upgrade_to_head(engine)
    with Session(engine) as session:
        seed(session, demo_users=True, demo_values=True)
        values = session.exec(select(func.count()).select_from(DataValue)).one()
        p2023 = session.exec(select(Program).where(Program.year == 2023)).one()
        ct17 = session.exec(select(Indicator).where(Indicator.program_id == p2023.id,
                                                    Indicator.code == "CT17")).one()
        target_id = session.exec(select(Target.id).where(Target.indicator_id == ct17.id,
                                                         Target.scope == "each", Target.depth == 2)).one()
        own_id = session.exec(select(Target.id).where(Target.indicator_id == ct17.id, Target.scope == "own")).one()
        data = program_file.export_xlsx(session, p2023)

    def floor(session: Session, n: int) -> None:
        session.execute(update(Target).where(Target.id == target_id).values(value=2 + n))

    def target_edit(session: Session, n: int) -> None:
        program = session.exec(select(Program).where(Program.year == 2023)).one()
        lifecycle.update_target(session, _admin(session), program, session.get(Target, target_id),
                                {"value": 2 + n})

    def own_edit(session: Session, n: int) -> None:
        program = session.exec(select(Program).where(Program.year == 2023)).one()
        lifecycle.update_target(session, _admin(session), program, session.get(Target, own_id), {"value": 5 + n})

    def copy(session: Session, n: int) -> None:
        lifecycle.create_draft(session, _admin(session), 2026, copy_from=2023, with_tasks=True)

    def publish(session: Session, n: int) -> None:
        admin = _admin(session)
        draft = lifecycle.create_draft(session, admin, 2026, copy_from=2023, with_tasks=True)
        ct06 = session.exec(select(Indicator).where(Indicator.program_id == draft.id,
                                                    Indicator.code == "CT06")).one()
        lifecycle.update_indicator(session, admin, draft, ct06, {"baseline": 150, "baseline_source": "bench"})
        started = time.perf_counter()
        lifecycle.publish(session, admin, draft)
        publish.ms.append((time.perf_counter() - started) * 1000)

    publish.ms = []

    def export(session: Session, n: int) -> None:
        program_file.export_xlsx(session, session.exec(select(Program).where(Program.year == 2023)).one())

    def import_(session: Session, n: int) -> None:
        admin = _admin(session)
        program_file.import_xlsx(session, admin, lifecycle.create_draft(session, admin, 2030), data)

    rows = [("floor: UPDATE of the target row alone", _median_ms(floor)),
            ("'each commune' target edit, published 2023 (audit + roll-up rebuild)", _median_ms(target_edit)),
            ("province's own target edit, published 2023 (audit; nothing kept)", _median_ms(own_edit)),
            ("copy 2023 into a 2026 draft, with tasks", _median_ms(copy))]
    _median_ms(publish)
    rows.append(("publish the draft (every check)", statistics.median(publish.ms)))
    rows += [("export the 2023 program file (XLSX)", _median_ms(export)),
             ("import it into an empty draft", _median_ms(import_))]
    print(f"SQLite, demo figures: {values:,} data values; median of {RUNS} runs")
    for name, ms in rows:
        print(f"{name:<72} {ms:>9.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
