//! The GitHub Action end to end: its script installs a verified binary, runs the checks and
//! writes outputs, the job summary, annotations, SARIF and the PR comment — run here with a
//! simulated runner (GITHUB_* variables, a workspace whose project sits in a `working-directory`,
//! a fake GitHub API). action.yml itself is checked in tests/packaging.rs.

mod common;
use common::postgres_binaries;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The action's `working-directory` in every test: paths in annotations and SARIF must still be
/// relative to the workspace (the repository root).
const WORKING_DIRECTORY: &str = "service";

struct Runner {
    workspace: tempfile::TempDir,
    dir: PathBuf,
}

impl Runner {
    /// A workspace holding a copy of the sample project in `service/`.
    fn new() -> Runner {
        let workspace = tempfile::tempdir().unwrap();
        let dir = workspace.path().join(WORKING_DIRECTORY);
        common::copy_sample(&dir);
        std::fs::create_dir_all(workspace.path().join("runner-temp")).unwrap();
        Runner { workspace, dir }
    }

    /// A file in the working directory.
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// A file of the runner's, outside the repository.
    fn runner_file(&self, name: &str) -> PathBuf {
        self.workspace.path().join("runner-temp").join(name)
    }

    /// `count` more revisions after the sample's head, each building an index on an existing
    /// table without CONCURRENTLY: one lint error apiece.
    fn add_risky_revisions(&self, count: usize) {
        let mut parent = "b1c2d3e4f5a6".to_string();
        for n in 0..count {
            let id = format!("ff{n:010}");
            std::fs::write(
                self.path(&format!("migrations/versions/{id}_index_{n}.py")),
                format!(
                    "from alembic import op\n\nrevision = '{id}'\ndown_revision = '{parent}'\n\n\ndef upgrade():\n    op.create_index('ix_levies_n{n}', 'levies', ['amount'])\n\n\ndef downgrade():\n    op.drop_index('ix_levies_n{n}', table_name='levies')\n"
                ),
            )
            .unwrap();
            parent = id;
        }
    }

    /// `[roundtrip]` settings for the project: the test venv's Python, a local cluster.
    fn configure_roundtrip(&self, python: &str) {
        std::fs::write(
            self.path("migration-gate.toml"),
            format!("[roundtrip]\npython = \"{python}\"\npostgres = \"local\"\n"),
        )
        .unwrap();
    }

    fn run(&self, env: &[(&str, &str)]) -> Output {
        let mut command = Command::new("bash");
        command
            .arg(repo().join("scripts/action.sh"))
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap())
            .env("HOME", self.workspace.path())
            .env("RUNNER_TEMP", self.workspace.path().join("runner-temp"))
            .env("GITHUB_WORKSPACE", self.workspace.path())
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", self.runner_file("output.txt"))
            .env("GITHUB_STEP_SUMMARY", self.runner_file("summary.md"))
            .env("GITHUB_RUN_ID", "4242")
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
        std::fs::read_to_string(self.runner_file("output.txt")).unwrap_or_default()
    }

    fn summary(&self) -> String {
        std::fs::read_to_string(self.runner_file("summary.md")).unwrap_or_default()
    }
}

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_migration-gate")
}

fn annotations(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| {
            l.starts_with("::error ") || l.starts_with("::warning ") || l.starts_with("::notice ")
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn the_action_script_checks_annotates_summarises_and_sets_outputs() {
    let runner = Runner::new();
    let output = runner.run(&[("MIGRATION_GATE_BIN", binary())]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let shown = annotations(&output);
    assert_eq!(
        shown.iter().filter(|l| l.starts_with("::error ")).count(),
        5,
        "{shown:#?}"
    );
    // Placed from the repository root although the action ran in `service/`.
    for line in &shown {
        assert!(line.contains("file=service/migrations/"), "{line}");
    }
    let outputs = runner.outputs();
    assert!(
        outputs.contains("findings=14\n") && outputs.contains("errors=5\n"),
        "{outputs}"
    );
    let sarif_path = runner.path("migration-gate.sarif");
    assert!(
        outputs.contains(&format!("sarif-file={}\n", sarif_path.display())),
        "{outputs}"
    );
    assert!(
        outputs.contains("roundtrip-sarif-file=\n"),
        "no round trip ran: {outputs}"
    );
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif_path).unwrap()).unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 14);
    assert_eq!(
        sarif["runs"][0]["automationDetails"]["id"],
        "migration-gate-check/"
    );
    assert_eq!(
        sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .map(|u| u.starts_with("service/migrations/")),
        Some(true)
    );
    let summary = runner.summary();
    assert!(
        summary.contains("### ❌ migration-gate · Lint: 5 errors, 2 warnings, 7 notes"),
        "{summary}"
    );

    // Annotations off, failing only on what the user chose.
    let quiet = Runner::new();
    let output = quiet.run(&[
        ("MIGRATION_GATE_BIN", binary()),
        ("MG_ANNOTATIONS", "false"),
        ("MG_FAIL_ON", "never"),
    ]);
    assert_eq!(output.status.code(), Some(0));
    assert!(annotations(&output).is_empty());
}

/// Lint and round trip run in one step, so they share GitHub's 10-per-type annotation budget;
/// the round trip's failures (proven on a database) come first, and each command's SARIF is
/// its own code-scanning category.
#[test]
fn mode_all_shares_one_annotation_budget_round_trip_first() {
    let (Some(python), Some(_)) = (common::test_python(), postgres_binaries()) else {
        return;
    };
    let runner = Runner::new();
    runner.add_risky_revisions(8);
    runner.configure_roundtrip(&python);
    let output = runner.run(&[("MIGRATION_GATE_BIN", binary()), ("MG_MODE", "all")]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let shown = annotations(&output);
    let errors: Vec<&String> = shown.iter().filter(|l| l.starts_with("::error ")).collect();
    assert_eq!(errors.len(), 10, "{shown:#?}");
    assert!(
        errors[0].contains("roundtrip-upgrade-failed"),
        "round-trip failures first: {errors:#?}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let more = stdout
        .lines()
        .find(|l| l.contains("not shown as annotations"))
        .expect("a line counting what was left out");
    // 5 + 8 lint errors and the round trip's, minus the 10 shown.
    assert!(more.contains(" more errors"), "{more}");

    let outputs = runner.outputs();
    let category = |key: &str| {
        let path = outputs
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| panic!("{key} in {outputs}"));
        let sarif: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        sarif["runs"][0]["automationDetails"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(category("sarif-file"), "migration-gate-check/");
    assert_eq!(
        category("roundtrip-sarif-file"),
        "migration-gate-roundtrip/"
    );

    let summary = runner.summary();
    assert!(summary.contains("migration-gate · Lint:"), "{summary}");
    assert!(
        summary.contains("migration-gate · Round trip:"),
        "{summary}"
    );
    // What the job summary (and the comment) says in mode all, timings left out.
    insta::assert_snapshot!("action_summary_mode_all", without_timings(&summary));
}

/// `123 ms` → `… ms`: the report's text without what changes from run to run.
fn without_timings(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split(" ms").enumerate() {
        if i > 0 {
            out.push_str(" ms");
        }
        let kept = part.trim_end_matches(|c: char| c.is_ascii_digit());
        out.push_str(kept);
        if kept.len() != part.len() {
            out.push('…');
        }
    }
    out
}

/// A step that cannot run (exit 2) is an error annotation and a ❌ that says what failed, in
/// the job summary and in the comment, never a green "0 errors".
#[test]
fn a_step_that_stops_with_exit_2_is_a_red_report() {
    let server = common::fake_github();
    let runner = Runner::new();
    let event = runner.runner_file("event.json");
    std::fs::write(&event, r#"{"pull_request": {"number": 7}}"#).unwrap();
    let output = runner.run(&[
        ("MIGRATION_GATE_BIN", binary()),
        ("MG_MODE", "all"),
        (
            "MG_DATABASE_URL",
            "postgresql://deploy:s3cret@127.0.0.1:1/app",
        ),
        ("MG_PR_COMMENT", "true"),
        ("GITHUB_EVENT_NAME", "pull_request"),
        ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
        ("GITHUB_TOKEN", "t0ken"),
        ("GITHUB_API_URL", server.url.as_str()),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("::error title=migration-gate::Round trip stopped (exit 2)"),
        "{stderr}"
    );
    let summary = runner.summary();
    assert!(
        summary.contains("### ❌ migration-gate · Round trip"),
        "{summary}"
    );
    assert!(summary.contains("does not accept connections"), "{summary}");
    assert!(!summary.contains("s3cret"));
    let requests = server.requests.lock().unwrap().clone();
    let comment = &requests
        .iter()
        .find(|(m, _, _)| m == "POST")
        .expect("a comment")
        .2;
    assert!(
        comment.contains("❌ migration-gate · Round trip"),
        "{comment}"
    );
    assert!(comment.contains("migration-gate · Lint"), "{comment}");

    // mode: roundtrip runs the round trip alone.
    let alone = Runner::new();
    let output = alone.run(&[
        ("MIGRATION_GATE_BIN", binary()),
        ("MG_MODE", "roundtrip"),
        (
            "MG_DATABASE_URL",
            "postgresql://deploy:s3cret@127.0.0.1:1/app",
        ),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let outputs = alone.outputs();
    assert!(
        outputs.lines().any(|l| l == "sarif-file="),
        "no lint ran: {outputs}"
    );
    let summary = alone.summary();
    assert!(
        summary.contains("### ❌ migration-gate · Round trip"),
        "{summary}"
    );
    assert!(!summary.contains("migration-gate · Lint"), "{summary}");
}

/// A history with hundreds of findings: the comment stays under GitHub's 65,536 characters
/// (else nothing is posted) and says where the rest is.
#[test]
fn a_huge_report_is_cut_to_fit_a_comment() {
    let server = common::fake_github();
    let runner = Runner::new();
    runner.add_risky_revisions(150);
    let event = runner.runner_file("event.json");
    std::fs::write(&event, r#"{"pull_request": {"number": 7}}"#).unwrap();
    let output = runner.run(&[
        ("MIGRATION_GATE_BIN", binary()),
        ("MG_PR_COMMENT", "true"),
        ("GITHUB_EVENT_NAME", "pull_request"),
        ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
        ("GITHUB_TOKEN", "t0ken"),
        ("GITHUB_API_URL", server.url.as_str()),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let summary = runner.summary();
    assert!(summary.len() > 65_536, "the whole report is in the summary");
    let requests = server.requests.lock().unwrap().clone();
    let comment: serde_json::Value = serde_json::from_str(
        &requests
            .iter()
            .find(|(m, _, _)| m == "POST")
            .expect("a comment")
            .2,
    )
    .unwrap();
    let body = comment["body"].as_str().unwrap();
    assert!(
        body.chars().count() < 65_536,
        "{} characters",
        body.chars().count()
    );
    assert!(
        body.contains("left out to fit GitHub's comment limit"),
        "{body}"
    );
    assert!(
        body.contains("https://github.com/acme/levies/actions/runs/4242"),
        "a link to the job summary"
    );
    assert!(body.starts_with("<!-- migration-gate report -->"));
    let shown = annotations(&output);
    assert_eq!(
        shown.iter().filter(|l| l.starts_with("::error ")).count(),
        10
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("145 more errors"));
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
            .runner_file("migration-gate/migration-gate")
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
    let event = runner.runner_file("event.json");
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
        posted
            .2
            .contains("blob/feedbeef/service/migrations/versions/"),
        "links point at the PR head"
    );
    // The sample's batch index is fixable: a review suggestion on its line, on the PR's head,
    // with the path from the repository root (the project sits in a working directory).
    let suggestion = requests
        .iter()
        .find(|(method, target, _)| method == "POST" && target.ends_with("/pulls/7/comments"))
        .map(|(_, _, body)| serde_json::from_str::<serde_json::Value>(body).unwrap())
        .expect("a review suggestion");
    assert_eq!(suggestion["commit_id"], "feedbeef");
    assert_eq!(
        suggestion["path"],
        "service/migrations/versions/5e6f7a8b9c0d_index_levies_by_status.py"
    );
    assert!(
        suggestion["body"]
            .as_str()
            .unwrap()
            .contains("```suggestion\n    with op.get_context().autocommit_block():\n        op.drop_index(\n            op.f(\"ix_levies_status\"),"),
        "{suggestion}"
    );

    // pr-suggestions: false leaves the review alone.
    server.requests.lock().unwrap().clear();
    let mut without = on_pr.clone();
    without.push(("MG_PR_SUGGESTIONS", "false"));
    runner.run(&without);
    assert!(
        !server
            .requests
            .lock()
            .unwrap()
            .iter()
            .any(|(_, target, _)| target.contains("/pulls/")),
        "no review comments with pr-suggestions: false"
    );
}
