"""First-load transfer of the entry page: HTML + CSS + JS as served, gzip-compressed.

Runs the app in-process on a throw-away SQLite database (migrated and seeded), signs in as the
commune cadre `xa.nhaplieu`, loads /entry/04720/2023-01 with `Accept-Encoding: gzip`, then every
stylesheet and script the page references, and adds up the compressed bytes on the wire
(bodies only; an empty cache, so everything counts). Budget: 100 KB.

    .venv/bin/python bench/entry_page_weight.py
"""
import os
import re
import sys
import tempfile
from pathlib import Path

BUDGET = 100 * 1024
PAGE = "/entry/04720/2023-01"

_tmp = Path(tempfile.mkdtemp(prefix="mttq-bench-"))
os.environ.update(ENVIRONMENT="test", DATABASE_URL=f"sqlite:///{_tmp / 'bench.db'}",
                  SEED_DEMO_VALUES="false", SEED_DEMO_USERS="true",
                  SECRET_KEY="bench-secret-key-not-for-production")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient  # noqa: E402
from sqlmodel import Session  # noqa: E402

from app.core.db import engine  # noqa: E402
from app.core.migrate import upgrade_to_head  # noqa: E402
from app.main import create_app  # noqa: E402
from app.seed.run import seed  # noqa: E402


def main() -> int:
    upgrade_to_head(engine)
    with Session(engine) as session:
        seed(session, demo_users=True, demo_values=False)
    app = create_app(run_startup=False)
    gz = {"Accept-Encoding": "gzip"}
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as c:
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        r = c.post("/login", data={"username": "xa.nhaplieu", "password": "demo2023",
                                   "csrf_token": token})
        assert r.status_code == 303, r.status_code
        page = c.get(PAGE, headers=gz)
        assert page.status_code == 200, page.status_code
        rows = [(PAGE, page.headers.get("content-encoding", "identity"), page.num_bytes_downloaded,
                 len(page.content))]
        assets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.text)
        assets += re.findall(r'<script src="([^"]+)"', page.text)
        for url in dict.fromkeys(assets):
            r = c.get(url, headers=gz)
            assert r.status_code == 200, (url, r.status_code)
            rows.append((url, r.headers.get("content-encoding", "identity"), r.num_bytes_downloaded,
                         len(r.content)))
    total = sum(row[2] for row in rows)
    for url, enc, wire, raw in rows:
        print(f"{url:<40} {enc:<9} {wire:>8,} B on the wire ({raw:,} B uncompressed)")
    print(f"{'total':<40} {'':<9} {total:>8,} B = {total / 1024:.1f} KB (budget {BUDGET // 1024} KB)")
    return 0 if total <= BUDGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
