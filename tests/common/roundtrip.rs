//! Running `migration-gate roundtrip` from a test: the command, a local-cluster JSON run,
//! and what its output says.

use std::path::Path;
use std::process::{Command, Output};

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `migration-gate roundtrip ARGS` from the repository's root, with temporary files under
/// `tmp` and nothing inherited that would change where it connects or how it reports. Every
/// snapshot read in part is checked against the whole schema: each fixture is also a test of
/// the change log.
pub fn roundtrip(args: &[&str], tmp: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_migration-gate"));
    command
        .arg("roundtrip")
        .args(args)
        .current_dir(repo())
        .env("TMPDIR", tmp)
        .env_remove("MIGRATION_GATE_DATABASE_URL")
        .env_remove("GITHUB_ACTIONS")
        .env("MIGRATION_GATE_CHECK_SNAPSHOTS", "1");
    command
}

/// Standard output and standard error together, for assertion messages.
pub fn everything(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A round trip of `fixture` on a local temporary cluster, as JSON.
pub fn local_json(fixture: &str, python: &str, extra: &[&str], tmp: &Path) -> Output {
    let mut args = vec![
        fixture,
        "--postgres",
        "local",
        "--python",
        python,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    roundtrip(&args, tmp).output().unwrap()
}

/// Each judged revision with its status, from a JSON run.
pub fn statuses(output: &Output) -> Vec<(String, String)> {
    let document: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", everything(output)));
    document["roundtrip"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["revision"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Owned pairs, for comparing with what a run reports.
pub fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// A JSON run's document.
pub fn document(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", everything(output)))
}
