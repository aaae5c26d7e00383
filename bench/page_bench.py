"""Pages beside their floor (issue #16): signed-in GETs through the real stack, both databases.

    .venv/bin/python bench/page_bench.py                 # SQLite and PostgreSQL, 200 rounds
    .venv/bin/python bench/page_bench.py --db sqlite --rounds 50

For each database a private one is made (SQLite: a temporary file; PostgreSQL: a new database on
--pg-url's server, dropped afterwards), seeded with the demo data (`python -m app.cli seed`), and
the app is started with the serve command's uvicorn line (`uvicorn app.main:app --proxy-headers`,
access log on, one process) on a free port. One client (httpx, keep-alive, in this process)
signs in as the province administrator `tinh.quantri` and, after a warm-up, makes --rounds
rounds; each round asks every page once, in a shuffled order, so the machine's load falls on all
pages alike:

- floor: `/signed-in` — the session check and the base template, no roll-up;
- the province dashboard `/dashboard/15` (its default period);
- the drill-down `/dashboard/15/CT01` (one indicator by district);
- the entry page `/entry/04720/2023-03` (a commune's month, editable).

Printed: median and p95 of each (client-side wall time, the client's own ~1 ms included in all
of them, floor too) and the median ÷ the floor's median, against the goals: dashboard ≤ 2×,
drill-down and entry ≤ 1.5×. The kept bodies (app/core/generation.py) are what a reader meets
between saves; `--cold` also times the dashboard and drill-down with a write before each read
(every read rebuilds its body).
"""
import argparse
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv" / "bin" / "python")
UVICORN = str(ROOT / ".venv" / "bin" / "uvicorn")
FLOOR = "/signed-in"
PAGES = {"floor (signed-in page)": FLOOR, "province dashboard": "/dashboard/15",
         "drill-down": "/dashboard/15/CT01", "entry page": "/entry/04720/2023-03"}
GOALS = {"province dashboard": 2.0, "drill-down": 1.5, "entry page": 1.5}


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, kind: str, pg_url: str) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="mttq-page-"))
        self.pg_url, self.db_name = pg_url, None
        if kind == "sqlite":
            self.url = f"sqlite:///{self.tmp / 'pages.db'}"
        else:
            self.db_name = f"mttq_pages_{uuid.uuid4().hex[:10]}"
            self.url = pg_url.rsplit("/", 1)[0] + "/" + self.db_name
        self.env = {**os.environ, "DATABASE_URL": self.url, "ENVIRONMENT": "local",
                    "SECRET_KEY": "page-bench-" + uuid.uuid4().hex}
        self.proc = None

    def _admin(self, sql: str) -> None:
        from sqlalchemy import create_engine, text

        eng = create_engine(self.pg_url, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text(sql))
        eng.dispose()

    def start(self) -> str:
        if self.db_name:
            self._admin(f'CREATE DATABASE "{self.db_name}"')
        subprocess.run([PY, "-m", "app.cli", "seed"], cwd=ROOT, env=self.env, check=True,
                       stdout=subprocess.DEVNULL)
        port = free_port()
        self.proc = subprocess.Popen([UVICORN, "app.main:app", "--host", "127.0.0.1", "--port", str(port),
                                      "--proxy-headers"], cwd=ROOT, env=self.env,
                                     stdout=open(self.tmp / "server.log", "wb"),  # noqa: SIM115 - the server keeps it
                                     stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                if httpx.get(base + "/login", timeout=2).status_code == 200:
                    return base
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("the app did not start:\n" + (self.tmp / "server.log").read_text()[-3000:])

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        if self.db_name:
            self._admin(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')


def sign_in(c: httpx.Client) -> None:
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"username": "tinh.quantri", "password": "demo2023", "csrf_token": token})
    assert r.status_code == 303, r.status_code
    c.headers["X-CSRF-Token"] = re.search(r'name="csrf-token" content="([^"]+)"', c.get(FLOOR).text).group(1)


def timed(c: httpx.Client, url: str) -> float:
    t0 = time.perf_counter()
    r = c.get(url)
    elapsed = time.perf_counter() - t0
    assert r.status_code == 200, (url, r.status_code)
    return elapsed


def save(c: httpx.Client, value: int) -> None:
    """A figure saved through the entry page (province administrator, commune 04720, July)."""
    url = "/entry/04720/2023-07/CT17"
    page = c.get(url, headers={"HX-Request": "true"})
    version = re.search(r'name="CT17.version" value="(\d+)"', page.text).group(1)
    r = c.post(url, data={"CT17.value": str(value), "CT17.version": version}, headers={"HX-Request": "true"})
    assert r.status_code == 200, r.status_code


def run(kind: str, args: argparse.Namespace) -> dict:
    server = Server(kind, args.pg_url)
    print(f"\n== {kind}: seeding a private database and starting the app …", flush=True)
    try:
        base = server.start()
        rng = random.Random(16)
        times: dict[str, list[float]] = {name: [] for name in PAGES}
        cold: dict[str, list[float]] = {"province dashboard (after a save)": [], "drill-down (after a save)": []}
        with httpx.Client(base_url=base, timeout=60, follow_redirects=False) as c:
            sign_in(c)
            for _ in range(10):
                for url in PAGES.values():
                    c.get(url)
            for _ in range(args.rounds):
                order = list(PAGES.items())
                rng.shuffle(order)
                for name, url in order:
                    times[name].append(timed(c, url))
            if args.cold:
                for i in range(args.cold):
                    save(c, i)
                    cold["province dashboard (after a save)"].append(timed(c, PAGES["province dashboard"]))
                    save(c, i + 1000)
                    cold["drill-down (after a save)"].append(timed(c, PAGES["drill-down"]))
    finally:
        server.stop()
    return {"kind": kind, "times": times, "cold": cold}


def report(res: dict) -> bool:
    times = res["times"]
    floor = statistics.median(times["floor (signed-in page)"])
    ok = True
    print(f"\n== {res['kind']}: {len(times[next(iter(times))])} rounds")
    print(f"{'page':<38}{'median ms':>10}{'p95 ms':>9}{'× floor':>9}{'goal':>7}")
    rows = list(times.items()) + [(k, v) for k, v in res["cold"].items() if v]
    for name, values in rows:
        med = statistics.median(values)
        goal = GOALS.get(name)
        verdict = ""
        if goal:
            met = med / floor <= goal
            ok &= met
            verdict = f"≤ {goal}× {'met' if met else 'NOT met'}"
        print(f"{name:<38}{med * 1000:>10.1f}{pct(values, .95) * 1000:>9.1f}{med / floor:>8.2f}×  {verdict}")
    return ok


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument("--rounds", type=int, default=200)
    p.add_argument("--cold", type=int, default=20, help="reads after a save, each (0: none)")
    p.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = p.parse_args()
    with open("/proc/loadavg") as f:
        print("load average before:", f.read().split()[:3], "cores:", os.cpu_count())
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results = [run(kind, args) for kind in kinds]
    ok = all([report(r) for r in results])
    with open("/proc/loadavg") as f:
        print("\nload average after:", f.read().split()[:3])
    print("RESULT:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
