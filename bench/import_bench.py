"""Bulk import benchmark: 10,000 values through POST /api/v1/data-values, SQLite and PostgreSQL.

Each database runs in its own process on a fresh database (migrated and seeded with the real
unit tree and the 2023 program, no figures). The batch is village figures (five yes/no or
count indicators and one ratio) for 1,557 villages over two months, cut at 10,000 values.
It is posted in-process through the ASGI app (JSON parsing, validation, every row through
the entry service, audit rows, roll-up update, commit), timed by wall clock. One cycle, from
emptied tables (no figures, audit rows or roll-up rows):

  fresh      – every value new (10,000 imported)
  re-sent    – the same batch again (10,000 unchanged)
  changed    – every value different (10,000 updated)
  dry run    – the changed batch validated and counted, nothing written
  floor      – the tables emptied again, then the same 10,000 `data_value` rows and their
               10,000 audit rows (JSON new included) inserted directly with no app —
               executemany on SQLite, `COPY` on PostgreSQL — and committed

The cycle runs --reps times (default 5), the batches alternating between two sets of figures so
that every "changed" changes every value; every repetition is printed, then the medians. "×
floor" is median(fresh) / median(floor) and median(changed) / median(floor): what the app costs
on top of writing what it must write, each median of runs interleaved with the floor's. On
SQLite the write-ahead log is checkpointed (untimed) before every timed step, so that no step
pays for copying back what an earlier one wrote. CSV fresh (the same 10,000 values as a CSV file
into emptied tables) runs once at the end.

Usage:
  .venv/bin/python bench/import_bench.py                 # SQLite and PostgreSQL
  .venv/bin/python bench/import_bench.py --db sqlite
  BENCH_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/import_bench.py --db postgresql
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
N = 10_000
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _rows(villages: list[str], bump: int = 0) -> list[dict]:
    rows = []
    for month in ("2023-04", "2023-05"):
        for code in villages:
            for ind in ("CT04", "CT08", "CT09", "CT10"):
                rows.append({"orgUnit": code, "dataElement": ind, "period": month, "value": "1" if not bump else "0"})
            rows.append({"orgUnit": code, "dataElement": "CT07", "period": month, "value": 3 + bump})
            rows.append({"orgUnit": code, "dataElement": "CT11", "period": month, "numerator": 80 + bump,
                         "denominator": 100})
    return rows[:N]


def _csv(rows: list[dict]) -> bytes:
    lines = ["orgUnit,dataElement,period,value,numerator,denominator"]
    for r in rows:
        lines.append(",".join(str(r.get(k, "")) for k in ("orgUnit", "dataElement", "period", "value",
                                                           "numerator", "denominator")))
    return ("\n".join(lines) + "\n").encode()


def child(db: str, reps: int) -> None:
    """Run inside a process whose DATABASE_URL names a fresh database."""
    sys.path.insert(0, str(ROOT))
    from fastapi.testclient import TestClient
    from sqlmodel import Session, select

    import app.models
    from app.accounts.models import ApiToken
    from app.accounts.security import new_api_token
    from app.core import heap
    from app.core.db import engine
    from app.core.migrate import upgrade_to_head
    from app.main import app
    from app.seed.run import seed
    from app.units.models import Unit

    upgrade_to_head(engine)
    with Session(engine) as s:
        seed(s, demo_users=False, demo_values=False)
        secret, token_hash = new_api_token()
        root = s.exec(select(Unit).where(Unit.depth == 0)).one()
        s.add(ApiToken(name="bench", unit_id=root.id, mode="write", token_hash=token_hash, prefix=secret[:12]))
        s.commit()
        villages = list(s.exec(select(Unit.code).where(Unit.depth == 3).order_by(Unit.code)).all())

    client = TestClient(app)  # no `with`: no start-up, the database is ready
    heap.settle()  # as the server does when its start-up is done (app.core.heap)
    headers = {"Authorization": f"Bearer {secret}"}
    bodies = [json.dumps({"dataValues": _rows(villages, bump=b)}).encode() for b in (0, 1)]

    def post(payload: bytes, content_type: str = "application/json", query: str = "") -> tuple[float, float, dict]:
        _settle_wal(db, engine)
        t, c = time.perf_counter(), time.process_time()
        r = client.post("/api/v1/data-values" + query, content=payload,
                        headers={**headers, "Content-Type": content_type})
        elapsed, cpu = time.perf_counter() - t, time.process_time() - c
        assert r.status_code == 200, r.text[:1000]
        return elapsed, cpu, r.json()

    # Warm up (first-request imports and statement compilation), as a running server is.
    post(json.dumps({"dataValues": [{"orgUnit": villages[0], "dataElement": "CT07", "period": "2023-01",
                                     "value": 1}]}).encode())
    floor_rows = _floor_rows(db, engine, villages)
    runs: dict[str, list[tuple[float, float]]] = {k: [] for k in ("fresh", "re-sent", "changed", "dry run",
                                                                   "floor")}
    for rep in range(reps):  # the same cycle each time, from the same state
        _clear(engine)
        fresh, resent, changed = bodies[rep % 2], bodies[rep % 2], bodies[1 - rep % 2]
        *t, summary = post(fresh)
        assert summary["imported"] == N, summary
        runs["fresh"].append(t)
        *t, summary = post(resent)
        assert summary["unchanged"] == N, summary
        runs["re-sent"].append(t)
        *t, summary = post(changed)
        assert summary["updated"] == N, summary
        runs["changed"].append(t)
        *t, _summary = post(changed, query="?dryRun=true")
        runs["dry run"].append(t)
        _clear(engine)  # the floor writes into the same empty tables as the fresh import
        _settle_wal(db, engine)
        runs["floor"].append(_floor(db, engine, *floor_rows))
    _clear(engine)
    *csv_fresh, summary = post(_csv(_rows(villages)), "text/csv")
    assert summary["imported"] == N, summary
    runs["CSV fresh"] = [tuple(csv_fresh)]
    print(json.dumps({"db": db, "values": N, "runs": runs}))


def _clear(engine) -> None:
    """Empty the tables an import writes (as the seeded database has them)."""
    from sqlalchemy import delete, func
    from sqlmodel import Session, select

    from app.audit.models import AuditLog
    from app.rollup.models import RollupCell, RollupOwn
    from app.values.models import DataValue, IdempotencyRecord

    with Session(engine) as s:
        for model in (AuditLog, DataValue, RollupCell, RollupOwn, IdempotencyRecord):
            s.exec(delete(model))
        s.commit()
        assert s.exec(select(func.count()).select_from(DataValue)).one() == 0


def _settle_wal(db: str, engine) -> None:
    """SQLite: copy the write-ahead log back into the database file before a timed step, so that
    no step pays for checkpointing what an earlier step wrote (each pays for its own pages)."""
    if db != "sqlite":
        return
    raw = engine.raw_connection()
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()


_DV_COLS = "id, unit_id, indicator_id, period, value, numerator, denominator, version, created_at, updated_at, updated_via"
_AU_COLS = 'at, via, entity, entity_id, action, unit_id, indicator_id, period, "new"'


def _floor_rows(db: str, engine, villages: list[str]) -> tuple[list[tuple], list[tuple]]:
    """The batch's `data_value` rows and their audit rows (JSON new included), as the floor writes them."""
    from datetime import UTC, datetime

    from sqlmodel import Session, select

    from app.program.models import Indicator
    from app.units.models import Unit

    with Session(engine) as s:
        unit_ids = dict(s.exec(select(Unit.code, Unit.id)).all())
        ind_ids = dict(s.exec(select(Indicator.code, Indicator.id)).all())
    now = datetime.now(UTC)
    stamp = now.isoformat(sep=" ") if db == "sqlite" else now
    dv, audit = [], []
    for n, r in enumerate(_rows(villages)):
        snap = {"value": int(r["value"]) if "value" in r else None, "numerator": r.get("numerator"),
                "denominator": r.get("denominator"), "comment": None, "version": 1}
        dv_id = 10_000_000 + n
        key = (unit_ids[r["orgUnit"]], ind_ids[r["dataElement"]], r["period"])
        dv.append((dv_id, *key, snap["value"], snap["numerator"], snap["denominator"], 1, stamp, stamp, "api"))
        audit.append((stamp, "api", "data_value", dv_id, "create", *key, json.dumps(snap, ensure_ascii=False)))
    return dv, audit


def _floor(db: str, engine, dv: list[tuple], audit: list[tuple]) -> tuple[float, float]:
    """Insert the rows and audit rows straight into the empty tables (no app) and commit:
    (wall, CPU). The rows are deleted again afterwards, untimed."""
    raw = engine.raw_connection()
    try:
        t, c = time.perf_counter(), time.process_time()
        cur = raw.cursor()
        if db == "sqlite":
            cur.execute("BEGIN")  # the app's connections leave transactions to SQLAlchemy
            cur.executemany(f"INSERT INTO data_value ({_DV_COLS}) VALUES ({','.join('?' * 11)})", dv)
            cur.executemany(f"INSERT INTO audit_log ({_AU_COLS}) VALUES ({','.join('?' * 9)})", audit)
        else:
            with cur.copy(f"COPY data_value ({_DV_COLS}) FROM STDIN") as copy:
                for row in dv:
                    copy.write_row(row)
            with cur.copy(f"COPY audit_log ({_AU_COLS}) FROM STDIN") as copy:
                for row in audit:
                    copy.write_row(row)
        raw.commit()
        timed = (time.perf_counter() - t, time.process_time() - c)
        if db == "sqlite":
            cur.execute("BEGIN")
        cur.execute("DELETE FROM audit_log WHERE entity_id >= 10000000")
        cur.execute("DELETE FROM data_value WHERE id >= 10000000")
        raw.commit()
    finally:
        raw.close()
    return timed


def run(db: str, pg_url: str, reps: int) -> dict:
    env = dict(os.environ, ENVIRONMENT="test", SEED_DEMO_VALUES="false", SEED_DEMO_USERS="false",
               SECRET_KEY="bench-secret-key")
    drop = None
    if db == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='mttq-bench-')}/bench.db"
    else:
        from sqlalchemy import create_engine, text

        name = f"mttq_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        env["DATABASE_URL"] = pg_url.rsplit("/", 1)[0] + "/" + name

        def drop() -> None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    try:
        out = subprocess.run([sys.executable, __file__, "--child", db, "--reps", str(reps)], env=env, cwd=ROOT,
                             check=True, capture_output=True, text=True)
    finally:
        if drop:
            drop()
    return json.loads(out.stdout.strip().splitlines()[-1])


def _cell(t: list[float]) -> str:
    return f"{t[0]:.3f} ({t[1]:.2f})"


def report(r: dict) -> None:
    """Every repetition, then the medians and each median ÷ the floor's median."""
    runs = r["runs"]
    steps = ("fresh", "re-sent", "changed", "dry run", "floor")
    print(f"{r['db']}: {len(runs['floor'])} repetitions, each from the same state")
    print(f"{'':<8}" + "".join(f"{k:>16}" for k in steps))
    for i, ts in enumerate(zip(*(runs[k] for k in steps), strict=True), start=1):
        print(f"{i:<8}" + "".join(f"{_cell(t):>16}" for t in ts))
    med = {k: [statistics.median(t[0] for t in v), statistics.median(t[1] for t in v)] for k, v in runs.items()}
    print(f"{'median':<8}" + "".join(f"{_cell(med[k]):>16}" for k in steps))
    ratios = {k: [t[0] / f[0] for t, f in zip(runs[k], runs["floor"], strict=True)] for k in ("fresh", "changed")}
    for k in ("fresh", "changed"):
        print(f"{k} × floor: {med[k][0] / med['floor'][0]:.1f} (medians); per repetition "
              + ", ".join(f"{x:.1f}" for x in ratios[k]))
    print(f"CSV fresh (once): {_cell(runs['CSV fresh'][0])}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--reps", type=int, default=5, help="repetitions of the cycle (default 5)")
    ap.add_argument("--child", choices=["sqlite", "postgresql"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.reps)
        return
    pg_url = os.environ.get("BENCH_PG_URL", PG_DEFAULT)
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    print(f"{N:,} values per batch, POST /api/v1/data-values in-process; seconds, wall clock "
          f"(CPU of this process in brackets; PostgreSQL's own work is not in it)")
    for db in dbs:
        report(run(db, pg_url, args.reps))
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
