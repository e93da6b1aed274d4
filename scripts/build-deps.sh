#!/usr/bin/env bash
# What building the crate needs beyond Rust and a C compiler: libclang, which bindgen loads to
# read libpg_query's header (pg_query, PostgreSQL's own grammar). Installed with apt-get when
# missing; elsewhere, says what to install and exits 2.
set -euo pipefail
if [ -n "${LIBCLANG_PATH:-}" ] || ldconfig -p 2>/dev/null | grep -qE 'libclang(-[0-9.]+)?\.so'; then
  exit 0
fi
if command -v apt-get >/dev/null; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing libclang-dev (bindgen needs it to build pg_query)" >&2
  $sudo apt-get install -y -qq libclang-dev >/dev/null 2>&1 ||
    { $sudo apt-get update -qq && $sudo apt-get install -y -qq libclang-dev >/dev/null; }
  exit 0
fi
echo "building migration-gate needs libclang (bindgen reads libpg_query's header with it):" >&2
echo "install clang (macOS: xcode-select --install; Fedora: dnf install clang-devel;" >&2
echo "Alpine: apk add clang-dev) or set LIBCLANG_PATH to the folder holding libclang" >&2
exit 2
