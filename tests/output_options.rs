//! What a ruff or squawk user expects of the output: one line per finding, counts per rule,
//! excludes on the command line, and findings in the order the history runs.

use std::path::Path;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migration-gate"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string()
}

/// The sample's revision files, oldest first (the graph lists them newest first).
fn history() -> Vec<String> {
    let graph: serde_json::Value =
        serde_json::from_slice(&run(&["graph", "migrations", "--format", "json"]).stdout).unwrap();
    let mut paths: Vec<String> = graph["sets"][0]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["path"].as_str().unwrap().to_string())
        .collect();
    paths.reverse();
    paths
}

#[test]
fn concise_output_is_one_line_per_finding_in_history_order() {
    let output = run(&["check", "migrations", "--output-format", "concise"]);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    let (findings, totals) = lines.split_at(lines.len() - 1);
    assert!(
        totals[0].ends_with("in 12 files and 11 revisions"),
        "{text}"
    );
    let history = history();
    let mut last = 0;
    for line in findings {
        let (place, rest) = line.split_once(": ").unwrap();
        let mut parts = place.split(':');
        let path = parts.next().unwrap();
        let line_number: usize = parts.next().unwrap().parse().unwrap();
        let column: usize = parts.next().unwrap().parse().unwrap();
        assert!(line_number > 0 && column > 0, "{line}");
        assert!(
            ["error[", "warning[", "note["]
                .iter()
                .any(|s| rest.starts_with(s)),
            "{line}"
        );
        // Revision files in the order they are applied, not by their hash names.
        let position = history.iter().position(|p| p == path).unwrap_or(0);
        assert!(
            position >= last,
            "{line} comes after a later revision's finding:\n{text}"
        );
        last = position;
    }
    let json: serde_json::Value =
        serde_json::from_slice(&run(&["check", "migrations", "--format", "json"]).stdout).unwrap();
    assert_eq!(
        findings.len(),
        json["diagnostics"].as_array().unwrap().len()
    );
}

#[test]
fn statistics_count_each_rule_and_exclude_leaves_files_out() {
    let json: serde_json::Value =
        serde_json::from_slice(&run(&["check", "migrations", "--format", "json"]).stdout).unwrap();
    let total = json["diagnostics"].as_array().unwrap().len();
    let text = stdout(&run(&["check", "migrations", "--statistics"]));
    let lines: Vec<&str> = text.lines().collect();
    // The last line is the totals.
    let counted: usize = lines[..lines.len() - 1]
        .iter()
        .filter_map(|line| line.split_whitespace().next()?.parse::<usize>().ok())
        .sum();
    assert_eq!(counted, total, "{text}");
    assert!(text.contains("create-index-non-concurrently"), "{text}");

    let excluded = "migrations/versions/5e6f7a8b9c0d_index_levies_by_status.py";
    assert!(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(excluded)
            .is_file()
    );
    let output = run(&[
        "check",
        "migrations",
        "--format",
        "concise",
        "--exclude",
        "**/5e6f7a8b9c0d_*.py",
    ]);
    let text = stdout(&output);
    assert!(!text.contains(excluded), "{text}");
    assert!(text.contains("in 11 files and 10 revisions"), "{text}");
}
