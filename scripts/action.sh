#!/usr/bin/env bash
# The GitHub Action's logic (action.yml only passes inputs through MG_* variables): install the
# binary, run the checks, write SARIF, annotations, the job summary and outputs, comment on the
# pull request. Tests run it with a simulated runner (GITHUB_* variables, a fake API).
set -uo pipefail

log() { echo "migration-gate action: $*" >&2; }
# Workflow commands are read from stdout and stderr; stderr keeps them out of `$(...)` captures.
error_annotation() { echo "::error title=migration-gate::$*" >&2; }
die() { error_annotation "$*"; exit 2; }

repo_url="${MIGRATION_GATE_REPOSITORY_URL:-https://github.com/migration-gate/migration-gate}"
work="${RUNNER_TEMP:-$(mktemp -d)}/migration-gate"
mkdir -p "$work"

sha256_of() {
  if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

# The release archive's target for this runner (RUNNER_OS / RUNNER_ARCH on GitHub, uname elsewhere).
target_triple() {
  local os="${RUNNER_OS:-$(uname -s)}" arch="${RUNNER_ARCH:-$(uname -m)}"
  case "$os-$arch" in
    Linux-X64 | Linux-x86_64) echo x86_64-unknown-linux-musl ;;
    Linux-ARM64 | Linux-aarch64 | Linux-arm64) echo aarch64-unknown-linux-musl ;;
    macOS-X64 | Darwin-x86_64) echo x86_64-apple-darwin ;;
    macOS-ARM64 | Darwin-arm64) echo aarch64-apple-darwin ;;
    Windows-X64 | MINGW*-x86_64 | MSYS*-x86_64) echo x86_64-pc-windows-msvc ;;
    *) return 1 ;;
  esac
}

# From PyPI, the same build as the release (a wheel per platform), when no release archive
# answers; fails when there is no wheel either.
install_from_pypi() {
  local version="$1" spec=migration-gate python
  [ "$version" != latest ] && spec="migration-gate==${version#v}"
  python="$(command -v python3 || command -v python)" || { log "no Python for pip install $spec"; return 1; }
  log "installing $spec from PyPI"
  "$python" -m venv "$work/venv" >&2 || { log "cannot create a venv for pip install $spec"; return 1; }
  local bin="$work/venv/bin"
  [ -d "$work/venv/Scripts" ] && bin="$work/venv/Scripts"
  "$bin/python" -m pip install --quiet --disable-pip-version-check --only-binary :all: "$spec" >&2 \
    || { log "no wheel ($spec) for $(uname -s) $(uname -m)"; return 1; }
  echo "$bin/migration-gate"
}

# This ref's own source, built with the runner's cargo (a ref without a release: a branch, a
# commit). The Action keeps the build between runs.
build_from_source() {
  local src="${GITHUB_ACTION_PATH:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
  local target="${MIGRATION_GATE_BUILD_DIR:-$work/build}"
  [ -f "$src/Cargo.toml" ] || { log "no source to build at $src"; return 1; }
  command -v cargo >/dev/null || { log "no cargo on this runner to build migration-gate from source (install Rust, or use a released version)"; return 1; }
  # libclang for PostgreSQL's grammar (bindgen): installed with apt-get when the runner lacks it.
  bash "$src/scripts/build-deps.sh" >&2 || { log "the source build needs libclang (see the message above)"; return 1; }
  log "building migration-gate from source ($src) into $target"
  cargo build --release --locked --quiet --manifest-path "$src/Cargo.toml" --target-dir "$target" >&2 \
    || { log "the source build failed"; return 1; }
  [ -n "${GITHUB_OUTPUT:-}" ] && echo "built-from-source=true" >> "$GITHUB_OUTPUT"
  echo "$target/release/migration-gate"
}

# A released build from PyPI, else this ref built from source.
install_unreleased() {
  install_from_pypi "$1" || build_from_source \
    || die "cannot install migration-gate $1: no release archive, no wheel for $(uname -s) $(uname -m), and no source build"
}

# The released binary for this runner, checked against its published sha256.
install_binary() {
  if [ -n "${MIGRATION_GATE_BIN:-}" ]; then
    echo "$MIGRATION_GATE_BIN"
    return
  fi
  local version="${MG_VERSION:-latest}" triple base archive exe=migration-gate
  if [ "$version" = source ]; then
    build_from_source || die "cannot build migration-gate from source"
    return
  fi
  if ! triple="$(target_triple)"; then
    install_unreleased "$version"
    return
  fi
  base="${MIGRATION_GATE_RELEASES_URL:-$repo_url/releases}"
  if [ "$version" = latest ]; then base="$base/latest/download"; else base="$base/download/$version"; fi
  archive="migration-gate-$triple.tar.gz"
  case "$triple" in *windows*) archive="migration-gate-$triple.zip" exe=migration-gate.exe ;; esac
  if curl -fsSL --retry 3 -o "$work/$archive" "$base/$archive" 2>/dev/null \
    && curl -fsSL --retry 3 -o "$work/$archive.sha256" "$base/$archive.sha256" 2>/dev/null; then
    local expected actual
    expected="$(cut -d' ' -f1 < "$work/$archive.sha256")"
    actual="$(sha256_of "$work/$archive")"
    [ "$expected" = "$actual" ] || die "checksum mismatch for $archive: expected $expected, got $actual"
    case "$archive" in
      *.zip) unzip -o -q "$work/$archive" -d "$work" || die "cannot unpack $archive" ;;
      *) tar -xzf "$work/$archive" -C "$work" || die "cannot unpack $archive" ;;
    esac
    chmod +x "$work/$exe"
    echo "$work/$exe"
    return
  fi
  log "no release archive $archive for $version"
  install_unreleased "$version"
}

bin="$(install_binary)" || exit 2
"$bin" --version >&2 || die "the installed binary does not run"

paths=()
read -r -d '' -a paths <<< "${MG_PATHS:-}"
common=()
[ -n "${MG_CONFIG:-}" ] && common+=(--config "$MG_CONFIG")
[ -n "${MG_BASE_REF:-}" ] && common+=(--base "$MG_BASE_REF")
[ -n "${MG_POSTGRES_VERSION:-}" ] && common+=(--postgres-version "$MG_POSTGRES_VERSION")
[ -n "${MG_FAIL_ON:-}" ] && common+=(--fail-on "$MG_FAIL_ON")
[ -n "${MG_LINK_SHA:-}" ] && export MIGRATION_GATE_LINK_SHA="$MG_LINK_SHA"
[ -n "${MG_EXCLUDE:-}" ] && common+=(--exclude "$MG_EXCLUDE")
# Rule choice, for the lint.
lint_flags=()
[ -n "${MG_PRESET:-}" ] && lint_flags+=(--preset "$MG_PRESET")
[ -n "${MG_SELECT:-}" ] && lint_flags+=(--select "$MG_SELECT")
[ -n "${MG_IGNORE:-}" ] && lint_flags+=(--ignore "$MG_IGNORE")
# How migrations run, for the round trip and the gate's scratch schema.
runner=()
[ -n "${MG_POSTGRES:-}" ] && runner+=(--postgres "$MG_POSTGRES")
[ -n "${MG_PYTHON:-}" ] && runner+=(--python "$MG_PYTHON")
[ -n "${MG_ALEMBIC_CONFIG:-}" ] && runner+=(--alembic-config "$MG_ALEMBIC_CONFIG")
[ -n "${MG_CONNECT_TIMEOUT:-}" ] && runner+=(--connect-timeout "$MG_CONNECT_TIMEOUT")
[ "${MG_STANDALONE:-false}" = true ] && runner+=(--standalone)
[ -n "${MG_METADATA:-}" ] && runner+=(--metadata "$MG_METADATA")
[ -n "${MG_FLASK_APP:-}" ] && runner+=(--flask-app "$MG_FLASK_APP")
roundtrip_flags=()
[ -n "${MG_BASELINE:-}" ] && roundtrip_flags+=(--baseline "$MG_BASELINE")
[ -n "${MG_TIMEOUT:-}" ] && roundtrip_flags+=(--timeout "$MG_TIMEOUT")
[ "${MG_TRACE_LOCKS:-false}" = true ] && roundtrip_flags+=(--trace-locks)
[ -n "${MG_SEED_ROWS:-}" ] && roundtrip_flags+=(--seed-rows "$MG_SEED_ROWS")
[ "${MG_UPGRADE_ONLY:-false}" = true ] && roundtrip_flags+=(--upgrade-only)
[ -n "${MG_SHARD:-}" ] && roundtrip_flags+=(--shard "$MG_SHARD")

absolute() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
# No associative arrays: macOS ships bash 3.2.
sarif_target() {
  case "$1" in
    lint) absolute "${MG_SARIF_FILE:-migration-gate.sarif}" ;;
    roundtrip) absolute "${MG_ROUNDTRIP_SARIF_FILE:-migration-gate-roundtrip.sarif}" ;;
    gate) absolute migration-gate-gate.sarif ;;
  esac
}
title() { case "$1" in lint) echo Lint ;; roundtrip) echo "Round trip" ;; gate) echo "Release gate" ;; esac; }

status=0
ran=()
run_one() { # run_one NAME subcommand args...
  local name="$1"; shift
  local out="$work/$name"
  rm -f "$out".*
  local formats=(--format text --format "json=$out.json" --format "markdown=$out.md"
    --format "sarif=$(sarif_target "$name")" --format "github=$out.annotations")
  # The script writes the summary and annotations itself, so the binary's GitHub extras stay off;
  # stderr (progress, errors) goes to the log and is kept for the report.
  GITHUB_ACTIONS=false "$bin" "$@" ${paths[@]+"${paths[@]}"} ${common[@]+"${common[@]}"} "${formats[@]}" \
    2> >(tee "$out.stderr" >&2)
  local code=$?
  wait
  ran+=("$name")
  if [ "$code" -ge 2 ]; then
    local why
    why="$(grep -v '^\s*$' "$out.stderr" | tail -n 1)"
    error_annotation "$(title "$name") stopped (exit $code): ${why:-no message}"
    # A report that says so, whether or not the binary got to write one.
    if [ ! -s "$out.md" ] || ! grep -q '❌' "$out.md"; then
      printf '### ❌ migration-gate · %s: stopped with exit code %s\n\n```text\n%s\n```\n' \
        "$(title "$name")" "$code" "$(tail -n 20 "$out.stderr")" > "$out.md"
    fi
  fi
  [ "$code" -gt "$status" ] && status=$code
}

case "${MG_MODE:-lint}" in
  lint) run_one lint check ${lint_flags[@]+"${lint_flags[@]}"} ;;
  gate)
    [ -n "${MG_GATE_DATABASE_URL:-}" ] || die "mode gate needs gate-database-url: the live database to inspect"
    export MIGRATION_GATE_DATABASE_URL="$MG_GATE_DATABASE_URL"
    gate=(gate)
    [ "${MG_GATE_CHECK_DRIFT:-true}" = false ] && gate+=(--no-drift)
    run_one gate "${gate[@]}" ${runner[@]+"${runner[@]}"}
    ;;
  roundtrip | all)
    [ "$MG_MODE" = all ] && run_one lint check ${lint_flags[@]+"${lint_flags[@]}"}
    rt=(roundtrip ${runner[@]+"${runner[@]}"} ${roundtrip_flags[@]+"${roundtrip_flags[@]}"})
    # The server follows from the inputs given, unless `postgres` names it.
    if [ -n "${MG_DATABASE_URL:-}" ]; then
      [ -z "${MG_POSTGRES:-}" ] && rt+=(--postgres url)
      export MIGRATION_GATE_DATABASE_URL="$MG_DATABASE_URL"
    elif [ -n "${MG_POSTGRES_IMAGE:-}" ]; then
      [ -z "${MG_POSTGRES:-}" ] && rt+=(--postgres docker)
      rt+=(--postgres-image "$MG_POSTGRES_IMAGE")
    fi
    run_one roundtrip "${rt[@]}"
    ;;
  *) die "mode must be lint, roundtrip, all or gate (got ${MG_MODE})" ;;
esac

# Annotations: GitHub shows 10 of each type per step, and this step runs both commands, so
# they share one budget; round-trip findings (proven on a database) go first.
if [ "${MG_ANNOTATIONS:-true}" = true ]; then
  files=()
  for name in gate roundtrip lint; do [ -f "$work/$name.annotations" ] && files+=("$work/$name.annotations"); done
  if [ "${#files[@]}" -gt 0 ]; then
    awk '
      /^::(error|warning|notice) / {
        kind = substr($1, 3)
        if (shown[kind] < 10) { shown[kind]++; print } else { hidden[kind]++ }
        next
      }
      /^migration-gate: .* not shown as annotations/ {
        n = split($0, words, " ")
        for (i = 2; i <= n; i++) {
          word = words[i]; sub(/,$/, "", word)
          if (word ~ /^error/) hidden["error"] += words[i-2]
          if (word ~ /^warning/) hidden["warning"] += words[i-2]
          if (word ~ /^note/) hidden["notice"] += words[i-2]
        }
        next
      }
      END {
        line = ""
        if (hidden["error"]) line = line hidden["error"] " more errors, "
        if (hidden["warning"]) line = line hidden["warning"] " more warnings, "
        if (hidden["notice"]) line = line hidden["notice"] " more notes, "
        if (line != "") print "migration-gate: " substr(line, 1, length(line) - 2) " not shown as annotations (GitHub shows 10 per type); all findings are in the job summary"
      }' "${files[@]}"
  fi
fi

# What a database proved leads every report; the lint follows.
reports=()
for name in gate roundtrip lint; do
  for done_name in "${ran[@]}"; do [ "$done_name" = "$name" ] && reports+=("$name"); done
done

findings=0
errors=0
for name in "${reports[@]}"; do
  if [ -f "$work/$name.json" ]; then
    summary="$(grep -A6 '"summary"' "$work/$name.json")"
    e="$(grep -o '"errors": [0-9]*' <<< "$summary" | grep -o '[0-9]*$')"
    w="$(grep -o '"warnings": [0-9]*' <<< "$summary" | grep -o '[0-9]*$')"
    n="$(grep -o '"notes": [0-9]*' <<< "$summary" | grep -o '[0-9]*$')"
    errors=$((errors + ${e:-0}))
    findings=$((findings + ${e:-0} + ${w:-0} + ${n:-0}))
  fi
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "$work/$name.md" ]; then
    { cat "$work/$name.md"; echo; } >> "$GITHUB_STEP_SUMMARY"
  fi
done

if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    for name in lint roundtrip; do
      key=sarif-file
      [ "$name" = roundtrip ] && key=roundtrip-sarif-file
      file="$(sarif_target "$name")"
      if [ -f "$file" ]; then echo "$key=$file"; else echo "$key="; fi
    done
    echo "findings=$findings"
    echo "errors=$errors"
  } >> "$GITHUB_OUTPUT"
fi

if [ "${MG_PR_COMMENT:-false}" = true ] && [ "${#ran[@]}" -gt 0 ]; then
  case "${GITHUB_EVENT_NAME:-}" in
    pull_request | pull_request_target)
      bodies=()
      for name in "${reports[@]}"; do [ -f "$work/$name.md" ] && bodies+=(--file "$work/$name.md"); done
      # Fixable lint findings also become review suggestions on their lines.
      if [ "${MG_PR_SUGGESTIONS:-true}" = true ] && [ -f "$work/lint.json" ]; then
        bodies+=(--suggestions "$work/lint.json")
      fi
      "$bin" comment ${bodies[@]+"${bodies[@]}"} || log "the PR comment failed; the report is in the job summary"
      ;;
    *) log "pr-comment: not a pull request event (${GITHUB_EVENT_NAME:-none}); skipped" ;;
  esac
fi

exit "$status"
