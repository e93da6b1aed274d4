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
        Origin::Deploy => "deploy-compatibility",
        Origin::Gate => "gate",
    };
    json!({
        "id": meta.id,
        "name": pascal_case(meta.id),
        "shortDescription": {"text": meta.summary},
        "fullDescription": {"text": full_description(meta)},
        "help": {"text": meta.doc, "markdown": meta.doc},
        "helpUri": help_uri(meta.id),
        "defaultConfiguration": {"level": level(meta.severity)},
        "properties": {"tags": ["postgresql", "migrations", category]},
    })
}

/// The rule's documentation as released with this version, so the text matches the check.
fn help_uri(rule: &str) -> String {
    format!(
        "{}/blob/v{}/rules/{rule}.md",
        env!("CARGO_PKG_REPOSITORY"),
        env!("CARGO_PKG_VERSION")
    )
}

/// A fix as SARIF's `fix`: the file's replacements, each a region deleted (empty for an
/// insertion) and the text put there.
fn fix(input: &ReportInput, diagnostic: &crate::diagnostic::Diagnostic) -> Option<Value> {
    let fix = diagnostic.fix.as_ref()?;
    let (path, edits) = input.fix_edits(diagnostic)?;
    let replacements: Vec<Value> = edits
        .iter()
        .map(|edit| {
            json!({
                "deletedRegion": {
                    "startLine": edit.line,
                    "startColumn": edit.column,
                    "endLine": edit.end_line,
                    "endColumn": edit.end_column,
                },
                "insertedContent": {"text": edit.content},
            })
        })
        .collect();
    Some(json!({
        "description": {"text": format!("{} ({} fix)", fix.title, fix.applicability.as_str())},
        "artifactChanges": [{
            "artifactLocation": {
                "uri": super::repository_uri(&path),
                "uriBaseId": "%SRCROOT%",
            },
            "replacements": replacements,
        }],
    }))
}

/// The message as code scanning shows it: the finding as a sentence, then the help.
fn message_text(message: &str, help: Option<&str>) -> String {
    let mut text = message.trim_end().to_string();
    if !text.ends_with(['.', '!', '?']) {
        text.push('.');
    }
    if let Some(help) = help {
        text.push_str(" Help: ");
        text.push_str(help.trim_end());
        if !text.ends_with(['.', '!', '?']) {
            text.push('.');
        }
    }
    text
}

/// FNV-1a, 64 bits: a fingerprint that is the same on every platform and release.
fn fnv1a(parts: &[&str]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

pub fn render(input: &ReportInput) -> String {
    // Alerts must survive lines moving: the fingerprint is the rule, the file, the flagged
    // text (whitespace folded) and how many identical ones came before it in that file.
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let rules: Vec<Value> = input.rules.iter().map(|m| rule(m)).collect();
    let results: Vec<Value> = input
        .diagnostics
        .iter()
        .map(|d| {
            let index = input.rules.iter().position(|m| m.id == d.rule);
            let text = message_text(&d.message, d.help.as_deref());
            let mut result = json!({
                "ruleId": d.rule,
                "level": level(d.severity),
                "message": {"text": text},
            });
            if let Some(index) = index {
                result["ruleIndex"] = json!(index);
            }
            if let Some(location) = input.location(d) {
                let flagged = d
                    .span
                    .map(|span| {
                        let file = input.sources.get(span.file);
                        let text = file
                            .text
                            .get(span.start..span.end.max(span.start))
                            .unwrap_or("");
                        text.split_whitespace().collect::<Vec<_>>().join(" ")
                    })
                    .unwrap_or_default();
                let path = super::repository_path(&location.path);
                let key = fnv1a(&[d.rule, &path, &flagged, d.revision.as_deref().unwrap_or("")]);
                let occurrence = seen.entry(key.clone()).or_default();
                *occurrence += 1;
                result["partialFingerprints"] =
                    json!({"migrationGate/v1": format!("{key}:{occurrence}")});
                // Code scanning rejects empty regions: a point becomes its one character.
                let end_column = if location.end_line == location.line
                    && location.end_column <= location.column
                {
                    location.column + 1
                } else {
                    location.end_column
                };
                result["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": {
                            "uri": super::repository_uri(&location.path),
                            "uriBaseId": "%SRCROOT%",
                        },
                        "region": {
                            "startLine": location.line,
                            "startColumn": location.column,
                            "endLine": location.end_line,
                            "endColumn": end_column,
                        },
                    },
                }]);
            }
            if let Some(revision) = &d.revision {
                result["properties"] = json!({"revision": revision});
            }
            if let Some(fix) = fix(input, d) {
                result["fixes"] = json!([fix]);
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
            "automationDetails": {"id": input.command.automation_id()},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    let mut document = document;
    if let Some(verdict) = input.verdict {
        document["runs"][0]["properties"] = json!({"releaseGate": verdict});
    }
    if let Some(counts) = input.summary.roundtrip {
        document["runs"][0]["properties"]["roundtrip"] = json!(counts);
    }
    if let Some(failure) = input.failure {
        // Code scanning shows a run that did not complete as a tool error, not as "no alerts".
        document["runs"][0]["invocations"] = json!([{
            "executionSuccessful": false,
            "toolExecutionNotifications": [{"level": "error", "message": {"text": failure}}],
        }]);
    }
    let mut out = serde_json::to_string_pretty(&document).unwrap_or_default();
    out.push('\n');
    out
}
