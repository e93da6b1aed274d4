//! The GitHub Action end to end: action.yml passes inputs only through the environment, and its
//! script installs a verified binary, runs the checks and writes outputs, the job summary,
//! annotations, SARIF and the PR comment — run here with a fake GITHUB_* environment.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

struct Runner {
    dir: tempfile::TempDir,
}

impl Runner {
    /// A workspace holding a copy of the sample project.
    fn new() -> Runner {
        let dir = tempfile::tempdir().unwrap();
        for entry in walkdir::WalkDir::new(repo().join("migrations")) {
            let entry = entry.unwrap();
            let target = dir.path().join(entry.path().strip_prefix(repo()).unwrap());
            if entry.file_type().is_dir() {
                std::fs::create_dir_all(&target).unwrap();
            } else {
                std::fs::copy(entry.path(), &target).unwrap();
            }
        }
        std::fs::create_dir_all(dir.path().join("runner-temp")).unwrap();
        Runner { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, env: &[(&str, &str)]) -> Output {
        let mut command = Command::new("bash");
        command
            .arg(repo().join("scripts/action.sh"))
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap())
            .env("HOME", self.dir.path())
            .env("RUNNER_TEMP", self.path("runner-temp"))
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", self.path("output.txt"))
            .env("GITHUB_STEP_SUMMARY", self.path("summary.md"))
            .env("GITHUB_REPOSITORY", "acme/levies")
            .env("GITHUB_SERVER_URL", "https://github.com")
            .env("GITHUB_SHA", "0123abcd")
            .env("MG_PATHS", "migrations")
            .env("MG_MODE", "lint");
        for (key, value) in env {
            command.env(key, value);
        }
        command.output().expect("bash runs")
    }

    fn outputs(&self) -> String {
        std::fs::read_to_string(self.path("output.txt")).unwrap_or_default()
    }
}

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_migration-gate")
}

#[test]
fn the_action_script_checks_annotates_summarises_and_sets_outputs() {
    let runner = Runner::new();
    let output = runner.run(&[("MIGRATION_GATE_BIN", binary())]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("::error ")).count(),
        5,
        "{stdout}"
    );
    let outputs = runner.outputs();
    assert!(
        outputs.contains("findings=14\n") && outputs.contains("errors=5\n"),
        "{outputs}"
    );
    assert!(outputs.contains("sarif-file=migration-gate.sarif\n"));
    let sarif: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(runner.path("migration-gate.sarif")).unwrap(),
    )
    .unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 14);
    let summary = std::fs::read_to_string(runner.path("summary.md")).unwrap();
    assert!(
        summary.contains("5 errors, 2 warnings, 7 notes"),
        "{summary}"
    );
    assert_eq!(summary.matches("<!-- migration-gate report -->").count(), 1);

    // Annotations off, failing only on what the user chose.
    let quiet = Runner::new();
    let output = quiet.run(&[
        ("MIGRATION_GATE_BIN", binary()),
        ("MG_ANNOTATIONS", "false"),
        ("MG_FAIL_ON", "never"),
    ]);
    assert_eq!(output.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&output.stdout).contains("::error "));
}

fn triple() -> &'static str {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => "x86_64-unknown-linux-musl",
        ("linux", "aarch64") => "aarch64-unknown-linux-musl",
        ("macos", "x86_64") => "x86_64-apple-darwin",
        _ => "aarch64-apple-darwin",
    }
}

/// A release as the release workflow publishes it: the archive and its sha256.
fn fake_release(dir: &Path, version: &str, corrupt: bool) -> String {
    let release = dir.join("download").join(version);
    std::fs::create_dir_all(&release).unwrap();
    let staging = dir.join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    // A stand-in for the released binary that hands over to the one under test: the archive
    // stays small, and what is checked is the download, the checksum and the unpacking.
    let stand_in = staging.join("migration-gate");
    std::fs::write(
        &stand_in,
        format!("#!/bin/sh\nexec '{}' \"$@\"\n", binary()),
    )
    .unwrap();
    let _ = Command::new("chmod").arg("755").arg(&stand_in).status();
    let archive = release.join(format!("migration-gate-{}.tar.gz", triple()));
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(&staging)
        .arg("migration-gate")
        .status()
        .unwrap();
    assert!(status.success());
    let sum = Command::new("sha256sum").arg(&archive).output().unwrap();
    let mut sum = String::from_utf8(sum.stdout).unwrap();
    if corrupt {
        sum.replace_range(0..4, "0000");
    }
    std::fs::write(archive.with_extension("gz.sha256"), sum).unwrap();
    format!("file://{}", dir.display())
}

#[test]
fn the_action_installs_the_release_after_checking_its_sha256() {
    let runner = Runner::new();
    let releases = tempfile::tempdir().unwrap();
    let url = fake_release(releases.path(), "v9.9.9", false);
    let output = runner.run(&[
        ("MIGRATION_GATE_RELEASES_URL", &url),
        ("MG_VERSION", "v9.9.9"),
    ]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        runner
            .path("runner-temp/migration-gate/migration-gate")
            .is_file()
    );
    assert!(runner.outputs().contains("errors=5"));

    let tampered = Runner::new();
    let releases = tempfile::tempdir().unwrap();
    let url = fake_release(releases.path(), "v9.9.9", true);
    let output = tampered.run(&[
        ("MIGRATION_GATE_RELEASES_URL", &url),
        ("MG_VERSION", "v9.9.9"),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("::error title=migration-gate::checksum mismatch")
    );
    assert!(tampered.outputs().is_empty(), "nothing ran");
}

#[test]
fn the_action_comments_on_pull_requests_only() {
    let server = common::fake_github();
    let runner = Runner::new();
    let event = runner.path("event.json");
    std::fs::write(
        &event,
        r#"{"pull_request": {"number": 7, "head": {"sha": "feedbeef", "repo": {"full_name": "acme/levies"}}, "base": {"repo": {"full_name": "acme/levies"}}}}"#,
    )
    .unwrap();
    let env = [
        ("MIGRATION_GATE_BIN", binary()),
        ("MG_PR_COMMENT", "true"),
        ("GITHUB_TOKEN", "t0ken"),
        ("GITHUB_API_URL", server.url.as_str()),
        ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
        ("MG_LINK_SHA", "feedbeef"),
    ];
    let mut on_push = env.to_vec();
    on_push.push(("GITHUB_EVENT_NAME", "push"));
    runner.run(&on_push);
    assert!(
        server.requests.lock().unwrap().is_empty(),
        "no comment outside a pull request"
    );

    let mut on_pr = env.to_vec();
    on_pr.push(("GITHUB_EVENT_NAME", "pull_request"));
    let output = runner.run(&on_pr);
    assert_eq!(output.status.code(), Some(1));
    let requests = server.requests.lock().unwrap().clone();
    let posted = requests
        .iter()
        .find(|(method, _, _)| method == "POST")
        .expect("a comment");
    assert!(
        posted.2.contains("blob/feedbeef/migrations/versions/"),
        "links point at the PR head"
    );
}
