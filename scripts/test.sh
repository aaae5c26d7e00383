#!/usr/bin/env bash
# Install what is needed and run the whole test suite, on SQLite and then on PostgreSQL.
#   TEST_PG_URL   PostgreSQL server for the second run (default: the local one, database test)
#   ONLY=sqlite|postgres  run one of the two
#   WORKERS               pytest processes per run (default 2: one per core; 1 runs in-process)
# First the lint gate (ruff, rules in pyproject.toml), then the suite; any failure fails the command.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh test
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
  else
    echo "Browser tests need Debian's chromium: sudo apt-get install -y chromium" >&2
  fi
fi
PG_URL="${TEST_PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"
# Bytecode caching on, whatever the machine says: with PYTHONDONTWRITEBYTECODE set, every pytest
# process and every server a test starts compiles the app from source again, and pytest rewrites
# the assertions of every test module and plugin again (collection took 16.7 s instead of 7.3 s).
unset PYTHONDONTWRITEBYTECODE
status=0
echo "== Lint (ruff)"
.venv/bin/ruff check . || status=$?
# Each worker makes its own database (tests/conftest.py). Not --dist loadfile: it folds
# schemathesis' 36 API operations into one test item.
PARALLEL=()
if [ "${WORKERS:-2}" != "1" ]; then PARALLEL=(-n "${WORKERS:-2}"); fi
if [ "${ONLY:-}" != "postgres" ]; then
  echo "== Test suite on SQLite"
  TEST_DATABASE_URL="" .venv/bin/python -m pytest "${PARALLEL[@]}" "$@" || status=$?
fi
if [ "${ONLY:-}" != "sqlite" ]; then
  if ! .venv/bin/python -c "import sys,psycopg; psycopg.connect(sys.argv[1].replace('+psycopg','')).close()" "$PG_URL" 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null; then
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
      sleep 2
    fi
  fi
  echo "== Test suite on PostgreSQL"
  TEST_DATABASE_URL="$PG_URL" .venv/bin/python -m pytest "${PARALLEL[@]}" "$@" || status=$?
fi
exit $status
