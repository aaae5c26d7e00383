"""First-load transfer of the province leader's dashboard: HTML + CSS + JS, gzip-compressed.

Runs the app in-process on a throw-away SQLite database migrated and seeded WITH the demo
figures (January–March 2023, so all 18 cards carry figures, targets and trend charts), signs
in as the province leader `tinh.xem`, loads /dashboard (the default period) with
`Accept-Encoding: gzip`, then every stylesheet and script the page references, and adds up the
compressed bytes on the wire (bodies only; an empty cache, so everything counts). Fonts are not
loaded: the print font is used only when printing. Budget: 40 KB. The scorecard page is
measured the same way, for reference.

    .venv/bin/python bench/dashboard_page_weight.py
"""
import os
import re
import sys
import tempfile
from pathlib import Path

BUDGET = 40 * 1024
PAGE = "/dashboard"
OTHER = ["/dashboard/15/scorecard"]

_tmp = Path(tempfile.mkdtemp(prefix="mttq-bench-"))
os.environ.update(ENVIRONMENT="test", DATABASE_URL=f"sqlite:///{_tmp / 'bench.db'}",
                  SEED_DEMO_VALUES="true", SEED_DEMO_USERS="true",
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
        seed(session, demo_users=True, demo_values=True)
    app = create_app(run_startup=False)
    gz = {"Accept-Encoding": "gzip"}
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as c:
        floor = _weight(c, "/login", gz)  # the lightest page: the base stylesheet and scripts
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        r = c.post("/login", data={"username": "tinh.xem", "password": "demo2023",
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
        others = []
        for url in OTHER:
            r = c.get(url, headers=gz)
            assert r.status_code == 200, (url, r.status_code)
            others.append((url, r.headers.get("content-encoding", "identity"), r.num_bytes_downloaded,
                           len(r.content)))
    total = sum(row[2] for row in rows)
    for url, enc, wire, raw in rows:
        print(f"{url:<40} {enc:<9} {wire:>8,} B on the wire ({raw:,} B uncompressed)")
    print(f"{'total':<40} {'':<9} {total:>8,} B = {total / 1024:.1f} KB (budget {BUDGET // 1024} KB)")
    for url, enc, wire, raw in others:
        print(f"{url + ' (HTML only)':<40} {enc:<9} {wire:>8,} B on the wire ({raw:,} B uncompressed)")
    print(f"{'floor: /login with its assets':<40} {'':<9} {floor:>8,} B = {floor / 1024:.1f} KB "
          f"(same run; the dashboard adds {(total - floor) / 1024:.1f} KB)")
    return 0 if total <= BUDGET else 1


def _weight(c, page: str, gz: dict) -> int:
    r = c.get(page, headers=gz)
    urls = re.findall(r'<link rel="stylesheet" href="([^"]+)"', r.text) + re.findall(r'<script src="([^"]+)"', r.text)
    return r.num_bytes_downloaded + sum(c.get(u, headers=gz).num_bytes_downloaded for u in dict.fromkeys(urls))


if __name__ == "__main__":
    raise SystemExit(main())
