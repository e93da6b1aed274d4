#!/usr/bin/env bash
# Kill trials: runs `roundtrip` on each provider and ends it at a random early moment
# (0-400 ms, when the scratch database, container or cluster is being created) with SIGINT,
# SIGTERM or SIGKILL, then counts what is left once the watchdog has had its time.
# Goal: 0 leaks per provider.
#
#   scripts/bench-kill-trials.sh [TRIALS per provider, default 20] [providers: url local docker]
# Needs the test venv (scripts/test.sh makes it) and, for docker, the image it builds.
set -euo pipefail
cd "$(dirname "$0")/.."
trials="${1:-20}"
shift || true
providers="${*:-url local docker}"
cargo build --release --quiet
bin="$PWD/target/release/migration-gate"
python="$PWD/.test-venv/bin/python"
image="${MIGRATION_GATE_TEST_POSTGRES_IMAGE:-migration-gate-test/postgres:local-v2}"
work=$(mktemp -d)
chmod 755 "$work"
run_as=()
[ "$(id -u)" = 0 ] && run_as=(runuser -u postgres --)
bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"

# The server the url provider creates its scratch databases on.
server="$work/server"
mkdir -p "$server" && chown "${run_as[@]:+postgres}" "$server" 2>/dev/null || true
"${run_as[@]}" "$bindir/initdb" -D "$server/data" -U postgres -A trust --no-sync >/dev/null
"${run_as[@]}" "$bindir/pg_ctl" -D "$server/data" -l "$server/log" -w \
  -o "-c listen_addresses='' -k $server -c fsync=off" start >/dev/null
trap '"${run_as[@]}" "$bindir/pg_ctl" -D "$server/data" -m immediate stop >/dev/null 2>&1; rm -rf "$work"' EXIT
url="postgresql://postgres@/postgres?host=$server"
scratch_databases() {
  "$bindir/psql" -h "$server" -U postgres -Atc \
    "SELECT count(*) FROM pg_database WHERE datname LIKE 'migration_gate_%'"
}
leaks() {
  case "$1" in
    url) scratch_databases ;;
    local) find "$work/tmp" -maxdepth 1 -name 'migration-gate-pg-*' | wc -l ;;
    docker) docker ps -aq --filter name=migration-gate- | wc -l ;;
  esac
}
mkdir -p "$work/tmp" && chmod 755 "$work/tmp"
signals=(INT TERM KILL)
printf '%-8s %7s %6s %10s\n' provider trials leaks settle_s
for provider in $providers; do
  case "$provider" in
    url) args=(--postgres url --database-url "$url") ;;
    local) args=(--postgres local) ;;
    docker) docker image inspect "$image" >/dev/null 2>&1 || bash scripts/build-test-postgres-image.sh "$image" >/dev/null
            args=(--postgres docker --postgres-image "$image") ;;
  esac
  leaked=0
  settle_total=0
  for ((i = 0; i < trials; i++)); do
    delay_ms=$((RANDOM % 400))
    sig=${signals[$((i % 3))]}
    TMPDIR="$work/tmp" "$bin" roundtrip fixtures/roundtrip/slow "${args[@]}" --python "$python" \
      >/dev/null 2>&1 &
    pid=$!
    sleep "0.$(printf '%03d' "$delay_ms")"
    kill "-$sig" "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    # Leaks are counted once the watchdogs are done (they keep removing for 5 s after the
    # last thing they found); settle_s is how long that took.
    start=$(date +%s.%N)
    for _ in $(seq 1 120); do
      pgrep -f "migration-gate __watchdog" >/dev/null || break
      sleep 0.25
    done
    left=$(leaks "$provider")
    settle_total=$(echo "$settle_total + $(date +%s.%N) - $start" | bc)
    if [ "$left" != 0 ]; then
      leaked=$((leaked + 1))
      echo "  leak: $provider, SIG$sig after ${delay_ms} ms: $left left" >&2
      case "$provider" in
        url) "$bindir/psql" -h "$server" -U postgres -Atc "SELECT 'DROP DATABASE \"' || datname || '\";' FROM pg_database WHERE datname LIKE 'migration_gate_%'" | "$bindir/psql" -h "$server" -U postgres >/dev/null ;;
        local) rm -rf "$work"/tmp/migration-gate-pg-* ;;
        docker) docker ps -aq --filter name=migration-gate- | xargs -r docker rm -f >/dev/null ;;
      esac
    fi
  done
  printf '%-8s %7d %6d %10.1f\n' "$provider" "$trials" "$leaked" "$(echo "$settle_total / $trials" | bc -l)"
done
