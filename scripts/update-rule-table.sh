#!/usr/bin/env bash
# Rewrites README.md's rule table from the registry (`migration-gate rules --format markdown`);
# tests/presets.rs fails while the two differ.
set -euo pipefail
cd "$(dirname "$0")/.."
table=$(cargo run --quiet --release -- rules --format markdown)
python3 - "$table" <<'PY'
import sys
table = sys.argv[1] + "\n"
text = open("README.md").read()
start = text.index("<!-- rules:start")
body = text.index("-->\n", start) + 4
end = text.index("<!-- rules:end -->")
open("README.md", "w").write(text[:body] + table + text[end:])
PY
