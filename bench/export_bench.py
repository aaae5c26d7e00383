"""Export benchmark: 130,000 values as XLSX and CSV through the app, against the floor.

A private database (SQLite file / PostgreSQL database) gets the seeded Yên Bái tree and 2023
program with 12 months of figures for every indicator at every entering unit (129,552 values,
as in `bench/rollup_bench.py`) plus 448 figures of January 2024: 130,000 values; one in a
hundred carries a comment that starts like a formula (written inert by `safe_cell`).

Each measure runs in a fresh process, so that its peak memory is its own:

  app    – GET /api/v1/data-values.xlsx (.csv) through the ASGI app (TestClient, a province
           token): scope, size check, rows read in chunks, cells made safe, the file written and
           sent. The body is read as a stream and dropped.
  floor  – the same 130,000 rows, already in memory (read before the clock starts), written
           with the spreadsheet library alone (openpyxl write-only workbook saved to a file;
           csv.writer to a file).

Printed: wall seconds (median of --repeat runs, each in its own process), CPU seconds, peak RSS
of the process (MB) and its growth during the measure; "× floor" is app / floor (wall).

Usage:
  .venv/bin/python bench/export_bench.py                  # SQLite and PostgreSQL
  .venv/bin/python bench/export_bench.py --db sqlite --repeat 3
  BENCH_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/export_bench.py --db postgresql
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
N = 130_000


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KB


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def child(kind: str, fmt: str, secret: str) -> None:
    sys.path.insert(0, str(ROOT))
    if kind == "app":
        from fastapi.testclient import TestClient

        from app.main import app

        client = TestClient(app)
        headers = {"Authorization": f"Bearer {secret}"}
        # Warm up: first-request imports, statement compilation (a tiny export).
        assert client.get(f"/api/v1/data-values.{fmt}?unit=15&period=2023-01", headers=headers).status_code == 200
        before = _current_rss_mb()
        t, c = time.perf_counter(), time.process_time()
        size = 0
        with client.stream("GET", f"/api/v1/data-values.{fmt}", headers=headers) as r:
            assert r.status_code == 200, r.read()[:500]
            for chunk in r.iter_bytes():
                size += len(chunk)
        wall, cpu = time.perf_counter() - t, time.process_time() - c
    else:
        import csv
        import tempfile

        from openpyxl import Workbook
        from sqlalchemy import text

        from app.core.db import engine

        with engine.connect() as conn:
            # The timestamp as the export writes it (text, UTC), formatted before the clock starts.
            rows = [[*r[:10], r[10] if isinstance(r[10], str) else r[10].strftime("%Y-%m-%d %H:%M:%S"), r[11]]
                    for r in conn.execute(text(
                "SELECT u.code, u.name, i.code, i.short_name, d.period, d.value, d.numerator, "
                "d.denominator, d.comment, d.version, d.updated_at, d.updated_via FROM data_value d "
                "JOIN unit u ON u.id = d.unit_id JOIN indicator i ON i.id = d.indicator_id "
                "ORDER BY d.period, u.code, i.code, d.id"))]
            rows = [[*r[:10], r[10][:19], r[11]] for r in rows]
        header = ["Mã đơn vị", "Đơn vị", "Mã chỉ tiêu", "Chỉ tiêu", "Tháng", "Giá trị", "Tử số", "Mẫu số",
                  "Ghi chú", "Phiên bản", "Cập nhật", "Nhập qua"]
        before = _current_rss_mb()
        with tempfile.NamedTemporaryFile(suffix="." + fmt, delete=False) as handle:
            path = handle.name
        t, c = time.perf_counter(), time.process_time()
        if fmt == "xlsx":
            wb = Workbook(write_only=True)
            ws = wb.create_sheet("Figures")
            ws.append(header)
            for row in rows:
                ws.append(row)
            wb.save(path)
        else:
            with open(path, "w", newline="", encoding="utf-8-sig") as f:
                w = csv.writer(f, lineterminator="\r\n")
                w.writerow(header)
                w.writerows(rows)
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        size = os.path.getsize(path)
        os.unlink(path)
        assert len(rows) == N, len(rows)
    print(json.dumps({"wall": wall, "cpu": cpu, "peak": _rss_mb(), "before": before, "bytes": size}))


def build(kind: str) -> tuple[object, str]:
    os.environ.setdefault("ENVIRONMENT", "test")
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import text
    from sqlmodel import Session, select

    from app.accounts.models import ApiToken
    from app.accounts.security import new_api_token
    from app.seed import demo, program_2023, units
    from app.units.models import Unit
    from bench.rollup_bench import Database, fill_values

    db = Database(kind, f"export-{kind}")
    with Session(db.engine) as s:
        units.seed_units(s)
        program = program_2023.seed_program(s)
        demo.seed_demo_users(s)
        s.commit()
        n = fill_values(db, s, program.id, 2023)
        now = "2024-01-31 00:00:00+00:00" if kind == "postgresql" else "2024-01-31 00:00:00.000000"
        pairs = s.execute(text("SELECT DISTINCT unit_id, indicator_id FROM data_value "
                               "ORDER BY unit_id, indicator_id LIMIT :k"), {"k": N - n}).all()
        db.copy_rows(s, "data_value", ["unit_id", "indicator_id", "period", "value", "version", "created_at",
                                       "updated_at", "updated_via"],
                     [(u, i, "2024-01", 1, 1, now, now, "import") for u, i in pairs])
        s.execute(text("UPDATE data_value SET comment = '=HYPERLINK(\"http://x\",\"bấm\")' WHERE id % 100 = 0"))
        secret, token_hash = new_api_token()
        root = s.exec(select(Unit).where(Unit.code == "15")).one()
        s.add(ApiToken(name="bench", unit_id=root.id, mode="read", token_hash=token_hash, prefix=secret[:12]))
        s.commit()
        total = s.execute(text("SELECT count(*) FROM data_value")).scalar_one()
        assert total == N, total
    return db, secret


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    print(f"{N:,} values; seconds (wall, CPU), peak RSS MB of the process (growth during the measure)")
    print(f"{'database':<12}{'format':<7}{'app wall':>9}{'cpu':>7}{'peak MB':>9}{'(+MB)':>8}"
          f"{'floor':>8}{'cpu':>7}{'peak MB':>9}{'(+MB)':>8}{'× floor':>9}{'MB out':>8}")
    for kind in dbs:
        db, secret = build(kind)
        env = dict(os.environ, DATABASE_URL=db.url, ENVIRONMENT="test", SECRET_KEY="bench-secret-key",
                   SEED_DEMO_VALUES="false")
        try:
            for fmt in ("xlsx", "csv"):
                out: dict[str, list[dict]] = {"app": [], "floor": []}
                for _ in range(args.repeat):
                    for which in ("app", "floor"):
                        p = subprocess.run([sys.executable, __file__, "--child", which, fmt, secret], env=env,
                                           cwd=ROOT, check=True, capture_output=True, text=True)
                        out[which].append(json.loads(p.stdout.strip().splitlines()[-1]))
                a, f = ({k: statistics.median(r[k] for r in out[w]) for k in out[w][0]} for w in ("app", "floor"))
                print(f"{kind:<12}{fmt:<7}{a['wall']:>9.2f}{a['cpu']:>7.2f}{a['peak']:>9.0f}"
                      f"{a['peak'] - a['before']:>+8.0f}{f['wall']:>8.2f}{f['cpu']:>7.2f}{f['peak']:>9.0f}"
                      f"{f['peak'] - f['before']:>+8.0f}{a['wall'] / f['wall']:>9.2f}{a['bytes'] / 2**20:>8.1f}",
                      flush=True)
        finally:
            db.drop()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
