#!/usr/bin/env bash
# Install what serving needs and serve the seeded app at http://127.0.0.1:8000 (SQLite by default).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
echo "== Starting at http://${HOST:-127.0.0.1}:${PORT:-8000} (the first start migrates and seeds the database)"
exec .venv/bin/uvicorn app.main:app --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}" --proxy-headers
