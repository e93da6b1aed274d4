#!/usr/bin/env bash
# Hostile inputs, timed: each folder from scripts/hostile_inputs.py is checked by the release
# binary, and its wall time, peak memory and exit code are printed. Goal: < 1 s and < 500 MB
# each, exit 1 or 2 (findings), never a crash. Kill trials: scripts/bench-kill-trials.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 scripts/hostile_inputs.py "$work"
printf '%-32s %8s %10s %5s\n' input seconds peak_MB exit
for dir in "$work"/*/; do
  name=$(basename "$dir")
  /usr/bin/time -o "$work/time" -f '%e %M %x' target/release/migration-gate check "$dir" \
    --format json >/dev/null 2>&1 || true
  read -r seconds kb code < <(tail -1 "$work/time")
  printf '%-32s %8s %10d %5s\n' "$name" "$seconds" $((kb / 1024)) "$code"
done
