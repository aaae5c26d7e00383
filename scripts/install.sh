#!/usr/bin/env bash
# Create .venv and install the pinned dependencies; safe to run again (does nothing when current).
#   bash scripts/install.sh         what serving needs (requirements.lock)
#   bash scripts/install.sh test    plus what testing needs (requirements-test.lock)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
what="${1:-serve}"
lock=requirements.lock
[ "$what" = "test" ] && lock=requirements-test.lock
stamp=".venv/.installed-$what"
if [ ! -x .venv/bin/python ]; then
  echo "== Creating the virtual environment (.venv)"
  "$PY" -m venv .venv
fi
if [ ! -f "$stamp" ] || [ requirements.lock -nt "$stamp" ] || [ "$lock" -nt "$stamp" ] \
    || [ pyproject.toml -nt "$stamp" ]; then
  echo "== Installing the pinned packages of $lock"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$lock"
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .
  touch "$stamp"
fi
