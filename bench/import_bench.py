"""Bulk import benchmark: 10,000 values through POST /api/v1/data-values, SQLite and PostgreSQL.

Each database runs in its own process on a fresh database (migrated and seeded with the real
unit tree and the 2023 program, no figures). The batch is village figures (five yes/no or
count indicators and one ratio) for 1,557 villages over two months, cut at 10,000 values.
It is posted in-process through the ASGI app (JSON parsing, validation, every row through
the entry service, audit rows, roll-up update, commit), timed by wall clock:

  fresh      – every value new (10,000 imported)
  re-sent    – the same batch again (10,000 unchanged; median of 3)
  changed    – every value different (10,000 updated)
  dry run    – the batch validated and counted, nothing written (median of 3)
  CSV fresh  – the same 10,000 values as a CSV file into an empty database (second fresh run)

Beside them, in the same run and database, the floor: the same 10,000 `data_value` rows and
their 10,000 audit rows (JSON old/new included) inserted directly with no app — executemany on
SQLite, `COPY` on PostgreSQL — and committed (median of 3). "× floor" is fresh / floor and
changed / floor: what the app costs on top of writing what it must write.

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


def child(db: str) -> None:
    """Run inside a process whose DATABASE_URL names a fresh database."""
    sys.path.insert(0, str(ROOT))
    from fastapi.testclient import TestClient
    from sqlalchemy import delete, func
    from sqlmodel import Session, select

    import app.models
    from app.accounts.models import ApiToken
    from app.accounts.security import new_api_token
    from app.audit.models import AuditLog
    from app.core import heap
    from app.core.db import engine
    from app.core.migrate import upgrade_to_head
    from app.main import app
    from app.rollup.models import RollupCell
    from app.seed.run import seed
    from app.units.models import Unit
    from app.values.models import DataValue, IdempotencyRecord

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
    body = json.dumps({"dataValues": _rows(villages)}).encode()
    changed = json.dumps({"dataValues": _rows(villages, bump=1)}).encode()

    cpu: dict[str, float] = {}

    def post(payload: bytes, content_type: str = "application/json", query: str = "",
             name: str | None = None) -> tuple[float, dict]:
        t, c = time.perf_counter(), time.process_time()
        r = client.post("/api/v1/data-values" + query, content=payload,
                        headers={**headers, "Content-Type": content_type})
        elapsed = time.perf_counter() - t
        if name:
            cpu[name] = time.process_time() - c
        assert r.status_code == 200, r.text[:1000]
        return elapsed, r.json()

    def clear() -> None:
        with Session(engine) as s:
            for model in (AuditLog, DataValue, RollupCell, IdempotencyRecord):
                s.exec(delete(model))
            s.commit()
            assert s.exec(select(func.count()).select_from(DataValue)).one() == 0

    # Warm up (first-request imports and statement compilation), as a running server is.
    post(json.dumps({"dataValues": [{"orgUnit": villages[0], "dataElement": "CT07", "period": "2023-01",
                                     "value": 1}]}).encode())
    results: dict[str, float] = {}
    results["fresh"], summary = post(body, name="fresh")
    assert summary["imported"] == N, summary
    resent = [post(body) for _ in range(3)]
    assert all(s["unchanged"] == N for _, s in resent)
    results["re-sent"] = statistics.median(t for t, _ in resent)
    results["changed"], summary = post(changed, name="changed")
    assert summary["updated"] == N, summary
    dry = [post(body, query="?dryRun=true") for _ in range(3)]
    results["dry run"] = statistics.median(t for t, _ in dry)
    clear()
    results["CSV fresh"], summary = post(_csv(_rows(villages)), "text/csv", name="CSV fresh")
    assert summary["imported"] == N, summary
    clear()  # the floor writes into the same empty tables as the fresh import
    results["floor"], cpu["floor"] = _floor(db, engine, villages)
    print(json.dumps({"db": db, "values": N, **{k: round(v, 3) for k, v in results.items()},
                      "cpu": {k: round(v, 3) for k, v in cpu.items()}}))


def _floor(db: str, engine, villages: list[str]) -> tuple[float, float]:
    """Insert the batch's rows and audit rows straight into the tables (no app), commit; median of 3."""
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
    dv_cols = "id, unit_id, indicator_id, period, value, numerator, denominator, version, created_at, updated_at, updated_via"
    au_cols = 'at, via, entity, entity_id, action, unit_id, indicator_id, period, "new"'
    times, cpus = [], []
    for _ in range(3):
        raw = engine.raw_connection()
        try:
            t, c = time.perf_counter(), time.process_time()
            cur = raw.cursor()
            if db == "sqlite":
                cur.execute("BEGIN")  # the app's connections leave transactions to SQLAlchemy
                cur.executemany(f"INSERT INTO data_value ({dv_cols}) VALUES ({','.join('?' * 11)})", dv)
                cur.executemany(f"INSERT INTO audit_log ({au_cols}) VALUES ({','.join('?' * 9)})", audit)
            else:
                with cur.copy(f"COPY data_value ({dv_cols}) FROM STDIN") as copy:
                    for row in dv:
                        copy.write_row(row)
                with cur.copy(f"COPY audit_log ({au_cols}) FROM STDIN") as copy:
                    for row in audit:
                        copy.write_row(row)
            raw.commit()
            times.append(time.perf_counter() - t)
            cpus.append(time.process_time() - c)
            if db == "sqlite":
                cur.execute("BEGIN")
            cur.execute("DELETE FROM audit_log WHERE entity_id >= 10000000")
            cur.execute("DELETE FROM data_value WHERE id >= 10000000")
            raw.commit()
        finally:
            raw.close()
    return statistics.median(times), statistics.median(cpus)


def run(db: str, pg_url: str) -> dict:
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
        out = subprocess.run([sys.executable, __file__, "--child", db], env=env, cwd=ROOT, check=True,
                             capture_output=True, text=True)
    finally:
        if drop:
            drop()
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--child", choices=["sqlite", "postgresql"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    pg_url = os.environ.get("BENCH_PG_URL", PG_DEFAULT)
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    print(f"{N:,} values per batch, POST /api/v1/data-values in-process; seconds, wall clock "
          f"(CPU of this process in brackets; PostgreSQL's own work is not in it)")
    print(f"{'database':<12}{'fresh':>15}{'re-sent':>9}{'changed':>15}{'dry run':>9}{'CSV fresh':>15}"
          f"{'floor':>15}{'fresh×':>8}{'changed×':>10}")
    for db in dbs:
        r = run(db, pg_url)
        c = r["cpu"]
        print(f"{db:<12}{r['fresh']:>8.2f} ({c['fresh']:.2f}){r['re-sent']:>9.2f}"
              f"{r['changed']:>8.2f} ({c['changed']:.2f}){r['dry run']:>9.2f}"
              f"{r['CSV fresh']:>8.2f} ({c['CSV fresh']:.2f}){r['floor']:>8.3f} ({c['floor']:.2f})"
              f"{r['fresh'] / r['floor']:>8.1f}{r['changed'] / r['floor']:>10.1f}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
