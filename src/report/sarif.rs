//! `--format sarif`: SARIF 2.1.0 as GitHub code scanning reads it.

use serde_json::{Value, json};

use super::ReportInput;
use crate::diagnostic::{Origin, RuleMeta, Severity};

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// `create-index-non-concurrently` → `CreateIndexNonConcurrently`.
fn pascal_case(id: &str) -> String {
    id.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The first paragraph under "## What it flags".
fn full_description(meta: &RuleMeta) -> String {
    meta.doc
        .split("## What it flags")
        .nth(1)
        .and_then(|rest| rest.trim_start().split("\n\n").next())
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| meta.summary.to_string())
}

fn rule(meta: &RuleMeta) -> Value {
    let category = match meta.origin {
        Origin::Lint => "lint",
        Origin::Graph => "revision-graph",
        Origin::Roundtrip => "roundtrip",
        Origin::Gate => "gate",
    };
    json!({
        "id": meta.id,
        "name": pascal_case(meta.id),
        "shortDescription": {"text": meta.summary},
        "fullDescription": {"text": full_description(meta)},
        "help": {"text": meta.doc, "markdown": meta.doc},
        "helpUri": format!("{}/blob/main/rules/{}.md", env!("CARGO_PKG_REPOSITORY"), meta.id),
        "defaultConfiguration": {"level": level(meta.severity)},
        "properties": {"tags": ["postgresql", "migrations", category]},
    })
}

pub fn render(input: &ReportInput) -> String {
    let rules: Vec<Value> = input.rules.iter().map(|m| rule(m)).collect();
    let results: Vec<Value> = input
        .diagnostics
        .iter()
        .map(|d| {
            let index = input.rules.iter().position(|m| m.id == d.rule);
            let text = match &d.help {
                Some(help) => format!("{} Help: {help}", d.message),
                None => d.message.clone(),
            };
            let mut result = json!({
                "ruleId": d.rule,
                "level": level(d.severity),
                "message": {"text": text},
            });
            if let Some(index) = index {
                result["ruleIndex"] = json!(index);
            }
            if let Some(location) = input.location(d) {
                result["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": {
                            "uri": super::repository_relative(&location.path),
                            "uriBaseId": "%SRCROOT%",
                        },
                        "region": {
                            "startLine": location.line,
                            "startColumn": location.column,
                            "endLine": location.end_line,
                            "endColumn": location.end_column,
                        },
                    },
                }]);
            }
            if let Some(revision) = &d.revision {
                result["properties"] = json!({"revision": revision});
            }
            result
        })
        .collect();
    let document = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "migration-gate",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    let mut document = document;
    if let Some(verdict) = input.verdict {
        document["runs"][0]["properties"] = json!({"releaseGate": verdict});
    }
    let mut out = serde_json::to_string_pretty(&document).unwrap_or_default();
    out.push('\n');
    out
}
