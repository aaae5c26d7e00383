#!/usr/bin/env bash
# Install what serving needs and serve the seeded app at http://127.0.0.1:8000 (SQLite by default).
# Each step prints a line; the first start installs (about a minute at most from pip's cache),
# then migrates and seeds the empty database.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
url="http://${HOST:-127.0.0.1}:${PORT:-8000}"
# The same steps as the app's start (app.main's lifespan), done first so that each one is shown;
# the app's start then finds the database at its latest migration and seeded.
.venv/bin/python - <<'PY'
import time

from app.core.config import ROOT, settings
from app.core.db import engine
from app.core.migrate import upgrade_to_head
from app.seed.run import seed_if_empty

started = time.monotonic()
if settings.is_sqlite:
    (ROOT / "data").mkdir(exist_ok=True)
print(f"== Migrating the database ({engine.url.render_as_string(hide_password=True)})", flush=True)
upgrade_to_head(engine)
print("== Seeding the database if it is empty (the first start: units, program, demo data)", flush=True)
seeded = seed_if_empty(engine)
print(f"== {'Seeded' if seeded else 'Already seeded'}; database ready in {time.monotonic() - started:.1f} s",
      flush=True)
PY
# Worker processes (WEB_WORKERS overrides): one on SQLite; on PostgreSQL one per core, at most 4.
# A Python process runs its requests on one core at a time, and the app keeps nothing in process
# memory, so on PostgreSQL each core serves; 4 × (WEB_THREADS + 2) connections stay under
# PostgreSQL's default max_connections (100).
workers="${WEB_WORKERS:-$(.venv/bin/python -c 'import os
from app.core.config import settings
print(1 if settings.is_sqlite else min(os.cpu_count() or 1, 4))')}"
echo "== Serving at $url with $workers worker process(es) (Ctrl+C stops)"
exec .venv/bin/uvicorn app.main:app --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}" --proxy-headers \
  --workers "$workers"
