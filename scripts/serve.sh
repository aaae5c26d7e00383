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
echo "== Serving at $url (Ctrl+C stops)"
exec .venv/bin/uvicorn app.main:app --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}" --proxy-headers
