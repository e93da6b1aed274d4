#!/usr/bin/env python3
"""Measure the precision of migration-gate's findings on public projects.

Standard library only. Each input is one project's `migration-gate check
--format json` output; the project is named after the file's stem
(`out/polar.json` -> `polar`). Only the stable JSON shape is read: a top-level
`diagnostics` list whose items carry rule, severity, message, path, line.

  1. Counts of error and warning findings per rule and project:
         python3 scripts/findings_sample.py out/*.json
  2. A reproducible random sample of those findings, to judge by hand (CSV when
     the name ends in `.csv`, else Markdown; columns id, project, rule,
     severity, file, line, message, verdict, reason; the last two left empty):
         python3 scripts/findings_sample.py out/*.json --seed 1 --size 110 --sample sample.md
  3. Precision per rule and overall from the filled-in table (verdict TRUE or
     FALSE; a reason starting with `[class]` is counted per class):
         python3 scripts/findings_sample.py --judged judged.md
"""

import argparse
import collections
import csv
import json
import pathlib
import random
import re
import sys

COLUMNS = ["id", "project", "rule", "severity", "file", "line", "message", "verdict", "reason"]
JUDGED_SEVERITIES = ("error", "warning")


def load_findings(paths):
    """Return (projects, findings): every error/warning diagnostic of every file.

    Each finding is a dict with the table's columns (verdict/reason empty).
    The list is sorted on a stable key so the sample depends only on the seed
    and the files' contents, not on the order the files were named in.
    """
    projects, findings = [], []
    for path in paths:
        project = pathlib.Path(path).stem
        projects.append(project)
        with open(path, encoding="utf-8") as f:
            document = json.load(f)
        for d in document.get("diagnostics", []):
            if d.get("severity") not in JUDGED_SEVERITIES:
                continue
            findings.append({
                "project": project,
                "rule": d.get("rule", ""),
                "severity": d.get("severity", ""),
                "file": d.get("path") or "",
                "line": d.get("line") if d.get("line") is not None else "",
                # One line per cell: a message never spans rows of the table.
                "message": " ".join((d.get("message") or "").split()),
                "verdict": "",
                "reason": "",
            })
    findings.sort(key=lambda x: (x["project"], x["file"], _int(x["line"]), x["rule"], x["message"]))
    return sorted(set(projects)), findings


def _int(value):
    """Line numbers as ints for sorting; a missing line sorts first."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def print_counts(projects, findings):
    """Per rule: errors+warnings per project and in total.

    A few rules raise errors for some findings and warnings for others, so the
    severity column lists every severity the rule raised (`error/warning`).
    """
    counts = collections.Counter((f["rule"], f["project"]) for f in findings)
    seen = collections.defaultdict(set)
    for f in findings:
        seen[f["rule"]].add(f["severity"])
    severity = {r: "/".join(s for s in JUDGED_SEVERITIES if s in v) for r, v in seen.items()}
    rules = sorted(severity, key=lambda r: (not severity[r].startswith("error"), r))
    header = ["rule", "sev"] + projects + ["total"]
    rows = [[r, severity[r]] + [str(counts[(r, p)]) for p in projects]
            + [str(sum(counts[(r, p)] for p in projects))] for r in rules]
    totals = ["total", ""] + [str(sum(counts[(r, p)] for r in rules)) for p in projects] + [str(len(findings))]
    _print_table(header, rows + [totals])


def _print_table(header, rows, left=2):
    """Aligned plain-text table: the first `left` columns left-aligned, numbers right-aligned."""
    widths = [max(len(str(row[i])) for row in [header] + rows) for i in range(len(header))]
    for row in [header] + rows:
        cells = [str(c).ljust(w) if i < left else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        print("  ".join(cells).rstrip())


def draw_sample(findings, seed, size):
    """A seeded sample without replacement, then ordered by project/file/line to judge file by file."""
    chosen = random.Random(seed).sample(findings, min(size, len(findings)))
    chosen.sort(key=lambda x: (x["project"], x["file"], _int(x["line"]), x["rule"]))
    return [dict(f, id=str(i)) for i, f in enumerate(chosen, 1)]


def write_table(rows, path):
    """CSV for `.csv`, Markdown otherwise (pipes in cells escaped as `\\|`)."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        if path.endswith(".csv"):
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows({c: r.get(c, "") for c in COLUMNS} for r in rows)
            return
        f.write("| " + " | ".join(COLUMNS) + " |\n")
        f.write("|" + "---|" * len(COLUMNS) + "\n")
        for r in rows:
            cells = [str(r.get(c, "")).replace("|", "\\|").replace("\n", " ") for c in COLUMNS]
            f.write("| " + " | ".join(cells) + " |\n")


def read_table(path):
    """Rows of a judged CSV or Markdown table, as dicts keyed by the header's names."""
    with open(path, encoding="utf-8", newline="") as f:
        if path.endswith(".csv"):
            return list(csv.DictReader(f))
        lines = [ln.strip() for ln in f if ln.strip().startswith("|")]
    split = lambda ln: [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", ln.strip().strip("|"))]
    header = [h.lower() for h in split(lines[0])]
    rows = []
    for ln in lines[1:]:
        cells = split(ln)
        if all(set(c) <= set("-: ") for c in cells):
            continue  # the |---|---| separator
        rows.append(dict(zip(header, cells)))
    return rows


def verdict_of(row):
    """True, False, or None (not judged yet)."""
    v = (row.get("verdict") or "").strip().upper()
    if v in ("TRUE", "T", "YES", "Y", "TP"):
        return True
    if v in ("FALSE", "F", "NO", "N", "FP"):
        return False
    return None


def print_precision(rows):
    """Precision per rule (TRUE / judged), overall, and FALSE findings per class."""
    per_rule = collections.defaultdict(lambda: [0, 0])  # rule -> [true, judged]
    classes = collections.Counter()
    unjudged = 0
    for row in rows:
        v = verdict_of(row)
        if v is None:
            unjudged += 1
            continue
        per_rule[row["rule"]][1] += 1
        if v:
            per_rule[row["rule"]][0] += 1
        else:
            m = re.match(r"\s*\[([^\]]+)\]", row.get("reason") or "")
            classes[m.group(1).strip() if m else "(unclassified)"] += 1
    pct = lambda t, n: f"{100.0 * t / n:.0f}%" if n else "-"
    table = [[rule, str(n), str(t), str(n - t), pct(t, n)]
             for rule, (t, n) in sorted(per_rule.items(), key=lambda kv: (-kv[1][1], kv[0]))]
    true = sum(t for t, _ in per_rule.values())
    judged = sum(n for _, n in per_rule.values())
    table.append(["overall", str(judged), str(true), str(judged - true), pct(true, judged)])
    _print_table(["rule", "judged", "true", "false", "precision"], table, left=1)
    if unjudged:
        print(f"\n{unjudged} row(s) without a TRUE/FALSE verdict were left out.")
    if classes:
        print("\nFALSE findings per class:")
        for name, n in classes.most_common():
            print(f"  {n:3d}  {name}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json", nargs="*", help="`migration-gate check --format json` outputs, one per project")
    ap.add_argument("--seed", type=int, default=1, help="random seed of the sample (default 1)")
    ap.add_argument("--size", type=int, default=100, help="findings to sample (default 100)")
    ap.add_argument("--sample", metavar="FILE", help="write the sample here (.csv, else Markdown)")
    ap.add_argument("--judged", metavar="FILE", help="a filled-in sample: print precision")
    args = ap.parse_args(argv)
    if not args.json and not args.judged:
        ap.error("give JSON files, --judged FILE, or both")
    if args.json:
        projects, findings = load_findings(args.json)
        print_counts(projects, findings)
        if args.sample:
            rows = draw_sample(findings, args.seed, args.size)
            write_table(rows, args.sample)
            print(f"\nwrote {len(rows)} of {len(findings)} findings (seed {args.seed}) to {args.sample}")
    if args.judged:
        if args.json:
            print()
        print_precision(read_table(args.judged))
    return 0


if __name__ == "__main__":
    sys.exit(main())
