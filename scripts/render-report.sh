#!/usr/bin/env bash
# Renders a Markdown report the way a reviewer sees it in a pull-request comment: GitHub's
# Markdown flavour (cmark-gfm) in a column as wide as GitHub's comment body (about 780 px),
# screenshotted with headless Chromium. Needs the Debian packages cmark-gfm and chromium.
#   bash scripts/render-report.sh report.md out.png [height]
set -euo pipefail
markdown="$1" png="$2" height="${3:-1600}"
html="$(mktemp --suffix .html)"
{
  cat <<'HEAD'
<!doctype html><meta charset="utf-8"><style>
body { margin: 0; background: #fff; font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; color: #1f2328; }
.comment { width: 780px; box-sizing: border-box; margin: 16px; padding: 16px; border: 1px solid #d1d9e0; border-radius: 6px; overflow-wrap: break-word; }
h3 { font-size: 1.25em; margin: 0 0 16px; } h4 { font-size: 1em; margin: 24px 0 8px; }
code { font: 85% ui-monospace, "DejaVu Sans Mono", monospace; background: #eff1f3; padding: .2em .4em; border-radius: 6px; }
a { color: #0969da; text-decoration: none; } ul { padding-left: 2em; } li + li { margin-top: .25em; }
table { border-collapse: collapse; } td, th { border: 1px solid #d1d9e0; padding: 6px 13px; }
details summary { cursor: pointer; } sub { color: #59636e; }
pre { background: #f6f8fa; padding: 16px; border-radius: 6px; overflow: auto; line-height: 1.45; } pre code { background: none; padding: 0; }
</style><div class="comment">
HEAD
  cmark-gfm --unsafe -e table -e autolink -e strikethrough "$markdown"
  echo '</div>'
} > "$html"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="820,$height" --screenshot="$png" "file://$html" 2>/dev/null
rm -f "$html"
echo "$png"
