"""Units in time: what the two-tier tree and the demo 2026 program cost on a fresh start.

Measures, on a private SQLite database seeded like a fresh start without the 2026 demo (the
2023 tree, program, accounts and demo figures; copied fresh for every run):
- `load_laocai_2025`: the 99 communes, 890 demo villages and 169 successor links through the
  unit importer (every row checked, then written), roll-up rebuilt;
- `seed_demo_2026`: the tree, the demo accounts, the 2026 program copied from 2023 through the
  new-year flow and published, demo figures for January–March 2026, roll-up rebuilt;
and beside them, in the same run, two floors: reading the package data into rows
(`tree_rows`, no database), and the 2023 seed itself (`seed`, SEED_DEMO_2026 off) — the
first start the 2026 demo is added to.

    .venv/bin/python bench/units_time_bench.py --repeat 3
"""
import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mttq-units-bench-"))
    base = tmp / "base.db"
    os.environ.update(DATABASE_URL=f"sqlite:///{base}", ENVIRONMENT="test", SEED_DEMO_2026="false")
    from sqlmodel import Session

    from app.core.db import make_engine
    from app.core.migrate import upgrade_to_head
    from app.seed.demo import seed_demo_2026
    from app.seed.run import seed
    from app.units.laocai_2025 import load_laocai_2025, tree_rows

    times: dict[str, list[float]] = {"tree_rows (floor: package data only)": [], "seed 2023 (floor: first start without 2026)": [],
                                     "load_laocai_2025": [], "seed_demo_2026": []}
    for i in range(args.repeat):
        times["tree_rows (floor: package data only)"].append(_timed(lambda: tree_rows()))
        fresh = tmp / f"seed{i}.db"
        engine = make_engine(f"sqlite:///{fresh}")
        upgrade_to_head(engine)

        def seed_2023(engine=engine) -> None:
            with Session(engine) as s:
                seed(s, demo_users=True, demo_values=True, demo_2026=False)
        times["seed 2023 (floor: first start without 2026)"].append(_timed(seed_2023))
        engine.dispose()
        if i == 0:
            src = sqlite3.connect(fresh)
            dst = sqlite3.connect(base)
            src.backup(dst)
            src.close()
            dst.close()
        for name, fn in (("load_laocai_2025", lambda s: load_laocai_2025(s)),
                         ("seed_demo_2026", lambda s: seed_demo_2026(s, users=True, values=True))):
            copy = tmp / f"{name}{i}.db"
            shutil.copy(base, copy)
            engine = make_engine(f"sqlite:///{copy}")
            with Session(engine) as s:
                times[name].append(_timed(lambda s=s, fn=fn: (fn(s), s.commit())))
            engine.dispose()
    print(f"units in time, SQLite, {args.repeat} runs (median / min seconds):")
    for name, ts in times.items():
        print(f"  {name:48s} {statistics.median(ts):7.2f} / {min(ts):6.2f}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
