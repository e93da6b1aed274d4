//! `--format junit`: JUnit XML for Jenkins, GitLab and other release gates. One test case per
//! revision and check: `lint` for the static checks, and one per round-trip step.

use super::ReportInput;
use crate::diagnostic::{Severity, Status};

/// Text safe in XML: the five entities escaped, characters XML cannot hold dropped.
fn xml(text: &str) -> String {
    text.chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
        })
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&apos;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

struct Case {
    suite: &'static str,
    class: String,
    name: String,
    seconds: f64,
    failure: Option<(String, String)>,
    skipped: Option<String>,
    output: String,
}

pub fn render(input: &ReportInput) -> String {
    let mut cases = Vec::new();
    for revision in input.checked {
        let findings: Vec<_> = input
            .diagnostics
            .iter()
            .filter(|d| {
                !matches!(
                    d.origin,
                    crate::diagnostic::Origin::Roundtrip | crate::diagnostic::Origin::Deploy
                ) && d.revision.as_deref() == Some(revision.id.as_str())
            })
            .collect();
        let describe = |d: &&crate::diagnostic::Diagnostic| {
            let line = input.location(d).map(|l| l.line).unwrap_or(0);
            format!(
                "{} [{}] {}:{}: {}",
                d.severity.as_str(),
                d.rule,
                revision.path,
                line,
                d.message
            )
        };
        let errors: Vec<String> = findings
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(describe)
            .collect();
        let others: Vec<String> = findings
            .iter()
            .filter(|d| d.severity != Severity::Error)
            .map(describe)
            .collect();
        cases.push(Case {
            suite: "lint",
            class: format!("migration-gate.lint.{}", revision.path),
            name: format!("{} lint", revision.id),
            seconds: 0.0,
            failure: (!errors.is_empty())
                .then(|| (plural(errors.len(), "error"), errors.join("\n"))),
            skipped: None,
            output: others.join("\n"),
        });
    }
    for run in input.runs {
        let findings: Vec<String> = input
            .diagnostics
            .iter()
            .filter(|d| {
                matches!(
                    d.origin,
                    crate::diagnostic::Origin::Roundtrip | crate::diagnostic::Origin::Deploy
                ) && d.revision.as_deref() == Some(run.revision.as_str())
            })
            .map(|d| format!("[{}] {}", d.rule, d.message))
            .collect();
        if run.steps.is_empty() {
            cases.push(Case {
                suite: "roundtrip",
                class: format!("migration-gate.roundtrip.{}", run.path),
                name: format!("{} roundtrip", run.revision),
                seconds: 0.0,
                failure: None,
                skipped: Some(run.note.clone().unwrap_or_default()),
                output: String::new(),
            });
        }
        for step in &run.steps {
            cases.push(Case {
                suite: "roundtrip",
                class: format!("migration-gate.roundtrip.{}", run.path),
                name: format!("{} {}", run.revision, step.step),
                seconds: step.millis as f64 / 1000.0,
                failure: (step.status == Status::Failed)
                    .then(|| (format!("{} failed", step.step), findings.join("\n"))),
                // Nothing proven is not a pass: a step that ran nothing, or a way back the
                // revision declares it has not, is a skipped case saying why.
                skipped: matches!(
                    step.status,
                    Status::Skipped | Status::RanNothing | Status::Irreversible
                )
                .then(|| run.note.clone().unwrap_or_default()),
                output: String::new(),
            });
        }
    }
    if let Some(verdict) = input.verdict {
        cases.push(Case {
            suite: "gate",
            class: "migration-gate.gate".into(),
            name: "release gate".into(),
            seconds: 0.0,
            failure: (!verdict.ready)
                .then(|| ("not ready".to_string(), verdict.reasons.join("\n"))),
            skipped: None,
            output: format!("pending: {}", verdict.pending.join(", ")),
        });
    }
    if let Some(failure) = input.failure {
        cases.push(Case {
            suite: "setup",
            class: "migration-gate.setup".into(),
            name: "run to the end".into(),
            seconds: 0.0,
            failure: Some(("did not run to the end".into(), failure.to_string())),
            skipped: None,
            output: String::new(),
        });
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let failures = cases.iter().filter(|c| c.failure.is_some()).count();
    out.push_str(&format!(
        "<testsuites name=\"migration-gate\" tests=\"{}\" failures=\"{failures}\">\n",
        cases.len()
    ));
    for suite in ["setup", "lint", "roundtrip", "gate"] {
        let members: Vec<&Case> = cases.iter().filter(|c| c.suite == suite).collect();
        if members.is_empty() {
            continue;
        }
        let failed = members.iter().filter(|c| c.failure.is_some()).count();
        let skipped = members.iter().filter(|c| c.skipped.is_some()).count();
        let time: f64 = members.iter().map(|c| c.seconds).sum();
        out.push_str(&format!(
            "  <testsuite name=\"migration-gate {suite}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"{skipped}\" time=\"{time:.3}\">\n",
            members.len()
        ));
        for case in members {
            out.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                xml(&case.class),
                xml(&case.name),
                case.seconds
            ));
            if case.failure.is_none() && case.skipped.is_none() && case.output.is_empty() {
                out.push_str("/>\n");
                continue;
            }
            out.push_str(">\n");
            if let Some((message, text)) = &case.failure {
                out.push_str(&format!(
                    "      <failure message=\"{}\" type=\"migration-gate\">{}</failure>\n",
                    xml(message),
                    xml(text)
                ));
            }
            if let Some(reason) = &case.skipped {
                out.push_str(&format!("      <skipped message=\"{}\"/>\n", xml(reason)));
            }
            if !case.output.is_empty() {
                out.push_str(&format!(
                    "      <system-out>{}</system-out>\n",
                    xml(&case.output)
                ));
            }
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}
