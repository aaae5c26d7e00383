#!/usr/bin/env bash
# First start of the serve command on a fresh clone: seconds from `bash scripts/serve.sh` to the
# first 200 of GET /login, with the load average before and after and the virtual environment's
# size. pip's cache is whatever the machine has (warm after one run).
#   bash bench/first_start.sh [BRANCH] [PORT]     default: the current branch, port 8779
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
branch="${1:-$(git -C "$repo" rev-parse --abbrev-ref HEAD)}"
port="${2:-8779}"
dir="$(mktemp -d)"
git clone -q --branch "$branch" "$repo" "$dir/app"
cd "$dir/app"
load_before=$(cut -d' ' -f1 /proc/loadavg)
start=$(date +%s.%N)
PORT="$port" bash scripts/serve.sh > "$dir/serve.log" 2>&1 &
pid=$!
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/login" || true)" = 200 ]; do
  kill -0 "$pid" 2>/dev/null || { echo "the server stopped; its output:"; cat "$dir/serve.log"; exit 1; }
  sleep 0.5
done
end=$(date +%s.%N)
load_after=$(cut -d' ' -f1 /proc/loadavg)
printf '%s: first page after %.1f s; load %s -> %s; .venv %s MB\n' "$branch" \
  "$(echo "$end - $start" | bc)" "$load_before" "$load_after" "$(du -sm .venv | cut -f1)"
kill "$pid"; wait "$pid" 2>/dev/null || true
grep '^==' "$dir/serve.log"
rm -rf "$dir"
