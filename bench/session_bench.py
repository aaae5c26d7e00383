"""What the server-side session check costs per request, beside a floor from the same run.

Runs on a throw-away database (SQLite file, or a private PostgreSQL database with --postgres),
migrated and seeded, in one process:
- *floor*: `session.get(User, id)` — the database work of the old signed-cookie check;
- *session check*: `sessions.find(secret)` — lookup by the id's SHA-256, then the user;
- end to end through the app (TestClient): `GET /api/v1/me` with a bearer token (floor: the
  token lookup is the same kind of indexed query) and with the session cookie.
Prints the median and p95 in microseconds.

    .venv/bin/python bench/session_bench.py [--postgres] [--repeat 2000]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _setup(postgres: bool) -> str | None:
    name = None
    if postgres:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.databases import new_database_url

        url, name = new_database_url(PG_ADMIN, "mttq_bench_sessions")
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='mttq-bench-')) / 'bench.db'}"
    os.environ.update(ENVIRONMENT="test", DATABASE_URL=url, SEED_DEMO_VALUES="false", SEED_DEMO_USERS="true",
                      SECRET_KEY="bench-secret-key-not-for-production")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    return name


def _timed(fn, repeat: int) -> tuple[float, float]:
    for _ in range(20):
        fn()
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1e6)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--postgres", action="store_true")
    ap.add_argument("--repeat", type=int, default=2000)
    args = ap.parse_args()
    db_name = _setup(args.postgres)

    import re

    from fastapi.testclient import TestClient
    from sqlmodel import Session, select

    from app.accounts import sessions
    from app.accounts.models import User
    from app.core.db import engine
    from app.core.migrate import upgrade_to_head
    from app.core.time import utcnow
    from app.main import create_app
    from app.seed.run import seed
    from tests.api_support import make_token

    try:
        upgrade_to_head(engine)
        with Session(engine) as s:
            seed(s, demo_users=True, demo_values=False)
            user = s.exec(select(User).where(User.username == "xa.xem")).one()
            # 1,000 other sessions in the table, as after some weeks of use.
            for _ in range(1000):
                sessions.start(s, user, utcnow())
            secret = sessions.start(s, user, utcnow())
            s.commit()
            uid = user.id
            token = make_token(s, "141", "read")
        rows = []
        with Session(engine) as s:
            def floor() -> None:
                s.get(User, uid)
                s.expunge_all()

            def check() -> None:
                sessions.find(s, secret, utcnow())
                s.expunge_all()

            rows.append(("floor: get user by id", *_timed(floor, args.repeat)))
            rows.append(("session check: find(secret)", *_timed(check, args.repeat)))
        app = create_app(run_startup=False)
        with TestClient(app, follow_redirects=False) as c:
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
            assert c.post("/login", data={"username": "xa.xem", "password": "demo2023",
                                          "csrf_token": csrf}).status_code == 303
            n = max(args.repeat // 10, 50)
            with TestClient(app) as t:
                t.headers["Authorization"] = f"Bearer {token}"
                rows.append(("floor: GET /api/v1/me, bearer token", *_timed(lambda: t.get("/api/v1/me"), n)))
            rows.append(("GET /api/v1/me, session cookie", *_timed(lambda: c.get("/api/v1/me"), n)))
        db = "PostgreSQL" if args.postgres else "SQLite"
        print(f"{db}, {args.repeat} runs (HTTP rows: {max(args.repeat // 10, 50)}), microseconds")
        print(f"{'':40} {'median':>10} {'p95':>10}")
        for name, med, p95 in rows:
            print(f"{name:40} {med:10.0f} {p95:10.0f}")
    finally:
        engine.dispose()
        if db_name:
            from tests.databases import drop_database

            drop_database(PG_ADMIN, db_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
