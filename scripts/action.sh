#!/usr/bin/env bash
# The GitHub Action's logic (action.yml only passes inputs through MG_* variables): install the
# binary, run the checks, write SARIF, annotations, the job summary and outputs, comment on the
# pull request. Tests run it with a fake GITHUB_* environment.
set -uo pipefail

log() { echo "migration-gate action: $*" >&2; }
# Workflow commands are read from stderr too; stderr also escapes `$(...)` captures.
die() { echo "::error title=migration-gate::$*" >&2; exit 2; }

repo_url="${MIGRATION_GATE_REPOSITORY_URL:-https://github.com/migration-gate/migration-gate}"
work="${RUNNER_TEMP:-$(mktemp -d)}/migration-gate"
mkdir -p "$work"

sha256_of() {
  if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

target_triple() {
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) echo x86_64-unknown-linux-musl ;;
    Linux-aarch64 | Linux-arm64) echo aarch64-unknown-linux-musl ;;
    Darwin-x86_64) echo x86_64-apple-darwin ;;
    Darwin-arm64) echo aarch64-apple-darwin ;;
    *) return 1 ;;
  esac
}

# The released binary for this runner, checked against its published sha256; an unreleased
# version is built with `cargo install --locked`.
install_binary() {
  if [ -n "${MIGRATION_GATE_BIN:-}" ]; then
    echo "$MIGRATION_GATE_BIN"
    return
  fi
  local version="${MG_VERSION:-latest}" triple base archive
  triple="$(target_triple)" || die "no release for $(uname -s) $(uname -m); build from source: cargo install migration-gate"
  base="${MIGRATION_GATE_RELEASES_URL:-$repo_url/releases}"
  if [ "$version" = latest ]; then base="$base/latest/download"; else base="$base/download/$version"; fi
  archive="migration-gate-$triple.tar.gz"
  if curl -fsSL --retry 3 -o "$work/$archive" "$base/$archive" \
    && curl -fsSL --retry 3 -o "$work/$archive.sha256" "$base/$archive.sha256"; then
    local expected actual
    expected="$(cut -d' ' -f1 < "$work/$archive.sha256")"
    actual="$(sha256_of "$work/$archive")"
    [ "$expected" = "$actual" ] || die "checksum mismatch for $archive: expected $expected, got $actual"
    tar -xzf "$work/$archive" -C "$work" || die "cannot unpack $archive"
    chmod +x "$work/migration-gate"
    echo "$work/migration-gate"
    return
  fi
  log "no release $version for $triple; building it with cargo install --locked"
  local args=(install --locked --root "$work/cargo" migration-gate)
  [ "$version" != latest ] && args+=(--version "${version#v}")
  cargo "${args[@]}" >&2 || die "cannot install migration-gate $version"
  echo "$work/cargo/bin/migration-gate"
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
sarif="${MG_SARIF_FILE:-migration-gate.sarif}"
[ -n "${MG_LINK_SHA:-}" ] && export MIGRATION_GATE_LINK_SHA="$MG_LINK_SHA"

status=0
reports=()
run_one() { # run_one NAME subcommand args...
  local name="$1"; shift
  local out="$work/$name"
  local formats=(--format text --format "json=$out.json" --format "markdown=$out.md" --format "sarif=$out.sarif")
  [ "${MG_ANNOTATIONS:-true}" = true ] && formats+=(--format github)
  # The script writes the summary itself, so the binary's own GitHub extras stay off.
  GITHUB_ACTIONS=false "$bin" "$@" "${paths[@]}" "${common[@]}" "${formats[@]}"
  local code=$?
  [ "$code" -gt "$status" ] && status=$code
  [ -f "$out.json" ] && reports+=("$name")
}

case "${MG_MODE:-lint}" in
  lint) run_one lint check ;;
  roundtrip | all)
    [ "$MG_MODE" = all ] && run_one lint check
    rt=(roundtrip)
    if [ -n "${MG_DATABASE_URL:-}" ]; then
      rt+=(--postgres url)
      export MIGRATION_GATE_DATABASE_URL="$MG_DATABASE_URL"
    elif [ -n "${MG_POSTGRES_IMAGE:-}" ]; then
      rt+=(--postgres docker --postgres-image "$MG_POSTGRES_IMAGE")
    fi
    run_one roundtrip "${rt[@]}"
    ;;
  *) die "mode must be lint, roundtrip or all (got ${MG_MODE})" ;;
esac

findings=0
errors=0
for name in "${reports[@]}"; do
  summary="$(grep -A6 '"summary"' "$work/$name.json")"
  e="$(grep -o '"errors": [0-9]*' <<< "$summary" | grep -o '[0-9]*$')"
  w="$(grep -o '"warnings": [0-9]*' <<< "$summary" | grep -o '[0-9]*$')"
  n="$(grep -o '"notes": [0-9]*' <<< "$summary" | grep -o '[0-9]*$')"
  errors=$((errors + ${e:-0}))
  findings=$((findings + ${e:-0} + ${w:-0} + ${n:-0}))
  [ -n "${GITHUB_STEP_SUMMARY:-}" ] && cat "$work/$name.md" >> "$GITHUB_STEP_SUMMARY"
done
# One SARIF file: the lint run's, or the round trip's when only that ran.
for name in lint roundtrip; do
  if [ -f "$work/$name.sarif" ]; then cp "$work/$name.sarif" "$sarif"; break; fi
done

if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    echo "sarif-file=$sarif"
    echo "findings=$findings"
    echo "errors=$errors"
  } >> "$GITHUB_OUTPUT"
fi

if [ "${MG_PR_COMMENT:-false}" = true ] && [ "${#reports[@]}" -gt 0 ]; then
  case "${GITHUB_EVENT_NAME:-}" in
    pull_request | pull_request_target)
      body="$work/comment.md"
      : > "$body"
      for name in "${reports[@]}"; do cat "$work/$name.md" >> "$body"; done
      "$bin" comment --file "$body" || log "the PR comment failed; the report is in the job summary"
      ;;
    *) log "pr-comment: not a pull request event (${GITHUB_EVENT_NAME:-none}); skipped" ;;
  esac
fi

exit "$status"
