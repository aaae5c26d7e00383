"""The month-end rush: N clients for T seconds against a freshly started app, then checks.

    .venv/bin/python bench/load_bench.py                      # SQLite; PostgreSQL as served, × 1, × 4 workers
    .venv/bin/python bench/load_bench.py --db sqlite --clients 20 --seconds 15   # while iterating

For each configuration a private database is made (SQLite: a file in a temporary directory;
PostgreSQL: a new database on --pg-url's server, dropped afterwards), migrated and seeded with
the demo data (`python -m app.cli seed`), and the app is started with the serve command's
uvicorn line (`uvicorn app.main:app --proxy-headers --workers N`) on a free port: on SQLite one
worker, on PostgreSQL the serve command's (one per core, at most 4), then one process alone,
then `--pg-workers` (4). Then:

1. *one client* saves figures through the entry page for --single-seconds: the single-client
   save latency of this run, on this machine at this moment (the floor);
2. *N clients* (default 50) for T seconds (default 60), each signing in with its own session
   and CSRF token, then, with a think time of about --think seconds between actions:
   6 in 10 save figures on the entry page (read the field, post it with the version read:
   200, or 409 when someone saved it meanwhile) into 5 shared communes; 2 in 10 post API
   batches of overlapping stock (CT01) and flow (CT17) figures into the same communes (no
   version: last writer wins); 1 in 10 submits and reopens months of other communes; 1 in 10
   reads dashboards.

Every acknowledged save (2xx) is recorded; after the server stops, each must be in the database
with its value (its row in the audit log, and the stored figure is the last one audited), and
`python -m app.cli rollup check` must find no difference. Printed: answers by class
(2xx/409/503/other 4xx/5xx), p50/p95 latency of saves and reads, throughput, the checks, and
p95 save latency under load ÷ the single-client median. Bench months are July–December, which
the demo seed leaves empty, so every stored figure there comes from an audited bench save.

Arrivals: everyone signs in before the window opens (a barrier), then each client makes its
first move after a random pause in [0, think) — as if the officers had been at work for a while
— and not all at the same instant (`--start burst`: everyone at once, the first 50 requests
queued together; the report prints save latency by phase of the window either way).
"""
import argparse
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv" / "bin" / "python")
UVICORN = str(ROOT / ".venv" / "bin" / "uvicorn")
PASSWORD = "demo2023"
SHARED = ["04714", "04717", "04720", "04726", "04729"]  # communes of Yên Bình (141)
SUBMIT_UNITS = ["04249", "04252", "04255", "04258", "04261", "04264"]  # communes elsewhere
MONTHS = [f"2023-{m:02d}" for m in range(7, 13)]
FIELD_INDICATORS = ["CT01", "CT02", "CT06", "CT15", "CT17"]
VERSION = re.compile(r'name="(CT\d\d)\.version" value="(\d+)"')
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')
BUSY_VI = "Hệ thống đang bận"
MIX = ["entry"] * 6 + ["api"] * 2 + ["submit", "read"]  # roles of clients 0–9, 10–19, …


# --- measuring -------------------------------------------------------------------------------

@dataclass
class Tally:
    statuses: Counter = field(default_factory=Counter)  # (kind, status class) → n
    latency: dict = field(default_factory=lambda: defaultdict(list))  # kind → seconds
    ended: dict = field(default_factory=lambda: defaultdict(list))  # kind → when each answer came (monotonic)
    acks: list = field(default_factory=list)  # acknowledged saves
    busy_without_message: int = 0
    errors: list = field(default_factory=list)
    refused: dict = field(default_factory=dict)  # kind → the first 4xx answer (status, start of its text)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, response, seconds: float) -> None:
        code = response.status_code
        cls = "2xx" if code < 300 or code == 303 else "409" if code == 409 else "503" if code == 503 \
            else "5xx" if code >= 500 else "4xx"
        with self.lock:
            self.statuses[(kind, cls)] += 1
            self.latency[kind].append(seconds)
            self.ended[kind].append(time.monotonic())
            if code == 503 and BUSY_VI not in response.text:
                self.busy_without_message += 1
            if cls == "4xx" and kind not in self.refused:
                self.refused[kind] = (code, response.text[:300])


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


# --- clients ---------------------------------------------------------------------------------

def _client(base: str, n: int):
    import httpx

    # Each client its own address (the sign-in limit is per address, behind a trusted proxy).
    return httpx.Client(base_url=base, timeout=120, follow_redirects=False,
                        headers={"X-Forwarded-For": f"10.0.{n // 250}.{n % 250 + 1}"})


def sign_in(c, tally: Tally, username: str) -> bool:
    page = c.get("/login")
    m = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    t0 = time.perf_counter()
    r = c.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": m.group(1)})
    tally.record("sign-in", r, time.perf_counter() - t0)
    if r.status_code != 303:
        return False
    probe = c.get("/__csrf_probe__")
    c.headers["X-CSRF-Token"] = CSRF.search(probe.text).group(1)
    return True


def entry_saver(c, tally: Tally, rng: random.Random, kind: str = "web save") -> None:
    unit, month, code = rng.choice(SHARED), rng.choice(MONTHS), rng.choice(FIELD_INDICATORS)
    url = f"/entry/{unit}/{month}/{code}"
    t0 = time.perf_counter()
    page = c.get(url, headers={"HX-Request": "true"})
    tally.record("field read", page, time.perf_counter() - t0)
    m = VERSION.search(page.text) if page.status_code == 200 else None
    if m is None:
        return
    if code in ("CT01", "CT02"):
        den = rng.randint(50, 200)
        figure = {"numerator": rng.randint(0, den), "denominator": den}
    else:
        figure = {"value": rng.randint(0, 30)}
    data = {f"{code}.{k}": str(v) for k, v in figure.items()} | {f"{code}.version": m.group(2)}
    t0 = time.perf_counter()
    r = c.post(url, data=data, headers={"HX-Request": "true"})
    tally.record(kind, r, time.perf_counter() - t0)
    if r.status_code == 200:
        v = VERSION.search(r.text)
        with tally.lock:
            tally.acks.append({"via": "web", "unit": unit, "indicator": code, "period": month,
                               "version": int(v.group(2)), **figure})


def api_batcher(c, tally: Tally, rng: random.Random, token: str) -> None:
    month = rng.choice(MONTHS)
    rows = []
    for unit in SHARED:
        den = rng.randint(50, 200)
        rows.append({"orgUnit": unit, "dataElement": "CT01", "period": month,
                     "numerator": rng.randint(0, den), "denominator": den})
        rows.append({"orgUnit": unit, "dataElement": "CT17", "period": month, "value": rng.randint(0, 9)})
    t0 = time.perf_counter()
    r = c.post("/api/v1/data-values", json={"dataValues": rows}, headers={"Authorization": f"Bearer {token}"})
    tally.record("api batch", r, time.perf_counter() - t0)
    if r.status_code == 200:
        with tally.lock:
            for row in rows:
                tally.acks.append({"via": "api", "unit": row["orgUnit"], "indicator": row["dataElement"],
                                   "period": row["period"], **{k: row[k] for k in
                                                               ("value", "numerator", "denominator") if k in row}})


def submitter(c, tally: Tally, rng: random.Random) -> None:
    unit, month = rng.choice(SUBMIT_UNITS), rng.choice(MONTHS)
    for action in ("submit", "reopen"):
        t0 = time.perf_counter()
        r = c.post(f"/entry/{unit}/{month}/{action}")
        tally.record(action, r, time.perf_counter() - t0)


def reader(c, tally: Tally, rng: random.Random) -> None:
    url = rng.choice(["/dashboard/15?period=2023", "/dashboard/141?period=2023-Q3",
                      "/dashboard/04720?period=2023-09"])
    t0 = time.perf_counter()
    r = c.get(url)
    tally.record("dashboard read", r, time.perf_counter() - t0)


def run_clients(base: str, n: int, seconds: float, think: float, token: str, tally: Tally,
                roles: list[str] | None = None, burst: bool = False) -> tuple[float, float]:
    """(window start, its length), monotonic seconds."""
    deadline = [0.0]

    def go() -> None:  # runs once everyone has signed in, before anyone is released
        deadline[0] = time.monotonic() + seconds

    start_line = threading.Barrier(n + 1, action=go)

    def client_main(i: int) -> None:
        rng = random.Random(i)
        mix = roles or MIX
        role = mix[i % len(mix)]
        with _client(base, i) as c:
            try:
                # Each officer signs in with an account of their own (made by `task_users`).
                ok = role == "api" or sign_in(c, tally, f"bench.{i:03d}")
            except Exception as e:
                ok = False
                with tally.lock:
                    tally.statuses[("sign-in", "error " + type(e).__name__)] += 1
            start_line.wait()
            if not ok:
                return
            if think and not burst:
                time.sleep(rng.uniform(0, think))  # staggered arrivals (module docstring)
            try:
                loop(c, role, rng)
            except Exception as e:
                with tally.lock:
                    tally.statuses[(role, "error " + type(e).__name__)] += 1
                    tally.errors.append(repr(e))

    def loop(c, role: str, rng: random.Random) -> None:
        while time.monotonic() < deadline[0]:
            if role == "entry":
                entry_saver(c, tally, rng)
            elif role == "api":
                api_batcher(c, tally, rng, token)
            elif role == "submit":
                submitter(c, tally, rng)
            else:
                reader(c, tally, rng)
            if think:
                time.sleep(rng.uniform(0.5 * think, 1.5 * think))

    threads = [threading.Thread(target=client_main, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    start_line.wait()  # everyone signed in
    t0 = deadline[0] - seconds
    for t in threads:
        t.join(seconds + 300)
    return t0, time.monotonic() - t0


# --- the app and its database ------------------------------------------------------------------

PORT: int | None = None  # --port: serve there instead of on a free port
SERVE_PG_WORKERS = min(os.cpu_count() or 1, 4)  # what scripts/serve.sh starts on PostgreSQL


def free_port() -> int:
    if PORT is not None:
        return PORT
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class App:
    """A private database, seeded, and the app serving it on a free port."""

    def __init__(self, kind: str, workers: int, pg_url: str, threads: int | None) -> None:
        self.kind, self.workers, self.pg_url = kind, workers, pg_url
        self.tmp = Path(tempfile.mkdtemp(prefix="mttq-load-"))
        self.db_name = None
        if kind == "sqlite":
            self.url = f"sqlite:///{self.tmp / 'load.db'}"
        else:
            self.db_name = f"mttq_load_{uuid.uuid4().hex[:10]}"
            self.url = pg_url.rsplit("/", 1)[0] + "/" + self.db_name
        self.env = {**os.environ, "DATABASE_URL": self.url, "ENVIRONMENT": "local",
                    "SECRET_KEY": "load-bench-" + uuid.uuid4().hex, "LOGIN_RATE_LIMIT": "100000/minute"}
        if threads:
            self.env["WEB_THREADS"] = str(threads)
        self.proc = None
        self.log = self.tmp / "server.log"

    def _admin(self, sql: str) -> None:
        from sqlalchemy import create_engine, text

        eng = create_engine(self.pg_url, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text(sql))
        eng.dispose()

    def prepare(self) -> str:
        if self.db_name:
            self._admin(f'CREATE DATABASE "{self.db_name}"')
        subprocess.run([PY, "-m", "app.cli", "seed"], cwd=ROOT, env=self.env, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([PY, __file__, "--task", "users"], cwd=ROOT, env=self.env, check=True,
                       stdout=subprocess.DEVNULL)
        out = subprocess.run([PY, __file__, "--task", "token"], cwd=ROOT, env=self.env, check=True,
                             capture_output=True, text=True)
        return out.stdout.strip()

    def start(self) -> str:
        port = free_port()
        cmd = [UVICORN, "app.main:app", "--host", "127.0.0.1", "--port", str(port), "--proxy-headers",
               "--no-access-log"]
        if self.workers > 1:
            cmd += ["--workers", str(self.workers)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=open(self.log, "wb"),  # noqa: SIM115 - the server keeps it
                                     stderr=subprocess.STDOUT, start_new_session=True)
        import httpx

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
        raise RuntimeError("the app did not start:\n" + self.log.read_text()[-3000:])

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def verify(self, acks: list[dict]) -> dict:
        path = self.tmp / "acks.json"
        path.write_text(json.dumps(acks))
        out = subprocess.run([PY, __file__, "--task", "verify", str(path)], cwd=ROOT, env=self.env,
                             check=True, capture_output=True, text=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        check = subprocess.run([PY, "-m", "app.cli", "rollup", "check"], cwd=ROOT, env=self.env,
                               capture_output=True, text=True)
        result["rollup_differences"] = int(re.search(r"(\d+) difference", check.stdout).group(1))
        result["server_errors_logged"] = self.log.read_text(errors="replace").count("Traceback")
        return result

    def drop(self) -> None:
        if self.db_name:
            self._admin(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')


# --- tasks run inside the app's environment (DATABASE_URL set) ---------------------------------

def task_token() -> None:
    from sqlmodel import Session, select

    from app.accounts.models import ApiToken
    from app.accounts.security import new_api_token
    from app.core.db import engine
    from app.units.models import Unit

    secret, digest = new_api_token()
    with Session(engine) as s:
        root = s.exec(select(Unit).where(Unit.code == "15", Unit.valid_from.is_(None))).one()  # type: ignore[union-attr]  # Yên Bái as in 2023 (the demo tree has its 2025 successor under the same code)
        s.add(ApiToken(name="load bench", unit_id=root.id, mode="write", token_hash=digest, prefix=secret[:12]))
        s.commit()
    print(secret)


def task_users(count: int = 1000) -> None:
    """Accounts bench.000 … for the clients: province administrators, as 50 officers each with
    their own account (a shared one would meet the sign-in pause: parallel attempts on one
    account count before their passwords are checked)."""
    from sqlmodel import Session, select

    from app.accounts.models import User
    from app.accounts.security import hash_password
    from app.core import time as clock
    from app.core.db import engine
    from app.units.models import Unit

    digest = hash_password(PASSWORD)
    with Session(engine) as s:
        root = s.exec(select(Unit).where(Unit.code == "15", Unit.valid_from.is_(None))).one()  # type: ignore[union-attr]  # Yên Bái as in 2023 (the demo tree has its 2025 successor under the same code)
        now = clock.utcnow()
        for i in range(count):
            s.add(User(username=f"bench.{i:03d}", full_name=f"Bench {i}", unit_id=root.id, role="admin",
                       password_hash=digest, is_demo=True, password_changed_at=now))
        s.commit()


def task_verify(path: str) -> None:
    """Every acknowledged save has its audit row with its value (and version, for the web);
    every stored bench figure is the last one audited for it."""
    from sqlalchemy import text
    from sqlmodel import Session

    from app.core.db import engine

    acks = json.loads(Path(path).read_text())
    with Session(engine) as s:
        # The demo tree and programs live in time (a 2025 successor reuses codes): the 2023 ones.
        units = dict(s.execute(text("SELECT code, id FROM unit WHERE valid_from IS NULL "
                                    "OR valid_from <= '2023-07-01' ORDER BY id DESC")).all())
        inds = dict(s.execute(text("SELECT i.code, i.id FROM indicator i JOIN program p "
                                   "ON p.id = i.program_id WHERE p.year = 2023")).all())
        audited: dict[tuple, list[dict]] = defaultdict(list)
        for uid, iid, per, new in s.execute(text(
                "SELECT unit_id, indicator_id, period, new FROM audit_log WHERE entity = 'data_value' "
                "AND period >= '2023-07' ORDER BY id")):
            audited[(uid, iid, per)].append(json.loads(new) if new else None)
        stored = {(r[0], r[1], r[2]): {"value": r[3], "numerator": r[4], "denominator": r[5], "version": r[6]}
                  for r in s.execute(text("SELECT unit_id, indicator_id, period, value, numerator, "
                                          "denominator, version FROM data_value WHERE period >= '2023-07'"))}
    missing = 0
    for a in acks:
        key = (units[a["unit"]], inds[a["indicator"]], a["period"])
        want = {k: a.get(k) for k in ("value", "numerator", "denominator")}
        found = any(n is not None and all(n.get(k) == v for k, v in want.items())
                    and (a["via"] != "web" or n.get("version") == a["version"]) for n in audited.get(key, []))
        missing += not found
    stale = 0
    for key, row in stored.items():
        if key not in audited:
            continue  # a seeded figure the bench never wrote (the seed writes no audit rows)
        last = audited[key][-1]
        stale += last is None or any(last.get(k) != row[k] for k in ("value", "numerator", "denominator", "version"))
    print(json.dumps({"acknowledged": len(acks), "missing": missing, "stored_not_last_audited": stale}))


# --- running -------------------------------------------------------------------------------------

def run_config(kind: str, workers: int, args: argparse.Namespace) -> dict:
    # The serve command's WEB_THREADS (20) up to its own workers; 8 beyond, so that the pools stay
    # under PostgreSQL's max_connections.
    threads = args.threads or (8 if workers > SERVE_PG_WORKERS else None)
    app = App(kind, workers, args.pg_url, threads)
    label = f"{kind}{f' × {workers} workers' if workers > 1 else ''}"
    print(f"\n== {label}: preparing a private database and seeding it …", flush=True)
    try:
        token = app.prepare()
        base = app.start()
        single = Tally()
        run_clients(base, 1, args.single_seconds, 0.05, token, single, roles=["entry"], burst=True)
        floor = statistics.median(single.latency["web save"]) if single.latency["web save"] else float("nan")
        print(f"   single client: {len(single.latency['web save'])} saves, median {floor * 1000:.1f} ms, "
              f"p95 {pct(single.latency['web save'], 0.95) * 1000:.1f} ms", flush=True)
        tally = Tally()
        tally.acks.extend(single.acks)
        t0, elapsed = run_clients(base, args.clients, args.seconds, args.think, token, tally,
                                  burst=args.start == "burst")
    finally:
        app.stop()
    try:
        checks = app.verify(tally.acks)
    finally:
        app.drop()
    return {"label": label, "t0": t0, "floor": floor, "single_p95": pct(single.latency["web save"], 0.95),
            "tally": tally, "elapsed": elapsed, "checks": checks, "single": single}


def by_phase(t: Tally, t0: float) -> list[str]:
    """Web save latency by when the answer came: the opening seconds against the rest."""
    out = []
    for lo, hi in ((0, 5), (5, 15), (15, 30), (30, None)):
        lat = [s for s, e in zip(t.latency["web save"], t.ended["web save"], strict=True)
               if lo <= e - t0 < (hi or float("inf"))]
        out.append(f"{lo}–{hi or 'end'} s: {len(lat)} saves, {pct(lat, .5) * 1000:.0f} / {pct(lat, .95) * 1000:.0f}")
    return out


def report(res: dict, args: argparse.Namespace) -> None:
    t: Tally = res["tally"]
    kinds = sorted({k for k, _ in t.statuses})
    print(f"\n== {res['label']}: {args.clients} clients × {res['elapsed']:.0f} s, think ≈ {args.think} s, start {args.start}")
    print(f"{'what':<16}{'2xx':>7}{'409':>6}{'503':>6}{'4xx':>6}{'5xx':>6}{'p50 ms':>9}{'p95 ms':>9}")
    for k in kinds:
        lat = t.latency[k]
        print(f"{k:<16}" + "".join(f"{t.statuses[(k, c)]:>{w}}" for c, w in
                                   (("2xx", 7), ("409", 6), ("503", 6), ("4xx", 6), ("5xx", 6)))
              + f"{pct(lat, .5) * 1000:>9.1f}{pct(lat, .95) * 1000:>9.1f}")
    saves = t.latency["web save"] + t.latency["api batch"]
    total = sum(t.statuses.values())
    n5xx = sum(n for (k, c), n in t.statuses.items() if c == "5xx")
    ratio = pct(t.latency["web save"], 0.95) / res["floor"]
    print("web save p50 / p95 ms by phase of the window: " + "; ".join(by_phase(t, res["t0"])))
    c = res["checks"]
    print(f"throughput: {total / res['elapsed']:.1f} requests/s, "
          f"{(t.statuses[('web save', '2xx')] + t.statuses[('api batch', '2xx')]) / res['elapsed']:.1f} "
          f"acknowledged saves/s; saves p50 {pct(saves, .5) * 1000:.1f} ms, p95 {pct(saves, .95) * 1000:.1f} ms")
    print(f"single-client web save: median {res['floor'] * 1000:.1f} ms (p95 {res['single_p95'] * 1000:.1f} ms); "
          f"web save p95 under load ÷ single median = {ratio:.1f}× (must be ≤ 10)")
    print(f"checks: 5xx answers {n5xx}; acknowledged saves {c['acknowledged']}, missing {c['missing']}; "
          f"stored figures not the last audited {c['stored_not_last_audited']}; roll-up differences "
          f"{c['rollup_differences']}; 503 without the Vietnamese message {t.busy_without_message}; "
          f"tracebacks in the server log {c['server_errors_logged']}")
    errors = sum(n for (k, c), n in t.statuses.items() if c.startswith("error"))
    if errors:
        print(f"client errors (no answer): {errors}; first: {t.errors[:3]}")
    for kind, (code, text) in sorted(t.refused.items()):
        print(f"first 4xx of {kind}: {code} {' '.join(text.split())[:200]}")
    ok = (errors == 0 and n5xx == 0 and c["missing"] == 0 and c["rollup_differences"] == 0 and ratio <= 10
          and c["stored_not_last_audited"] == 0 and t.busy_without_message == 0)
    print("RESULT:", "PASS" if ok else "FAIL")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--think", type=float, default=2.0, help="mean pause between a client's actions (s)")
    p.add_argument("--start", choices=("staggered", "burst"), default="staggered",
                   help="staggered: each client's first move after a random pause in [0, think); burst: all at once")
    p.add_argument("--single-seconds", type=float, default=15)
    p.add_argument("--pg-workers", type=int, default=4, help="also run PostgreSQL with this many workers (0: no)")
    p.add_argument("--threads", type=int, default=None, help="WEB_THREADS of each server process")
    p.add_argument("--port", type=int, default=None, help="serve on this port (default: a free one)")
    p.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    p.add_argument("--task", help=argparse.SUPPRESS)
    p.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
    args = p.parse_args()
    global PORT
    PORT = args.port
    if args.task == "users":
        task_users()
        return 0
    if args.task == "token":
        task_token()
        return 0
    if args.task == "verify":
        task_verify(args.rest[0])
        return 0
    configs = []
    if args.db in ("sqlite", "both"):
        configs.append(("sqlite", 1))
    if args.db in ("postgresql", "both"):
        # The serve command's workers on PostgreSQL (scripts/serve.sh: one per core, at most 4),
        # then one process, then --pg-workers.
        for n in dict.fromkeys((SERVE_PG_WORKERS, 1, args.pg_workers)):
            if n >= 1:
                configs.append(("postgresql", n))
    with open("/proc/loadavg") as f:
        print("load average before:", f.read().split()[:3], "cores:", os.cpu_count())
    for kind, workers in configs:
        report(run_config(kind, workers, args), args)
    with open("/proc/loadavg") as f:
        print("\nload average after:", f.read().split()[:3])
    return 0


if __name__ == "__main__":
    sys.exit(main())
