#!/usr/bin/env bash
# Writes docs/configuration.md and README's config table from src/config_reference.rs;
# tests/config_reference.rs fails while they differ.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --release -- __config-reference docs > docs/configuration.md
table=$(cargo run --quiet --release -- __config-reference readme)
python3 - "$table" <<'PY'
import sys
table = sys.argv[1] + "\n"
text = open("README.md").read()
start = text.index("<!-- config:start")
body = text.index("-->\n", start) + 4
end = text.index("<!-- config:end -->")
open("README.md", "w").write(text[:body] + table + text[end:])
PY
