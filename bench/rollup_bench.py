"""Roll-up benchmark: province and national size, SQLite and PostgreSQL.

Builds each dataset in a private database, fills 12 months of figures for every indicator at
every entering unit, rebuilds the roll-up cells, then measures (median and p95, server side):

- dashboard roll-up: every indicator of the unit with its children's breakdown
  (`rollup.dashboard`), and the same answer from raw values (`rollup.raw_rollup`) — the
  straightforward design — with the ratio;
- a drill-down: one indicator broken down by the children of a district (`rollup.breakdown`);
- the whole dashboard page (`GET /dashboard/<code>` through the app, template included);
- one save through `app.values.service.save_value` with the roll-up brought up to date, committed.

    .venv/bin/python bench/rollup_bench.py                 # province, SQLite + PostgreSQL
    .venv/bin/python bench/rollup_bench.py --national      # + national size on PostgreSQL
    .venv/bin/python bench/rollup_bench.py --only sqlite   # one database

PostgreSQL: a private database is created on 127.0.0.1:5432 as user postgres (override with
BENCH_PG_URL=postgresql+psycopg://user@host:port/postgres) and dropped afterwards.
"""
import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
_TMP = Path(tempfile.mkdtemp(prefix="rollup-bench-"))
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_TMP / 'app.db'}")
os.environ.setdefault("ENVIRONMENT", "test")
os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production")
os.environ["SEED_DEMO_VALUES"] = "false"

from sqlalchemy import create_engine, text  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from app.core.db import make_engine  # noqa: E402
from app.core.migrate import upgrade_to_head  # noqa: E402

PG_ADMIN = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PERIOD = "2023-01..2023-12"
SETTLE = True  # --no-settle: measure without freezing the start-up heap (the "before" of issue #16)


# --------------------------------------------------------------------------------------------
# Databases
# --------------------------------------------------------------------------------------------

class Database:
    def __init__(self, kind: str, label: str, reuse: str | None = None) -> None:
        self.kind, self.label = kind, label
        if reuse:  # a database kept by an earlier run (--keep-db)
            self.name = reuse
            self.url = PG_ADMIN.rsplit("/", 1)[0] + "/" + reuse
            self.engine = make_engine(self.url)
            return
        if kind == "sqlite":
            self.url = f"sqlite:///{_TMP / (label + '.db')}"
            self.name = None
        else:
            self.name = f"rollup_bench_{uuid.uuid4().hex[:8]}"
            self.url = PG_ADMIN.rsplit("/", 1)[0] + "/" + self.name
            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.name}"'))
            admin.dispose()
        self.engine = make_engine(self.url)
        upgrade_to_head(self.engine)

    def drop(self) -> None:
        self.engine.dispose()
        if self.name:
            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            admin.dispose()

    def copy_rows(self, session: Session, table: str, columns: list[str], rows: list[tuple]) -> None:
        """Bulk insert: COPY on PostgreSQL, executemany on SQLite."""
        conn = session.connection().connection.dbapi_connection
        if self.kind == "postgresql":
            with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
                for row in rows:
                    cp.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            cur = conn.cursor()
            cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
            cur.close()


# --------------------------------------------------------------------------------------------
# Datasets
# --------------------------------------------------------------------------------------------

def _value_for(rng: random.Random, measure: str, depth_span: int) -> tuple:
    if measure == "ratio":
        den = rng.randint(50, 400) * depth_span
        return (None, rng.randint(den // 2, den), den)
    if measure == "yes_no":
        return (1 if rng.random() < 0.85 else 0, None, None)
    if measure == "amount":
        return (rng.randint(1, 40) * 1_000_000, None, None)
    return (rng.randint(0, 4), None, None)


def fill_values(db: Database, session: Session, program_id: int, year: int, seed: int = 1) -> int:
    """12 months of figures for every indicator at every unit of its entry levels."""
    from app.program.models import Indicator
    from app.program.rules import entry_depths
    from app.units.models import Unit

    rng = random.Random(seed)
    units_by_depth: dict[int, list[int]] = {}
    for uid, depth in session.exec(select(Unit.id, Unit.depth)).all():
        units_by_depth.setdefault(depth, []).append(uid)
    indicators = session.exec(select(Indicator).where(Indicator.program_id == program_id)).all()
    now = "2023-12-31 00:00:00+00:00" if db.kind == "postgresql" else "2023-12-31 00:00:00.000000"
    cols = ["unit_id", "indicator_id", "period", "value", "numerator", "denominator", "version",
            "created_at", "updated_at", "updated_via"]
    total = 0
    batch: list[tuple] = []
    for ind in indicators:
        for depth in sorted(entry_depths(ind)):
            for uid in units_by_depth.get(depth, []):
                for m in range(1, 13):
                    v, n, d = _value_for(rng, ind.measure, 1)
                    batch.append((uid, ind.id, f"{year}-{m:02d}", v, n, d, 1, now, now, "import"))
            if len(batch) > 200_000:
                db.copy_rows(session, "data_value", cols, batch)
                total += len(batch)
                batch = []
    db.copy_rows(session, "data_value", cols, batch)
    total += len(batch)
    return total


def build_province(db: Database) -> dict:
    """The seeded Yên Bái tree (1 + 9 + 173 + ~1,560 villages) and its 18 indicators."""
    from app.program.models import Program
    from app.rollup.service import rebuild
    from app.seed import demo, program_2023, units

    t0 = time.perf_counter()
    with Session(db.engine) as s:
        units.seed_units(s)
        program = program_2023.seed_program(s)
        demo.seed_demo_users(s)
        s.commit()
        n = fill_values(db, s, program.id, 2023)
        s.commit()
        t1 = time.perf_counter()
        rebuild(s)
        s.commit()
        t2 = time.perf_counter()
        program = s.exec(select(Program)).one()
        info = {"values": n, "fill_s": t1 - t0, "rebuild_s": t2 - t1, "root_code": "15",
                "district_code": "141", "user": "tinh.xem", "save_unit_depth": 3}
    _analyze(db)
    return info


def build_national(db: Database, provinces: int = 63, districts_per: int = 11,
                   communes_per: int = 15, villages_per: int = 9) -> dict:
    """63 provinces × 11 districts × 15 communes × ~9.5 villages ≈ 693 / 10,395 / ~99,000,
    under a national root, with the 18 indicators one level deeper (province at depth 1)."""
    from app.accounts.models import User
    from app.accounts.security import hash_password
    from app.program.models import Indicator, Program, Target
    from app.rollup.service import rebuild
    from app.seed import program_2023
    from app.seed.units import KINDS
    from app.units.models import UnitKind, UnitLevel

    t0 = time.perf_counter()
    rng = random.Random(63)
    with Session(db.engine) as s:
        for d, k, n in [(0, "nation", "Toàn quốc"), (1, "province", "Cấp tỉnh"),
                        (2, "district", "Cấp huyện"), (3, "commune", "Cấp xã"),
                        (4, "village", "Thôn, tổ dân phố")]:
            s.add(UnitLevel(depth=d, key=k, name=n))
        s.flush()
        s.add(UnitKind(code="quoc-gia", name="Quốc gia", depth=0))
        for code, name, depth in KINDS:
            s.add(UnitKind(code=code, name=name, depth=depth + 1))
        s.flush()
        rows: list[tuple] = []
        next_id = 1
        rows.append((1, "VN", "Việt Nam", "quoc-gia", 0, None, "/1/", 0, None))
        next_id = 2
        for p in range(provinces):
            pid = next_id
            next_id += 1
            ppath = f"/1/{pid}/"
            rows.append((pid, f"P{p:02d}", f"Tỉnh {p + 1}", "tinh", 1, 1, ppath, p, None))
            for d in range(districts_per):
                did = next_id
                next_id += 1
                dpath = f"{ppath}{did}/"
                rows.append((did, f"P{p:02d}D{d:02d}", f"Huyện {d + 1}", "huyen", 2, pid, dpath, d, None))
                for c in range(communes_per):
                    cid = next_id
                    next_id += 1
                    cpath = f"{dpath}{cid}/"
                    nr = "recognised" if rng.random() < 0.6 else None
                    rows.append((cid, f"P{p:02d}D{d:02d}C{c:02d}", f"Xã {c + 1}", "xa", 3, did, cpath, c, nr))
                    for v in range(villages_per + (c % 2)):
                        vid = next_id
                        next_id += 1
                        rows.append((vid, f"P{p:02d}D{d:02d}C{c:02d}V{v:02d}", f"Thôn {v + 1}", "thon",
                                     4, cid, f"{cpath}{vid}/", v, None))
        db.copy_rows(s, "unit", ["id", "code", "name", "kind", "depth", "parent_id", "path",
                                 "sort_order", "is_demo"],
                     [r[:8] + (True,) for r in rows])
        # New-rural status is per year (unit_year).
        db.copy_rows(s, "unit_year", ["unit_id", "year", "new_rural", "front_led"],
                     [(r[0], 2023, r[8], False) for r in rows if r[8]])
        if db.kind == "postgresql":
            s.execute(text("SELECT setval('unit_id_seq', (SELECT max(id) FROM unit))"))
        s.commit()
        program = Program(year=2023, title="Chương trình (quốc gia, thử tải)", theme="", motto="",
                          root_unit_id=1)
        s.add(program)
        s.flush()
        by_code = {}
        for code, number, short, name, measure, depths, tr, share, label, num, den in program_2023.INDICATORS:
            shifted = ",".join(str(int(x) + 1) for x in depths.split(","))
            ind = Indicator(program_id=program.id, code=code, number=number, short_name=short,
                            name=name, measure=measure, entry_depths=shifted, time_rollup=tr,
                            share_filter=share, value_label=label, numerator_label=num,
                            denominator_label=den, baseline=180 * provinces if code == "CT06" else None)
            s.add(ind)
            by_code[code] = ind
        s.flush()
        for code, scope, depth, comp, value, high, on, label in program_2023.TARGETS:
            s.add(Target(indicator_id=by_code[code].id, scope=scope,
                         depth=None if depth is None else depth + 1, unit_id=1 if scope != "each" else None,
                         comparator=comp, value=value, value_high=high, on=on, label=label))
        s.add(User(username="tw.xem", full_name="Theo dõi toàn quốc", unit_id=1, role="viewer",
                   password_hash=hash_password("demo2023")))
        s.commit()
        n = fill_values(db, s, program.id, 2023)
        s.commit()
        t1 = time.perf_counter()
        rebuild(s)
        s.commit()
        t2 = time.perf_counter()
        info = {"values": n, "fill_s": t1 - t0, "rebuild_s": t2 - t1, "root_code": "VN",
                "province_code": "P07", "district_code": "P07D03", "user": "tw.xem",
                "save_unit_depth": 4, "units": len(rows)}
    _analyze(db)
    return info


NATIONAL_INFO = {"root_code": "VN", "province_code": "P07", "district_code": "P07D03", "user": "tw.xem",
                 "save_unit_depth": 4}


def _bring_up_to_date(db: Database) -> None:
    """A kept database built by older code: migrate it, and rebuild the roll-up when a newer
    aggregate table (e.g. `rollup_each`) is still empty."""
    from app.rollup.service import rebuild

    upgrade_to_head(db.engine)
    with Session(db.engine) as s:
        if s.execute(text("SELECT count(*) FROM rollup_each")).scalar_one() == 0:
            t = time.perf_counter()
            rebuild(s)
            s.commit()
            print(f"[{db.label}] roll-up rebuilt in {time.perf_counter() - t:.0f} s", flush=True)
    _analyze(db)


def _analyze(db: Database) -> None:
    with db.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------

def measure(fn: Callable[[], object], repeat: int, warmup: int = 3) -> dict:
    """Wall-clock median and p95 (ms), and the median CPU time of this process (ms): the CPU
    time excludes PostgreSQL's own work but shows what Python costs when the machine is shared."""
    for _ in range(warmup):
        fn()
    times, cpu = [], []
    for _ in range(repeat):
        c = time.process_time()
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    times.sort()
    cpu.sort()
    p95 = min(len(times) - 1, int(len(times) * 0.95))
    return {"median": statistics.median(times), "p95": times[p95], "cpu": statistics.median(cpu),
            "cpu_p95": cpu[p95], "n": repeat}


def run_case(db: Database, info: dict, *, view_codes: list[str], repeat: int, raw_repeat: int,
             results: list, raw_children: bool = True) -> None:
    from fastapi.testclient import TestClient

    from app.accounts.deps import Principal
    from app.core import heap
    from app.core.db import get_session
    from app.main import app
    from app.program.models import Indicator, Program
    from app.program.periods import PeriodRange
    from app.rollup import service as rollup
    from app.units.models import Unit
    from app.values.service import Figure as Entry
    from app.values.service import save_value

    if SETTLE:
        heap.settle()  # as the server does when its start-up is done (app.core.heap)
    period = PeriodRange.parse(PERIOD)
    with Session(db.engine) as s:
        program = s.exec(select(Program)).one()
        indicators = {i.code: i for i in s.exec(select(Indicator)).all()}

        def unit(code: str) -> Unit:
            return s.exec(select(Unit).where(Unit.code == code)).one()

        for code in view_codes:
            u = unit(code)
            label = f"{db.label} · {u.name} ({code})"
            results.append((label, "roll-up of the unit (18 indicators, what the page reads)",
                            measure(lambda u=u: rollup.rollup(s, u, period, program), repeat)))
            fast = measure(lambda u=u: rollup.dashboard(s, u, period, program), repeat)
            slow = measure(lambda u=u: rollup.raw_rollup(s, u, period, program, with_children=raw_children),
                           raw_repeat, warmup=0 if not raw_children else 1)
            results.append((label, "dashboard roll-up (18 indicators + children)", fast))
            results.append((label, "  p95 / median of the dashboard roll-up (wall; CPU)",
                            {"spread": (fast["p95"] / fast["median"], fast["cpu_p95"] / fast["cpu"])}))
            results.append((label, "  straightforward: raw values at read time"
                            + ("" if raw_children else " (the unit only, no children)"), slow))
            results.append((label, "  ratio straightforward / cells", {"ratio": slow["median"] / fast["median"]}))
        d = unit(info["district_code"])
        ind = indicators["CT17"]
        results.append((f"{db.label} · {d.name}", "drill-down: CT17 by commune",
                        measure(lambda: rollup.breakdown(s, d, ind, period, program), repeat)))
        ind_v = indicators["CT08"]
        commune = s.exec(select(Unit).where(Unit.parent_id == d.id)).first()
        results.append((f"{db.label} · {commune.name}", "drill-down: CT08 by village",
                        measure(lambda: rollup.breakdown(s, commune, ind_v, period, program), repeat)))
        # One save with everything above it up to date, committed.
        root = s.get(Unit, program.root_unit_id)
        admin = Principal(unit=root, role="admin", via="web")
        village = s.exec(select(Unit).where(Unit.parent_id == commune.id)).first()
        ind_s = indicators["CT07"]  # a village stock: touches the months up to the next entry
        counter = iter(range(10**9))

        def save() -> None:
            save_value(s, admin, program, village, ind_s, "2023-03",
                       Entry(value=5 + next(counter) % 7))
            s.commit()

        results.append((f"{db.label} · {village.name}", "one save (stock, village) + roll-up + commit",
                        measure(save, repeat)))
        ind_f = indicators["CT17"]

        def save_flow() -> None:
            save_value(s, admin, program, commune, ind_f, "2023-03", Entry(value=1 + next(counter) % 5))
            s.commit()

        results.append((f"{db.label} · {commune.name}", "one save (flow, commune) + roll-up + commit",
                        measure(save_flow, repeat)))

    # The whole page, through the app, signed in.
    def session_override():
        with Session(db.engine) as sess:
            yield sess

    app.dependency_overrides[get_session] = session_override
    try:
        with TestClient(app, base_url="http://testserver", follow_redirects=False) as c:
            page = c.get("/login")
            import re

            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            r = c.post("/login", data={"username": info["user"], "password": "demo2023",
                                       "csrf_token": token})
            assert r.status_code == 303, r.text[:300]
            for code in view_codes:
                url = f"/dashboard/{code}?period={PERIOD}"
                r = c.get(url)
                if r.status_code != 200:  # report what was measured so far rather than nothing
                    print(f"page {url}: {r.status_code} {r.headers.get('location')}", flush=True)
                    continue
                results.append((f"{db.label} · {code}", "whole dashboard page (GET, template)",
                                measure(lambda url=url: c.get(url), repeat)))
    finally:
        app.dependency_overrides.clear()


def report(results: list) -> str:
    lines = ["| dataset · unit | what | median ms | p95 ms | CPU ms |", "|---|---|---:|---:|---:|"]
    for label, what, m in results:
        if "spread" in m:
            lines.append(f"| {label} | {what} | **×{m['spread'][0]:.2f}**; ×{m['spread'][1]:.2f} | | |")
        elif "ratio" in m:
            lines.append(f"| {label} | {what} | **×{m['ratio']:.0f}** | | |")
        else:
            lines.append(f"| {label} | {what} | {m['median']:.2f} | {m['p95']:.2f} | {m['cpu']:.2f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", choices=["sqlite", "postgresql"], help="one database only")
    ap.add_argument("--national", action="store_true", help="also the national dataset (PostgreSQL)")
    ap.add_argument("--national-only", action="store_true")
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--keep-db", action="store_true", help="keep the national database (prints its name)")
    ap.add_argument("--reuse-db", metavar="NAME", help="measure an already built national database")
    ap.add_argument("--no-settle", action="store_true",
                    help="do not freeze the start-up heap before measuring (as before issue #16)")
    args = ap.parse_args()
    global SETTLE
    SETTLE = not args.no_settle
    results: list = []
    kinds = [args.only] if args.only else ["sqlite", "postgresql"]
    if not args.national_only:
        for kind in kinds:
            db = Database(kind, f"province-{kind}")
            try:
                info = build_province(db)
                print(f"[{db.label}] {info['values']:,} values, filled in {info['fill_s']:.1f} s, "
                      f"rebuilt in {info['rebuild_s']:.1f} s", flush=True)
                run_case(db, info, view_codes=["15", "141"], repeat=args.repeat, raw_repeat=10,
                         results=results)
            finally:
                db.drop()
            print(report(results), flush=True)
    if args.national or args.national_only:
        db = Database("postgresql", "national-postgresql", reuse=args.reuse_db)
        try:
            if args.reuse_db:
                info = dict(NATIONAL_INFO)
                _bring_up_to_date(db)
            else:
                info = build_national(db)
                print(f"[{db.label}] {info['units']:,} units, {info['values']:,} values, filled in "
                      f"{info['fill_s']:.0f} s, rebuilt in {info['rebuild_s']:.0f} s", flush=True)
            run_case(db, info, view_codes=[info["root_code"], info["province_code"]],
                     repeat=max(10, args.repeat // 2), raw_repeat=1, results=results,
                     raw_children=False)
        finally:
            if args.keep_db or args.reuse_db:
                print(f"kept database {db.name}")
                db.engine.dispose()
            else:
                db.drop()
    print()
    print(f"load average: {os.getloadavg()}, nproc: {os.cpu_count()}")
    print(report(results))


if __name__ == "__main__":
    main()
